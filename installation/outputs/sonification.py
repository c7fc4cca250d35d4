"""Sound from the brain waves: a chord whose voices follow the band powers that steer the painting.

:class:`Sonifier` is a pure step object: :meth:`Sonifier.set_band_powers` takes a hop's band
powers and :meth:`Sonifier.render` the next block of samples, so the live player
(:mod:`installation.outputs.sound_player`) and the offline render (``installation.render --sound``)
make the same sound from the same hops.

The mapping:

- one voice per EEG band, tuned to a chord over a root (1, 3/2, 2, 3, 4, ... times the root);
- a voice's loudness is its band's share of the power (:func:`band_shares`);
- a band slow enough to be heard as a pulse (up to 13 Hz) pulses its voice at its own rhythm:
  the alpha voice throbs at about 10 Hz, so alpha is heard as alpha;
- pitch: the root glides up to two semitones up when beta outweighs alpha and theta (alert),
  down when they outweigh it (relaxed, eyes closed);
- timbre: the beta and gamma share adds odd harmonics (a brighter, reedier tone).

Amplitudes, pitch and timbre ramp linearly across a block, so a new hop never clicks.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from installation.eeg.feature_spec import FeatureSpec

SAMPLE_RATE = 44100
ROOT_HZ = 110.0
VOICE_RATIOS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)
MAX_PULSE_HZ = 13.0  # bands at or below this pulse their voice at their own rhythm
PULSE_DEPTH = 0.6
MAX_GLIDE_SEMITONES = 2.0
MASTER_GAIN = 0.3
BRIGHT_BANDS_FROM_HZ = 13.0  # beta and above make the tone brighter


def band_shares(band_powers: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Each band's share of the power, 0..1, summing to 1 (zeros when nothing is usable).

    The power of each band (linear µV², the mean over regions with finite values) is weighted
    by the band's centre frequency, which evens out the 1/f slope of the EEG: otherwise delta
    would always have nearly everything.

    Parameters
    ----------
    band_powers : ndarray
        log10 µV², region-major (n_regions * n_bands,) or (n_regions, n_bands).
    spec : FeatureSpec
        The bands.

    Returns
    -------
    ndarray, float64, shape (n_bands,)
    """
    n_bands = len(spec.bands)
    log_powers = np.asarray(band_powers, dtype=np.float64).reshape(-1, n_bands)
    finite = np.isfinite(log_powers).all(axis=1)
    if not finite.any():
        return np.zeros(n_bands)
    centres = np.array([(lo + hi) / 2 for _, lo, hi in spec.bands])
    weighted = (10.0 ** log_powers[finite]).mean(axis=0) * centres
    total = weighted.sum()
    return weighted / total if total > 0 else np.zeros(n_bands)


class Sonifier:
    """The chord's state; renders blocks of mono float32 samples in [-1, 1].

    Parameters
    ----------
    spec : FeatureSpec
        The bands (and regions) of the band powers it is given.
    sample_rate : int
        Audio samples per second.
    root_hz : float
        The chord's root at rest (no glide).
    gain : float
        Peak level of the whole chord, 0..1.
    """

    def __init__(self, spec: FeatureSpec, sample_rate: int = SAMPLE_RATE,
                 root_hz: float = ROOT_HZ, gain: float = MASTER_GAIN) -> None:
        if len(spec.bands) > len(VOICE_RATIOS):
            raise ValueError(f"at most {len(VOICE_RATIOS)} bands can be voiced")
        self.spec = spec
        self.sample_rate = int(sample_rate)
        self.root_hz = float(root_hz)
        self.gain = float(gain)
        self.n_bands = len(spec.bands)
        centres = np.array([(lo + hi) / 2 for _, lo, hi in spec.bands])
        self.centres = centres
        self.ratios = np.array(VOICE_RATIOS[:self.n_bands])
        self.pulse_hz = np.where(centres <= MAX_PULSE_HZ, centres, 0.0)
        self.bright = np.array([lo >= BRIGHT_BANDS_FROM_HZ for _, lo, _ in spec.bands])
        self.alpha_like = np.array([lo >= 7.0 and hi <= 14.0 for _, lo, hi in spec.bands])
        self.slow = np.array([hi <= 8.5 and lo >= 3.0 for _, lo, hi in spec.bands])  # theta
        self._phase = np.zeros(self.n_bands)  # voice phases, cycles
        self._pulse_phase = np.zeros(self.n_bands)
        self._shares = np.zeros(self.n_bands)  # silence until the first hop
        self._target_shares = self._shares.copy()
        self._glide = 0.0
        self._target_glide = 0.0
        self._brightness = 0.0
        self._target_brightness = 0.0

    def set_band_powers(self, band_powers: np.ndarray) -> None:
        """Take a hop's band powers: log10 µV², region-major (n_regions * n_bands,) or 2-D.

        The next :meth:`render` glides from the current sound to the one they call for.
        """
        shares = band_shares(band_powers, self.spec)
        if not shares.any():
            return  # nothing usable this hop: keep sounding the last chord
        self._target_shares = shares
        self._target_brightness = float(shares[self.bright].sum())
        relaxed = shares[self.alpha_like].sum() + shares[self.slow].sum()
        alert = shares[self.bright].sum()
        balance = np.log((alert + 1e-6) / (relaxed + 1e-6))
        self._target_glide = float(MAX_GLIDE_SEMITONES * np.tanh(balance))

    def render(self, n_samples: int) -> np.ndarray:
        """The next ``n_samples`` of sound, float32 (n_samples,), ramping to the last hop's chord.

        Parameters
        ----------
        n_samples : int
            Block length.

        Returns
        -------
        ndarray, float32
        """
        n = int(n_samples)
        if n <= 0:
            return np.zeros(0, np.float32)
        ramp = (np.arange(1, n + 1) / n)[:, None]  # (n, 1): 1/n .. 1
        shares = self._shares + (self._target_shares - self._shares) * ramp
        glide = self._glide + (self._target_glide - self._glide) * ramp
        bright = self._brightness + (self._target_brightness - self._brightness) * ramp
        freqs = self.root_hz * 2.0 ** (glide / 12.0) * self.ratios  # (n, n_bands)
        phase = self._phase + np.cumsum(freqs, axis=0) / self.sample_rate
        pulse_phase = self._pulse_phase + np.arange(1, n + 1)[:, None] * (
            self.pulse_hz / self.sample_rate)
        pulse = np.where(self.pulse_hz > 0,
                         1.0 - PULSE_DEPTH * 0.5 * (1.0 - np.cos(2 * np.pi * pulse_phase)), 1.0)
        tone = (np.sin(2 * np.pi * phase) + bright * (0.5 * np.sin(6 * np.pi * phase)
                                                      + 0.25 * np.sin(10 * np.pi * phase)))
        mix = (tone * shares * pulse).sum(axis=1) * self.gain
        self._phase = phase[-1] % 1.0
        self._pulse_phase = pulse_phase[-1] % 1.0
        self._shares, self._glide = self._target_shares, self._target_glide
        self._brightness = self._target_brightness
        return np.clip(mix, -1.0, 1.0).astype(np.float32)


