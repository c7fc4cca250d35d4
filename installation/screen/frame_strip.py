"""A strip of a headless run's frames, a few from each annotated stretch, captioned.

The demo plays a recording whose annotations say what the brain does ("eyes open", "eyes
closed"); the strip puts frames of each stretch side by side, so the run's point is one picture.
"""

from __future__ import annotations

import csv
from pathlib import Path

from installation.screen.quiet_pygame import pygame

STRIP_NAME = "strip.png"
TILE_PX = 256
LABEL_PX = 28
PER_CAPTION = 4
# Where in a stretch to take its frames: after the first part, while the steering settles.
FRACTIONS = (0.3, 0.5, 0.7, 0.9)


def saved_frames(folder: Path) -> list[dict]:
    """The rows of ``frames.csv`` whose frame was saved as a PNG."""
    with open(folder / "frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return [row for row in rows if (folder / png_name(row)).is_file()]


def png_name(row: dict) -> str:
    """The PNG a frames.csv row's frame was saved as."""
    return f"frame-{int(row['frame']):06d}.png"


def stretches(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """Consecutive rows grouped by caption, in order; rows without a caption are left out."""
    groups: list[tuple[str, list[dict]]] = []
    for row in rows:
        caption = row.get("caption", "")
        if not caption:
            continue
        if not groups or groups[-1][0] != caption:
            groups.append((caption, []))
        groups[-1][1].append(row)
    return groups


def strip_choice(rows: list[dict]) -> list[tuple[str, dict]]:
    """(caption, row) of the frames to show: ``PER_CAPTION`` from each stretch."""
    chosen = []
    for caption, group in stretches(rows):
        picks = sorted({min(len(group) - 1, round(f * (len(group) - 1))) for f in FRACTIONS})
        chosen.extend((caption, group[i]) for i in picks)
    return chosen


def write_strip(folder: str | Path) -> Path | None:
    """Write ``strip.png`` into a headless run's ``folder``; None when nothing is captioned.

    Parameters
    ----------
    folder : str or Path
        A folder holding ``frames.csv`` and its PNGs (``--frames-out``).

    Returns
    -------
    Path or None
        The strip, or None when no saved frame carries a caption.
    """
    folder = Path(folder)
    chosen = strip_choice(saved_frames(folder))
    if not chosen:
        return None
    pygame.font.init()
    font = pygame.font.Font(None, LABEL_PX)
    strip = pygame.Surface((TILE_PX * len(chosen), TILE_PX + LABEL_PX))
    strip.fill((20, 20, 20))
    for i, (caption, row) in enumerate(chosen):
        tile = pygame.transform.smoothscale(pygame.image.load(str(folder / png_name(row))),
                                            (TILE_PX, TILE_PX))
        strip.blit(tile, (i * TILE_PX, 0))
        label = font.render(f"{caption}, EEG {float(row['eeg_time']):.0f} s", True,
                            (235, 235, 235))
        strip.blit(label, (i * TILE_PX + 6, TILE_PX + (LABEL_PX - label.get_height()) // 2))
    path = folder / STRIP_NAME
    pygame.image.save(strip, str(path))
    return path
