"""Render speed of ``installation.render`` and the rates the feeds can carry.

Run: ``SDL_VIDEODRIVER=dummy .venv/bin/python -m benchmarks.render_speed [--seconds S]
[--size WxH] [--threads N] [--provider NAME]``

1. A session is recorded first (``--speed max`` on a real recording, the default bundle), then
   ``S`` seconds of it are rendered at 60 fps to an MP4 at ``--size`` (1920x1080) through the
   whole chain (generator + upscaler), and the frames of output per second are printed, with
   where the time goes (painting keyframes, placing frames, encoding).
2. The feeds: hop reports of the same recording pushed as fast as they go through an OSC feed
   to a python-osc server on loopback and an LSL outlet to an inlet; messages and samples per
   second received (the show needs 15 hops a second).

Not part of ``make bench``'s default list: it takes about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from installation.app import run_show  # noqa: E402
from installation.config import DEFAULT_MODEL, ShowOptions  # noqa: E402
from installation.eeg.feature_pipeline import feature_frames  # noqa: E402
from installation.eeg.sources.files.recordings import load_recording  # noqa: E402
from installation.engine.generator_runtime import GeneratorRuntime  # noqa: E402
from installation.outputs.feeds import FeedHub, hop_report  # noqa: E402
from installation.outputs.feeds.lsl_out import LslFeed  # noqa: E402
from installation.outputs.feeds.osc import OscFeed  # noqa: E402
from installation.outputs.video_writer import VideoEncoder  # noqa: E402
from installation.render import (  # noqa: E402
    keyframe_image,
    parse_size,
    read_session_log,
    render_session,
)
from installation.screen.frame_canvas import FrameCanvas  # noqa: E402

RECORDING = (Path(__file__).resolve().parents[2] / "shared" / "data" / "eeg" / "physionet_eegmmidb"
             / "S001R02.edf")


def record_session(folder: Path, seconds: float) -> Path:
    """A session of ``seconds`` EEG seconds recorded with ``--speed max`` (generator only)."""
    run_show(ShowOptions(source=f"file:{RECORDING}", headless=True, speed="max",
                         frames_out=str(folder / "frames"), frame_every=0, duration=seconds + 1.2,
                         record=str(folder / "rec"), native=True, threads=1))
    return folder / "rec"


def render_figures(session: Path, size, threads: int, out: Path, preset: str,
                   provider: str = "cpu") -> dict:
    """Frames of output per second of the whole render, and the cost of each stage."""
    figures = render_session(session, out, DEFAULT_MODEL, size, 60.0, threads=threads,
                             provider=provider, progress=False, preset=preset)
    runtime = GeneratorRuntime.load(DEFAULT_MODEL, provider, threads)
    log = read_session_log(session)
    entries = log.entries[:10]
    started = time.perf_counter()
    images = [keyframe_image(runtime, e) for e in entries]
    paint_ms = 1e3 * (time.perf_counter() - started) / len(entries)
    canvas = FrameCanvas(size)
    started = time.perf_counter()
    frames = [canvas.compose(images[i % len(images)]) for i in range(60)]
    compose_ms = 1e3 * (time.perf_counter() - started) / 60
    encoder = VideoEncoder(out.with_name("encode.mp4"), size, 60.0, preset=preset)
    started = time.perf_counter()
    for frame in frames:
        encoder.write(frame)
    encoder.close()
    encode_ms = 1e3 * (time.perf_counter() - started) / len(frames)
    return {"frames": figures["frames"], "keyframes": figures["keyframes"],
            "wall_s": figures["wall_s"], "fps": figures["frames"] / figures["wall_s"],
            "paint_ms": paint_ms, "compose_ms": compose_ms, "encode_ms": encode_ms,
            "output_px": runtime.resolution}


def feed_figures(hops: int = 1500) -> dict:
    """OSC messages/s and LSL samples/s received on loopback, hops pushed as fast as they go."""
    import pylsl
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    spec = GeneratorRuntime.load(DEFAULT_MODEL, "cpu", 1, native=True).feature_spec
    frames = feature_frames(load_recording(RECORDING), spec)
    reports = [hop_report(frames[i % len(frames)], spec, False, i) for i in range(hops)]
    received = {"osc": 0, "lsl": 0}

    def count(address, *args) -> None:
        received["osc"] += 1

    dispatcher = Dispatcher()
    dispatcher.set_default_handler(count)
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    name = f"bench-{uuid.uuid4().hex[:6]}"
    lsl = LslFeed(name, spec)
    inlet = pylsl.StreamInlet(pylsl.resolve_byprop("name", name, timeout=10)[0])
    inlet.open_stream(timeout=5)
    osc = OscFeed(f"127.0.0.1:{server.server_address[1]}", spec)
    hub = FeedHub([osc, lsl], queue_hops=hops + 1)
    started = time.perf_counter()
    for report in reports:
        hub.publish(report)
    while hub.sent[lsl.name] + hub.failures[lsl.name] < hops:
        time.sleep(0.005)
    sent_s = time.perf_counter() - started
    while True:  # drain the inlet before the outlet closes
        chunk, _ = inlet.pull_chunk(timeout=0.5)
        if not chunk:
            break
        received["lsl"] += len(chunk)
    time.sleep(0.5)
    hub.close()
    server.shutdown()
    received["osc_failed"] = hub.failures[osc.name]
    return {"hops": hops, "seconds": sent_s, "osc_messages_per_s": received["osc"] / sent_s,
            "osc_messages_per_hop": received["osc"] / hops,
            "lsl_samples_per_s": received["lsl"] / sent_s, "lsl_samples": received["lsl"],
            "osc_refused": received["osc_failed"],
            "hops_per_s": hops / sent_s}


def main() -> None:
    """Print the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3.0, help="seconds of video to render")
    p.add_argument("--size", default="1920x1080", help="WxH of the video")
    p.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads")
    p.add_argument("--preset", default="veryfast", help="x264 preset of the render")
    p.add_argument("--provider", default="cpu", help="the render's runtime, as the show's "
                   "--provider (default cpu: ONNX Runtime)")
    args = p.parse_args()
    size = parse_size(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        session = record_session(Path(tmp), args.seconds)
        r = render_figures(session, size, args.threads, Path(tmp) / "out.mp4", args.preset,
                           args.provider)
    print(f"render {size[0]}x{size[1]} at 60 fps, {r['output_px']} px paintings (generator + "
          f"upscaler) on {args.provider}, {args.threads} threads, x264 {args.preset}: "
          f"{r['frames']} frames from {r['keyframes']} keyframes in {r['wall_s']:.1f} s = "
          f"{r['fps']:.1f} frames of output/s")
    print(f"  per keyframe painted {r['paint_ms']:.0f} ms; per frame placed "
          f"{r['compose_ms']:.1f} ms, encoded {r['encode_ms']:.1f} ms")
    f = feed_figures()
    print(f"feeds, {f['hops']} hops pushed as fast as they go ({f['hops_per_s']:.0f} hops/s): "
          f"OSC {f['osc_messages_per_s']:.0f} messages/s received "
          f"({f['osc_messages_per_hop']:.0f} a hop, {f['osc_refused']} bundles refused by a full "
          f"socket buffer), LSL {f['lsl_samples_per_s']:.0f} samples/s "
          f"({f['lsl_samples']} of {f['hops']}); the show needs 15 hops/s")


if __name__ == "__main__":
    main()
