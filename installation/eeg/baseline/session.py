"""The guided calibration as a step object: baseline with eyes open, then eyes closed.

:class:`CalibrationSession` takes chunks from any source (``push``) and is told when a step
starts (``start_step``); the operator screen and the headless command both drive it, and tests
drive it directly. Quality is watched all the time (the screen shows it live); the summary, the
eyes-closed check and the profile are made from the recorded steps only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from installation.eeg.baseline.alpha_check import AlphaCheck, alpha_ratio
from installation.eeg.baseline.profile_builder import (
    EXCLUDED_STATES,
    baseline_band_powers,
    build_profile,
    channels_to_leave_out,
)
from installation.eeg.baseline.quality import QualityMonitor, QualityReport, QualityThresholds
from installation.eeg.feature_pipeline import FeatureExtractor, FeatureFrame
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.sources.base import Chunk, StreamInfo
from installation.errors import ConfigError

BASELINE = "baseline"
EYES_CLOSED = "eyes_closed"
DEFAULT_BASELINE_S = 60.0
# Alpha settles within seconds of closing the eyes; 30 s gives ~400 feature windows, plenty
# for a stable mean, and is as long as most people keep still with their eyes shut.
DEFAULT_EYES_CLOSED_S = 30.0
WAITING, RECORDING, DONE = "waiting", "recording", "done"


@dataclass(frozen=True)
class CalibrationStep:
    """One guided step.

    Attributes
    ----------
    name : str
        ``baseline`` or ``eyes_closed``.
    title : str
        Short heading for the screen.
    instruction : str
        What the artist is asked to do.
    duration_s : float
        Seconds to record.
    """

    name: str
    title: str
    instruction: str
    duration_s: float


def default_steps(baseline_s: float = DEFAULT_BASELINE_S,
                  eyes_closed_s: float = DEFAULT_EYES_CLOSED_S) -> tuple[CalibrationStep, ...]:
    """The two guided steps; an eyes-closed duration of 0 leaves that step out.

    Raises
    ------
    ConfigError
        For a non-positive baseline or a negative eyes-closed duration.
    """
    if not baseline_s > 0:
        raise ConfigError(f"The baseline duration must be a positive number of seconds, "
                          f"got {baseline_s}.")
    if not eyes_closed_s >= 0:
        raise ConfigError(f"The eyes-closed duration must be 0 or more seconds, "
                          f"got {eyes_closed_s}.")
    of = 2 if eyes_closed_s > 0 else 1
    steps = [CalibrationStep(BASELINE, f"Step 1 of {of}: baseline",
                             "Eyes open, look at the cross", float(baseline_s))]
    if eyes_closed_s > 0:
        steps.append(CalibrationStep(EYES_CLOSED, "Step 2 of 2: eyes closed",
                                     "Close your eyes", float(eyes_closed_s)))
    return tuple(steps)


@dataclass
class CalibrationResult:
    """What a finished calibration produced.

    Attributes
    ----------
    quality : QualityReport
        Signal quality over the recorded steps.
    alpha : AlphaCheck or None
        The eyes-closed check; None when that step was not recorded.
    profile : dict
        ``profile.json`` content.
    notes : list of str
        Things the operator should know (shortened steps, skipped checks).
    """

    quality: QualityReport
    alpha: AlphaCheck | None
    profile: dict
    notes: list[str] = field(default_factory=list)


class CalibrationSession:
    """Baseline and eyes-closed steps over a stream, chunk by chunk.

    Parameters
    ----------
    info : StreamInfo
        The stream's channels and rate.
    spec : FeatureSpec, optional
        The show's feature spec (the default when None).
    steps : sequence of CalibrationStep, optional
        Defaults to :func:`default_steps`.
    source : str
        The source spec, stored in the profile.
    thresholds : QualityThresholds, optional
        Quality thresholds.
    line_freq : float, optional
        Mains frequency; detected from the signal when None.
    auto_advance : bool
        Start each step as soon as the previous one ends (headless mode); otherwise the
        operator starts each with :meth:`start_step`.
    """

    def __init__(self, info: StreamInfo, spec: FeatureSpec | None = None, steps=None,
                 source: str = "", thresholds: QualityThresholds | None = None,
                 line_freq: float | None = None, auto_advance: bool = False) -> None:
        self.info = info
        self.spec = spec or FeatureSpec()
        self.steps = tuple(steps) if steps is not None else default_steps()
        self.source = source
        self.auto_advance = auto_advance
        if line_freq is None:
            line_freq = self.spec.line_freq  # the model's, when it fixes one
        self.monitor = QualityMonitor(info.channel_names, info.sample_rate, line_freq, thresholds)
        self.extractor = FeatureExtractor(self.spec, info)
        self.state = WAITING
        self.step_index = 0
        self._notes: list[str] = []  # remarks of the finished result (see notes)
        self.latest_frame: FeatureFrame | None = None
        self._step_samples = 0
        # Raw chunks per step: features are recomputed without the bad channels at the end,
        # exactly as the show will compute them with this profile.
        self._chunks: dict[str, list[Chunk]] = {step.name: [] for step in self.steps}
        # The recorded sample span of each step, absolute indices; a repeat replaces its own.
        self._ranges: dict[str, tuple[int, int]] = {}
        self._short_notes: dict[str, str] = {}  # a step ended early, said once per step
        self._recorded = {step.name: 0 for step in self.steps}  # samples per step
        if auto_advance:
            self.start_step()

    @property
    def current_step(self) -> CalibrationStep | None:
        """The step being recorded or about to be; None when all are done."""
        return None if self.state == DONE else self.steps[self.step_index]

    @property
    def progress(self) -> float:
        """Share of the current step recorded, in [0, 1] (1 when all are done)."""
        if self.state == DONE:
            return 1.0
        return min(1.0, self._step_samples / self._step_length(self.current_step))

    @property
    def overall_progress(self) -> float:
        """Share of all steps recorded, in [0, 1]."""
        total = sum(step.duration_s for step in self.steps)
        if self.state == DONE:
            return 1.0
        done = sum(step.duration_s for step in self.steps[: self.step_index])
        return min(1.0, (done + self.progress * self.current_step.duration_s) / total)

    def start_step(self) -> bool:
        """Start recording the current step; return False when not waiting for one."""
        if self.state != WAITING:
            return False
        self.state = RECORDING
        name = self.current_step.name
        self._step_samples = 0
        self._chunks[name] = []
        self._recorded[name] = 0
        self._short_notes.pop(name, None)
        start = self.monitor.samples_received
        self._ranges[name] = (start, start)
        return True

    @property
    def repeatable_step(self) -> int | None:
        """Index of the step R repeats: the one recording, else the last recorded; or None."""
        if self.state == RECORDING:
            return self.step_index
        return self.step_index - 1 if self.step_index > 0 else None

    def repeat_step(self) -> bool:
        """Go back to the step being (or last) recorded, to record it again from the start.

        What it recorded before is dropped when it starts again; the later steps stay
        recorded. Returns False when no step has been started yet.
        """
        index = self.repeatable_step
        if index is None:
            return False
        self.step_index, self.state = index, WAITING
        self._step_samples = 0
        if self.auto_advance:
            self.start_step()
        return True

    def advance(self) -> None:
        """End the current step now (e.g. the operator pressed a key, or the file ended)."""
        if self.state != RECORDING:
            return
        step = self.current_step
        if self._step_samples < self._step_length(step):
            recorded = self._step_samples / self.info.sample_rate
            self._short_notes[step.name] = (f"The {step.name.replace('_', '-')} step recorded "
                                            f"{recorded:.1f} s of the {step.duration_s:g} s "
                                            "planned.")
        self.step_index += 1
        self._step_samples = 0  # the next step's bar starts empty
        if self.step_index < len(self.steps) and self.steps[self.step_index].name in self._ranges:
            self.step_index = len(self.steps)  # a repeated step: the later ones are recorded
        if self.step_index >= len(self.steps):
            self.state = DONE
        else:
            self.state = WAITING
            if self.auto_advance:
                self.start_step()

    def push(self, chunk: Chunk) -> None:
        """Take the next chunk of the stream.

        Parameters
        ----------
        chunk : Chunk
            The next samples, in order; a chunk that runs past the end of a step is split.
        """
        if chunk.n_samples == 0:
            return
        if self.state == RECORDING:
            room = self._step_length(self.current_step) - self._step_samples
            if chunk.n_samples > room:
                self._take(_slice(chunk, 0, room))
                self.advance()
                self.push(_slice(chunk, room, chunk.n_samples))
                return
        self._take(chunk)
        if self.state == RECORDING and self._step_samples >= self._step_length(self.current_step):
            self.advance()

    def _take(self, chunk: Chunk) -> None:
        if chunk.n_samples == 0:
            return
        self.monitor.push(chunk.data)
        frames = self.extractor.push(chunk)
        if frames:
            self.latest_frame = frames[-1]
        if self.state == RECORDING:
            self._chunks[self.current_step.name].append(chunk)
            self._step_samples += chunk.n_samples
            self._recorded[self.current_step.name] += chunk.n_samples
            name = self.current_step.name
            self._ranges[name] = (self._ranges[name][0], self.monitor.samples_received)

    def _step_length(self, step: CalibrationStep) -> int:
        return max(1, int(round(step.duration_s * self.info.sample_rate)))

    @property
    def recorded_samples(self) -> int:
        """Samples recorded in the steps so far."""
        return sum(stop - start for start, stop in self._ranges.values())

    def recorded_windows(self) -> list:
        """Quality windows that lie wholly inside the recorded steps."""
        rate = self.info.sample_rate
        span = self.monitor.window
        spans = _merged(sorted(self._ranges.values()))
        return [w for w in self.monitor.windows
                if any(a <= round(w.end_s * rate) - span and round(w.end_s * rate) <= b
                       for a, b in spans)]

    def finish(self) -> CalibrationResult:
        """Quality, eyes-closed check and profile from the recorded steps.

        Raises
        ------
        ConfigError
            When the baseline holds too little EEG for a profile or a quality window.
        """
        self.advance()  # a step still running ends here
        self._notes = []  # finish may run again after a repeated step
        return self._result()

    @property
    def notes(self) -> list[str]:
        """Things the operator should know: steps that ended early, then skipped checks."""
        short = [self._short_notes[s.name] for s in self.steps if s.name in self._short_notes]
        return short + list(self._notes)

    def _result(self) -> CalibrationResult:
        quality = self.monitor.summary(self.recorded_windows(),
                                       self.recorded_samples / self.info.sample_rate)
        excluded = self._excluded_channels(quality)
        baseline = self._band_powers(BASELINE, excluded)
        if baseline.shape[0] < 2:
            raise ConfigError("The baseline step recorded too little EEG for a profile; record "
                              "at least a few seconds.")
        alpha = self._alpha_check(baseline, excluded)
        profile = build_profile(self.spec, baseline, quality, self.source, alpha,
                                baseline_s=self._recorded[BASELINE] / self.info.sample_rate)
        return CalibrationResult(quality, alpha, profile, self.notes)

    def _excluded_channels(self, quality: QualityReport) -> list[str]:
        """The channels the show will leave out; none when that would leave nothing."""
        excluded = channels_to_leave_out(quality)
        if not excluded and all(c.state in EXCLUDED_STATES for c in quality.channels):
            self._notes.append("Every channel is railed, flat or noisy; the baseline statistics "
                              "include them all and will not mean much.")
        return excluded

    def _band_powers(self, step_name: str, excluded) -> np.ndarray:
        """A step's band-power vectors, through the show's pipeline without ``excluded``."""
        # The mains frequency the quality figures used, so features and report agree.
        spec = replace(self.spec, line_freq=self.monitor.line_freq or self.spec.line_freq)
        extractor = FeatureExtractor(spec, self.info, bad_channels=excluded)
        frames = []
        for chunk in self._chunks.get(step_name, []):
            frames.extend(extractor.push(chunk))
        return baseline_band_powers(frames).reshape(len(frames), self.spec.n_features)

    def _alpha_check(self, baseline: np.ndarray, excluded) -> AlphaCheck | None:
        if EYES_CLOSED not in self._chunks:
            return None
        closed = self._band_powers(EYES_CLOSED, excluded)
        if closed.shape[0] < 2:
            self._notes.append("The eyes-closed step recorded too little EEG; the eyes-closed "
                              "check was skipped.")
            return None
        good = [n for n in self.info.channel_names if n not in excluded]
        return alpha_ratio(baseline, closed, self.spec, good)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans that touch (steps run back to back) so windows may straddle them."""
    merged: list[tuple[int, int]] = []
    for start, stop in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


def _slice(chunk: Chunk, start: int, stop: int) -> Chunk:
    """Part of a chunk, keeping its arrival time."""
    return Chunk(chunk.data[:, start:stop], chunk.timestamps[start:stop], chunk.arrival)
