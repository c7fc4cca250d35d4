"""--ndi: the painting as an NDI source, taken by a real NDI receiver on this machine."""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pytest

from installation.outputs.ndi_out import NdiSender

ndi = pytest.importorskip("NDIlib", reason="ndi-python is not installed (pip install -e .[ndi])")


def _receive_one(name: str, timeout_s: float = 8.0):
    """Find the source on loopback (no mDNS needed) and capture one video frame as RGBX."""
    settings = ndi.FindCreate()
    settings.extra_ips, settings.show_local_sources = "127.0.0.1", True
    finder = ndi.find_create_v2(settings)
    deadline, source = time.perf_counter() + timeout_s, None
    while source is None and time.perf_counter() < deadline:
        ndi.find_wait_for_sources(finder, 500)
        source = next((s for s in ndi.find_get_current_sources(finder) if name in s.ndi_name),
                      None)
    assert source is not None, f"no NDI source {name} found"
    options = ndi.RecvCreateV3()
    options.color_format = ndi.RECV_COLOR_FORMAT_RGBX_RGBA
    receiver = ndi.recv_create_v3(options)
    ndi.recv_connect(receiver, source)
    try:
        while time.perf_counter() < deadline:
            kind, video, _, _ = ndi.recv_capture_v2(receiver, 500)
            if kind == ndi.FRAME_TYPE_VIDEO:
                frame = np.array(video.data, copy=True)
                ndi.recv_free_video_v2(receiver, video)
                return frame
        raise AssertionError("the NDI source sent no frame")
    finally:
        ndi.recv_destroy(receiver)
        ndi.find_destroy(finder)


def test_a_receiver_gets_the_painting(tmp_path):
    name = f"eeg-painting-test-{uuid.uuid4().hex[:6]}"
    painting = np.zeros((128, 128, 3), np.uint8)
    painting[:, :64] = (200, 40, 10)
    painting[:, 64:] = (10, 60, 220)
    sender, stop = NdiSender(name, 30), threading.Event()

    def keep_showing() -> None:
        while not stop.is_set():
            sender.offer(painting)
            time.sleep(1 / 30)

    threading.Thread(target=keep_showing, daemon=True).start()
    try:
        frame = _receive_one(name)
    finally:
        stop.set()
        sender.close()
    assert frame.shape == (128, 128, 4)
    error = np.abs(frame[..., :3].astype(int) - painting).mean()
    assert error < 6, error  # NDI's own compression is close to lossless at this size
    assert sender.sent > 0 and not sender.failed
