"""The groups of figures ``make bench`` measures, each run in a process of its own."""

from __future__ import annotations

import sys
from pathlib import Path


def generator_figures(threads: int, frames: int) -> dict:
    """ONNX Runtime vs torch eager on the default bundle, and its GFLOP per frame."""
    from benchmarks.generator_bench import ort_ms_per_frame, torch_ms_per_frame
    from benchmarks.roofline import generator_gflop_per_frame
    from installation.bundle import BundleSpec, resolve_bundle_paths
    from installation.config import DEFAULT_MODEL

    onnx_path, json_path = resolve_bundle_paths(DEFAULT_MODEL)
    spec = BundleSpec.load(json_path)
    onnx_ms, onnx_best_ms = ort_ms_per_frame(onnx_path, spec, threads, frames)
    torch_ms = torch_ms_per_frame(spec, threads, frames)
    gflop = generator_gflop_per_frame(spec)
    return {
        "resolution": spec.resolution,
        "generator_ms_onnx": onnx_ms,
        "generator_ms_torch": torch_ms,
        "onnx_speedup_over_torch": torch_ms / onnx_ms if torch_ms else None,
        "generator_gflop_per_frame": gflop,
        "generator_ms_onnx_fastest": onnx_best_ms,
        "generator_gflops_onnx": gflop / (onnx_ms / 1e3),
        # the matrix-multiply peak is a fastest run too: compare like with like
        "generator_gflops_onnx_fastest": gflop / (onnx_best_ms / 1e3),
    }


def runtime_figures(runs: int, inputs: int) -> dict:
    """Each runtime here side by side (ONNX Runtime, OpenVINO f32 and bf16, GPUs where present):
    milliseconds of the chain's stages on one thread and the difference from ONNX Runtime's
    paintings, printed as a table as well."""
    from benchmarks.runtime_compare import measure, report

    figures = measure(threads=1, runs=runs, inputs=inputs)
    report(figures, 1, runs, inputs)
    return figures


def matmul_figures() -> dict:
    """The machine's float32 matrix-multiply roofline (best of NumPy and ONNX Runtime)."""
    from benchmarks.roofline import matmul_gflops

    return {"matmul_gflops": matmul_gflops()}


def show_figures(seconds: float) -> dict:
    """Display fps, keyframes per second and latency on the synthetic board."""
    from benchmarks.show_bench import display_rates, keyframe_latencies

    return {**display_rates(seconds), **keyframe_latencies(seconds)}


def display_xvfb_figures(seconds: float) -> dict:
    """Display fps in a real X server (Xvfb) at 1920x1080 and 3840x2160, fit and fill.

    The default bundle's whole chain paints the keyframes (at most one per hop, one ONNX Runtime
    thread, as the show runs it) and the display blends and scales them: what a visitor sees.
    Empty, with a note on stderr, where Xvfb is absent.
    """
    from benchmarks.display_bench import display_figures
    from installation.config import DEFAULT_MODEL

    return display_figures(seconds, bundle=str(DEFAULT_MODEL), threads=1)


def show_256px_figures(seconds: float, threads: int, frames: int) -> dict:
    """The show and the generator at 256 px (the GPU-trained default's size), untrained weights.

    The default bundle is 128 px (what trains on a CPU); these say whether a 256 px model of the
    ``256`` configuration would keep the show live on this machine as well.
    """
    import tempfile

    from benchmarks.generator_bench import ort_ms_per_frame
    from benchmarks.show_bench import display_rates
    from installation.bundle import BundleSpec
    from models.bundles.default import build_untrained_bundle

    with tempfile.TemporaryDirectory() as tmp:
        bundle = build_untrained_bundle(Path(tmp) / "256", cfg_name="256")
        spec = BundleSpec.load(bundle / "generator.json")
        onnx_ms, _ = ort_ms_per_frame(bundle / "generator.onnx", spec, threads, frames)
        rates = display_rates(seconds, str(bundle))
    return {"generator_ms_onnx_256px": onnx_ms, "display_fps_256px": rates["display_fps"],
            "keyframes_per_s_256px": rates["keyframes_per_s"]}


