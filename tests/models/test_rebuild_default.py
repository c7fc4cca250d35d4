"""``python -m models.rebuild_default --tiny``: the default's recipe runs end to end."""

from __future__ import annotations

import json

from installation.bundle import BundleSpec, resolve_bundle_paths
from tests.conftest import SHARED_DATA, shared_file
from tests.helpers import assert_one_line_error, read_frames, run_module


def test_the_tiny_recipe_builds_a_bundle_the_show_plays(tmp_path):
    shared_file("paintings/john_constable")
    for person in ("S001", "S005"):
        for run in ("R01", "R02"):
            shared_file(f"eeg/physionet_eegmmidb/{person}{run}.edf")
    result = run_module("models.rebuild_default", "--outdir", tmp_path / "rebuild", "--tiny",
                        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "original training run was lost" in result.stdout
    bundle = tmp_path / "rebuild" / "default"
    onnx_path, json_path = resolve_bundle_paths(bundle)
    spec = BundleSpec.load(json_path)
    assert onnx_path.is_file() and spec.upscaler is not None
    for name in ("generator.pt", "upscaler.onnx", "upscaler.pt", "profile.json"):
        assert (bundle / name).is_file(), name
    lineage = json.loads(json_path.read_text())["provenance"]["lineage"]
    assert [step["adapted"] for step in lineage] == ["mapping", "discriminator", "mapping"]
    show = run_module("installation", "--model", bundle, "--profile", bundle / "profile.json",
                      "--source", f"file:{SHARED_DATA}/eeg/physionet_eegmmidb/S001R02.edf",
                      "--headless", "--speed", "max", "--duration", "3",
                      "--frames-out", tmp_path / "frames", "--frame-every", "0")
    assert show.returncode == 0, show.stderr[-3000:]
    assert any(row["keyframe"] == "1" for row in read_frames(tmp_path / "frames"))


def test_without_the_shared_data_it_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("EEG_PAINTING_SHARED_DATA", str(tmp_path / "absent"))
    result = run_module("models.rebuild_default", "--outdir", tmp_path / "rebuild", "--tiny")
    assert_one_line_error(result, "absent")
    assert not (tmp_path / "rebuild").exists()
