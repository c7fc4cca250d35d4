"""``--ndi NAME``: the displayed painting as an NDI video source on the local network.

NDI is how TouchDesigner, Resolume, OBS and vMix take video from other machines and programs.
The sender runs ndi-python (the ``ndi`` extra: the NDI SDK's own bindings, whose wheels bundle
the NDI runtime) in a thread of its own behind a two-frame queue: :meth:`NdiSender.offer` never
waits, a frame the sender cannot keep up with is dropped and counted, and a failure is an event
in the HUD, never the end of the show.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

import numpy as np

from installation.eeg.sources.base import SourceEvent
from installation.errors import ConfigError

log = logging.getLogger(__name__)

QUEUE_FRAMES = 2


def import_ndi():
    """The NDIlib module; a ConfigError sentence where ndi-python is not installed."""
    try:
        import NDIlib  # lazy: ndi-python is optional (pip install -e .[ndi])
    except ImportError:
        raise ConfigError("--ndi needs ndi-python (the NDI SDK bindings, Python 3.11+); install "
                          "it with `pip install ndi-python` or `pip install -e .[ndi]`.") from None
    return NDIlib


def rgbx(painting: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) RGB as the (H, W, 4) RGBX NDI takes, contiguous."""
    h, w = painting.shape[:2]
    frame = np.empty((h, w, 4), np.uint8)
    frame[..., :3] = painting
    frame[..., 3] = 255
    return frame


class NdiSender:
    """Sends the painting as the NDI source ``name`` from a thread of its own.

    Parameters
    ----------
    name : str
        The source's name as receivers list it (``MACHINE (name)``).
    fps : float
        Frame rate announced to receivers.
    on_event : callable, optional
        Receives one "error" :class:`SourceEvent` if sending fails (the show goes on).
    """

    def __init__(self, name: str, fps: float = 60.0,
                 on_event: Callable[[SourceEvent], None] | None = None) -> None:
        if not str(name).strip():
            raise ConfigError("--ndi needs a source name; pass e.g. --ndi EEGPainting.")
        self._ndi = import_ndi()
        self.name = str(name)
        self.fps = float(fps)
        self.on_event = on_event or (lambda event: None)
        self.sent = 0
        self.dropped = 0
        self.failed = False
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
        self._thread = threading.Thread(target=self._run, name="ndi", daemon=True)
        self._thread.start()

    def offer(self, painting: np.ndarray) -> None:
        """Queue a painting, uint8 (H, W, 3); drop it if the sender is behind or failed."""
        if self.failed:
            self.dropped += 1
            return
        try:
            self._queue.put_nowait(painting)
        except queue.Full:
            self.dropped += 1

    def status_line(self) -> str:
        """One line for the HUD."""
        state = "failed" if self.failed else f"{self.sent} frames"
        return f"ndi {self.name}: {state}, {self.dropped} dropped"

    def close(self, timeout: float = 5.0) -> None:
        """Stop sending and release the NDI source; safe to call twice."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        ndi, sender = self._ndi, None
        try:
            if not ndi.initialize():
                raise RuntimeError("the NDI runtime did not start (this CPU may lack SSE4.2)")
            settings = ndi.SendCreate()
            settings.ndi_name = self.name
            settings.clock_video = False  # the display paces the frames, not the sender
            sender = ndi.send_create(settings)
            if sender is None:
                raise RuntimeError("NDI could not create the sender")
            while (painting := self._queue.get()) is not None:
                if not self.failed:
                    self._send(sender, painting)
        except Exception as exc:  # a missing runtime or network must not stop the show
            self._fail(exc)
            while self._queue.get() is not None:
                pass
        finally:
            if sender is not None:
                ndi.send_destroy(sender)
            ndi.destroy()

    def _send(self, sender, painting: np.ndarray) -> None:
        ndi = self._ndi
        frame = ndi.VideoFrameV2()
        frame.data = rgbx(painting)
        frame.FourCC = ndi.FOURCC_VIDEO_TYPE_RGBX
        frame.frame_rate_N, frame.frame_rate_D = int(round(self.fps * 1000)), 1000
        ndi.send_send_video_v2(sender, frame)
        self.sent += 1

    def _fail(self, exc: Exception) -> None:
        self.failed = True
        log.error("NDI source %s failed: %s", self.name, exc)
        self.on_event(SourceEvent("error", f"NDI source {self.name} stopped: {exc}"))
