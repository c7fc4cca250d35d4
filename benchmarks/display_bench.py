"""Display frames per second in a real X server (Xvfb) at real screen sizes, fit and fill.

For each screen size it starts its own Xvfb, runs the show's :class:`DisplayLoop` fullscreen
in a child process (paced to 60 fps like the show) and feeds it 512x512 keyframes at about 10
a second from a thread, through a latest-only slot as the steering thread does, so the display
blends and scales as it does live. ``--generator BUNDLE`` feeds it real paintings from ONNX
Runtime instead (at most one per 1/15 s hop, as live), to see how the generator's threads and
the display share the cores.

Prints one line per size, mode and path, then one JSON object. Without Xvfb it says so and
prints an empty JSON object.

Run: ``.venv/bin/python -m benchmarks.display_bench [--seconds 5] [--sizes 1920x1080,3840x2160]
[--modes fit,fill] [--paths auto] [--hud] [--generator assets/default --threads 1]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import numpy as np

from benchmarks import REPO

SIZES = ((1920, 1080), (3840, 2160))
MODES = ("fit", "fill")
FPS = 60.0
PAINTING_PX = 512
KEYFRAMES_PER_S = 10.0
HOP_S = 1 / 15  # the steering thread's hop: at most one keyframe per hop
WARMUP_S = 1.0
MAT = (32, 48, 64)  # a mat colour no synthetic painting has in its corner


def x_root_pixels(display: str | None = None) -> np.ndarray | None:
    """The whole X screen as uint8 (H, W, 3) RGB via ``xwd -root``; None without xwd.

    What the X server shows, independent of what the program believes it drew.
    """
    if shutil.which("xwd") is None:
        return None
    command = ["xwd", "-root", "-silent"] + (["-display", display] if display else [])
    raw = subprocess.run(command, capture_output=True, timeout=60, check=True).stdout
    header = np.frombuffer(raw[:100], ">u4")
    header_size, width, height = int(header[0]), int(header[4]), int(header[5])
    bytes_per_pixel, bytes_per_line = int(header[11]) // 8, int(header[12])
    start = header_size + 12 * int(header[19])  # after the colour map
    data = np.frombuffer(raw[start:start + height * bytes_per_line], np.uint8)
    rows = data.reshape(height, bytes_per_line)[:, : bytes_per_pixel * width]
    return rows.reshape(height, width, bytes_per_pixel)[..., 2::-1]  # BGRX to RGB


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process ``pid`` has used (Linux ``/proc``); 0 elsewhere."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def shown_on_screen(mode: str) -> bool | None:
    """Whether the X screen shows the painting in its centre, and the mat in a corner for fit.

    Guards the figures against a window that is not really fullscreen (SDL on an X server
    without a window manager can believe it is while the window keeps its first size).
    None where ``xwd`` is absent.
    """
    pixels = x_root_pixels()
    if pixels is None:
        return None
    h, w = pixels.shape[:2]
    centre = pixels[h // 2 - 8: h // 2 + 8, w // 2 - 8: w // 2 + 8].reshape(-1, 3)
    painted = bool(centre.std(axis=0).max() > 3 or np.abs(centre.mean(axis=0) - MAT).max() > 30)
    corner_is_mat = bool(np.array_equal(pixels[2, 2], MAT))
    return painted and corner_is_mat == (mode == "fit" and w != h)


def synthetic_paintings(size: int = PAINTING_PX, count: int = 4, seed: int = 0) -> list:
    """``count`` different uint8 (size, size, 3) pictures: soft colour fields with texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    pictures = []
    for _ in range(count):
        phases = rng.uniform(0, 2 * np.pi, (3, 2))
        fields = [0.5 + 0.35 * np.sin(2 * np.pi * (x * (1 + c) + p[0]) + 3 * y + p[1])
                  for c, p in enumerate(phases)]
        picture = np.stack(fields, axis=-1) + rng.normal(0, 0.04, (size, size, 3))
        pictures.append(np.clip(picture * 255, 0, 255).astype(np.uint8))
    return pictures


class SyntheticKeyframes(threading.Thread):
    """Puts a new keyframe into ``slot`` every ``1 / rate`` seconds, cycling ``pictures``."""

    def __init__(self, slot, pictures: list, rate: float = KEYFRAMES_PER_S) -> None:
        super().__init__(daemon=True)
        self.slot, self.pictures, self.period = slot, pictures, 1.0 / rate
        self.made = 0
        self._halt = threading.Event()

    def run(self) -> None:
        from installation.engine.steering import Keyframe

        zeros = np.zeros(1, np.float32)
        due = time.perf_counter()
        while not self._halt.is_set():
            now = time.perf_counter()
            picture = self.pictures[self.made % len(self.pictures)]
            self.slot.put(Keyframe(picture, self.made * self.period, now, now, zeros, zeros))
            self.made += 1
            due += self.period
            self._halt.wait(max(0.0, due - time.perf_counter()))

    def stop(self) -> None:
        """End the thread and wait for it."""
        self._halt.set()
        self.join(5)


