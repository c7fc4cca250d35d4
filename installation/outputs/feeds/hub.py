"""The feeds' thread: hop reports in without waiting, each feed sent to, failures reported once."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from installation.eeg.sources.base import SourceEvent

log = logging.getLogger(__name__)

QUEUE_HOPS = 64  # about four seconds of hops; older ones are dropped when a feed stalls


class FeedHub:
    """Sends every hop to every feed from a thread of its own.

    Parameters
    ----------
    feeds : list
        Objects with ``name``, ``send(report)`` and ``close()``.
    on_event : callable, optional
        Receives one "error" :class:`SourceEvent` when a feed starts failing (and it is logged
        once); a feed that works again is logged as back and may be reported again.
    queue_hops : int
        Hops waiting to be sent before new ones are dropped.
    """

    def __init__(self, feeds: list, on_event: Callable[[SourceEvent], None] | None = None,
                 queue_hops: int = QUEUE_HOPS) -> None:
        self.feeds = list(feeds)
        self.on_event = on_event or (lambda event: None)
        self.sent = {feed.name: 0 for feed in self.feeds}
        self.failures = {feed.name: 0 for feed in self.feeds}
        self.dropped = 0
        self._failing: set[str] = set()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_hops)
        self._thread = threading.Thread(target=self._run, name="feeds", daemon=True)
        self._thread.start()

    def publish(self, report) -> None:
        """Queue a hop for every feed; returns at once (drops it when the feeds fall behind)."""
        try:
            self._queue.put_nowait(report)
        except queue.Full:
            self.dropped += 1

    def status_line(self) -> str:
        """One line for the HUD: hops sent per feed, and which fail."""
        parts = [f"{name} {count}" + (" FAILING" if name in self._failing else "")
                 for name, count in self.sent.items()]
        return "feeds: " + ", ".join(parts) + (f", {self.dropped} dropped" if self.dropped else "")

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued, close the feeds and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        while (report := self._queue.get()) is not None:
            for feed in self.feeds:
                self._send(feed, report)
        for feed in self.feeds:
            try:
                feed.close()
            except Exception:  # closing is best effort; the show is ending
                log.debug("closing feed %s failed", feed.name, exc_info=True)

    def _send(self, feed, report) -> None:
        try:
            feed.send(report)
        except Exception as exc:  # no route, a full socket buffer...: never stop the show
            self.failures[feed.name] += 1
            if feed.name not in self._failing:
                self._failing.add(feed.name)
                log.error("feed %s failed: %s (further failures are counted, not logged)",
                          feed.name, exc)
                self.on_event(SourceEvent("error", f"Feed {feed.name} failed: {exc}; the show "
                                          "goes on."))
            return
        self.sent[feed.name] += 1
        if feed.name in self._failing:
            self._failing.discard(feed.name)
            log.info("feed %s works again", feed.name)
