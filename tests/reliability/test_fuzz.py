"""Fuzzing a real session folder and a real bundle's generator.json (issue #30).

Hypothesis, derandomized (a fixed seed: CI sees the same cases every run), mutates the JSON
files of a session recorded from a real EDF and the default bundle's ``generator.json``:
numbers made NaN, infinite, huge, negative, strings, null or lists; bytes flipped, cut or
repeated. 300 cases in all (100 per file), fed in-process to the entry points the show's
``--source file:DIR`` and ``--model`` and ``installation.render`` use, and 4 more through the
real command line. Each must end in a result or an InstallationError (one sentence and exit 2
on the command line), never another exception, within CASE_LIMIT_S; a render never plans a
video longer than the session. About 40 s on one core.
"""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from installation.app import run_show
from installation.bundle import BundleSpec
from installation.config import DEFAULT_MODEL, ShowOptions
from installation.eeg.feature_pipeline import FeatureExtractor, feature_frames
from installation.eeg.sources.files.recordings import load_recording
from installation.eeg.sources.files.session_format import HEADER_FILE, KEYFRAME_FILE
from installation.engine.generator_runtime import GeneratorRuntime
from installation.errors import InstallationError
from installation.render import check_log_fits, keyframe_image, read_session_log
from tests.conftest import shared_file
from tests.helpers import run_module

EDF = "eeg/physionet_eegmmidb/S001R01.edf"
CASES_PER_FILE = 100
CASE_LIMIT_S = 10.0
ODD_VALUES = (float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 1e12, -1, 0, 0.5,
              10**30, -(2**70), "7", "", None, True, [], [1.0] * 1000, {"a": 1})
FUZZ = settings(max_examples=CASES_PER_FILE, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
mutations = st.tuples(st.sampled_from(("number", "number", "flip", "cut", "repeat")),
                      st.integers(0, 2**31), st.integers(0, 2**31), st.sampled_from(ODD_VALUES))


def numbers_in(doc, path=()) -> list[tuple]:
    """Paths (keys and indices) to every number in a JSON document."""
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in numbers_in(v, (*path, k))]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in numbers_in(v, (*path, i))]
    return [path] if isinstance(doc, (int, float)) and not isinstance(doc, bool) else []


def set_number(doc, a: int, b: int, value):
    """``doc`` with one number replaced: a top-level key chosen by ``a``, a number in it by ``b``
    (so a few scalars are hit as often as the vectors that hold hundreds)."""
    keys = [k for k in doc if numbers_in(doc[k])] if isinstance(doc, dict) else []
    if not keys:
        return doc
    inner = numbers_in(doc[keys[a % len(keys)]], (keys[a % len(keys)],))
    *parents, last = inner[b % len(inner)]
    node = doc
    for key in parents:
        node = node[key]
    node[last] = value
    return doc


