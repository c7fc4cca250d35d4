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

from installation.eeg.feature_pipeline import FeatureExtractor, FeatureFrame, feature_frames
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import FeatureNormaliser
from installation.eeg.profile import check_profile_fits, load_profile
from installation.eeg.sources import open_source, parse_source_spec
from installation.eeg.sources.base import Chunk, StreamInfo
from installation.eeg.sources.files.recordings import load_recording

__all__ = [
    "Chunk",
    "FeatureExtractor",
    "FeatureFrame",
    "FeatureNormaliser",
    "FeatureSpec",
    "StreamInfo",
    "check_profile_fits",
    "feature_frames",
    "load_profile",
    "load_recording",
    "open_source",
    "parse_source_spec",
]
