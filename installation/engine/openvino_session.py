"""One ONNX graph compiled by OpenVINO, behind the face of an ONNX Runtime session.

``GeneratorRuntime`` asks a session for its inputs and outputs (name, element type, shape) and
runs it with ``run(output_names, feeds)``; this class answers the same questions, so the bundle's
shape checks and the chain hold for OpenVINO as they do for ONNX Runtime. It reads the bundle's
own ONNX files; the compiled model is cached (``default_cache_dir``) so a restart does not
compile again.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# OpenVINO's element type names as ONNX Runtime spells them ("tensor(float)"), for the checks.
ELEMENT_TYPES = {"f32": "float", "f16": "float16", "u8": "uint8", "i64": "int64", "i32": "int32"}


@dataclass(frozen=True)
class GraphPort:
    """An input or output of a compiled graph, as ONNX Runtime's ``NodeArg`` describes one.

    Parameters
    ----------
    name : str
        The tensor's name in the ONNX file.
    type : str
        ``tensor(float)``, ``tensor(uint8)``, ...
    shape : list
        Each dimension an int, or a str where the graph leaves it open (the batch).
    """

    name: str
    type: str
    shape: list


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/eeg-painting/openvino`` (``~/.cache`` when the variable is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "eeg-painting" / "openvino"


def usable_cache_dir(folder: Path | None) -> Path | None:
    """``folder`` created if need be; None (no cache, compiled each start) where it cannot be."""
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("OpenVINO compiles the model at every start: its cache %s cannot be made "
                    "(%s)", folder, exc.strerror or exc)
        return None
    return folder if os.access(folder, os.W_OK) else None


def compile_config(device: str, threads: int, bf16: bool) -> dict:
    """OpenVINO properties for one painting at a time on ``device``.

    Parameters
    ----------
    device : {"CPU", "GPU"}
        OpenVINO's device.
    threads : int
        Inference threads on the CPU (the GPU ignores it).
    bf16 : bool
        bf16 inference on the CPU; f32 otherwise (a GPU keeps its own default, f16).
    """
    config = {"PERFORMANCE_HINT": "LATENCY"}
    if device == "CPU":
        config.update(INFERENCE_NUM_THREADS=int(threads), NUM_STREAMS=1,
                      INFERENCE_PRECISION_HINT="bf16" if bf16 else "f32")
    return config


class OpenVinoSession:
    """A compiled ONNX graph with an ONNX Runtime session's ``run``, ``get_inputs`` and friends.

    Build it with :meth:`open`.

    Parameters
    ----------
    compiled : openvino.CompiledModel
        The compiled graph.
    label : str
        What ``get_providers`` reports, e.g. ``OpenVINO CPU bf16``.
    """

    def __init__(self, compiled, label: str) -> None:
        self.compiled = compiled
        self.label = label
        self.request = compiled.create_infer_request()
        self.lock = threading.Lock()  # one infer request: one painting at a time

    @classmethod
    def open(cls, onnx_path: Path, device: str = "CPU", threads: int = 1, bf16: bool = False,
             cache_dir: Path | None = None) -> OpenVinoSession:
        """Compile ``onnx_path`` for ``device`` (or load it from the cache).

        Parameters
        ----------
        onnx_path : Path
            An ONNX file.
        device : {"CPU", "GPU"}
            OpenVINO's device.
        threads : int
            Inference threads on the CPU.
        bf16 : bool
            Ask the CPU for bf16 inference.
        cache_dir : Path, optional
            Folder of compiled models; ``default_cache_dir()`` when None.

        Returns
        -------
        OpenVinoSession

        Raises
        ------
        RuntimeError
            OpenVINO's own error for a file it cannot read or compile.
        """
        import openvino  # lazy: optional, and only the OpenVINO runtimes need it

        core = openvino.Core()
        cache = usable_cache_dir(default_cache_dir() if cache_dir is None else cache_dir)
        if cache is not None:
            core.set_property({"CACHE_DIR": str(cache)})
        compiled = core.compile_model(str(onnx_path), device,
                                      compile_config(device, threads, bf16))
        return cls(compiled, f"OpenVINO {device} {inference_precision(compiled)}")

    def get_inputs(self) -> list[GraphPort]:
        """The graph's inputs."""
        return [_port(p) for p in self.compiled.inputs]

    def get_outputs(self) -> list[GraphPort]:
        """The graph's outputs."""
        return [_port(p) for p in self.compiled.outputs]

    def get_providers(self) -> list[str]:
        """``[label]``, like ONNX Runtime's list of providers in use."""
        return [self.label]

    def run(self, output_names: list[str] | None, feeds: dict) -> list[np.ndarray]:
        """Run the graph once.

        Parameters
        ----------
        output_names : list of str, optional
            The outputs wanted; every output when None.
        feeds : dict of str to ndarray
            The inputs by name.

        Returns
        -------
        list of ndarray
            The outputs, copies the next run cannot overwrite.
        """
        names = output_names or [p.get_any_name() for p in self.compiled.outputs]
        with self.lock:
            result = self.request.infer(feeds, share_outputs=False)  # copies out
            return [result[name] for name in names]


def inference_precision(compiled) -> str:
    """The precision OpenVINO really infers in (``f32`` where a CPU ignored a bf16 hint)."""
    try:
        return str(compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name())
    except RuntimeError:  # a device without the property (some GPUs' plugins)
        return "default precision"


def _port(port) -> GraphPort:
    """An OpenVINO port as ONNX Runtime's ``NodeArg`` would describe it."""
    kind = port.get_element_type().get_type_name()
    shape = [d.get_length() if d.is_static else "?" for d in port.get_partial_shape()]
    return GraphPort(port.get_any_name(), f"tensor({ELEMENT_TYPES.get(kind, kind)})", shape)