class HopSound:
    """The sound of a sequence of hops, handed out in blocks of any length.

    Each hop sounds from its start sample until the next hop's; every hop is rendered whole
    and cut afterwards, so the sound does not depend on the block lengths asked for.

    Parameters
    ----------
    spec : FeatureSpec
        The bands.
    hop_starts : ndarray of int, shape (n_hops,)
        Audio sample index where each hop starts, rising; the first is where the sound starts.
    band_powers : sequence of ndarray
        Each hop's band powers (see :meth:`Sonifier.set_band_powers`).
    sample_rate : int
        Audio samples per second.
    hop_samples : int
        Length of the last hop (it has no successor to end it).
    """

    def __init__(self, spec: FeatureSpec, hop_starts, band_powers, sample_rate: int = SAMPLE_RATE,
                 hop_samples: int | None = None) -> None:
        self.sonifier = Sonifier(spec, sample_rate)
        self.starts = np.asarray(hop_starts, dtype=np.int64)
        self.band_powers = list(band_powers)
        last = int(hop_samples or round(spec.hop_s * sample_rate))
        self.ends = np.append(self.starts[1:], self.starts[-1] + last) if len(self.starts) else (
            self.starts)
        self.position = int(self.starts[0]) if len(self.starts) else 0
        self._next_hop = 0
        self._pending = np.zeros(0, np.float32)

    def render_until(self, end_sample: int) -> np.ndarray:
        """Samples from where the last call stopped up to ``end_sample`` (then silence)."""
        wanted = int(end_sample) - self.position
        while len(self._pending) < wanted and self._next_hop < len(self.starts):
            i = self._next_hop
            self.sonifier.set_band_powers(self.band_powers[i])
            block = self.sonifier.render(int(self.ends[i] - self.starts[i]))
            self._pending = np.concatenate([self._pending, block])
            self._next_hop += 1
        out = self._pending[:max(wanted, 0)]
        self._pending = self._pending[len(out):]
        if len(out) < wanted:
            out = np.concatenate([out, np.zeros(wanted - len(out), np.float32)])
        self.position += max(wanted, 0)
        return out


def sonify_hops(spec: FeatureSpec, band_powers, hop_samples_at: np.ndarray,
                sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Offline: the sound of a sequence of hops, each lasting until the next one starts.

    Parameters
    ----------
    spec : FeatureSpec
        The bands.
    band_powers : sequence of ndarray
        One hop's band powers each (see :meth:`Sonifier.set_band_powers`).
    hop_samples_at : ndarray of int, shape (n_hops + 1,)
        Audio sample index where each hop starts, then where the sound ends.
    sample_rate : int
        Audio samples per second.

    Returns
    -------
    ndarray, float32, shape (hop_samples_at[-1] - hop_samples_at[0],)
    """
    at = np.asarray(hop_samples_at, dtype=np.int64)
    sound = HopSound(spec, at[:-1], band_powers, sample_rate, int(at[-1] - at[-2]))
    return sound.render_until(int(at[-1]))


def write_wav(samples: np.ndarray, path: str | Path, sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono float samples in [-1, 1] as a 16-bit WAV file."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(sample_rate))
        f.writeframes(pcm.tobytes())
