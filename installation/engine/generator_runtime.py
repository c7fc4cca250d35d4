"""The exported model chain: steering vector and noise in, painting out.

The live show never imports torch; it runs ``generator.onnx`` from a model bundle, and the
bundle's ``upscaler.onnx`` after it where there is one (unless told to show the generator's own
size), on the best runtime present (``provider_choice``: TensorRT, CUDA, OpenVINO on an Intel GPU
or a bf16 CPU, then ONNX Runtime's CPU), and says which it took and why.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from installation.bundle import (
    INPUT_FEATURES,
    INPUT_NOISE,
    INPUT_PAINTING,
    OUTPUT_IMAGE,
    BundleSpec,
    inside_folder,
    resolve_bundle_paths,
)
from installation.eeg.feature_spec import FeatureSpec
from installation.eeg.features import BandPowerFeatures
from installation.eeg.sources.base import StreamInfo
from installation.engine.openvino_session import OpenVinoSession
from installation.engine.provider_choice import (
    PREFERENCE,
    PROVIDER_NAMES,
    PROVIDERS,
    RuntimeChoice,
    choose_providers,
    choose_runtime,
)
from installation.errors import ConfigError, ModelError

__all__ = ["GeneratorRuntime", "choose_providers", "PROVIDERS", "PREFERENCE", "PROVIDER_NAMES"]

log = logging.getLogger(__name__)

# One intra-op thread by default: on a CPU the display needs the other cores to hold the refresh
# rate, and a second thread gains the generator little (benchmarks.display_bench measures both).
DEFAULT_THREADS = 1


class GeneratorRuntime:
    """A session on a model bundle's generator (ONNX Runtime's or OpenVINO's).

    Build it with :meth:`load`.

    Parameters
    ----------
    session : onnxruntime.InferenceSession or OpenVinoSession
        The session on ``generator.onnx``.
    spec : BundleSpec
        The bundle's description.
    path : Path
        The ONNX file (for messages).
    upscaler : onnxruntime.InferenceSession or OpenVinoSession, optional
        A session on the bundle's ``upscaler.onnx``, run on every painting; None shows the
        generator's own size.
    choice : RuntimeChoice, optional
        The runtime chosen and why; None for a session made elsewhere (named by its provider).
    """

    def __init__(self, session, spec: BundleSpec, path: Path, upscaler=None,
                 choice: RuntimeChoice | None = None) -> None:
        self.session = session
        self.spec = spec
        self.path = path
        self.upscaler = upscaler
        self.choice = choice
        self.takes_noise = INPUT_NOISE in {i.name for i in session.get_inputs()}
        self.provider = session.get_providers()[0]

    @classmethod
    def load(cls, path: str | Path, provider: str | RuntimeChoice = "auto",
             threads: int | None = None, native: bool = False):
        """Open a bundle folder (or its ``generator.onnx``) and check the graphs fit its JSON.

        Parameters
        ----------
        path : str or Path
            Bundle folder, ``generator.onnx`` or ``generator.json``.
        provider : str or RuntimeChoice
            One of ``PROVIDER_NAMES``: ``auto`` takes the best present, a named one is taken or
            refused with a ConfigError; a RuntimeChoice is taken as it is (the benchmarks ask
            for a bf16 hint on any CPU with one).
        threads : int, optional
            Intra-op threads of each graph; ``DEFAULT_THREADS`` when None.
        native : bool
            Leave the bundle's upscaler out: paintings at the generator's own size.

        Returns
        -------
        GeneratorRuntime
        """
        if not Path(path).exists():
            raise ModelError(f"The model {path} is missing; pass --model with a bundle folder "
                             "made by `python -m models.export` (e.g. assets/default).")
        onnx_path, json_path = resolve_bundle_paths(path)
        if not onnx_path.is_file():
            raise ModelError(f"The model file {onnx_path} is missing; pass --model with a folder "
                             "made by `python -m models.export` (e.g. assets/default).")
        spec = BundleSpec.load(json_path)
        choice = provider if isinstance(provider, RuntimeChoice) else choose_runtime(provider)
        session = _open_session(onnx_path, choice, threads)
        _check_interface(session, spec, onnx_path)
        upscaler = None
        if spec.upscaler is not None and not native:
            upscaler = _open_upscaler(onnx_path.parent, spec, choice, threads)
        runtime = cls(session, spec, onnx_path, upscaler, choice)
        log.info("generator %s runs on %s%s", onnx_path, runtime.provider_line,
                 f", upscaled to {runtime.resolution} px" if upscaler is not None else "")
        return runtime

    @property
    def resolution(self) -> int:
        """Side of the paintings :meth:`generate` returns."""
        return self.spec.output_resolution if self.upscaler is not None else self.spec.resolution

    @property
    def feature_spec(self) -> FeatureSpec:
        """The feature spec the generator was trained on."""
        return self.spec.feature_spec

    @property
    def noise_dim(self) -> int:
        """Length of the noise input."""
        return self.spec.noise_dim

    @property
    def provider_name(self) -> str:
        """Short name of the runtime in use: one of ``PROVIDER_NAMES`` but ``auto``."""
        if isinstance(self.session, OpenVinoSession) and self.choice is not None:
            return self.choice.name
        short = {v: k for k, v in PROVIDERS.items()}
        return short.get(self.provider, self.provider)

    @property
    def provider_line(self) -> str:
        """The runtime and why it was taken, e.g. ``cpu (no GPU, ...)``: the HUD and the log."""
        name = self.provider_name
        if self.choice is None:
            return name
        if name != self.choice.name:  # ONNX Runtime fell back on its own
            return f"{name} (the {self.choice.name} provider did not start)"
        if isinstance(self.session, OpenVinoSession):
            return f"{name} ({self.choice.reason}; {self.session.label})"
        return self.choice.line

    def generate(self, steering: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        """One painting.

        Parameters
        ----------
        steering : ndarray, shape (n_features,)
            The smoothed feature vector.
        noise : ndarray, shape (noise_dim,), optional
            Latent noise; zeros when None.

        Returns
        -------
        ndarray, uint8, shape (height, width, 3)
        """
        feeds = {INPUT_FEATURES: np.asarray(steering, dtype=np.float32).reshape(1, -1)}
        if self.takes_noise:
            if noise is None:
                noise = np.zeros(self.noise_dim, dtype=np.float32)
            feeds[INPUT_NOISE] = np.asarray(noise, dtype=np.float32).reshape(1, -1)
        (image,) = self.session.run([OUTPUT_IMAGE], feeds)
        if self.upscaler is not None:
            (image,) = self.upscaler.run([OUTPUT_IMAGE], {INPUT_PAINTING: image})
        return image[0]

    def warm_up(self, noise: np.ndarray | None = None) -> np.ndarray:
        """Run the graph once (providers build their kernels on the first run); return the image."""
        return self.generate(np.zeros(self.feature_spec.n_features, np.float32), noise)

    def check_fits(self, info: StreamInfo) -> None:
        """Raise ModelError with one sentence when the source cannot give the model's features.

        Parameters
        ----------
        info : StreamInfo
            What the source delivers (sample rate, channel names).
        """
        try:
            BandPowerFeatures(self.feature_spec, info.channel_names, info.sample_rate)
        except ConfigError as exc:
            reason = str(exc).rstrip(".")
            raise ModelError(
                f"The model {self.path.parent} does not fit the source {info.description} "
                f"({info.sample_rate:g} Hz): {reason}, or pass a model made for this headset."
            ) from None


def _open_session(onnx_path: Path, choice: RuntimeChoice, threads: int | None):
    """A session on ``choice``'s runtime; a broken file becomes a ModelError."""
    if choice.openvino_device is not None:
        return _open_openvino(onnx_path, choice, threads)
    return _open_ort(onnx_path, list(choice.ort_providers), threads)


