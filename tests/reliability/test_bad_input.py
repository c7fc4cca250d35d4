"""Bad input to every command: one line on stderr, exit code 2, no traceback, no hang.

Each command gets a matrix of missing, truncated and corrupted files (copies of the shared
recordings, paintings and the default bundle, made in a temporary folder), wrong types in the
TOML config and impossible values. Cases run as real subprocesses, a few at a time.

A corrupted file that still decodes (a flipped byte inside sample data) may also play: for
those the command may succeed, but if it fails it must fail in one sentence.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from installation.config import DEFAULT_MODEL
from tests.conftest import shared_file
from tests.helpers import run_module

TIMEOUT_S = 120
PARALLEL = 3
EDF = "eeg/physionet_eegmmidb/S001R01.edf"
OPENBCI = "eeg/openbci_gui/OpenBCI_GUI-v6-blinks-jawClench-alpha.txt"
XDF = "eeg/xdf/bci-essentials/switch_example.xdf"


@dataclass(frozen=True)
class Case:
    """One command line, and whether it must fail (else it may also succeed)."""

    name: str
    module: str
    args: tuple
    must_fail: bool = True


def truncated(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def flipped(src: Path, dst: Path, start: int, count: int = 16) -> Path:
    data = bytearray(src.read_bytes())
    for i in range(start, min(start + count, len(data))):
        data[i] ^= 0xA5
    dst.write_bytes(bytes(data))
    return dst


def bundle_copy(root: Path, name: str) -> Path:
    folder = root / name
    shutil.copytree(DEFAULT_MODEL, folder)
    return folder


def edited_bundle(root: Path, name: str, edit) -> Path:
    folder = bundle_copy(root, name)
    spec = json.loads((folder / "generator.json").read_text())
    edit(spec)
    (folder / "generator.json").write_text(json.dumps(spec))
    return folder


def header_edited(src: Path, dst: Path, key: str, line: str, rows: int = 3000) -> Path:
    """The first ``rows`` lines of a text recording with its ``key`` header line replaced."""
    lines = src.read_text().splitlines()[:rows]
    # without the v6 column-name line the rows read in the old layout, sized by the header
    lines = [line if key in old else old for old in lines if not old.startswith("Sample Index")]
    dst.write_text("\n".join(lines) + "\n")
    return dst


# generator.json numbers out of their documented range (docs/show.md): each must be refused
# where the bundle is read, before an array is sized from it
NAN, INF = float("nan"), float("inf")
SPEC_EDITS = {
    "window_huge": ("window_s", 1e12), "window_nan": ("window_s", NAN),
    "hop_nan": ("hop_s", NAN), "hop_string": ("hop_s", "0.1"),
    "filter_order_huge": ("filter_order", 1000), "filter_order_half": ("filter_order", 2.5),
    "fast_tau_inf": ("fast_tau_s", INF), "slow_tau_zero": ("slow_tau_s", 0),
    "pulse_gain_nan": ("pulse_gain", NAN), "motion_gain_negative": ("motion_gain", -1),
    "band_pass_nan": ("band_pass", [NAN, 40.0]), "band_pass_huge": ("band_pass", [1.0, 1e300]),
    "band_edge_inf": ("bands", [["alpha", 8.0, INF]]), "band_edge_bool": ("bands", [["a", True,
                                                                                 13.0]]),
}
TOP_EDITS = {
    "resolution_huge": ("resolution", 10**9), "resolution_nan": ("resolution", NAN),
    "noise_dim_huge": ("noise_dim", 10**12), "noise_dim_negative": ("noise_dim", -8),
}


def _out_of_range_bundles(root: Path) -> dict[str, Path]:
    found = {}
    for name, (key, value) in SPEC_EDITS.items():
        found[f"json_{name}"] = edited_bundle(
            root, f"json_{name}", lambda s, k=key, v=value: s["feature_spec"].update({k: v}))
    for name, (key, value) in TOP_EDITS.items():
        found[f"json_{name}"] = edited_bundle(root, f"json_{name}",
                                              lambda s, k=key, v=value: s.update({k: v}))
    found["json_upscale_huge"] = edited_bundle(
        root, "json_upscale_huge", lambda s: s["upscaler"].update(scale=10**6))
    for name, target in (("outside", "../elsewhere/upscaler.onnx"),
                         ("absolute", str(DEFAULT_MODEL / "upscaler.onnx"))):
        found[f"json_upscaler_{name}"] = edited_bundle(
            root, f"json_upscaler_{name}", lambda s, t=target: s["upscaler"].update(onnx=t))
    (root / "elsewhere").mkdir()
    shutil.copy(DEFAULT_MODEL / "upscaler.onnx", root / "elsewhere" / "upscaler.onnx")
    return found


def run_case(case: Case) -> tuple[Case, subprocess.CompletedProcess | None]:
    try:
        return case, run_module(case.module, *case.args, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return case, None


def problems(cases: list[Case]) -> list[str]:
    """Run the cases a few at a time; describe each that broke the contract."""
    found = []
    with ThreadPoolExecutor(PARALLEL) as pool:
        for case, result in pool.map(run_case, cases):
            if result is None:
                found.append(f"{case.name}: hung for {TIMEOUT_S} s")
                continue
            err = result.stderr
            last = err.strip().splitlines()[-1] if err.strip() else ""
            ok_failure = result.returncode == 2 and "error: " in last and "Traceback" not in err
            ok = ok_failure or (not case.must_fail and result.returncode == 0
                                and "Traceback" not in err)
            if not ok:
                found.append(f"{case.name}: exit {result.returncode}, stderr ends "
                             f"{err.strip()[-600:]!r}")
    return found


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bad")
    edf, openbci, xdf = shared_file(EDF), shared_file(OPENBCI), shared_file(XDF)
    f = {
        "edf_header_cut": truncated(edf, root / "header_cut.edf", 0.05),
        "edf_data_cut": truncated(edf, root / "data_cut.edf", 0.5),
        "edf_header_flip": flipped(edf, root / "header_flip.edf", 236, 20),
        "edf_data_flip": flipped(edf, root / "data_flip.edf", 40000, 64),
        "edf_empty": truncated(edf, root / "empty.edf", 0.0),
        "openbci_cut": truncated(openbci, root / "openbci_cut.txt", 0.01),
        "openbci_flip": flipped(openbci, root / "openbci_flip.txt", 900, 400),
        "xdf_cut": truncated(xdf, root / "cut.xdf", 0.3),
        "xdf_flip": flipped(xdf, root / "flip.xdf", 4, 200),
        "csv_garbage": root / "garbage.csv",
        "not_eeg": root / "painting.edf",
        "onnx_cut": bundle_copy(root, "onnx_cut"),
        "onnx_flip": bundle_copy(root, "onnx_flip"),
        "json_cut": bundle_copy(root, "json_cut"),
        "json_types": edited_bundle(root, "json_types",
                                    lambda s: s.update(resolution="large", noise_dim=[1])),
        "json_nyquist": edited_bundle(
            root, "json_nyquist", lambda s: s["feature_spec"].update(
                bands=[["alpha", 8.0, 13.0], ["ultra", 90.0, 120.0]])),
        "json_zero_hop": edited_bundle(root, "json_zero_hop",
                                       lambda s: s["feature_spec"].update(hop_s=0)),
        "json_negative_window": edited_bundle(root, "json_negative_window",
                                              lambda s: s["feature_spec"].update(window_s=-1.0)),
        **_out_of_range_bundles(root),
        "openbci_rate_text": root / "openbci_rate.txt",
        "openbci_rate_huge": root / "openbci_rate_huge.txt",
        "openbci_channels_huge": root / "openbci_channels.txt",
        "profile_cut": root / "profile_cut.json",
        "profile_types": root / "profile_types.json",
        "a_file": root / "a_file",
        "images_bad": root / "images_bad",
        "checkpoint_text": root / "checkpoint.pt",
    }
    f["csv_garbage"].write_bytes(b"1\t2\t3\n4\tfive\t\x00\x01\n" * 20)
    paintings = sorted(shared_file("paintings/john_constable").glob("*.jpg"))
    f["not_eeg"].write_bytes(paintings[0].read_bytes())
    onnx = f["onnx_cut"] / "generator.onnx"
    truncated(onnx, onnx, 0.5)
    flipped(f["onnx_flip"] / "generator.onnx", f["onnx_flip"] / "generator.onnx", 0, 64)
    truncated(f["json_cut"] / "generator.json", f["json_cut"] / "generator.json", 0.5)
    header_edited(openbci, f["openbci_rate_text"], "Sample Rate", "%Sample Rate = 2.5.0 Hz")
    header_edited(openbci, f["openbci_rate_huge"], "Sample Rate", "%Sample Rate = 1e308 Hz")
    header_edited(openbci, f["openbci_channels_huge"], "Number of channels",
                  "%Number of channels = 99999999")
    f["profile_cut"].write_text('{"format": "eeg-painting-profile/1", "feat')
    f["profile_types"].write_text(json.dumps({"format": 3, "mean": "high", "std": None}))
    f["a_file"].write_text("not a folder\n")
    f["images_bad"].mkdir()
    for i, jpg in enumerate(paintings[:4]):
        truncated(jpg, f["images_bad"] / f"cut{i}.jpg", 0.02)
        flipped(jpg, f["images_bad"] / f"flip{i}.jpg", 0, 40)
    f["checkpoint_text"].write_text("this is no checkpoint\n")
    return f


def _configs(root: Path) -> dict[str, Path]:
    tables = {
        "cfg_duration_string": 'duration = "long"\n',
        "cfg_fps_list": "fps = [60]\n",
        "cfg_headless_string": 'headless = "yes"\n',
        "cfg_seed_float": "seed = 1.5\n",
        "cfg_negative_duration": "duration = -5\n",
        "cfg_zero_fps": "fps = 0\n",
        "cfg_zero_threads": "threads = 0\n",
        "cfg_negative_frame_every": "frame_every = -1\n",
        "cfg_unknown_key": "durration = 3\n",
        "cfg_not_toml": "duration = = 3\n[[\n",
        "cfg_binary": "\x00\x01\x02",
        "cfg_bad_speed": 'speed = "warp"\n',
        "cfg_table": "[source]\nname = 1\n",
        "cfg_drift_nan": "drift_speed = nan\n",
        "cfg_drift_huge": "drift_speed = 1e300\n",
        "cfg_fps_inf": "fps = inf\n",
        "cfg_duration_inf": "duration = inf\n",
        "cfg_seed_negative": "seed = -1\n",
        "cfg_threads_huge": "threads = 1000000\n",
    }
    paths = {}
    for name, text in tables.items():
        paths[name] = root / f"{name}.toml"
        paths[name].write_text(text)
    return paths


def test_show_rejects_bad_input_in_one_sentence(files, tmp_path):
    out = tmp_path / "frames"
    common = ("--headless", "--frames-out", out, "--duration", "2", "--frame-every", "0")
    offline = (*common, "--speed", "max")
    cases = [Case("missing file", "installation", ("--source", "file:/no/such.edf", *offline))]
    for key in ("edf_header_cut", "edf_header_flip", "edf_empty", "csv_garbage", "not_eeg",
                "xdf_flip"):
        cases.append(Case(key, "installation", ("--source", f"file:{files[key]}", *offline)))
    for key in ("edf_data_cut", "edf_data_flip", "openbci_cut", "openbci_flip", "xdf_cut"):
        cases.append(Case(key, "installation", ("--source", f"file:{files[key]}", *offline),
                          must_fail=False))
    good = f"file:{shared_file(EDF)}"
    for key in ("onnx_cut", "onnx_flip", "json_cut", "json_types", "json_nyquist",
                "json_zero_hop", "json_negative_window", "json_upscale_huge",
                "json_upscaler_outside", "json_upscaler_absolute",
                *(f"json_{name}" for name in (*SPEC_EDITS, *TOP_EDITS))):
        cases.append(Case(key, "installation", ("--source", good, "--model", files[key],
                                                *offline)))
    for key in ("openbci_rate_text", "openbci_rate_huge", "openbci_channels_huge"):
        cases.append(Case(key, "installation", ("--source", f"file:{files[key]}", *offline)))
    cases += [
        Case("missing model", "installation", ("--model", "/no/bundle", *common)),
        Case("profile_cut", "installation", ("--source", good, "--profile",
                                             files["profile_cut"], *offline)),
        Case("profile_types", "installation", ("--source", good, "--profile",
                                               files["profile_types"], *offline)),
        Case("missing profile", "installation", ("--profile", "/no/profile.json", *common)),
        Case("frames-out is a file", "installation",
             ("--source", good, "--headless", "--speed", "max", "--frames-out", files["a_file"])),
        Case("record into a file", "installation",
             ("--source", good, *offline, "--record", files["a_file"])),
        Case("bad source spec", "installation", ("--source", "toaster:1", *common)),
        Case("unknown board", "installation", ("--source", "brainflow:TOASTER", *common)),
        Case("negative duration", "installation", ("--duration", "-1", "--headless")),
        Case("zero fps", "installation", ("--fps", "0", "--headless")),
        Case("not a number", "installation", ("--fps", "fast", "--headless")),
        Case("missing config", "installation", ("--config", "/no/show.toml")),
        Case("empty folder as source", "installation",
             ("--source", f"file:{tmp_path}", *offline)),
    ]
    for name, path in _configs(tmp_path).items():
        cases.append(Case(name, "installation", ("--config", path, "--headless")))
    found = problems(cases)
    assert not found, "\n".join(found)


def test_calibration_rejects_bad_input_in_one_sentence(files, tmp_path):
    out = tmp_path / "calibration"
    common = ("--headless", "--out", out)
    cases = [Case("missing file", "calibration", ("--source", "file:/no/such.edf", *common))]
    for key in ("edf_header_cut", "edf_header_flip", "openbci_cut", "csv_garbage", "not_eeg"):
        cases.append(Case(key, "calibration", ("--source", f"file:{files[key]}", *common)))
    good = f"file:{shared_file(EDF)}"
    for key in ("onnx_cut", "json_cut", "json_types", "json_nyquist", "json_zero_hop"):
        cases.append(Case(key, "calibration", ("--source", good, "--model", files[key],
                                               *common), must_fail=key != "onnx_cut"))
    cases += [
        Case("negative duration", "calibration", ("--source", good, "--duration", "-3",
                                                  *common)),
        Case("out is a file", "calibration", ("--source", good, "--headless", "--out",
                                              files["a_file"])),
        Case("no source", "calibration", ("--out", out)),
        Case("bad source spec", "calibration", ("--source", "lsl:", *common)),
    ]
    found = problems(cases)
    assert not found, "\n".join(found)


def _checkpoints(root: Path) -> dict[str, Path]:
    """A tiny real checkpoint saved as train.py does, then truncated and byte-flipped copies."""
    import torch

    from installation.eeg.feature_spec import FeatureSpec
    from models.networks import Generator

    kwargs = {"n_features": 25, "noise_dim": 8, "resolution": 16,
              "channels": {4: 8, 8: 8, 16: 8}, "w_dim": 16, "mapping_layers": 1}
    good = root / "good.pt"
    torch.save({"G_ema": Generator(**kwargs).state_dict(), "G_kwargs": kwargs,
                "config": {"feature_spec": FeatureSpec().to_dict()}}, good)
    size = good.stat().st_size
    return {"good": good, "cut": truncated(good, root / "cut.pt", 0.5),
            "head_flip": flipped(good, root / "head_flip.pt", 0, 64),
            "tail_flip": flipped(good, root / "tail_flip.pt", size - 200, 64),
            "body_flip": flipped(good, root / "body_flip.pt", size // 2, 64)}


def test_train_and_export_reject_bad_input_in_one_sentence(files, tmp_path):
    edf = shared_file(EDF)
    ckpt = _checkpoints(tmp_path)
    run = ("--outdir", tmp_path / "runs", "--cfg", "tiny", "--kimg", "0.001")
    cases = [
        Case("train: corrupt images only", "train", ("--images", files["images_bad"], "--eeg",
                                                     edf, *run)),
        Case("train: truncated EEG", "train", ("--images", shared_file(
            "paintings/john_constable"), "--eeg", files["edf_header_cut"], *run)),
        Case("train: garbage EEG", "train", ("--images", shared_file(
            "paintings/john_constable"), "--eeg", files["csv_garbage"], *run)),
        Case("train: missing images", "train", ("--images", "/no/images", "--eeg", edf, *run)),
        Case("train: images is a file", "train", ("--images", files["a_file"], "--eeg", edf,
                                                  *run)),
        Case("train: resume from garbage", "train", ("--resume", files["checkpoint_text"])),
        Case("train: resume missing", "train", ("--resume", "/no/run")),
        Case("train: negative kimg", "train", ("--images", files["images_bad"], "--eeg", edf,
                                               "--outdir", tmp_path, "--kimg", "-2")),
        Case("train: outdir is a file", "train", ("--images", shared_file(
            "paintings/john_constable"), "--eeg", edf, "--outdir", files["a_file"], "--cfg",
            "tiny", "--kimg", "0.001")),
        Case("export: missing", "models.export", ("/no/ckpt.pt", "--out", tmp_path / "b")),
        Case("export: text file", "models.export", (files["checkpoint_text"], "--out",
                                                    tmp_path / "b")),
        Case("export: an EDF", "models.export", (edf, "--out", tmp_path / "b")),
        Case("export: an empty folder", "models.export", (tmp_path, "--out", tmp_path / "b")),
        Case("export: no --out", "models.export", (files["checkpoint_text"],)),
        Case("export: good checkpoint", "models.export", (ckpt["good"], "--out",
                                                          tmp_path / "g"), must_fail=False),
        Case("export: truncated", "models.export", (ckpt["cut"], "--out", tmp_path / "c")),
        Case("export: header flipped", "models.export", (ckpt["head_flip"], "--out",
                                                         tmp_path / "h")),
        Case("export: directory flipped", "models.export", (ckpt["tail_flip"], "--out",
                                                            tmp_path / "t"), must_fail=False),
        Case("export: weights flipped", "models.export", (ckpt["body_flip"], "--out",
                                                          tmp_path / "w"), must_fail=False),
        Case("export: out is a file", "models.export", (ckpt["good"], "--out", files["a_file"])),
        Case("train: resume truncated", "train", ("--resume", ckpt["cut"])),
    ]
    found = problems(cases)
    assert not found, "\n".join(found)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    """A real session folder: three seconds of the EDF played offline with --record."""
    folder = tmp_path_factory.mktemp("session") / "rec"
    result = run_module("installation", "--source", f"file:{shared_file(EDF)}", "--headless",
                        "--speed", "max", "--duration", "3", "--frame-every", "0", "--threads",
                        "1", "--frames-out", folder.parent / "frames", "--record", folder)
    assert result.returncode == 0, result.stderr[-2000:]
    return folder


def session_copy(session: Path, folder: Path, header=None, line: int | None = None,
                 edit=None) -> Path:
    """A copy of ``session`` with its header edited, or one keyframe log line edited."""
    shutil.copytree(session, folder)
    if header is not None:
        doc = json.loads((folder / "session.json").read_text())
        header(doc)
        (folder / "session.json").write_text(json.dumps(doc))
    if edit is not None:
        lines = (folder / "keyframes.jsonl").read_text().splitlines()
        entry = json.loads(lines[line])
        edit(entry)
        lines[line] = json.dumps(entry)
        (folder / "keyframes.jsonl").write_text("\n".join(lines) + "\n")
    return folder


HEADER_EDITS = {
    "rate_huge": lambda h: h.update(sample_rate=1e308),
    "rate_nan": lambda h: h.update(sample_rate=NAN),
    "rate_string": lambda h: h.update(sample_rate="160"),
    "rate_negative": lambda h: h.update(sample_rate=-160.0),
    "channels_many": lambda h: h.update(channel_names=["Cz"] * 100_000),
}
KEYFRAME_EDITS = {  # (line, edit): line 0 is the first keyframe, later ones are checked too
    "eeg_time_nan": (3, lambda e: e.update(eeg_time=NAN)),
    "eeg_time_string": (3, lambda e: e.update(eeg_time="soon")),
    "show_s_inf": (4, lambda e: e.update(show_s=INF)),
    "later_steering_huge": (5, lambda e: e.update(steering=[0.0] * 10**6)),
    "later_noise_short": (6, lambda e: e.update(noise=[0.0])),
    "steering_nan": (7, lambda e: e["steering"].__setitem__(0, NAN)),
    "steering_nested": (8, lambda e: e.update(steering=[[1.0]] * 25)),
}


def test_replay_and_render_reject_damaged_sessions_in_one_sentence(session, tmp_path):
    offline = ("--headless", "--speed", "max", "--duration", "2", "--frame-every", "0",
               "--frames-out", tmp_path / "frames", "--threads", "1")
    render = ("--native", "--threads", "1", "--fps", "10", "--size", "128x128")
    cases, outs = [], []
    for name, edit in HEADER_EDITS.items():
        folder = session_copy(session, tmp_path / name, header=edit)
        cases.append(Case(f"header {name}", "installation", ("--source", f"file:{folder}",
                                                             *offline)))
        outs.append(tmp_path / f"{name}.mp4")
        cases.append(Case(f"render header {name}", "installation.render",
                          (folder, "--out", outs[-1], *render)))
    for name, (line, edit) in KEYFRAME_EDITS.items():
        folder = session_copy(session, tmp_path / name, line=line, edit=edit)
        outs.append(tmp_path / f"{name}.mp4")
        cases.append(Case(f"render {name}", "installation.render",
                          (folder, "--out", outs[-1], *render)))
    short = session_copy(session, tmp_path / "short")
    truncated(short / "eeg.bin", short / "eeg.bin", 0.02)
    outs.append(tmp_path / "short.mp4")
    cases.append(Case("render --sound of 0.06 s of EEG", "installation.render",
                      (short, "--out", outs[-1], "--sound", *render)))
    found = problems(cases)
    assert not found, "\n".join(found)
    assert not [out for out in outs if out.exists()]  # refused before anything was written
