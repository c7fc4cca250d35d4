"""The show's options: defaults, a TOML config file, the command line (which wins), checked.

Every key of the config file is a command-line option with underscores (``frames_out``,
``frame_every``); a wrong type, an unknown key or an impossible value is a ConfigError sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

from installation.control.channel import parse_control_target
from installation.eeg.profile_folder import check_profiles_folder
from installation.eeg.sources import parse_source_spec
from installation.engine.provider_choice import PROVIDER_NAMES
from installation.errors import ConfigError
from installation.outputs.feeds.osc import parse_host_port

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "assets" / "default"
SPEEDS = ("realtime", "max")
PROVIDERS = PROVIDER_NAMES  # --provider's choices: docs/show.md says when each is taken
MODES = ("fit", "fill")


@dataclass(frozen=True)
class ShowOptions:
    """Everything the show can be told.

    Attributes
    ----------
    source : str
        Source spec (``synthetic``, ``brainflow:...``, ``lsl:...``, ``file:PATH``).
    model : str
        Model bundle folder or its ``generator.onnx``.
    profile : str or None
        Calibration ``profile.json`` for the feature normaliser.
    fullscreen : bool
        Fullscreen instead of a window.
    display : int
        Screen index for the window.
    headless : bool
        No window: write frames into ``frames_out``.
    frames_out : str
        Folder for ``frames.csv`` and PNGs in headless mode.
    frame_every : int
        A PNG every this many frames in headless mode (0: none).
    duration : float or None
        Seconds to run (EEG seconds at ``speed="max"``); None runs until quit or end of file.
    speed : {"realtime", "max"}
        ``max`` renders a file offline, hop by hop.
    record : str or None
        Folder to record the raw EEG and the keyframe log into (crash-safe).
    fps : float
        Display refresh rate (virtual refresh rate at ``speed="max"``).
    provider : str
        The runtime (``PROVIDERS``): ``auto`` takes the best present; a named one absent is a
        ConfigError.
    threads : int or None
        ONNX Runtime intra-op threads (all cores when None).
    snapshots : str
        Folder for S-key snapshots.
    drift_speed : float
        Latent key points passed per second.
    seed : int
        Seed of the latent drift.
    native : bool
        Show the generator's own size: skip the bundle's upscaler.
    mode : {"fit", "fill"}
        ``fit`` shows the whole painting on a mat; ``fill`` crops it to cover the screen.
    mat : str
        Colour of the mat around a fitted painting, ``#rrggbb``.
    log : str or None
        A log file besides the terminal, rotated at midnight (see installation.logs).
    video : str or None
        MP4 file the displayed painting is written into, as it goes (fragmented: a show cut
        short keeps what was written).
    overwrite : bool
        Replace an existing ``video`` file; without it the show refuses to start. A session
        folder is never overwritten.
    osc : str or None
        ``HOST:PORT`` to send each hop to as OSC.
    lsl_out : str or None
        Name of an LSL outlet of each hop's band powers and steering vector.
    sound : bool
        Play the sonification of the band powers.
    ndi : str or None
        Name of an NDI source sending the displayed painting.
    control : str or None
        ``PORT`` (this computer only) or ``HOST:PORT`` to receive OSC commands on
        (``/show/calibrate``, ``/show/snapshot``, ``/show/hud``, ``/show/blackout``); None: no
        control channel.
    calibration_s : float
        Seconds of eyes-open baseline an in-show calibration records (key C).
    calibration_eyes_closed_s : float
        Seconds of the in-show calibration's eyes-closed step; 0 leaves it out.
    profiles : str or None
        Folder each in-show calibration's profile is saved into; without ``profile``, the
        newest one there that fits the stream is used at start.
    """

    source: str = "synthetic"
    model: str = str(DEFAULT_MODEL)
    profile: str | None = None
    fullscreen: bool = False
    display: int = 0
    headless: bool = False
    frames_out: str = "frames"
    frame_every: int = 60
    duration: float | None = None
    speed: str = "realtime"
    record: str | None = None
    fps: float = 60.0
    provider: str = "auto"
    threads: int | None = None
    snapshots: str = "snapshots"
    drift_speed: float = 0.1
    seed: int = 0
    native: bool = False
    mode: str = "fit"
    mat: str = "#000000"
    log: str | None = None
    video: str | None = None
    overwrite: bool = False
    osc: str | None = None
    lsl_out: str | None = None
    sound: bool = False
    ndi: str | None = None
    control: str | None = None
    calibration_s: float = 60.0
    calibration_eyes_closed_s: float = 0.0
    profiles: str | None = None


# The type each option's value must have; float options accept integers too.
_KINDS = {
    "source": str, "model": str, "profile": str, "fullscreen": bool, "display": int,
    "headless": bool, "frames_out": str, "frame_every": int, "duration": float, "speed": str,
    "record": str, "fps": float, "provider": str, "threads": int, "snapshots": str,
    "drift_speed": float, "seed": int, "native": bool, "mode": str, "mat": str,
    "video": str, "overwrite": bool, "osc": str, "lsl_out": str, "sound": bool, "ndi": str,
    "log": str, "control": str, "calibration_s": float, "calibration_eyes_closed_s": float,
    "profiles": str,
}
_KIND_WORDS = {str: "a string", bool: "true or false", int: "an integer", float: "a number"}


def option_names() -> list[str]:
    """Names of all options (config-file keys)."""
    return [f.name for f in fields(ShowOptions)]


def read_config_file(path: str | Path) -> dict:
    """Read a TOML config file into a dict of checked option values.

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    dict
        Option name to value, types checked.
    """
    path = Path(path)
    if tomllib is None:
        raise ConfigError("Config files need Python 3.11 or newer (tomllib); pass the options "
                          "on the command line instead.")
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"The config file {path} does not exist; check the path.") from None
    except OSError as exc:
        raise ConfigError(f"The config file {path} cannot be read ({exc.strerror}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML ({exc}); fix it.") from None
    return {key: _checked_value(key, value, path) for key, value in table.items()}


def _checked_value(key: str, value, source: Path | str):
    """``value`` if it has the option's type; a ConfigError sentence otherwise."""
    kind = _KINDS.get(key)
    if kind is None:
        raise ConfigError(f"Unknown key {key!r} in {source}; valid keys are "
                          f"{', '.join(option_names())}.")
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok, value = True, float(value)
    if not ok:
        raise ConfigError(f"{key!r} in {source} must be {_KIND_WORDS[kind]}, got {value!r}.")
    return value


