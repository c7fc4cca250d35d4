"""A new calibration profile taking over the steering smoothly: two pipelines, one blend.

When the wearer changes, the feature extractor changes to one built with the new profile (its
statistics, bad channels and mains frequency). Swapped at once, the steering vector would jump
by the difference between the two z-scorings, and the painting with it. :class:`ProfileRamp`
runs the old and the new extractor side by side on the same samples and blends their steering
vectors over ``ramp_s`` seconds of EEG time, so the painting moves from one to the other no
faster than it moves anyway; then the new extractor runs alone. Two wearers' z-scorings can lie
far apart, so ``ramp_s`` is the shortest ramp: at its first blended frame the ramp measures the
gap between the two steering vectors and stretches itself until the blend adds no more than
half an ordinary hop's step to each hop (``ordinary_step``, the worker's median), up to
:data:`MAX_RAMP_S`.

The new extractor starts warm: :func:`warm_extractor` feeds it the newest seconds of the ring,
cut so that its hops fall on the same samples as the old one's, so its filters, window and
smoother are settled when the ramp begins and the two emit their frames together.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from installation.eeg.sources.base import Chunk

log = logging.getLogger(__name__)

DEFAULT_RAMP_S = 3.0  # seconds of EEG over which the new profile takes over, at the least
MAX_RAMP_S = 30.0  # a ramp longer than this would leave the new wearer unanswered too long
RAMP_SHARE_OF_STEP = 0.5  # the blend adds at most this share of an ordinary hop's step per hop
WARM_UP_S = 20.0  # recent EEG a new extractor runs over first: 5 of the slow EMA's 4 s


class ProfileRamp:
    """Old and new feature extractors on the same samples, steering blended old to new.

    It has the extractor's face (``push``, ``spec``, ``features``, ``hop``, ``window``), so the
    steering worker uses it in the extractor's place; once :attr:`done`, the worker takes the
    new extractor back as its own.

    Parameters
    ----------
    old, new : FeatureExtractor
        The pipeline in use and the one taking over (warmed up, at the same hop phase).
    ramp_s : float
        Seconds of EEG time from the first blended frame to the new one alone, at the least;
        0 swaps at once.
    ordinary_step : float or None
        The median change of the steering vector from one hop to the next before the swap; the
        ramp stretches so the blend adds at most half of it to each hop. None: ``ramp_s`` as it
        is.
    """

    def __init__(self, old, new, ramp_s: float = DEFAULT_RAMP_S,
                 ordinary_step: float | None = None) -> None:
        self.old, self.new = old, new
        self.ramp_s = max(0.0, float(ramp_s))
        self.ordinary_step = ordinary_step
        self.start_eeg_time: float | None = None  # EEG time of the first blended frame
        self.done = self.ramp_s == 0.0
        self._last_new = None  # the new pipeline's newest frame

    @property
    def spec(self):
        """The new extractor's feature spec (the model's; both share it)."""
        return self.new.spec

    @property
    def features(self):
        """The new extractor's band-power stage (channel names, masked channels)."""
        return self.new.features

    @property
    def hop(self) -> int:
        """Samples per hop."""
        return self.new.hop

    @property
    def window(self) -> int:
        """Samples per window."""
        return self.new.window

    @property
    def samples_to_next_frame(self) -> int:
        """Samples still to come before the next frame (both pipelines share the phase)."""
        return self.old.samples_to_next_frame

    @property
    def info(self):
        """The stream's info."""
        return self.new.info

    def weight(self, eeg_time: float) -> float:
        """The new profile's share of the steering at ``eeg_time``: 0 at the start, 1 at the end."""
        if self.start_eeg_time is None:
            self.start_eeg_time = float(eeg_time)
        if self.ramp_s == 0.0:
            return 1.0
        return float(np.clip((eeg_time - self.start_eeg_time) / self.ramp_s, 0.0, 1.0))

    def stretched(self, old_steering: np.ndarray, new_steering: np.ndarray) -> float:
        """The ramp's length for this gap between the two steerings (see the module)."""
        step = self.ordinary_step
        if self.ramp_s == 0.0 or step is None or not np.isfinite(step) or step <= 0:
            return self.ramp_s
        gap = float(np.linalg.norm(np.asarray(new_steering) - np.asarray(old_steering)))
        if not np.isfinite(gap):
            return self.ramp_s
        hops = gap / (RAMP_SHARE_OF_STEP * step)
        ramp_s = float(np.clip(hops * self.new.spec.hop_s, self.ramp_s, MAX_RAMP_S))
        log.info("the new profile ramps in over %.1f s (the steering moves %.1f; an ordinary "
                 "hop %.2f)", ramp_s, gap, step)
        return ramp_s

    def push(self, chunk: Chunk) -> list:
        """Both pipelines take the chunk; the old one's frames come out, steering blended.

        Returns
        -------
        list of FeatureFrame
            The new pipeline's frames (its band powers, z-scores and masked channels) with the
            steering blended; the old one's where the new one has not yet given a frame.
        """
        old_frames = self.old.push(chunk)
        new_frames = self.new.push(chunk)
        out = []
        for i, old in enumerate(old_frames):
            new = new_frames[i] if i < len(new_frames) else self._last_new
            if new is None:
                out.append(old)
                continue
            self._last_new = new
            if self.start_eeg_time is None:
                self.ramp_s = self.stretched(old.steering, new.steering)
            w = self.weight(old.eeg_time)
            steering = ((1.0 - w) * old.steering + w * new.steering).astype(np.float32)
            out.append(replace(new, eeg_time=old.eeg_time, arrival=old.arrival,
                               steering=steering))
            self.done = self.done or w >= 1.0
        return out


def warm_extractor(extractor, ring, end_count: int, phase: int,
                   warm_up_s: float = WARM_UP_S) -> int:
    """Run a fresh extractor over the ring's newest samples up to ``end_count``.

    It is fed a stretch whose length leaves it ``phase`` samples from its next frame, the
    phase of the extractor it will run beside, so the two emit frames at the same samples.

    Parameters
    ----------
    extractor : FeatureExtractor
        Fresh (nothing pushed yet).
    ring : RingBuffer
        The samples the steering reads.
    end_count : int
        The ring's count up to which the running extractor has taken samples.
    phase : int
        The running extractor's ``samples_to_next_frame``.
    warm_up_s : float
        Seconds wanted; fewer when the ring holds fewer.

    Returns
    -------
    int
        Samples fed (0 when the ring held too few for one window).
    """
    hop, window = extractor.hop, extractor.window
    phase = phase % hop or hop  # in (0, hop]
    wanted = int(round(warm_up_s * extractor.info.sample_rate))
    available = min(end_count, ring.capacity)
    longest = min(max(wanted, window + hop), available)
    # length = window + k * hop - phase: the next frame then falls ``phase`` samples on
    k = (longest + phase - window) // hop
    length = window + k * hop - phase
    if k < 1 or length <= 0:
        return 0
    chunk = ring.since(end_count - length)
    if chunk is None or chunk.dropped:
        return 0
    fed = Chunk(chunk.data[:, :length], chunk.timestamps[:length], chunk.arrival)
    if fed.n_samples != length:
        return 0
    extractor.push(fed)
    return length