def _open_openvino(onnx_path: Path, choice: RuntimeChoice, threads: int | None):
    """OpenVINO's compiled graph (from its cache where it was compiled before)."""
    try:
        return OpenVinoSession.open(onnx_path, choice.openvino_device,
                                    int(threads or DEFAULT_THREADS), choice.bf16)
    except Exception as exc:  # OpenVINO raises its own untyped errors for bad files
        raise _unloadable(onnx_path, exc) from None


def _unloadable(onnx_path: Path, exc: Exception) -> ModelError:
    """The one sentence for an ONNX file a runtime cannot load."""
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelError(f"The model file {onnx_path} cannot be loaded ({first_line[:160]}); "
                      "export the model again with `python -m models.export`.")


def _open_ort(onnx_path: Path, providers: list[str], threads: int | None):
    """InferenceSession with all graph optimisations; a broken file becomes a ModelError."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(threads or DEFAULT_THREADS)
    # Idle worker threads would spin between runs on the cores the display needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # ONNX Runtime's own warnings would flood the show's log
    try:
        return ort.InferenceSession(str(onnx_path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise _unloadable(onnx_path, exc) from None


def _open_upscaler(folder: Path, spec: BundleSpec, choice: RuntimeChoice, threads: int | None):
    """A session on the bundle's upscaler, checked against generator.json."""
    path = inside_folder(folder, spec.upscaler.onnx)
    if spec.upscaler.input_resolution != spec.resolution:
        raise ModelError(f"The upscaler in {folder} takes {spec.upscaler.input_resolution} px "
                         f"paintings but the generator paints {spec.resolution} px; export the "
                         "upscaler again for this generator, or pass --native.")
    if not path.is_file():
        raise ModelError(f"The upscaler {path} named in generator.json is missing; export it "
                         "again with `python -m models.export`, or pass --native.")
    session = _open_session(path, choice, threads)
    size, out = spec.upscaler.input_resolution, spec.upscaler.output_resolution
    painting = {i.name: i for i in session.get_inputs()}.get(INPUT_PAINTING)
    image = {o.name: o for o in session.get_outputs()}.get(OUTPUT_IMAGE)
    fits = _is_uint8_image(painting, size) and _is_uint8_image(image, out)
    if fits and not _is_static(image.shape):  # symbolic sizes: see what it really makes
        fits = _made_side(session, {INPUT_PAINTING: np.zeros((1, size, size, 3), np.uint8)}) == out
    if not fits:
        raise ModelError(f"The upscaler {path} does not take uint8 {size} px paintings to "
                         f"{out} px as generator.json says; export it again, or pass --native.")
    return session


