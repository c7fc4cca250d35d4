"""A folder of calibration profiles (``--profiles DIR``): each in-show calibration adds one.

The show saves every profile an in-show calibration makes into the folder under a timestamped
name, and at its next start, when no ``--profile`` is given, takes the newest one there that
fits the stream, so the morning after a wearer change does not go back to yesterday's profile.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from installation.eeg.profile import check_profile_fits, load_profile
from installation.errors import ConfigError

log = logging.getLogger(__name__)

PROFILE_GLOB = "profile-*.json"


def profile_file_name(when: datetime) -> str:
    """``profile-20261206-142501.json``: names that sort as their times do."""
    return f"profile-{when:%Y%m%d-%H%M%S}.json"


def save_to_profiles(profile: dict, folder: str | Path, when: datetime | None = None) -> Path:
    """Write ``profile`` into ``folder`` under a new timestamped name (never over another).

    Parameters
    ----------
    profile : dict
        A profile as :func:`installation.eeg.baseline.profile_builder.build_profile` made it.
    folder : str or Path
        The profiles folder; created when missing.
    when : datetime, optional
        The time in the name; now when None.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ConfigError
        When the folder cannot be written.
    """
    folder = Path(folder)
    name = profile_file_name(when or datetime.now())
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path, n = folder / name, 1
        while path.exists():
            n += 1
            path = folder / f"{Path(name).stem}-{n}.json"
        path.write_text(json.dumps(profile, indent=2) + "\n")
    except OSError as exc:
        raise ConfigError(f"Cannot save the profile into {folder} ({exc.strerror}); pass a "
                          "writable --profiles folder.") from None
    return path


def profile_files(folder: str | Path) -> list[Path]:
    """The folder's profile files, newest first (by name, which holds the time; then mtime)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = [p for p in folder.glob(PROFILE_GLOB) if p.is_file()]
    return sorted(files, key=lambda p: (p.name, _mtime(p)), reverse=True)


def newest_fitting_profile(folder: str | Path, info) -> tuple[Path, dict] | None:
    """The newest profile in ``folder`` that is whole and fits the stream, or None.

    A damaged file, or one made with another headset (other channels or rate), is passed
    over with a log line; the next newest is tried.

    Parameters
    ----------
    folder : str or Path
        The profiles folder (missing: None).
    info : StreamInfo
        The stream the show is about to play.

    Returns
    -------
    (Path, dict) or None
    """
    for path in profile_files(folder):
        try:
            profile = load_profile(path)
            check_profile_fits(profile, info)
        except ConfigError as exc:
            log.info("profiles: passing over %s: %s", path.name, exc)
            continue
        return path, profile
    return None


def check_profiles_folder(folder: str) -> None:
    """A ConfigError sentence when ``folder`` names something that cannot be a folder."""
    path = Path(folder)
    if not folder.strip():
        raise ConfigError("--profiles needs a folder name; pass e.g. --profiles profiles.")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--profiles {folder} is a file, not a folder; pass a folder for "
                          "the calibration profiles.")


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed while listing: sorts last
        return 0.0
