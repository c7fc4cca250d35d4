"""What the calibration's figures mean, in words: each figure with its limit, and what to do next.

One home for the sentences the operator screen, the terminal, ``quality.png`` and the show's HUD
(during an in-show calibration) all show, so they never disagree: "line noise -0.91 (limit
-0.3)", "check O1 and O2 contact, then press R to repeat".
"""

from __future__ import annotations

from installation.eeg.baseline.alpha_check import ALPHA_REGION
from installation.eeg.baseline.quality import FLAT, GOOD, LINE_NOISE, NOISY, RAILED, ChannelQuality
from installation.eeg.montage import region_of

REPEAT_ON_SCREEN = "press R to repeat"
REPEAT_IN_TERMINAL = "calibrate again"

# What fixes each problem, in the order an operator should try (see quality.classify).
_FIXES = {
    RAILED: "check {names} contact and the reference and bias electrodes",
    FLAT: "check {names} {are} plugged in and touching the scalp",
    NOISY: "check {names} contact and ask the artist to sit still",
    LINE_NOISE: "check {names} contact and move cables away from mains power",
}


def channel_figure(channel: ChannelQuality, thresholds) -> str:
    """The figure that decided a channel's state, with its limit.

    Parameters
    ----------
    channel : ChannelQuality
        One channel's state and figures.
    thresholds : QualityThresholds
        The limits the state was judged by.

    Returns
    -------
    str
        E.g. ``"line noise -0.91 (limit -0.3)"``, ``"rms 140 µV (limit 100 µV)"``. A summary
        over a calibration gives medians, so a channel bad for part of it adds how long, e.g.
        ``"line noise -0.25 (limit -0.3), bad 40% of the time"``.
    """
    figure = _state_figure(channel, thresholds)
    if channel.state != GOOD and 0 < channel.bad_window_share < 1:
        figure += f", bad {100 * channel.bad_window_share:.0f}% of the time"
    return figure


def _state_figure(channel: ChannelQuality, thresholds) -> str:
    t = thresholds
    if channel.state == RAILED:
        return (f"at the rail {100 * channel.railed_share:.0f}% of the time "
                f"(limit {100 * t.railed_share:g}%)")
    if channel.state == FLAT:
        if channel.raw_std_uv < t.flat_std_uv:
            return f"std {channel.raw_std_uv:.2f} µV (limit {t.flat_std_uv:g} µV)"
        return (f"repeats {100 * channel.repeated_share:.0f}% of samples "
                f"(limit {100 * t.repeated_share:g}%)")
    if channel.state == LINE_NOISE and channel.line_log_ratio is not None:
        return line_noise_figure(channel.line_log_ratio, t)
    return f"rms {channel.rms_uv:.0f} µV (limit {t.noisy_rms_uv:g} µV)"


def line_noise_figure(log_ratio: float, thresholds) -> str:
    """``"line noise -0.91 (limit -0.3)"``: the same sign everywhere, lower is worse."""
    return f"line noise {log_ratio:.2f} (limit {thresholds.line_log_ratio:g})"


def quality_advice(quality, repeat: str = REPEAT_ON_SCREEN) -> list[str]:
    """One next step per kind of problem, naming the channels: empty when all are good.

    Parameters
    ----------
    quality : QualityReport or WindowQuality
        Anything with ``channels``.
    repeat : str
        How to try again: :data:`REPEAT_ON_SCREEN` or :data:`REPEAT_IN_TERMINAL`.
    """
    lines = []
    for state, fix in _FIXES.items():
        names = [c.name for c in quality.channels if c.state == state]
        if names:
            are = "is" if len(names) == 1 else "are"
            lines.append(f"{fix.format(names=_and(names), are=are)}, then {repeat}")
    return lines


def alpha_advice(alpha, channel_names, repeat: str = REPEAT_ON_SCREEN) -> str | None:
    """What to do when the eyes-closed check failed (None when it passed or did not run)."""
    if alpha is None or alpha.passed:
        return None
    occipital = [n for n in channel_names if region_of(n) == ALPHA_REGION]
    where = f"{_and(occipital)} contact" if occipital else "the electrodes at the back of the head"
    return (f"check {where}, ask the artist to keep the eyes closed and relaxed, "
            f"then {repeat}")


def alpha_figure(alpha) -> str:
    """``"eyes-closed alpha x1.2 (limit x1.5, occipital) failed"``."""
    outcome = "passed" if alpha.passed else "failed"
    return (f"eyes-closed alpha x{alpha.ratio:.1f} (limit x{alpha.threshold:g}, {alpha.where}) "
            f"{outcome}")


def passed(result) -> bool:
    """True when the signal is good and the eyes-closed check, if run, passed."""
    alpha_ok = result.alpha is None or result.alpha.passed
    return result.quality.verdict == GOOD and alpha_ok


def verdict_line(result) -> str:
    """The verdict in one line: the signal, and the eyes-closed check with its limit."""
    quality = result.quality
    n_good = sum(c.state == GOOD for c in quality.channels)
    text = f"Verdict: signal {quality.verdict}, {n_good}/{len(quality.channels)} channels good"
    if result.alpha is not None:
        text += "; " + alpha_figure(result.alpha)
    return text


def next_steps(result, repeat: str = REPEAT_ON_SCREEN) -> list[str]:
    """The operator's next steps after a finished calibration (empty when it passed)."""
    names = [c.name for c in result.quality.channels]
    steps = quality_advice(result.quality, repeat) if result.quality.verdict != GOOD else []
    advice = alpha_advice(result.alpha, names, repeat)
    return steps + ([advice] if advice else [])


def summary_lines(result, repeat: str = REPEAT_IN_TERMINAL) -> list[str]:
    """The verdict for the terminal: verdict, bad channels with figures, next steps, notes."""
    t = result.quality.thresholds
    lines = [f"{verdict_line(result)} (line {result.quality.line_freq:g} Hz)"]
    lines += [f"  {c.name}: {c.state}, {channel_figure(c, t)}"
              for c in result.quality.channels if c.state != GOOD]
    lines += [f"next: {step}" for step in next_steps(result, repeat)]
    lines += [f"note: {note}" for note in result.notes]
    return lines


def _and(names: list[str]) -> str:
    """``O1``, ``O1 and O2``, ``O1, Oz and O2``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