def parse_colour(text: str) -> tuple[int, int, int]:
    """``#rrggbb`` (or ``rrggbb``) as an RGB triple; a ConfigError sentence otherwise."""
    digits = text.strip().removeprefix("#")
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise ConfigError(f"The mat colour {text!r} is not #rrggbb; pass e.g. --mat '#1e1e1e'.")
    return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))


def resolve_options(command_line: dict, config_path: str | None = None) -> ShowOptions:
    """Defaults, then the config file, then the options given on the command line.

    Parameters
    ----------
    command_line : dict
        Options given on the command line (absent ones left out).
    config_path : str, optional
        A TOML config file.

    Returns
    -------
    ShowOptions
        Checked by :func:`validate`.
    """
    values = read_config_file(config_path) if config_path else {}
    values.update(command_line)
    return validate(replace(ShowOptions(), **values))


# The documented ranges of the numeric options (docs/show.md); None leaves an end open.
_RANGES = {
    "duration": (0.0, 1e7), "fps": (0.0, 1000.0), "drift_speed": (0.0, 100.0),
    "display": (0, 64), "frame_every": (0, None), "threads": (1, 1024), "seed": (0, 2**63 - 1),
    # a quality window is 3 s; an hour is longer than anyone keeps still
    "calibration_s": (3.0, 3600.0), "calibration_eyes_closed_s": (0.0, 3600.0),
}


def _check_numbers(options: ShowOptions) -> None:
    """Every number option finite and in its range (a NaN drift paints black); ConfigError."""
    for name, kind in _KINDS.items():
        value = getattr(options, name)
        if kind not in (int, float) or value is None:
            continue
        low, high = _RANGES.get(name, (None, None))
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value}; fix it in the config "
                              "file or on the command line.")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
            raise ConfigError(f"{name} must be {bounds}, got {value}; fix it in the config file "
                              "or on the command line.")


def validate(options: ShowOptions) -> ShowOptions:
    """Return ``options`` if they make sense together; a ConfigError sentence otherwise."""
    if options.duration is not None and not options.duration > 0:
        raise ConfigError(f"The duration must be a positive number of seconds, got "
                          f"{options.duration}.")
    if options.frame_every < 0:
        raise ConfigError(f"frame_every must be 0 (no PNGs) or more, got {options.frame_every}.")
    if options.display < 0:
        raise ConfigError(f"The display index must be 0 or more, got {options.display}.")
    if not 0 < options.fps <= 1000:
        raise ConfigError(f"The frame rate must be between 0 and 1000 fps, got {options.fps}.")
    if options.threads is not None and options.threads < 1:
        raise ConfigError(f"threads must be at least 1, got {options.threads}.")
    if options.drift_speed < 0:
        raise ConfigError(f"drift_speed must not be negative, got {options.drift_speed}.")
    _check_numbers(options)  # after the sentences above, which say more for their cases
    if options.speed not in SPEEDS:
        raise ConfigError(f"Unknown speed {options.speed!r}; use realtime or max.")
    if options.provider not in PROVIDERS:
        raise ConfigError(f"Unknown provider {options.provider!r}; use {', '.join(PROVIDERS)}.")
    if options.mode not in MODES:
        raise ConfigError(f"Unknown mode {options.mode!r}; use fit (the whole painting on a "
                          "mat) or fill (cropped to the screen).")
    parse_colour(options.mat)
    kind = parse_source_spec(options.source)[0]  # a mistyped --source is told before loading
    if options.speed == "max" and kind != "file":
        raise ConfigError("--speed max plays recording files only; use --source file:PATH or "
                          "--speed realtime.")
    if options.speed == "max" and not options.headless:
        raise ConfigError("--speed max renders a recording offline; add --headless "
                          "--frames-out DIR.")
    if options.record is not None and not options.record.strip():
        raise ConfigError("--record needs a folder name; pass e.g. --record sessions/today.")
    _validate_outputs(options)
    return options


def _validate_outputs(options: ShowOptions) -> None:
    """The feeds' and the video's options, told before anything loads."""
    if options.osc is not None:
        parse_host_port(options.osc)
    if options.control is not None:
        parse_control_target(options.control)
        if options.speed == "max":
            raise ConfigError("--control steers a live show; leave it out with --speed max.")
    if options.lsl_out is not None and not options.lsl_out.strip():
        raise ConfigError("--lsl-out needs a stream name; pass e.g. --lsl-out EEGPainting.")
    if options.ndi is not None and not options.ndi.strip():
        raise ConfigError("--ndi needs a source name; pass e.g. --ndi EEGPainting.")
    if options.profiles is not None:
        check_profiles_folder(options.profiles)
    if options.video is not None and not options.video.lower().endswith((".mp4", ".mov",
                                                                          ".mkv")):
        raise ConfigError(f"--video {options.video!r} must name an .mp4 file; pass e.g. "
                          "--video show.mp4.")
