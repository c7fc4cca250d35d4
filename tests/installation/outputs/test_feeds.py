"""--osc and --lsl-out: each hop leaves the show for other software, and a failing feed never
stops it."""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pylsl
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from installation.app import run_show
from installation.bundle import BundleSpec
from installation.cli import main as show_cli
from installation.config import DEFAULT_MODEL, ShowOptions
from installation.eeg.feature_pipeline import feature_frames
from installation.eeg.sources.files.recordings import load_recording
from installation.outputs.feeds import FeedHub, hop_report
from installation.outputs.feeds.lsl_out import channel_labels
from installation.outputs.feeds.osc import OscFeed, osc_addresses
from tests.helpers import assert_user_error

SHOW_S = 4.0


@pytest.fixture(scope="module")
def spec():
    return BundleSpec.load(DEFAULT_MODEL / "generator.json").feature_spec


class _OscInbox:
    """A real python-osc server on loopback, remembering what arrives and when."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, str, tuple]] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(self._take)
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _take(self, address, *args) -> None:
        self.messages.append((time.perf_counter(), address, args))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pull_lsl(name: str, into: dict) -> None:
    """Resolve the outlet by name and pull its samples until it has been quiet for a second."""
    streams = pylsl.resolve_byprop("name", name, timeout=10.0)
    if not streams:
        return
    inlet = pylsl.StreamInlet(streams[0])
    info = inlet.info(timeout=5.0)
    labels, channel = [], info.desc().child("channels").child("channel")
    while not channel.empty():
        labels.append(channel.child_value("label"))
        channel = channel.next_sibling()
    into.update(labels=labels, rate=info.nominal_srate(), samples=[])
    while True:
        sample, stamp = inlet.pull_sample(timeout=1.5)
        if sample is None:
            return
        into["samples"].append(sample)


def test_a_live_show_feeds_osc_and_lsl_at_the_hop_rate(spec, eyes_closed_edf, tmp_path):
    inbox, name, pulled = _OscInbox(), f"feeds-{uuid.uuid4().hex[:8]}", {}
    puller = threading.Thread(target=_pull_lsl, args=(name, pulled), daemon=True)
    puller.start()
    try:
        run_show(ShowOptions(source=f"file:{eyes_closed_edf}", headless=True, frame_every=0,
                             frames_out=str(tmp_path / "frames"), duration=SHOW_S, native=True,
                             threads=1, osc=f"127.0.0.1:{inbox.port}", lsl_out=name))
        puller.join(15)
    finally:
        inbox.close()
    steering = [(t, args) for t, address, args in inbox.messages if address == "/eeg/steering"]
    span = steering[-1][0] - steering[0][0]
    assert abs((len(steering) - 1) / span - 1 / spec.hop_s) < 3  # about 15 hops a second
    assert {address for _, address, _ in inbox.messages} == set(osc_addresses(spec))
    assert all(len(args) == spec.n_features for _, args in steering)
    counts = [args[0] for _, address, args in inbox.messages if address == "/eeg/keyframes"]
    assert counts == sorted(counts) and counts[-1] > 10
    assert {args[0] for _, a, args in inbox.messages if a == "/eeg/signal"} == {"ok"}
    assert pulled["labels"] == channel_labels(spec)
    assert pulled["rate"] == pytest.approx(1 / spec.hop_s)
    assert abs(len(pulled["samples"]) - len(steering)) <= 3  # the inlet may join a hop late
    powers = np.array(pulled["samples"])[:, :spec.n_features]
    assert np.isfinite(powers).all() and powers.std() > 0


def test_a_failing_feed_is_reported_once_and_the_hops_go_on(spec, eyes_closed_edf):
    frames = feature_frames(load_recording(eyes_closed_edf), spec)[:20]
    inbox, events = _OscInbox(), []
    try:
        # broadcast without SO_BROADCAST: every send is refused by the operating system
        refused = OscFeed("255.255.255.255:9", spec)
        working = OscFeed(f"127.0.0.1:{inbox.port}", spec)
        hub = FeedHub([refused, working], events.append)
        for frame in frames:
            hub.publish(hop_report(frame, spec, False, 0))
        hub.close()
        time.sleep(0.3)
    finally:
        inbox.close()
    assert [e.kind for e in events] == ["error"] and refused.name in events[0].message
    assert hub.failures[refused.name] == len(frames) and hub.sent[working.name] == len(frames)
    assert sum(a == "/eeg/steering" for _, a, _ in inbox.messages) == len(frames)


@pytest.mark.parametrize("target", ["127.0.0.1", "127.0.0.1:99999", ":9000", "host:port"])
def test_a_bad_host_port_is_one_sentence_and_exit_2(target, capsys):
    code = show_cli(["--osc", target, "--headless", "--duration", "1"])
    assert assert_user_error(code, capsys.readouterr().err).startswith("error: --osc")


def test_while_the_signal_is_lost_the_feeds_hear_lost_once_a_hop(spec, eyes_closed_edf):
    from installation.eeg.feature_pipeline import FeatureExtractor
    from installation.eeg.sources.base import Chunk
    from installation.engine.drift import LatentDrift
    from installation.engine.generator_runtime import GeneratorRuntime
    from installation.engine.ring_buffer import RingBuffer
    from installation.engine.steering import SteeringWorker

    recording = load_recording(eyes_closed_edf)
    runtime = GeneratorRuntime.load(DEFAULT_MODEL, "cpu", 1, native=True)
    ring = RingBuffer(recording.info.n_channels, int(10 * recording.sample_rate))
    clock, reports = [100.0], []
    worker = SteeringWorker(ring, FeatureExtractor(spec, recording.info), runtime,
                            LatentDrift(runtime.noise_dim), clock=lambda: clock[0],
                            on_hop=lambda frame, w: reports.append(
                                hop_report(frame, spec, w.signal_lost, w.keyframes)))
    n = int(2 * recording.sample_rate)
    ring.push(Chunk(recording.data[:, :n], recording.timestamps[:n]))
    worker.step()
    flowing = len(reports)
    for _ in range(5):  # two seconds without samples, then a step per hop
        clock[0] += 2.0 if _ == 0 else 1.01 * spec.hop_s
        worker.step()
    lost = reports[flowing:]
    assert flowing > 10 and all(r.signal == "ok" for r in reports[:flowing])
    assert len(lost) == 5 and all(r.signal == "lost" for r in lost)
    assert np.abs(lost[-1].steering).sum() < np.abs(reports[flowing - 1].steering).sum()
