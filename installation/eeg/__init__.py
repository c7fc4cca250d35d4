"""The EEG side: sources, filtering, features, the feature spec and pipeline, the profile.

Calibration, training and the live show all read EEG through this package, so what the
generator learned from is exactly what it is fed live. It imports no pygame, onnxruntime or
torch (``tests/test_layers.py`` holds it to that).

Modules
-------
sources
    Headsets (BrainFlow), LSL streams and recording files behind one interface; the session
    folder format (``sources.session_format``) and its reader.
filtering
    Causal band-pass and notch whose state carries across chunks; mains detection.
features, feature_spec, feature_pipeline
    Band powers per region, their z-scoring and smoothing, hop by hop.
channels, montage
    Channel names cleaned, and the scalp region of each.
profile
    Reading a calibration profile and the one rule of whether it fits a stream.
"""

from __future__ import annotations

import importlib

# Each name loads with its module on first use: training on a machine without the headset
# libraries (BrainFlow, MNE, pylsl) imports the feature spec without opening any of them.
_HOMES = {
    "Chunk": "installation.eeg.sources.base",
    "FeatureExtractor": "installation.eeg.feature_pipeline",
    "FeatureFrame": "installation.eeg.feature_pipeline",
    "FeatureNormaliser": "installation.eeg.features",
    "FeatureSpec": "installation.eeg.feature_spec",
    "StreamInfo": "installation.eeg.sources.base",
    "check_profile_fits": "installation.eeg.profile",
    "feature_frames": "installation.eeg.feature_pipeline",
    "load_profile": "installation.eeg.profile",
    "load_recording": "installation.eeg.sources.files.recordings",
    "open_source": "installation.eeg.sources",
    "parse_source_spec": "installation.eeg.sources",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    """The re-exported ``name``, imported from its module when first asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'installation.eeg' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
