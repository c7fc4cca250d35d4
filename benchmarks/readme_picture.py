"""The README's picture: the default model's paintings of S001 at rest, eyes open and eyes closed.

Run: ``.venv/bin/python -m benchmarks.readme_picture [--out docs/images/eyes-open-closed.png]``

Both PhysioNet recordings (S001R01 eyes open, S001R02 eyes closed) play through the show itself
(``python -m installation --headless --speed max``) with the bundle's calibration profile, as an
operator would run it; the frames the show writes are the paintings as the wall shows them, at
the chain's size (512 px for the default, upscaler included). A few frames from the settled part
of each recording go side by side, labelled, into one PNG, each shown at 400 px so that the PNG
stays near a megabyte. Remake it whenever the default model changes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from benchmarks import EYES_CLOSED_EDF, EYES_OPEN_EDF, REPO, SHARED_DATA

DEFAULT_MODEL = REPO / "assets" / "default"
DEFAULT_OUT = REPO / "docs" / "images" / "eyes-open-closed.png"
PER_STATE = 3
# The show runs at a virtual 60 frames per EEG second: one PNG every 10 s of EEG. The first
# frame comes before the steering has settled (its motion follows over about 4 s), so it is
# left out; 46 s leaves three settled frames, at about 21, 31 and 41 s.
FRAME_EVERY = 600
SECONDS = 46
TILE = 400  # px in the PNG; six 512 px paintings as PNG would weigh about 1.9 MB
GAP, LABEL_HEIGHT, FONT_SIZE = 24, 64, 40
BACKGROUND, INK = (255, 255, 255), (20, 20, 20)


def show_frames(model: Path, recording: Path, folder: Path) -> list[Path]:
    """Play ``recording`` through the headless show; return its saved frames after the first.

    Parameters
    ----------
    model : Path
        The model bundle the show paints with; its ``profile.json`` calibrates it.
    recording : Path
        An EEG recording the show reads as a ``file:`` source.
    folder : Path
        Where the show writes its frames.

    Returns
    -------
    list of Path
        The last ``PER_STATE`` PNGs the show wrote, oldest first.
    """
    command = [sys.executable, "-m", "installation", "--source", f"file:{recording}",
               "--model", str(model), "--profile", str(model / "profile.json"), "--headless",
               "--speed", "max", "--duration", str(SECONDS), "--frames-out", str(folder),
               "--frame-every", str(FRAME_EVERY), "--threads", "1"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise SystemExit(f"The show failed on {recording.name}: {last}")
    frames = sorted(folder.glob("frame-*.png"))[1:]
    if len(frames) < PER_STATE:
        raise SystemExit(f"The show wrote only {len(frames)} settled frames of {recording.name}.")
    return frames[-PER_STATE:]


def tiles(paths: list[Path]) -> list[Image.Image]:
    """The show's frames, brought to :data:`TILE` px."""
    return [Image.open(p).convert("RGB").resize((TILE, TILE), Image.Resampling.LANCZOS)
            for p in paths]


def labelled_row(paintings: list[Image.Image], label: str) -> Image.Image:
    """The paintings side by side under a caption."""
    side = paintings[0].width
    row = Image.new("RGB", (len(paintings) * side + (len(paintings) - 1) * GAP // 3,
                            side + LABEL_HEIGHT), BACKGROUND)
    ImageDraw.Draw(row).text((0, LABEL_HEIGHT // 2), label, fill=INK, anchor="lm",
                             font=ImageFont.load_default(size=FONT_SIZE))
    for i, painting in enumerate(paintings):
        row.paste(painting, (i * (side + GAP // 3), LABEL_HEIGHT))
    return row


def compose(opened: list[Path], closed: list[Path]) -> Image.Image:
    """Eyes open on the left, eyes closed on the right, a gap between."""
    left = labelled_row(tiles(opened), "eyes open")
    right = labelled_row(tiles(closed), "eyes closed")
    picture = Image.new("RGB", (left.width + 2 * GAP + right.width, left.height), BACKGROUND)
    picture.paste(left, (0, 0))
    picture.paste(right, (left.width + 2 * GAP, 0))
    return picture


def make_picture(model: Path, out: Path) -> Path:
    """Render both recordings through the show and write the labelled PNG to ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        opened = show_frames(model, EYES_OPEN_EDF, Path(tmp) / "open")
        closed = show_frames(model, EYES_CLOSED_EDF, Path(tmp) / "closed")
        picture = compose(opened, closed)
    picture.save(out, optimize=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the picture; 2 with one sentence when the shared data or the model is absent."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="model bundle")
    args = parser.parse_args(argv)
    if not (EYES_OPEN_EDF.is_file() and EYES_CLOSED_EDF.is_file()):
        print(f"error: the picture needs S001's rest recordings from {SHARED_DATA}, which are "
              "absent.", file=sys.stderr)
        return 2
    if not (args.model / "profile.json").is_file():
        print(f"error: {args.model} is no model bundle with a profile.json.", file=sys.stderr)
        return 2
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out = make_picture(args.model, args.out)
    except OSError as exc:  # an unwritable --out: say so rather than show a traceback
        print(f"error: cannot write {args.out} ({exc.strerror}).", file=sys.stderr)
        return 2
    print(f"{out}: {out.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
