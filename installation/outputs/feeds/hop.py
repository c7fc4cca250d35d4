"""What the feeds send for one hop: band powers, steering vector, signal state, keyframe count."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from installation.eeg.feature_spec import FeatureSpec
from installation.outputs.sonification import band_shares


@dataclass(frozen=True)
class HopReport:
    """One hop of the show as the feeds see it.

    Attributes
    ----------
    eeg_time : float
        Seconds from the source's start of the newest sample in the hop's window.
    band_powers : ndarray, float64, shape (n_regions, n_bands)
        log10 µV² per region and band.
    shares : ndarray, float64, shape (n_bands,)
        Each band's share of the power, 0..1 (see
        :func:`installation.outputs.sonification.band_shares`).
    steering : ndarray, float32, shape (n_features,)
        The vector fed to the generator (region-major, as ``spec.feature_names``).
    signal : str
        ``"ok"`` or ``"lost"``.
    keyframes : int
        Paintings made so far.
    """

    eeg_time: float
    band_powers: np.ndarray
    shares: np.ndarray
    steering: np.ndarray
    signal: str
    keyframes: int


def hop_report(frame, spec: FeatureSpec, signal_lost: bool, keyframes: int) -> HopReport:
    """The report of a :class:`~installation.eeg.feature_pipeline.FeatureFrame`.

    Parameters
    ----------
    frame : FeatureFrame
        The hop's features.
    spec : FeatureSpec
        Their bands and regions.
    signal_lost : bool
        The steering worker's signal state.
    keyframes : int
        Paintings made so far.
    """
    powers = np.asarray(frame.band_powers, np.float64).reshape(len(spec.regions), len(spec.bands))
    return HopReport(float(frame.eeg_time), powers, band_shares(powers, spec),
                     np.asarray(frame.steering, np.float32), "lost" if signal_lost else "ok",
                     int(keyframes))
