"""An EEG stream on the network (Lab Streaming Layer) as a source."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from installation.eeg.channels import clean_channel_name, is_eeg_channel
from installation.eeg.sources.base import Chunk, Source, StreamInfo
from installation.eeg.sources.timestamps import StreamClock
from installation.eeg.sources.units import microvolt_scale
from installation.errors import SourceAbsent, SourceError

log = logging.getLogger(__name__)

DEFAULT_BUFFER_S = 360  # what LSL outlets keep too; data is never dropped before that


class LSLSource(Source):
    """Reads the EEG channels of an LSL stream found by name or type.

    Timestamps are corrected onto this machine's clock by liblsl (``proc_clocksync`` applies
    ``time_correction`` to every sample, ``proc_monotonize`` keeps them rising) and given as
    seconds since the first sample received.

    Parameters
    ----------
    name : str, optional
        The stream's name (``lsl:NAME``).
    stream_type : str, optional
        The stream's type (``lsl:type=EEG``); EEG when neither name nor type is given.
    resolve_timeout : float
        Seconds to wait for the stream to appear and answer.
    channels : sequence of str, optional
        Channel labels to read, in this order, instead of all the EEG channels (a test reads
        a sample counter this way).
    """

    def __init__(
        self,
        name: str | None = None,
        stream_type: str | None = None,
        resolve_timeout: float = 5.0,
        channels: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self.stream_type = stream_type if (stream_type or name) else "EEG"
        self.resolve_timeout = float(resolve_timeout)
        self.channels = tuple(channels) if channels else None
        self._inlet = None
        self._picks: list[int] = []
        self._scales = np.ones(0, dtype=np.float32)
        self._clock: StreamClock | None = None

    def open(self) -> StreamInfo:
        """Resolve the stream, subscribe to it and say which channels it carries."""
        import pylsl  # lazy: pylsl loads liblsl, which only LSL sources need

        found = self._resolve(pylsl)
        flags = pylsl.proc_clocksync | pylsl.proc_monotonize
        inlet = pylsl.StreamInlet(found, max_buflen=DEFAULT_BUFFER_S, processing_flags=flags)
        subscribed = False
        try:
            header = inlet.info(timeout=self.resolve_timeout)
            names = self._pick_channels(header)
            inlet.open_stream(timeout=self.resolve_timeout)  # buffering starts here
            subscribed = True
        except pylsl.util.TimeoutError:
            raise SourceAbsent(
                f"The LSL stream {self._wanted()} appeared but did not answer within "
                f"{self.resolve_timeout:g} s; check the network and the outlet."
            ) from None
        finally:
            if not subscribed:
                inlet.close_stream()
        self._inlet = inlet
        rate = header.nominal_srate()
        if self._clock is None or self._clock.sample_rate != rate:
            self._clock = StreamClock(rate)  # kept across reconnects: one clock, rising
        self.info = StreamInfo(names, rate, f"LSL stream {header.name()} ({header.type()})")
        return self.info

    def read(self, max_samples: int | None = None) -> Chunk | None:
        """Pull the samples received since the last call, without waiting.

        Parameters
        ----------
        max_samples : int, optional
            At most this many; the rest stay buffered. About 8 s worth when None.

        Returns
        -------
        Chunk or None
            None when nothing new has arrived.
        """
        import pylsl  # lazy: pylsl loads liblsl, which only LSL sources need

        if self._inlet is None:
            raise SourceError("The LSL source was read before it was opened; open it first.")
        limit = max_samples or max(1024, int(8 * self.info.sample_rate))
        try:
            samples, stamps = self._inlet.pull_chunk(timeout=0.0, max_samples=limit, as_numpy=True)
        except pylsl.util.LostError:
            raise SourceError(
                f"The LSL stream {self._wanted()} was lost; restart the outlet."
            ) from None
        if len(stamps) == 0:
            return None
        data = samples[:, self._picks].T.astype(np.float32) * self._scales[:, None]
        return Chunk(data, self._clock.seconds(np.asarray(stamps), len(stamps)))

    def close(self) -> None:
        """Unsubscribe from the stream; safe to call twice."""
        inlet, self._inlet = self._inlet, None
        if inlet is not None:
            inlet.close_stream()

    def _wanted(self) -> str:
        if self.name:
            return f"named {self.name}"
        return f"of type {self.stream_type}"

    def _resolve(self, pylsl):
        """The first stream matching the name and/or type, or SourceError after the timeout."""
        if self.name and self.stream_type:
            predicate = f"name='{self.name}' and type='{self.stream_type}'"
            found = pylsl.resolve_bypred(predicate, timeout=self.resolve_timeout)
        elif self.name:
            found = pylsl.resolve_byprop("name", self.name, timeout=self.resolve_timeout)
        else:
            found = pylsl.resolve_byprop("type", self.stream_type, timeout=self.resolve_timeout)
        if not found:
            raise SourceAbsent(
                f"No LSL stream {self._wanted()} appeared within {self.resolve_timeout:g} s; "
                "is the outlet running?"
            )
        return found[0]

    def _pick_channels(self, header) -> tuple[str, ...]:
        """Choose the channels to read and their µV scales; return their cleaned names."""
        import pylsl  # lazy: pylsl loads liblsl, which only LSL sources need

        if header.channel_format() == pylsl.cf_string:
            raise SourceError(
                f"The LSL stream {header.name()} carries text, not EEG; choose its EEG stream."
            )
        if not header.nominal_srate() > 0:
            raise SourceError(
                f"The LSL stream {header.name()} has no regular sample rate; choose an EEG stream."
            )
        count = header.channel_count()
        labels = _per_channel(header.get_channel_labels(), count)
        labels = [label or f"Ch{i + 1}" for i, label in enumerate(labels)]
        units = _per_channel(header.get_channel_units(), count)
        kinds = _per_channel(header.get_channel_types(), count)
        picks = self._chosen(header.name(), labels, kinds)
        self._picks = picks
        self._scales = np.array([microvolt_scale(units[i]) for i in picks], dtype=np.float32)
        return tuple(clean_channel_name(labels[i]) for i in picks)

    def _chosen(self, stream: str, labels: list, kinds: list) -> list[int]:
        if self.channels is not None:
            missing = [name for name in self.channels if name not in labels]
            if missing:
                raise SourceError(
                    f"The LSL stream {stream} has no channel {', '.join(missing)}; "
                    f"its channels are {', '.join(str(label) for label in labels)}."
                )
            return [labels.index(name) for name in self.channels]
        picks = [
            i
            for i, label in enumerate(labels)
            if is_eeg_channel(label) and (kinds[i] or "eeg").lower() == "eeg"
        ]
        if not picks:
            raise SourceError(
                f"The LSL stream {stream} has no EEG channels (found {', '.join(labels)}); "
                "choose the headset's EEG stream."
            )
        return picks


def _per_channel(values: list | None, count: int) -> list:
    """One header value per channel, None where the stream's description has none."""
    if values is None or len(values) != count:
        return [None] * count
    return list(values)
