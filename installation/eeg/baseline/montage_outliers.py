"""Channels abnormal against the rest of the montage: one electrode far louder or quieter.

A loose or bridged electrode can stay within every absolute limit (not railed, not flat, under
100 µV) and still carry several times the others' amplitude; its features would then speak for
a skin contact, not the brain. It is judged against the montage's own median, so the rule holds
for any headset and any person.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

ABNORMAL = "abnormal"
MIN_CHANNELS = 3  # a median of fewer channels says nothing about which one is odd


def flag_abnormal(channels, good: str, loud_ratio: float, quiet_ratio: float) -> tuple:
    """Mark good channels whose RMS is far above or below the median of the good ones.

    Parameters
    ----------
    channels : sequence of ChannelQuality
        Summarised channels (``rms_uv`` the median RMS of the filtered signal).
    good : str
        The state that counts as good; only such channels are judged and form the median.
    loud_ratio, quiet_ratio : float
        Largest and smallest accepted ratio of a channel's RMS to the median of the good ones.

    Returns
    -------
    tuple of ChannelQuality
        The channels, the abnormal ones with state ``abnormal``.
    """
    rms = np.array([c.rms_uv for c in channels], dtype=np.float64)
    is_good = np.array([c.state == good for c in channels])
    if is_good.sum() < MIN_CHANNELS:
        return tuple(channels)
    ratio = rms / max(float(np.median(rms[is_good])), 1e-9)
    odd = is_good & ((ratio > loud_ratio) | (ratio < quiet_ratio))
    return tuple(replace(c, state=ABNORMAL) if flag else c
                 for c, flag in zip(channels, odd, strict=True))
