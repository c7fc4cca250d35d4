"""Which runtime runs the model chain: ONNX Runtime's providers or OpenVINO, and why.

``auto`` takes the first present of TensorRT, CUDA, OpenVINO on an Intel GPU, OpenVINO on a CPU
with bf16 (AMX-BF16 or AVX512_BF16), and ONNX Runtime's CPU. OpenVINO on a CPU without bf16 is
never taken by itself: in f32 it runs within 10% of ONNX Runtime's speed
(``benchmarks.runtime_compare``), too little for a second runtime on the show's path. A named
provider is taken or refused with one sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from installation.errors import ConfigError

PROVIDERS = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
PREFERENCE = ("tensorrt", "cuda", "cpu")
# Everything --provider takes, in auto's order of preference after "auto" itself.
PROVIDER_NAMES = ("auto", "tensorrt", "cuda", "openvino-gpu", "openvino-cpu-bf16",
                  "openvino-cpu", "cpu")
# /proc/cpuinfo flags of the instructions that make bf16 inference fast on a CPU.
BF16_FLAGS = ("amx_bf16", "avx512_bf16")
CPU_FLAGS_SHOWN = ("amx_bf16", "amx_tile", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni",
                   "avx2")


@dataclass(frozen=True)
class RuntimeChoice:
    """The runtime the model chain runs on.

    Parameters
    ----------
    name : str
        One of ``PROVIDER_NAMES`` but ``auto``: what the HUD and the log call it.
    reason : str
        Why it was taken, a few words for the HUD and the log.
    ort_providers : tuple of str
        ONNX Runtime providers, best first; empty when OpenVINO runs the chain.
    openvino_device : str, optional
        OpenVINO's device (``GPU`` or ``CPU``); None when ONNX Runtime runs the chain.
    bf16 : bool
        Ask OpenVINO's CPU for bf16 inference (only where the CPU has it).
    """

    name: str
    reason: str
    ort_providers: tuple[str, ...] = ()
    openvino_device: str | None = None
    bf16: bool = False

    @property
    def line(self) -> str:
        """``name (reason)``: the HUD's provider line."""
        return f"{self.name} ({self.reason})"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags as Linux lists them; empty where the file is absent."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def bf16_flags(flags: frozenset[str] | None = None) -> tuple[str, ...]:
    """Which of ``BF16_FLAGS`` the CPU has (``cpu_flags()`` when ``flags`` is None)."""
    flags = cpu_flags() if flags is None else flags
    return tuple(f for f in BF16_FLAGS if f in flags)


def openvino_devices() -> tuple[str, ...]:
    """OpenVINO's devices here (``CPU``, ``GPU``, ``GPU.0``, ...); empty without OpenVINO."""
    try:
        import openvino  # lazy: optional, and a quarter second to import and probe devices
    except (ImportError, OSError):  # absent, or its native libraries are
        return ()
    try:
        return tuple(openvino.Core().available_devices)
    except RuntimeError:  # a broken plugin: OpenVINO is as good as absent
        return ()


def choose_providers(requested: str = "auto") -> list[str]:
    """ONNX Runtime providers to try, best first, among those this installation has.

    Parameters
    ----------
    requested : {"auto", "tensorrt", "cuda", "cpu"}
        ``"auto"`` takes every available one in the order TensorRT, CUDA, CPU; a named one is
        tried first, with the CPU as fallback.

    Returns
    -------
    list of str
        Provider names for ``InferenceSession``.
    """
    available = set(ort.get_available_providers())
    if requested == "auto":
        return [PROVIDERS[k] for k in PREFERENCE if PROVIDERS[k] in available]
    if requested not in PROVIDERS:
        raise ConfigError(f"Unknown provider {requested!r}; use {', '.join(PROVIDER_NAMES)}.")
    if PROVIDERS[requested] not in available:
        raise ConfigError(
            f"The {requested} provider is not in this ONNX Runtime (it has "
            f"{', '.join(sorted(available))}); install onnxruntime-gpu or use provider auto."
        )
    return list(dict.fromkeys([PROVIDERS[requested], PROVIDERS["cpu"]]))


def choose_runtime(requested: str = "auto") -> RuntimeChoice:
    """The runtime for ``--provider requested``, or a ConfigError saying why it cannot be.

    Parameters
    ----------
    requested : str
        One of ``PROVIDER_NAMES``.

    Returns
    -------
    RuntimeChoice
    """
    if requested not in PROVIDER_NAMES:
        raise ConfigError(f"Unknown provider {requested!r}; use {', '.join(PROVIDER_NAMES)}.")
    if requested == "auto":
        return _automatic_choice()
    if requested.startswith("openvino"):
        return _forced_openvino(requested)
    return RuntimeChoice(requested, "asked for", tuple(choose_providers(requested)))


def _automatic_choice() -> RuntimeChoice:
    """TensorRT, CUDA, OpenVINO's GPU, OpenVINO's CPU with bf16, then ONNX Runtime's CPU."""
    providers = tuple(choose_providers("auto"))
    if providers[0] != PROVIDERS["cpu"]:
        name = "tensorrt" if providers[0] == PROVIDERS["tensorrt"] else "cuda"
        return RuntimeChoice(name, "an NVIDIA GPU", providers)
    devices = openvino_devices()
    if any(d.startswith("GPU") for d in devices):
        return RuntimeChoice("openvino-gpu", "an Intel GPU, through OpenVINO",
                             openvino_device="GPU")
    found = bf16_flags()
    if devices and found:
        return RuntimeChoice("openvino-cpu-bf16", f"this CPU has {' and '.join(found)}",
                             openvino_device="CPU", bf16=True)
    if not devices:
        why = "no NVIDIA GPU, and OpenVINO is not installed"
    else:
        why = "no GPU, and this CPU has no bf16, where OpenVINO gains nothing"
    return RuntimeChoice("cpu", why, providers)


def _forced_openvino(requested: str) -> RuntimeChoice:
    """An OpenVINO runtime the user named, or one sentence on what is missing."""
    devices = openvino_devices()
    if not devices:
        raise ConfigError(f"The {requested} provider needs OpenVINO, which is not installed; "
                          "run `pip install openvino` (make setup does) or use provider auto.")
    if requested == "openvino-gpu":
        if not any(d.startswith("GPU") for d in devices):
            raise ConfigError(f"OpenVINO sees no GPU here (only {', '.join(devices)}); install "
                              "the Intel GPU's compute runtime (intel-opencl-icd) or use "
                              "provider auto.")
        return RuntimeChoice(requested, "asked for", openvino_device="GPU")
    if requested == "openvino-cpu-bf16" and not bf16_flags():
        raise ConfigError("This CPU has no bf16 instructions (AMX-BF16 or AVX512_BF16), so "
                          "OpenVINO would run in f32; use provider openvino-cpu or auto.")
    return RuntimeChoice(requested, "asked for", openvino_device="CPU",
                         bf16=requested.endswith("bf16"))