class GeneratedKeyframes(SyntheticKeyframes):
    """Real paintings from a model bundle, at most one per hop, steered by a random walk.

    Parameters
    ----------
    slot : LatestSlot
        Where keyframes go.
    bundle : str
        Model bundle folder.
    threads : int or None
        ONNX Runtime intra-op threads (all cores when None).
    painting_px : int or None
        Enlarge the paintings to this side by repeating pixels (a stand-in for the upscaler's
        output size, so the display blends and scales as much as it will); None keeps them.
    """

    def __init__(self, slot, bundle: str, threads: int | None,
                 painting_px: int | None = None) -> None:
        from installation.engine.generator_runtime import GeneratorRuntime

        super().__init__(slot, [], 1.0 / HOP_S)
        self.runtime = GeneratorRuntime.load(bundle, threads=threads)
        self.runtime.warm_up()
        self.painting_px = painting_px
        self.generate_s = 0.0

    def run(self) -> None:
        from installation.engine.steering import Keyframe

        rng = np.random.default_rng(0)
        steering = np.zeros(self.runtime.feature_spec.n_features, np.float32)
        noise = rng.standard_normal(self.runtime.noise_dim).astype(np.float32)
        due = time.perf_counter()
        while not self._halt.is_set():
            steering += rng.normal(0, 0.1, steering.shape).astype(np.float32)
            start = time.perf_counter()
            image = self.runtime.generate(steering, noise)
            self.generate_s += time.perf_counter() - start
            if self.painting_px and image.shape[0] < self.painting_px:
                factor = self.painting_px // image.shape[0]
                image = np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
            now = time.perf_counter()
            self.slot.put(Keyframe(image, self.made * HOP_S, start, now, steering.copy(), noise))
            self.made += 1
            due = max(due + HOP_S, now - HOP_S)  # never race to catch up, as live
            self._halt.wait(max(0.0, due - time.perf_counter()))


def measure_here(seconds: float, mode: str, path: str, hud: bool, bundle: str | None,
                 threads: int | None, painting_px: int | None) -> dict:
    """Run the display fullscreen in this process's X server; its figures as a dict."""
    import pygame

    from installation.engine.steering import LatestSlot
    from installation.screen.display import DisplayLoop
    from installation.screen.hud import ShowStatus

    slot = LatestSlot()
    if bundle:
        feeder = GeneratedKeyframes(slot, bundle, threads, painting_px)
    else:
        feeder = SyntheticKeyframes(slot, synthetic_paintings())
    display = DisplayLoop(slot.take, ShowStatus("benchmark", "cpu"), fullscreen=True, fps=FPS,
                          snapshot_dir=os.devnull, mode=mode, mat=MAT, path=path)
    display.open()
    if hud:
        display.hud.toggle()
    feeder.start()
    try:
        started = time.perf_counter()
        while time.perf_counter() - started < WARMUP_S:
            display.step()
        frames, keyframes = display.frames, display.keyframes
        made, generate_s = feeder.made, getattr(feeder, "generate_s", 0.0)
        server = int(os.environ.get("XVFB_PID", "0"))
        cpu, server_cpu = time.process_time(), cpu_seconds(server)
        wall = time.perf_counter()
        while time.perf_counter() - wall < seconds:
            display.step()
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        server_cpu = cpu_seconds(server) - server_cpu
        n_frames = max(1, display.frames - frames)
        figures = {
            "path_taken": display.screen.name,
            "screen": "x".join(map(str, display.screen_size)),
            "painting": "x".join(map(str, display.painting.shape[1::-1])),
            "fps": (display.frames - frames) / wall,
            "keyframes_shown_per_s": (display.keyframes - keyframes) / wall,
            "keyframes_made_per_s": (feeder.made - made) / wall,
            "process_cpu_per_s": cpu / wall,  # all threads of the show, generator included
            # CPU per frame, which the machine's other load does not change (fps it does)
            "cpu_ms_per_frame": 1e3 * cpu / n_frames,
            "xserver_ms_per_frame": 1e3 * server_cpu / n_frames,
            "on_screen": shown_on_screen(mode),
        }
        if bundle:
            figures["generate_ms"] = 1e3 * (feeder.generate_s - generate_s) / max(
                1, feeder.made - made)
    finally:
        feeder.stop()
        display.close()
        pygame.quit()
    return figures


