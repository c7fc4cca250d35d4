"""Nothing listens on the network unless asked, and no model file can carry code.

The show opens no server socket (checked on a running show through /proc: the sockets its file
descriptors hold, looked up in the kernel's TCP and UDP tables). Model files are loaded as ONNX
or with ``torch.load(weights_only=True)``, never unpickled (checked over the code base).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO, show_env
from tests.installation.tiny_bundle import write_tiny_bundle

TCP_LISTEN = "0A"
CODE = [*sorted((REPO / "installation").rglob("*.py")), *sorted((REPO / "calibration").rglob(
    "*.py")), *sorted((REPO / "models").rglob("*.py")), *sorted((REPO / "benchmarks").rglob(
        "*.py")), REPO / "train.py"]


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets a process holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def listening(pid: int) -> list[str]:
    """The process's listening TCP sockets and bound UDP sockets, as ``proto port`` strings."""
    mine, found = socket_inodes(pid), []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        table = Path(f"/proc/{pid}/net/{proto}")
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            port = int(local.rsplit(":", 1)[1], 16)
            serving = state == TCP_LISTEN if proto.startswith("tcp") else port != 0
            if inode in mine and serving:
                found.append(f"{proto} {port}")
    return found


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_the_check_sees_a_listening_socket():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        assert f"tcp {server.getsockname()[1]}" in listening(os.getpid())
    finally:
        server.close()


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_the_live_show_listens_on_nothing(tmp_path):
    out = tmp_path / "frames"
    show = subprocess.Popen(
        [sys.executable, "-m", "installation", "--source", "synthetic", "--model",
         str(write_tiny_bundle(tmp_path / "tiny")), "--headless", "--frames-out", str(out),
         "--frame-every", "0", "--duration", "20", "--fps", "20", "--record",
         str(tmp_path / "rec")],
        cwd=REPO, env=show_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, seen = time.perf_counter() + 60, []
        while time.perf_counter() < deadline:
            csv = out / "frames.csv"
            if csv.exists() and len(csv.read_text().splitlines()) > 20:  # painting live now
                seen = listening(show.pid)
                break
            time.sleep(0.2)
        else:
            pytest.fail("the show drew no frames within 60 s")
        assert show.poll() is None
        assert seen == []
    finally:
        show.kill()
        show.wait(30)


PICKLE_LOADERS = [
    (re.compile(r"^\s*(import|from)\s+(c?pickle|dill|cloudpickle|joblib|shelve|marshal)\b", re.M),
     "imports an unpickler"),
    (re.compile(r"allow_pickle\s*=\s*True"), "lets numpy unpickle"),
    (re.compile(r"\bpd\.read_pickle\b|\.read_pickle\("), "reads a pickle"),
]


def _torch_loads_without_weights_only(text: str) -> list[str]:
    """``torch.load(...)`` calls that do not say ``weights_only=True``."""
    bad = []
    for match in re.finditer(r"torch\.load\(", text):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(text)):  # the call's closing parenthesis
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        call = text[match.start():end + 1]
        if not re.search(r"weights_only\s*=\s*True", call):
            bad.append(call)
    return bad


def test_no_model_file_is_unpickled():
    problems = []
    for path in CODE:
        text = path.read_text()
        name = path.relative_to(REPO)
        problems += [f"{name}: {why}" for pattern, why in PICKLE_LOADERS if pattern.search(text)]
        problems += [f"{name}: {call}" for call in _torch_loads_without_weights_only(text)]
        if "torch.jit.load" in text and path.name != "inception.py":
            problems.append(f"{name}: torch.jit.load outside the opt-in Inception detector")
    assert len(CODE) > 30 and not problems, problems


def test_the_check_catches_an_unsafe_load():
    assert _torch_loads_without_weights_only("x = torch.load(\n    path, map_location='cpu')\n")
    assert not _torch_loads_without_weights_only("torch.load(p, weights_only=True)")
    assert PICKLE_LOADERS[0][0].search("import pickle\n")


def test_the_show_never_imports_torch():
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "installation").rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+torch\b", p.read_text(), re.M)]
    assert not offenders
