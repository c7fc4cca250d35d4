"""``--sound``: the sonification played live through pygame's mixer, from a thread of its own.

The steering thread hands each hop's band powers to :meth:`SoundPlayer.set_band_powers` (a
reference swap, never a wait); the player's thread renders a hop-long block of the
:class:`~installation.outputs.sonification.Sonifier` whenever the mixer's queue has room. Where
there is no audio device the show goes on silent: one event says so, nothing fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.base import SourceEvent
from installation.outputs.sonification import SAMPLE_RATE, Sonifier
from installation.screen.quiet_pygame import pygame

log = logging.getLogger(__name__)

MIXER_BUFFER = 1024  # samples: about 23 ms at 44.1 kHz


class SoundPlayer:
    """Plays the sonification of the newest band powers until closed.

    Parameters
    ----------
    spec : FeatureSpec
        Bands of the band powers, and the hop (one block of sound per hop).
    on_event : callable, optional
        Receives a "sound" :class:`SourceEvent` when there is no audio device, and an "error"
        one if playing fails later.
    sample_rate : int
        Audio samples per second asked of the mixer.
    """

    def __init__(self, spec: FeatureSpec, on_event: Callable[[SourceEvent], None] | None = None,
                 sample_rate: int = SAMPLE_RATE) -> None:
        self.spec = spec
        self.on_event = on_event or (lambda event: None)
        self.sample_rate = int(sample_rate)
        self.blocks_played = 0
        self.silent = False
        self._latest = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sound", daemon=True)
        self._thread.start()

    def set_band_powers(self, band_powers: np.ndarray) -> None:
        """The newest hop's band powers (log10 µV², region-major); returns at once."""
        self._latest = band_powers

    def status_line(self) -> str:
        """One line for the HUD."""
        return "sound: silent (no audio device)" if self.silent else (
            f"sound: {self.blocks_played} blocks")

    def close(self, timeout: float = 2.0) -> None:
        """Stop playing and release the mixer."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        channel = self._open_mixer()
        if channel is None:
            return
        try:
            self._play(channel)
        except Exception as exc:  # a vanished device must not stop the show
            self.silent = True
            log.error("sound stopped: %s", exc)
            self.on_event(SourceEvent("error", f"Sound stopped: {exc}; the show goes on."))
        finally:
            pygame.mixer.quit()

    def _open_mixer(self):
        """A mixer channel, or None (silent, said once) where there is no audio device."""
        try:
            pygame.mixer.init(frequency=self.sample_rate, size=-16, channels=1,
                              buffer=MIXER_BUFFER)
        except pygame.error as exc:
            self.silent = True
            message = str(exc).splitlines()[0][:120] if str(exc) else "no device"
            log.warning("no audio device (%s): the show goes on silent", message)
            self.on_event(SourceEvent("sound", "No audio device; the show goes on silent."))
            return None
        return pygame.mixer.Channel(0)

    def _play(self, channel) -> None:
        """Keep one block playing and one queued, each rendered from the newest hop."""
        rate, _, channels = pygame.mixer.get_init()
        sonifier = Sonifier(self.spec, rate)
        block = int(round(self.spec.hop_s * rate))
        while not self._stop.is_set():
            if channel.get_queue() is None:
                if self._latest is not None:
                    sonifier.set_band_powers(self._latest)
                pcm = (sonifier.render(block) * 32767).astype(np.int16)
                if channels > 1:
                    pcm = np.repeat(pcm[:, None], channels, axis=1)
                sound = pygame.sndarray.make_sound(np.ascontiguousarray(pcm))
                if channel.get_busy():
                    channel.queue(sound)
                else:
                    channel.play(sound)
                self.blocks_played += 1
            self._stop.wait(self.spec.hop_s / 4)
