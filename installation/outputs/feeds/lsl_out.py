"""``--lsl-out NAME``: an LSL outlet of each hop's band powers and steering vector.

Channel labels (``<region>_<band>_power``, then ``<region>_<band>_steering``) and units are in
the stream's XML description, so LabRecorder stores the features beside the raw EEG stream, on
the same clock.
"""

from __future__ import annotations

import numpy as np

from installation.eeg.feature_spec import FeatureSpec
from installation.errors import ConfigError

STREAM_TYPE = "EEGFeatures"


def channel_labels(spec: FeatureSpec) -> list[str]:
    """The outlet's channel labels, in order."""
    names = [f"{r}_{b}" for r in spec.regions for b, _, _ in spec.bands]
    return [f"{n}_power" for n in names] + [f"{n}_steering" for n in names]


class LslFeed:
    """An LSL outlet (float32, one sample per hop at the hop rate).

    Parameters
    ----------
    name : str
        The stream's name.
    spec : FeatureSpec
        Bands, regions and hop of the reports.
    """

    def __init__(self, name: str, spec: FeatureSpec) -> None:
        import pylsl  # lazy: pylsl loads liblsl, which only --lsl-out needs

        if not str(name).strip():
            raise ConfigError("--lsl-out needs a stream name; pass e.g. --lsl-out EEGPainting.")
        self.name = f"lsl {name}"
        self._pylsl = pylsl
        labels = channel_labels(spec)
        info = pylsl.StreamInfo(name, STREAM_TYPE, len(labels), 1.0 / spec.hop_s,
                                pylsl.cf_float32, f"eeg-painting-{name}")
        channels = info.desc().append_child("channels")
        for label in labels:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("unit", "log10 uV^2" if label.endswith("power") else "z")
            channel.append_child_value("type", "feature")
        info.desc().append_child_value("manufacturer", "eeg-painting")
        self._outlet = pylsl.StreamOutlet(info)

    def send(self, report) -> None:
        """Push one hop as a sample."""
        sample = np.concatenate([np.asarray(report.band_powers, np.float32).ravel(),
                                 np.asarray(report.steering, np.float32).ravel()])
        self._outlet.push_sample(sample.tolist(), self._pylsl.local_clock())

    def close(self) -> None:
        """Drop the outlet (its consumers see the stream end)."""
        self._outlet = None