def mutated(data: bytes, mutation, lines: bool = False) -> bytes:
    """``data`` with one mutation; ``lines``: a JSON-lines file, numbers edited in one line."""
    kind, a, b, value = mutation
    if kind == "number":
        if lines:
            rows = data.decode().splitlines()
            i = a % len(rows)
            rows[i] = json.dumps(set_number(json.loads(rows[i]), b, a // 7, value))
            return ("\n".join(rows) + "\n").encode()
        return json.dumps(set_number(json.loads(data), a, b, value)).encode()
    at = a % max(len(data), 1)
    if kind == "flip":
        out = bytearray(data)
        for i in range(at, min(at + 1 + b % 8, len(out))):
            out[i] ^= 1 + b % 255
        return bytes(out)
    if kind == "cut":
        return data[:at]
    piece = data[at:at + 1 + b % 400]
    return data[:at] + piece * (2 + b % 3) + data[at:]


def within_limit(call, *args):
    """Run ``call``; an InstallationError is a fine end, any other exception is not."""
    started = time.perf_counter()
    try:
        result = call(*args)
    except InstallationError:
        result = None
    assert time.perf_counter() - started < CASE_LIMIT_S
    return result


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def session(work) -> Path:
    """A real session: three seconds of the EDF played offline with --record."""
    run_show(ShowOptions(source=f"file:{shared_file(EDF)}", headless=True, speed="max",
                         frame_every=0, frames_out=str(work / "frames"), duration=3.0,
                         record=str(work / "session"), threads=1, native=True))
    return work / "session"


@pytest.fixture(scope="module")
def runtime():
    return GeneratorRuntime.load(DEFAULT_MODEL, "cpu", 1, native=True)


@pytest.fixture(scope="module")
def whole_s(session) -> float:
    return float(read_session_log(session).times[-1])


def copy_with(session: Path, work: Path, name: str, data: bytes) -> Path:
    folder = work / f"case{time.perf_counter_ns()}"
    shutil.copytree(session, folder)
    (folder / name).write_bytes(data)
    return folder


def play(folder: Path, runtime) -> None:
    """What --source file:DIR does with the folder: load it, fit the model, compute features."""
    recording = load_recording(folder)
    runtime.check_fits(recording.info)
    feature_frames(recording, runtime.feature_spec)


def render_plan(folder: Path, runtime, whole_s: float) -> None:
    """What installation.render does before and at its first frame."""
    log = read_session_log(folder)
    check_log_fits(runtime, log)
    assert log.times[-1] <= whole_s + 5.0, log.times[-1]  # no video longer than the session
    keyframe_image(runtime, log.entries[-1])


@FUZZ
@given(mutation=mutations)
def test_a_mutated_session_header_plays_or_is_refused(session, work, runtime, whole_s, mutation):
    data = mutated((session / HEADER_FILE).read_bytes(), mutation)
    folder = copy_with(session, work, HEADER_FILE, data)
    within_limit(play, folder, runtime)
    within_limit(render_plan, folder, runtime, whole_s)
    shutil.rmtree(folder)


@FUZZ
@given(mutation=mutations)
def test_a_mutated_keyframe_log_renders_or_is_refused(session, work, runtime, whole_s, mutation):
    data = mutated((session / KEYFRAME_FILE).read_bytes(), mutation, lines=True)
    folder = copy_with(session, work, KEYFRAME_FILE, data)
    within_limit(render_plan, folder, runtime, whole_s)
    shutil.rmtree(folder)


@FUZZ
@given(mutation=mutations)
def test_a_mutated_generator_json_loads_or_is_refused(session, work, mutation):
    folder = work / f"bundle{time.perf_counter_ns()}"
    folder.mkdir()
    for name in ("generator.onnx", "upscaler.onnx"):  # links: the graphs stay as they are
        (folder / name).symlink_to(DEFAULT_MODEL / name)
    original = (DEFAULT_MODEL / "generator.json").read_bytes()
    (folder / "generator.json").write_bytes(mutated(original, mutation))
    spec = within_limit(BundleSpec.load, folder / "generator.json")
    if spec is not None:  # read: the rest of --model, with the arrays sized from the spec
        info = load_recording(session).info
        within_limit(FeatureExtractor, spec.feature_spec, info)
        if spec.to_json() != BundleSpec.load(DEFAULT_MODEL / "generator.json").to_json():
            within_limit(lambda: GeneratorRuntime.load(folder, "cpu", 1).check_fits(info))
    shutil.rmtree(folder)


def test_a_handful_through_the_command_line(session, work, whole_s):
    """Fixed mutations through the real commands: a result or one sentence and exit 2."""
    log = (session / KEYFRAME_FILE).read_bytes()
    header = (session / HEADER_FILE).read_bytes()
    bundle = work / "cli_bundle"
    shutil.copytree(DEFAULT_MODEL, bundle)
    (bundle / "generator.json").write_bytes(mutated(
        (DEFAULT_MODEL / "generator.json").read_bytes(), ("number", 0, 5, float("nan"))))
    absurd = copy_with(session, work, KEYFRAME_FILE,
                       mutated(log, ("number", 9, 0, 1e10), lines=True))  # line 10's eeg_time
    cut_header = copy_with(session, work, HEADER_FILE, mutated(header, ("cut", 300, 0, None)))
    render = ("--native", "--threads", "1", "--fps", "10", "--size", "64x64")
    show = ("--headless", "--speed", "max", "--duration", "1", "--frame-every", "0",
            "--threads", "1", "--frames-out", work / "cli_frames")
    commands = [
        ("installation.render", copy_with(session, work, KEYFRAME_FILE, mutated(
            log, ("number", 3, 0, "soon"), lines=True)), "--out", work / "a.mp4", *render),
        ("installation.render", absurd, "--out", work / "b.mp4", *render),
        ("installation", "--source", f"file:{cut_header}", *show),
        ("installation", "--source", f"file:{shared_file(EDF)}", "--model", bundle, *show),
    ]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: run_module(*c, timeout=60), commands))
    for command, result in zip(commands, results, strict=True):
        assert "Traceback" not in result.stderr, (command, result.stderr[-1500:])
        last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        assert result.returncode == 0 or (result.returncode == 2 and last.startswith("error: ")), (
            command, result.returncode, result.stderr[-1500:])
    assert [r.returncode for r in results] == [2, 0, 2, 2]  # the absurd time still renders