def start_xvfb(size: tuple[int, int]) -> tuple[subprocess.Popen, str]:
    """An Xvfb server of ``size`` on a free display number; (process, ``":N"``)."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{size[0]}x{size[1]}x24",
         "-nolisten", "tcp"], pass_fds=(write_end,), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()  # Xvfb picks a free display and writes its number
    if not number:
        server.kill()
        raise RuntimeError("Xvfb did not start")
    return server, f":{number}"


def measure_in_xvfb(size: tuple[int, int], runs: list[dict]) -> list[dict]:
    """Each run's figures (see :func:`measure_here`) in a fresh process, in one Xvfb of ``size``."""
    server, display = start_xvfb(size)
    env = dict(os.environ, DISPLAY=display, SDL_VIDEODRIVER="x11", SDL_AUDIODRIVER="dummy",
               XVFB_PID=str(server.pid))
    results = []
    try:
        for run in runs:
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.display_bench", "--child", json.dumps(run)],
                cwd=REPO, env=env, capture_output=True, text=True, timeout=120 + run["seconds"])
            if child.returncode != 0:
                raise RuntimeError(f"the display benchmark failed at {size}: {child.stderr}")
            results.append({**run, **json.loads(child.stdout.strip().splitlines()[-1])})
    finally:
        server.terminate()
        server.wait(10)
    return results


def display_figures(seconds: float = 5.0, sizes=SIZES, modes=MODES, paths=("auto",),
                    hud: bool = False, bundle: str | None = None, threads: int | None = None,
                    painting_px: int | None = None) -> dict:
    """Figures keyed ``display_fps_{H}p_{mode}[_{path}]``; empty without Xvfb.

    Parameters
    ----------
    seconds : float
        Measured time per size, mode and path (after a warm-up second).
    sizes : sequence of (int, int)
        Screen sizes, one Xvfb each.
    modes, paths : sequence of str
        Presentation modes and display paths to measure.
    hud : bool
        Show the HUD while measuring.
    bundle : str, optional
        Feed real paintings from this model bundle instead of synthetic ones.
    threads : int, optional
        ONNX Runtime intra-op threads for ``bundle``.
    painting_px : int, optional
        Enlarge the bundle's paintings to this side (see :class:`GeneratedKeyframes`).
    """
    if shutil.which("Xvfb") is None:
        print("display benchmark skipped: Xvfb is not on PATH (apt-get install xvfb)",
              file=sys.stderr)
        return {}
    figures = {}
    for size in sizes:
        runs = [{"seconds": seconds, "mode": mode, "path": path, "hud": hud, "bundle": bundle,
                 "threads": threads, "painting_px": painting_px}
                for mode in modes for path in paths]
        for result in measure_in_xvfb(size, runs):
            suffix = "" if len(paths) == 1 else f"_{result['path']}"
            key = f"{size[1]}p_{result['mode']}{suffix}"
            print(describe(size, result))
            figures[f"display_fps_{key}"] = result["fps"]
            figures[f"keyframes_per_s_{key}"] = result["keyframes_shown_per_s"]
            figures[f"display_cpu_ms_per_frame_{key}"] = result["cpu_ms_per_frame"]
            if "generate_ms" in result:
                figures[f"generate_ms_{key}"] = result["generate_ms"]
    return figures


def describe(size: tuple[int, int], result: dict) -> str:
    """One line of figures for a run."""
    r = result
    line = (f"{size[0]}x{size[1]} {r['mode']:4s} {r['path']} -> {r['path_taken']} "
            f"({r['painting']} painting): {r['fps']:5.1f} fps, "
            f"{r['keyframes_shown_per_s']:4.1f} keyframes/s shown "
            f"({r['keyframes_made_per_s']:4.1f} made); per frame "
            f"{r['cpu_ms_per_frame']:.1f} ms CPU + {r['xserver_ms_per_frame']:.1f} ms X server")
    if "generate_ms" in r:
        line += f"; {r['generate_ms']:.1f} ms per painting"
    if r["on_screen"] is False:
        line += "  NOT ON SCREEN: not valid"
    return line


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    """Measure and print; the last line is one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.display_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sizes", default="1920x1080,3840x2160")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--paths", default="auto", help="auto, surface, renderer (comma list)")
    parser.add_argument("--hud", action="store_true", help="measure with the HUD shown")
    parser.add_argument("--generator", metavar="BUNDLE", help="real paintings from this bundle")
    parser.add_argument("--threads", type=int, help="ONNX Runtime threads for --generator")
    parser.add_argument("--painting-px", type=int,
                        help="enlarge --generator's paintings to this side (pixel repetition)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one run, in this X server
    args = parser.parse_args(argv)
    if args.child:
        run = json.loads(args.child)
        print(json.dumps(measure_here(run["seconds"], run["mode"], run["path"], run["hud"],
                                      run["bundle"], run["threads"], run["painting_px"])))
        return 0
    figures = display_figures(args.seconds, [_size(s) for s in args.sizes.split(",")],
                              args.modes.split(","), args.paths.split(","), args.hud,
                              args.generator, args.threads, args.painting_px)
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
