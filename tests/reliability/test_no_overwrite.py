"""Nothing a show made is lost: no silent overwrite, restarts never collide, a cut video plays."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import av
import pytest

from installation.app import run_show
from installation.cli import main as show_cli
from installation.config import ShowOptions
from installation.eeg.sources.files.session_format import EEG_FILE, HEADER_FILE
from installation.outputs.recorder import record_folder_for_show
from installation.render import main as render_cli
from tests.helpers import REPO, assert_user_error

SHOW = ("--headless", "--speed", "max", "--frame-every", "0", "--duration", "1.2", "--native",
        "--threads", "1")


def _show(edf, tmp_path, *args) -> int:
    return show_cli(["--source", f"file:{edf}", "--frames-out", str(tmp_path / "frames"),
                     *SHOW, *args])


@pytest.fixture
def session(eyes_closed_edf, tmp_path):
    """A short session recorded by the show."""
    folder = tmp_path / "show" / "rec"
    run_show(ShowOptions(source=f"file:{eyes_closed_edf}", headless=True, speed="max",
                         frames_out=str(folder.parent / "frames"), frame_every=0, duration=2.0,
                         record=str(folder), native=True, threads=1))
    return folder


def test_render_refuses_an_existing_out_unless_overwrite(session, tmp_path, capsys):
    out = tmp_path / "performance.mp4"
    out.write_bytes(b"the only copy")
    argv = [str(session), "--out", str(out), "--native", "--fps", "10", "--threads", "1"]
    code = render_cli(argv)
    assert_user_error(code, capsys.readouterr().err, "already exists", "--overwrite")
    assert out.read_bytes() == b"the only copy"  # before: replaced, exit 0
    assert render_cli([*argv, "--overwrite"]) == 0
    with av.open(str(out)) as container:
        assert container.streams.video[0].frames > 0


def test_the_show_refuses_an_existing_video_unless_overwrite(eyes_closed_edf, tmp_path, capsys):
    out = tmp_path / "show.mp4"
    out.write_bytes(b"last night")
    code = _show(eyes_closed_edf, tmp_path, "--video", str(out))
    assert_user_error(code, capsys.readouterr().err, "already exists", "--overwrite")
    assert out.read_bytes() == b"last night"
    config = tmp_path / "venue.toml"
    config.write_text("overwrite = true\n")
    assert _show(eyes_closed_edf, tmp_path, "--video", str(out), "--config", str(config)) == 0
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) > 0


@pytest.mark.parametrize("held", [EEG_FILE, HEADER_FILE, "keyframes.jsonl", "profile.json"])
def test_any_session_file_makes_a_folder_refused_for_record(eyes_closed_edf, tmp_path, capsys,
                                                            held):
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / held).write_bytes(b"EEGC earlier session")
    code = _show(eyes_closed_edf, tmp_path, "--record", str(folder))
    assert_user_error(code, capsys.readouterr().err, "already holds a recording", held)
    assert (folder / held).read_bytes() == b"EEGC earlier session"  # before: eeg.bin appended
    assert sorted(p.name for p in folder.iterdir()) == [held]


def test_a_show_restarted_the_same_day_records_into_a_new_folder(eyes_closed_edf, tmp_path):
    (tmp_path / "sessions").mkdir()
    template = str(tmp_path / "sessions" / "{date}")
    for _ in range(3):  # before: the second start ended in exit 2 (final for the unit)
        assert _show(eyes_closed_edf, tmp_path, "--record", template,
                     "--video", template + ".mp4") == 0
    day = datetime.now().strftime("%Y-%m-%d")
    folders = sorted(p.name for p in (tmp_path / "sessions").iterdir() if p.is_dir())
    assert folders == [day, f"{day}-2", f"{day}-3"]
    assert all((tmp_path / "sessions" / f / HEADER_FILE).is_file() for f in folders)
    videos = {p.name for p in (tmp_path / "sessions").glob("*.mp4")}
    assert videos == {f"{day}.mp4", f"{day}-2.mp4", f"{day}-3.mp4"}


def test_a_name_without_placeholders_is_never_renumbered(tmp_path):
    folder = tmp_path / "tonight"
    folder.mkdir()
    (folder / EEG_FILE).write_bytes(b"")
    with pytest.raises(Exception, match="already holds a recording"):
        record_folder_for_show(str(folder))
    when = datetime(2026, 11, 30, 21, 4, 5)
    (tmp_path / "2026-11-30-210405").mkdir()  # a folder without session files is fine
    assert record_folder_for_show(str(tmp_path / "{date}-{time}"), when) == str(
        tmp_path / "2026-11-30-210405")


CUT_SCRIPT = """
import resource, signal, sys
import numpy as np
from PIL import Image
from installation.outputs.video_writer import LiveVideoWriter
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
paintings = [np.asarray(Image.open(p).convert("RGB").resize((256, 256)))
             for p in sys.argv[3:]]
writer = LiveVideoWriter(sys.argv[1], 10, blocking=True)
for i in range(400):
    writer.offer(paintings[i % len(paintings)])
writer.close()
print(writer.written, writer.failed)
"""


def _frames_until_the_cut(path):
    """The frames a player shows: every one decoded before the torn last fragment."""
    frames = []
    with av.open(str(path)) as container:
        try:
            for frame in container.decode(video=0):
                frames.append(frame.to_ndarray(format="rgb24"))
        except av.error.InvalidDataError:  # the fragment the full disk cut
            pass
    return frames


def test_a_live_video_cut_by_a_full_disk_still_plays(paintings_dir, tmp_path):
    out = tmp_path / "cut.mp4"
    limit = 600_000
    paintings = sorted(paintings_dir.glob("*.jpg"))[:12]
    result = subprocess.run([sys.executable, "-c", CUT_SCRIPT, str(out), str(limit),
                             *map(str, paintings)], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    written, failed = result.stdout.split()
    assert failed == "True" and out.stat().st_size == limit  # the disk was full
    frames = _frames_until_the_cut(out)  # before: "moov atom not found", nothing plays
    assert len(frames) >= 20 and frames[0].shape == (256, 256, 3)  # a whole fragment or more
    assert frames[0].std() > 10  # a painting, not a blank
