"""The sonification follows the bands that steer the painting: alpha is heard as alpha."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from installation.bundle import BundleSpec
from installation.config import DEFAULT_MODEL
from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.sources.files.recordings import load_recording
from installation.outputs.sonification import SAMPLE_RATE, Sonifier, sonify_hops, write_wav

SECONDS = 20.0
ALPHA_VOICE_HZ = (196.0, 247.0)  # the alpha voice (twice the 110 Hz root) within its glide


@pytest.fixture(scope="module")
def spec():
    return BundleSpec.load(DEFAULT_MODEL / "generator.json").feature_spec


def _sound_of(path, spec, tmp_path):
    """Render the first SECONDS of a recording's sound to a WAV and read it back."""
    recording = load_recording(path)
    frames = [f for f in feature_frames(recording, spec) if f.eeg_time <= SECONDS]
    starts = np.array([f.eeg_time for f in frames] + [frames[-1].eeg_time + spec.hop_s])
    at = np.round((starts - starts[0]) * SAMPLE_RATE).astype(int)
    wav = tmp_path / f"{path.stem}.wav"
    write_wav(sonify_hops(spec, [f.band_powers for f in frames], at), wav)
    with wave.open(str(wav)) as f:
        samples = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float64)
        assert f.getframerate() == SAMPLE_RATE
    return samples, frames


def _alpha_voice_share(samples: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    in_voice = (freqs > ALPHA_VOICE_HZ[0]) & (freqs < ALPHA_VOICE_HZ[1])
    return float(power[in_voice].sum() / power.sum())


def test_eyes_closed_alpha_sounds_louder_than_eyes_open(spec, eyes_open_edf, eyes_closed_edf,
                                                        tmp_path):
    open_share = _alpha_voice_share(_sound_of(eyes_open_edf, spec, tmp_path)[0])
    closed_share = _alpha_voice_share(_sound_of(eyes_closed_edf, spec, tmp_path)[0])
    assert closed_share > 2 * open_share, (closed_share, open_share)


def test_the_alpha_voice_follows_alpha_power_second_by_second(spec, eyes_closed_edf, tmp_path):
    samples, frames = _sound_of(eyes_closed_edf, spec, tmp_path)
    alpha = [b for b, (name, _, _) in enumerate(spec.bands) if name == "alpha"][0]
    sound, eeg = [], []
    for second in range(1, int(SECONDS) - 1):
        block = samples[second * SAMPLE_RATE:(second + 1) * SAMPLE_RATE]
        sound.append(_alpha_voice_share(block))
        powers = [10 ** f.band_powers.reshape(-1, len(spec.bands)) for f in frames
                  if second <= f.eeg_time - frames[0].eeg_time < second + 1]
        # the alpha share computed here by hand, as the docs of band_shares say it
        weighted = np.mean(powers, axis=(0, 1)) * [(lo + hi) / 2 for _, lo, hi in spec.bands]
        eeg.append(weighted[alpha] / weighted.sum())
    assert np.corrcoef(sound, eeg)[0, 1] > 0.8


def test_blocks_join_without_a_click(spec):
    sonifier = Sonifier(spec)
    powers = np.zeros(spec.n_features)
    sonifier.set_band_powers(powers)
    first = sonifier.render(4410)
    powers.reshape(-1, len(spec.bands))[:, 2] = 2.0  # a sudden alpha burst
    sonifier.set_band_powers(powers)
    second = sonifier.render(4410)
    steps = np.abs(np.diff(np.concatenate([first, second])))
    assert steps.max() < 0.1  # a ramp, not a jump, across the seam
    assert np.abs(second[-2000:]).max() > 0.05
