"""The control channel's figures: messages a second it takes on loopback before any is lost, and
the show's frame rate while they come.

A sender in another process sends ``/show/hud 1`` and ``/show/hud 0`` alternately at stepped
rates, a second each, to a :class:`~installation.control.ControlChannel` drained 60 times a
second as the show drains it; the highest rate at which every message was read is the channel's
lossless rate (with its read budget, and without it: what the receiving thread alone could take).
Then the windowed show (SDL's dummy driver where there is no screen) runs on the synthetic board
three times: with no messages, at the channel's lossless rate, and flooded at ten times that.

Run: ``SDL_VIDEODRIVER=dummy .venv/bin/python -m benchmarks.control_bench``
"""

from __future__ import annotations

import multiprocessing
import re
import socket
import threading
import time

from pythonosc.osc_message_builder import OscMessageBuilder

from installation.app import run_show
from installation.config import ShowOptions, validate
from installation.control import ControlChannel, ControlHandlers
from installation.control.channel import MAX_RATE

RATES = (500, 1000, 2000, 5000, 10000, 20000, 50000)
STEP_S = 1.0


def free_udp_port() -> int:
    """A UDP port free on loopback at this moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _datagram(on: int) -> bytes:
    builder = OscMessageBuilder("/show/hud")
    builder.add_arg(on)
    return builder.build().dgram


def send_at(port: int, rate: float, seconds: float) -> int:
    """Send ``/show/hud`` alternately 1 and 0 at ``rate`` a second for ``seconds``; the count."""
    datagrams = (_datagram(1), _datagram(0))
    sent, started = 0, time.perf_counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate)
            while sent < due:
                sock.sendto(datagrams[sent % 2], ("127.0.0.1", port))
                sent += 1
            time.sleep(0.001)
    return sent


def _in_another_process(port: int, rate: float, seconds: float):
    """Start :func:`send_at` in a fresh process; the pool's future gives the count."""
    from concurrent.futures import ProcessPoolExecutor  # lazy: only the benchmark's senders

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(int, 0).result()  # the process is up before the clock starts
    return pool, pool.submit(send_at, port, rate, seconds)


def lossless_rate(max_rate: float | None) -> tuple[float, list[tuple[int, int, int]]]:
    """The highest of :data:`RATES` the channel read in full; and (rate, sent, read) per step."""
    handlers = ControlHandlers(hud=lambda on: None)
    channel = ControlChannel(str(free_udp_port()), max_rate=max_rate).start()
    stop = threading.Event()

    def drain() -> None:  # as the display does, once a frame
        while not stop.is_set():
            channel.drain(handlers)
            time.sleep(1 / 60)

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    steps, best = [], 0.0
    try:
        for rate in RATES:
            before = channel.received
            pool, future = _in_another_process(channel.port, rate, STEP_S)
            sent = future.result()
            pool.shutdown()
            time.sleep(0.3)  # what is in the socket's buffer is still read
            read = channel.received - before
            steps.append((rate, sent, read))
            if read < sent:
                break
            best = float(rate)
    finally:
        stop.set()
        drainer.join()
        channel.close()
    return best, steps


def show_fps(rate: float, seconds: float = 8.0) -> tuple[float, int]:
    """The windowed show's fps while ``rate`` messages a second come; and how many it read."""
    port = free_udp_port()
    options = validate(ShowOptions(duration=seconds, threads=1, control=str(port)))
    pool = future = None
    if rate > 0:
        pool, future = _in_another_process(port, rate, seconds + 5.0)  # the model loads first
    try:
        summary = run_show(options)
    finally:
        if pool is not None:
            future.result()
            pool.shutdown()
    line = next(x for x in summary.outputs if x.startswith("control "))
    return summary.fps, int(re.search(r"(\d+) received", line).group(1))


def control_figures(seconds: float = 8.0, steps: dict | None = None) -> dict:
    """Every figure of this benchmark, for ``make bench``; each rate step lands in ``steps``."""
    budgeted, budgeted_steps = lossless_rate(MAX_RATE)
    unbounded, raw_steps = lossless_rate(None)
    if steps is not None:
        steps.update(with_budget=budgeted_steps, without_budget=raw_steps)
    figures = {"control_msgs_per_s_lossless": budgeted,
               "control_msgs_per_s_lossless_no_budget": unbounded}
    for name, rate in (("idle", 0.0), ("lossless", budgeted), ("flood", 10 * budgeted)):
        fps, read = show_fps(rate, seconds)
        figures[f"control_show_fps_{name}"] = fps
        figures[f"control_show_read_per_s_{name}"] = read / seconds
    return figures


if __name__ == "__main__":
    rate_steps: dict = {}
    for key, value in control_figures(steps=rate_steps).items():
        print(f"{key}: {value:.1f}")
    for name, rows in rate_steps.items():
        print(f"{name}: " + ", ".join(f"{r}/s sent {s} read {n}" for r, s, n in rows))