def steering_figures() -> dict:
    """Eyes closed vs open through the show, for every shared person on their own calibration."""
    from benchmarks.people_contrast import PEOPLE, recordings, summary, table
    from installation.config import DEFAULT_MODEL

    if not all(path.exists() for p in PEOPLE for path in recordings(p)):
        print("skipped the eyes-closed/open contrast: the PhysioNet recordings are absent",
              file=sys.stderr)
        return {}
    rows = table(DEFAULT_MODEL, None)
    figures = {f"contrast_{person}": row["centroid"] for person, row in rows.items()}
    figures.update(centroid_distance_ratio=rows["S001"]["centroid"],
                   eyes_closed_open_ratio=rows["S001"]["all_pairs"])
    overall = summary(rows)
    figures.update(contrast_min=overall["centroid_min"],
                   contrast_targets_met=overall["targets_met"])
    return figures


def upscaler_figures(count: int) -> dict:
    """The second stage against Lanczos at the output size, and nearest training crops there."""
    import torch

    from benchmarks import PAINTINGS
    from benchmarks.novelty import measure as novelty
    from benchmarks.upscaler_orientation import upscaler_on_real, upscaler_on_show
    from benchmarks.upscaler_quality import measure as quality
    from installation.bundle import BundleSpec
    from installation.config import DEFAULT_MODEL

    if not PAINTINGS.is_dir():
        print(f"skipped the upscaler's quality: {PAINTINGS} is absent", file=sys.stderr)
        return {}
    if BundleSpec.load(DEFAULT_MODEL / "generator.json").upscaler is None:
        print("skipped the upscaler's quality: the default bundle has none", file=sys.stderr)
        return {}
    torch.set_num_threads(1)
    q = quality(DEFAULT_MODEL, count)
    n = novelty(DEFAULT_MODEL)
    # Stroke direction: real crops through the upscaler, and 40 of the show's paintings of S001.
    o = {**upscaler_on_real(DEFAULT_MODEL, count // 2), **upscaler_on_show(DEFAULT_MODEL, 20)}
    return {**{k: v for k, v in o.items() if "orientation" in k},
            "upscaled_swd_fine": q["upscaled_swd_fine"], "lanczos_swd_fine": q["lanczos_swd_fine"],
            "upscaled_over_lanczos_swd_fine": q["upscaled_swd_fine"] / q["lanczos_swd_fine"],
            "upscaled_lattice": q["upscaled_lattice"], "real_lattice": q["real_lattice"],
            "fake_to_nearest_crop_512px": n["fake_to_nearest_crop"],
            **({"people_to_nearest_crop_512px": n["people_to_nearest_crop"]}
               if "people_to_nearest_crop" in n else {}),
            "real_to_other_painting_512px": n["real_to_other_painting"]}


def upscaler_size_figures(frames: int) -> dict:
    """Milliseconds per 128 -> 512 px painting of candidate upscaler sizes, one thread."""
    from benchmarks.upscaler_sizes import measure

    return {f"upscaler_ms_{name}": ms for name, ms in measure(1, frames).items()}


def features_figures() -> dict:
    """Filter and features in multiples of real time on the 64-channel recording."""
    from benchmarks.features_bench import DEFAULT_PATH, features_realtime_factor, small_op_ns

    host = {"numpy_small_op_ns": small_op_ns()}  # the host's yardstick (features_bench)
    if not DEFAULT_PATH.exists():
        print(f"skipped features: {DEFAULT_PATH} is absent", file=sys.stderr)
        return {"features_realtime_factor": None, **host}
    return {"features_realtime_factor": features_realtime_factor(DEFAULT_PATH), **host}


def training_figures(steps: int) -> dict:
    """The tiny configuration's images per second, and the 128 px step before and after.

    One torch thread; the 128 px figures take turns in one process (``benchmarks.train_bench``).
    """
    import torch

    from benchmarks.train_bench import compare, sec_per_kimg
    from models.configs import CONFIGS

    torch.set_num_threads(1)
    cfg = CONFIGS["tiny"]
    seconds = sec_per_kimg("tiny", cfg.resolution, cfg.batch, steps)
    cpu = CONFIGS["128"]
    return {"train_tiny_sec_per_kimg": seconds, "train_tiny_img_per_s": 1000.0 / seconds,
            **compare("128", cpu.resolution, cpu.batch, steps=max(steps // 2, 4), rounds=2)}


def control_figures(seconds: float) -> dict:
    """Control messages a second read on loopback before any is lost; the show's fps meanwhile."""
    from benchmarks.control_bench import control_figures as measure

    return measure(seconds)
