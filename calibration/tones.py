"""Tones the artist hears with the eyes shut: one when the eyes-closed step starts, one at its end.

The tones are generated (soft sine bursts), played through pygame's mixer. Where there is no
audio device the bell stays silent and says so once in the log; it never fails a calibration.
"""

from __future__ import annotations

import logging

import numpy as np

from installation.screen.quiet_pygame import pygame

log = logging.getLogger(__name__)

SAMPLE_RATE = 44_100
START_TONE = ((440.0, 0.5),)  # one low tone: close your eyes now
END_TONE = ((660.0, 0.18), (0.0, 0.08), (880.0, 0.3))  # two rising tones: open them again
VOLUME = 0.3


def tone_samples(notes, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """16-bit stereo samples of ``notes``, a sequence of (Hz, seconds); 0 Hz is a rest.

    Each tone fades in and out over 10 ms so it starts and ends without a click.
    """
    parts = []
    for freq, seconds in notes:
        t = np.arange(int(seconds * sample_rate)) / sample_rate
        wave = np.sin(2 * np.pi * freq * t) if freq > 0 else np.zeros_like(t)
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01) if len(t) else t
        parts.append(wave * ramp)
    mono = (VOLUME * 32767 * np.concatenate(parts)).astype(np.int16)
    return np.ascontiguousarray(np.stack([mono, mono], axis=1))


class StepBell:
    """Plays the start and end tones of the eyes-closed step, or nothing without audio.

    Attributes
    ----------
    enabled : bool
        False when no audio device could be opened.
    played : list of str
        ``"start"`` and ``"end"``, in the order rung (played or not: tests read it).
    """

    def __init__(self) -> None:
        self.played: list[str] = []
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        try:
            pygame.mixer.init(SAMPLE_RATE, -16, 2)
            self._sounds = {name: pygame.sndarray.make_sound(tone_samples(notes))
                            for name, notes in (("start", START_TONE), ("end", END_TONE))}
        except (pygame.error, ValueError) as exc:
            log.info("no audio device (%s); the eyes-closed step will be silent", exc)
        self.enabled = bool(self._sounds)

    def ring(self, which: str) -> None:
        """Play ``"start"`` or ``"end"`` (silently without audio)."""
        self.played.append(which)
        sound = self._sounds.get(which)
        if sound is not None:
            sound.play()

    def close(self) -> None:
        """Release the audio device."""
        if self.enabled and pygame.mixer.get_init():
            pygame.mixer.quit()
        self.enabled, self._sounds = False, {}
