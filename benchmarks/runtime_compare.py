"""Each runtime side by side on the default bundle: milliseconds and the painting's difference.

Run: ``.venv/bin/python -m benchmarks.runtime_compare [--threads 1] [--runs 20] [--inputs 256]``

For every runtime that runs here (ONNX Runtime's CPU; OpenVINO's CPU in f32 and with the bf16
precision hint, which a CPU without bf16 ignores; OpenVINO's GPU, CUDA and TensorRT where
present): the generator, the upscaler and the whole chain in milliseconds per painting (median of
``--runs`` after a warm-up, the runtimes taking turns run by run so a busy machine slows each
alike), and the largest difference from ONNX Runtime's CPU painting over ``--inputs`` fixed,
seeded inputs in levels of 255. The CPU's capabilities are printed first: bf16 figures of one
CPU say nothing of another. The show's hop is 67 ms (15 a second); the target is the chain in
30 ms on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from installation.bundle import INPUT_FEATURES, INPUT_NOISE, INPUT_PAINTING, OUTPUT_IMAGE
from installation.config import DEFAULT_MODEL
from installation.engine.generator_runtime import GeneratorRuntime
from installation.engine.provider_choice import (
    CPU_FLAGS_SHOWN,
    RuntimeChoice,
    bf16_flags,
    choose_providers,
    cpu_flags,
    openvino_devices,
)

CHAIN_TARGET_MS = 30.0
SEED = 3


def cpu_capabilities() -> dict:
    """The CPU's flags that matter for inference, and what OpenVINO says it can do."""
    flags = cpu_flags()
    found = {f"cpu_{flag}": flag in flags for flag in CPU_FLAGS_SHOWN}
    if openvino_devices():
        import openvino  # lazy: optional; absent, its capabilities are simply not printed

        core = openvino.Core()
        found["openvino_cpu"] = core.get_property("CPU", "FULL_DEVICE_NAME")
        found["openvino_cpu_capabilities"] = " ".join(
            core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    return found


def runtimes_here() -> dict[str, RuntimeChoice]:
    """Every runtime this machine runs, by the name the figures use; ONNX Runtime's CPU first."""
    cpu = ("CPUExecutionProvider",)
    choices = {"ort_cpu": RuntimeChoice("cpu", "reference", cpu)}
    devices = openvino_devices()
    if devices:
        choices["openvino_cpu_f32"] = RuntimeChoice("openvino-cpu", "bench", openvino_device="CPU")
        # asked for on any CPU: one without bf16 shows here what OpenVINO does with the hint
        choices["openvino_cpu_bf16"] = RuntimeChoice("openvino-cpu-bf16", "bench",
                                                     openvino_device="CPU", bf16=True)
    if any(d.startswith("GPU") for d in devices):
        choices["openvino_gpu"] = RuntimeChoice("openvino-gpu", "bench", openvino_device="GPU")
    for short, provider in (("cuda", "CUDAExecutionProvider"),
                            ("tensorrt", "TensorrtExecutionProvider")):
        if provider in choose_providers("auto"):
            choices[f"ort_{short}"] = RuntimeChoice(short, "bench", (provider, *cpu))
    return choices


def fixed_inputs(runtime: GeneratorRuntime, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` seeded steering vectors and noise, as the show's smoothed features vary."""
    rng = np.random.default_rng(SEED)
    steering = rng.normal(0, 1, (count, runtime.feature_spec.n_features)).astype(np.float32)
    return steering, rng.normal(0, 1, (count, runtime.noise_dim)).astype(np.float32)


def stage_calls(runtime: GeneratorRuntime) -> dict:
    """The three things timed: generator alone, upscaler alone, the chain."""
    steering, noise = fixed_inputs(runtime, 1)
    feeds = {INPUT_FEATURES: steering}
    if runtime.takes_noise:
        feeds[INPUT_NOISE] = noise
    painting = {INPUT_PAINTING: runtime.session.run([OUTPUT_IMAGE], feeds)[0]}
    calls = {"generator": lambda: runtime.session.run([OUTPUT_IMAGE], feeds),
             "chain": lambda: runtime.generate(steering[0], noise[0])}
    if runtime.upscaler is not None:
        calls["upscaler"] = lambda: runtime.upscaler.run([OUTPUT_IMAGE], painting)
    return calls


def timings(runtimes: dict[str, GeneratorRuntime], runs: int) -> dict:
    """Median milliseconds of each stage of each runtime, the runtimes taking turns."""
    calls = {name: stage_calls(rt) for name, rt in runtimes.items()}
    for stages in calls.values():  # warm-up: kernels are built on the first runs
        for call in stages.values():
            call()
            call()
    times = {(name, stage): [] for name, stages in calls.items() for stage in stages}
    for _ in range(runs):
        for name, stages in calls.items():
            for stage, call in stages.items():
                start = time.perf_counter()
                call()
                times[name, stage].append(time.perf_counter() - start)
    return {f"{name}_{stage}_ms": 1e3 * float(np.median(t)) for (name, stage), t in times.items()}


def differences(runtimes: dict[str, GeneratorRuntime], count: int) -> dict:
    """Largest and mean difference from ONNX Runtime's CPU painting over ``count`` inputs."""
    reference = runtimes["ort_cpu"]
    steering, noise = fixed_inputs(reference, count)
    out = {}
    for name, runtime in runtimes.items():
        if name == "ort_cpu":
            continue
        largest, total = 0, 0.0
        for s, z in zip(steering, noise, strict=True):
            theirs = reference.generate(s, z).astype(np.int16)
            delta = np.abs(runtime.generate(s, z).astype(np.int16) - theirs)
            largest, total = max(largest, int(delta.max())), total + float(delta.mean())
        out[f"{name}_max_diff_levels"] = largest
        out[f"{name}_mean_diff_levels"] = total / count
    return out


def load_all(model: Path, threads: int) -> tuple[dict, dict]:
    """Each runtime on ``model`` with an empty compiled-model cache, and its load seconds."""
    runtimes, figures = {}, {}
    for name, choice in runtimes_here().items():
        started = time.perf_counter()
        runtime = GeneratorRuntime.load(model, choice, threads)
        figures[f"{name}_load_s"] = time.perf_counter() - started
        if choice.openvino_device is not None:  # a second start reads the compiled models
            started = time.perf_counter()
            runtime = GeneratorRuntime.load(model, choice, threads)
            figures[f"{name}_load_cached_s"] = time.perf_counter() - started
            figures[f"{name}_runs_as"] = runtime.session.label
        runtimes[name] = runtime
    return runtimes, figures


def measure(model: Path = DEFAULT_MODEL, threads: int = 1, runs: int = 20,
            inputs: int = 256) -> dict:
    """Every figure of every runtime here, with the CPU's capabilities."""
    figures = cpu_capabilities()
    with tempfile.TemporaryDirectory() as cache:
        previous = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = cache  # cold first, then warm: what a restart costs
        try:
            runtimes, loads = load_all(model, threads)
        finally:
            if previous is None:
                os.environ.pop("XDG_CACHE_HOME")
            else:
                os.environ["XDG_CACHE_HOME"] = previous
    figures.update(loads)
    figures.update(timings(runtimes, runs))
    figures.update(differences(runtimes, inputs))
    figures["runtimes"] = list(runtimes)
    figures["chain_ms_fastest_runtime"] = min(figures[f"{n}_chain_ms"] for n in runtimes)
    return figures


def report(f: dict, threads: int, runs: int, inputs: int) -> None:
    """Print the capabilities, then one line per runtime."""
    caps = [k[4:] for k in f if k.startswith("cpu_") and f[k] is True]
    print(f"CPU flags found: {', '.join(caps) or 'none of ' + ', '.join(CPU_FLAGS_SHOWN)}; "
          f"bf16 hardware: {', '.join(bf16_flags()) or 'none'}")
    if "openvino_cpu" in f:
        print(f"OpenVINO's CPU: {f['openvino_cpu']}, capabilities "
              f"{f['openvino_cpu_capabilities']}")
    print(f"{threads} thread(s), median of {runs} runs after warm-up; differences over {inputs} "
          f"fixed inputs at the chain's output, in levels of 255; target chain <= "
          f"{CHAIN_TARGET_MS:g} ms")
    for name in f["runtimes"]:
        parts = [f"{stage} {f[key]:.1f} ms" for stage in ("generator", "upscaler", "chain")
                 if (key := f"{name}_{stage}_ms") in f]
        if f"{name}_max_diff_levels" in f:
            parts.append(f"max diff {f[f'{name}_max_diff_levels']} "
                         f"(mean {f[f'{name}_mean_diff_levels']:.2g})")
        else:
            parts.append("the reference")
        load = f"load {f[f'{name}_load_s']:.2f} s"
        if f"{name}_load_cached_s" in f:
            load += f", cached {f[f'{name}_load_cached_s']:.2f} s; runs as {f[f'{name}_runs_as']}"
        print(f"  {name:18s} " + "; ".join(parts) + f"; {load}")


def main(argv: list[str] | None = None) -> int:
    """Print the figures, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--inputs", type=int, default=256, help="fixed inputs compared")
    args = parser.parse_args(argv)
    figures = measure(args.model, args.threads, args.runs, args.inputs)
    report(figures, args.threads, args.runs, args.inputs)
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
