"""A generator call that fails now and then: the last image stays, the error shows, frames go on.

The runtime is a real ONNX Runtime session on a real bundle; only every Nth ``generate`` call
raises, as a GPU out of memory or a driver hiccup would.
"""

from __future__ import annotations

from installation.app import run_show
from installation.config import ShowOptions
from installation.engine.generator_runtime import GeneratorRuntime
from installation.screen.hud import ShowStatus, hud_lines
from tests.helpers import largest_gap, read_frames
from tests.installation.tiny_bundle import write_tiny_bundle

FPS = 20.0


class FailingEveryNth:
    """A real GeneratorRuntime whose every ``n``-th ``generate`` raises."""

    def __init__(self, runtime: GeneratorRuntime, n: int) -> None:
        self.runtime, self.n = runtime, n
        self.calls = self.failures = 0

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    def generate(self, steering, noise=None):
        self.calls += 1
        if self.calls % self.n == 0:
            self.failures += 1
            raise RuntimeError(f"injected failure {self.failures}")
        return self.runtime.generate(steering, noise)

    def warm_up(self, noise=None):
        return self.runtime.warm_up(noise)


def _runtime(tmp_path, n: int) -> FailingEveryNth:
    return FailingEveryNth(GeneratorRuntime.load(write_tiny_bundle(tmp_path / "tiny"), "cpu", 1),
                           n)


def test_live_show_survives_a_failing_generator(tmp_path):
    runtime = _runtime(tmp_path, n=7)
    out = tmp_path / "frames"
    summary = run_show(ShowOptions(source="synthetic", headless=True, frames_out=str(out),
                                   frame_every=0, duration=6.0, fps=FPS), runtime=runtime)
    assert runtime.failures >= 3
    errors = [e.message for e in summary.events if e.kind == "error"]
    assert len(errors) == runtime.failures and "injected failure" in errors[0]
    rows = read_frames(out)
    assert len(rows) > 4 * FPS and largest_gap(rows) <= 3 / FPS
    keyframe_rows = [i for i, r in enumerate(rows) if r["keyframe"] == "1"]
    assert keyframe_rows[-1] > len(rows) - FPS  # keyframes still came at the end
    status = ShowStatus("synthetic", "cpu")
    for event in summary.events:
        status.note(event)
    assert any(line.startswith("error: Steering failed: injected")
               for line in hud_lines(FPS, 5.0, 20.0, status))


def test_offline_render_survives_a_failing_generator(eyes_open_edf, tmp_path):
    runtime = _runtime(tmp_path, n=5)
    out = tmp_path / "frames"
    summary = run_show(ShowOptions(source=f"file:{eyes_open_edf}", headless=True, speed="max",
                                   frames_out=str(out), frame_every=0, duration=10.0),
                       runtime=runtime)
    assert runtime.failures >= 20
    assert sum(e.kind == "error" for e in summary.events) == runtime.failures
    rows = read_frames(out)
    times = [float(r["time_s"]) for r in rows]
    assert largest_gap(rows) <= 1.5 / 60  # every virtual refresh was written
    assert times[-1] >= 10.0
