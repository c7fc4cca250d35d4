"""The calibration's written report: ``quality.json`` and ``quality.png``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from installation.eeg.baseline.profile_builder import save_profile  # noqa: E402
from installation.eeg.baseline.quality import GOOD, QualityReport  # noqa: E402
from installation.eeg.baseline.verdicts import (  # noqa: E402
    REPEAT_IN_TERMINAL,
    next_steps,
    summary_lines,
    verdict_line,
)
from installation.errors import ConfigError  # noqa: E402

FAILURE_COLOUR = "#d62728"
STATE_COLOURS = {
    "good": "#2e9e44",
    "railed": "#d62728",
    "flat": "#7f7f7f",
    "noisy": "#ff7f0e",
    "line_noise": "#9467bd",
    "abnormal": "#e377c2",
}


def quality_document(quality: QualityReport, alpha=None, notes=()) -> dict:
    """``quality.json`` content.

    Parameters
    ----------
    quality : QualityReport
        The calibration's quality summary.
    alpha : AlphaCheck, optional
        The eyes-closed check.
    notes : sequence of str
        Remarks for the operator.

    Returns
    -------
    dict
        JSON-ready: ``verdict``, ``channels`` (name to state and figures), ``bad_channels``,
        ``line_freq``, ``sample_rate``, ``duration_s``, ``n_windows``, ``thresholds``,
        ``eyes_closed``, ``notes``.
    """
    return {
        "verdict": quality.verdict,
        "channels": {c.name: c.to_dict() for c in quality.channels},
        "bad_channels": quality.bad_channels,
        "line_freq": quality.line_freq,
        "sample_rate": quality.sample_rate,
        "duration_s": round(quality.duration_s, 3),
        "n_windows": quality.n_windows,
        "thresholds": quality.thresholds.to_dict(),
        "eyes_closed": None if alpha is None else alpha.to_dict(),
        "notes": list(notes),
    }


def write_quality_json(path, quality: QualityReport, alpha=None, notes=()) -> Path:
    """Write :func:`quality_document` to ``path`` and return it."""
    path = Path(path)
    path.write_text(json.dumps(quality_document(quality, alpha, notes), indent=2) + "\n")
    return path


def write_quality_png(path, quality: QualityReport, profile=None, alpha=None) -> Path:
    """Draw per-channel RMS, railed share and line ratio coloured by state, and band powers.

    Parameters
    ----------
    path : str or Path
        PNG to write.
    quality : QualityReport
        The quality summary.
    profile : dict, optional
        The profile, whose baseline means give the band-power panel.
    alpha : AlphaCheck, optional
        Shown in the verdict line.

    Returns
    -------
    Path
    """
    path = Path(path)
    fig, axes = plt.subplots(4, 1, figsize=(max(8, 0.35 * len(quality.channels) + 4), 12))
    try:
        _channel_panels(axes[:3], quality)
        _band_panel(axes[3], profile)
        result = _Verdict(quality, alpha)
        steps = next_steps(result, REPEAT_IN_TERMINAL)
        failed = quality.verdict != GOOD or (alpha is not None and not alpha.passed)
        chars = int(fig.get_figwidth() * 10)  # what fits across at 12 pt
        lines = [part for line in [verdict_line(result)] + [f"next: {step}" for step in steps]
                 for part in textwrap.wrap(line, chars)]
        fig.suptitle("\n".join(lines), fontsize=12,
                     color=FAILURE_COLOUR if failed else STATE_COLOURS[GOOD])
        fig.tight_layout(rect=(0, 0, 1, 0.99))  # room for the title: tight_layout counts it
        fig.savefig(path, dpi=80)
    finally:
        plt.close(fig)
    return path


def _channel_panels(axes, quality: QualityReport) -> None:
    names = [c.name for c in quality.channels]
    colours = [STATE_COLOURS[c.state] for c in quality.channels]
    x = np.arange(len(names))
    t = quality.thresholds
    figures = [
        ([c.rms_uv for c in quality.channels],
         f"rms 1-40 Hz, µV\n(limit {t.noisy_rms_uv:g} µV)", t.noisy_rms_uv),
        ([100 * c.railed_share for c in quality.channels],
         f"at the rail, % of time\n(limit {100 * t.railed_share:g}%)", 100 * t.railed_share),
        ([c.line_log_ratio or 0.0 for c in quality.channels],
         f"line noise at {quality.line_freq:g} Hz, log10 ratio\n"
         f"(limit {t.line_log_ratio:g}; lower is worse)", t.line_log_ratio),
    ]
    for ax, (values, label, limit) in zip(axes, figures, strict=True):
        ax.bar(x, values, color=colours)
        if limit is not None:
            ax.axhline(limit, color="black", linestyle="--", linewidth=0.8)
        ax.set_ylabel(label)
        ax.set_xticks(x, names, rotation=90, fontsize=7)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in STATE_COLOURS.values()]
    axes[0].legend(handles, list(STATE_COLOURS), fontsize=7, ncol=5, loc="upper right")


def _band_panel(ax, profile) -> None:
    if not profile:
        ax.set_axis_off()
        return
    names = profile.get("feature_names") or [str(i) for i in range(len(profile["mean"]))]
    x = np.arange(len(names))
    ax.bar(x, profile["mean"], yerr=profile["std"], color="#1f77b4")
    ax.set_ylabel("baseline log10 band power (µV²)")
    ax.set_xticks(x, names, rotation=90, fontsize=7)


class _Verdict:
    """The parts of a CalibrationResult the verdict sentences read."""

    def __init__(self, quality: QualityReport, alpha, notes=()) -> None:
        self.quality, self.alpha, self.notes = quality, alpha, list(notes)


def print_verdict(result, paths=None) -> None:
    """Print the verdict, the figures of bad channels, the next steps and what was written."""
    for line in summary_lines(result):
        print(line)
    for path in (paths or {}).values():
        print(f"wrote {path}")


def write_calibration(out_dir, result) -> dict[str, Path]:
    """Write ``profile.json``, ``quality.json`` and ``quality.png`` of a finished calibration.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into; created when missing.
    result : CalibrationResult
        What :meth:`installation.eeg.baseline.session.CalibrationSession.finish` returned.

    Returns
    -------
    dict of str to Path
        ``profile``, ``quality_json`` and ``quality_png``.
    """
    out_dir = ensure_out_dir(out_dir)
    return {
        "profile": save_profile(result.profile, out_dir / "profile.json"),
        "quality_json": write_quality_json(out_dir / "quality.json", result.quality,
                                           result.alpha, result.notes),
        "quality_png": write_quality_png(out_dir / "quality.png", result.quality,
                                         result.profile, result.alpha),
    }


def ensure_out_dir(out_dir) -> Path:
    """Create the output folder, or raise ConfigError with one sentence when it cannot be."""
    out_dir = Path(out_dir).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the output folder {out_dir} ({exc.strerror}); "
                          "choose another --out.") from None
    return out_dir