def _is_static(shape) -> bool:
    """True when every dimension but the batch is a number (the graph states its size)."""
    return all(isinstance(d, int) for d in shape[1:])


def _made_side(session, feeds: dict) -> int | None:
    """Side of the square image a graph really makes from ``feeds``; None when not square RGB."""
    try:
        (image,) = session.run([OUTPUT_IMAGE], feeds)
    except Exception:  # the runtimes' own untyped errors: a graph that cannot run does not fit
        return None
    ok = image.dtype == np.uint8 and image.ndim == 4 and image.shape[2:] == (image.shape[1], 3)
    return int(image.shape[1]) if ok else None


def _check_interface(session, spec: BundleSpec, path: Path) -> None:
    """Raise ModelError when the graph's inputs or output differ from generator.json."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    expected = {INPUT_FEATURES: spec.feature_spec.n_features}
    if spec.noise_dim > 0:
        expected[INPUT_NOISE] = spec.noise_dim
    for name, width in expected.items():
        node = inputs.get(name)
        if node is None or node.type != "tensor(float)" or not _last_dim_is(node.shape, width):
            raise ModelError(f"The model {path} lacks a float32 input {name!r} of width {width} "
                             "as generator.json says; export the model again.")
    size = spec.resolution
    image = outputs.get(OUTPUT_IMAGE)
    fits = _is_uint8_image(image, size)
    if fits and not _is_static(image.shape):  # symbolic sizes: see what it really paints
        feeds = {name: np.zeros((1, width), np.float32) for name, width in expected.items()}
        fits = _made_side(session, feeds) == size
    if not fits:
        raise ModelError(f"The model {path} lacks a uint8 output {OUTPUT_IMAGE!r} of shape "
                         f"[batch, {size}, {size}, 3]; export the model again.")


def _is_uint8_image(node, size: int) -> bool:
    """True when a graph input or output is a uint8 [batch, size, size, 3] image."""
    return node is not None and node.type == "tensor(uint8)" and _is_image_shape(node.shape, size)


def _last_dim_is(shape, width: int) -> bool:
    """True when a 2-D shape's last dimension is ``width`` (or symbolic)."""
    return len(shape) == 2 and (not isinstance(shape[1], int) or shape[1] == width)


def _is_image_shape(shape, size: int) -> bool:
    """True when ``shape`` is [batch, size, size, 3], symbolic dimensions allowed."""
    if len(shape) != 4:
        return False
    wanted = (None, size, size, 3)
    pairs = zip(shape, wanted, strict=True)
    return all(w is None or not isinstance(d, int) or d == w for d, w in pairs)
