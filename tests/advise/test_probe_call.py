"""The call probe in this process: the GIL-held fraction tells Python from GIL-free work."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable

import pytest

from gilwise._advise.probe_call import probe_call, probe_gil, probe_thread_start
from gilwise._system import runqueue_wait_s

DATA = bytes(range(256)) * 8192  # 2 MiB


def _until(enough: Callable[[], bool], body: Callable[[], object]) -> None:
    body()
    while not enough():
        body()


def python_work() -> None:
    total = 0
    for i in range(20_000):
        total += i * i


@pytest.mark.timeout(60)
def test_pure_python_holds_the_gil_and_waiting_does_not() -> None:
    held = probe_gil(lambda enough: _until(enough, python_work), 0.5)
    waiting = probe_gil(lambda enough: _until(enough, lambda: time.sleep(0.005)), 0.5)
    native = probe_gil(lambda enough: _until(enough, lambda: zlib.compress(DATA, 6)), 0.5)
    # Held: each sample waits a 20 ms hand-over, then lets the call run; 1.5 s at most.
    assert held["samples"] >= 15 and waiting["samples"] > 30
    for probe in (held, waiting, native):
        if probe["held_fraction"] is None:
            pytest.skip(f"machine too busy for the GIL probe: {probe['note']}")
    assert held["held_fraction"] is not None and held["held_fraction"] > 0.7
    assert waiting["held_fraction"] is not None and waiting["held_fraction"] < 0.2
    assert native["held_fraction"] is not None and native["held_fraction"] < 0.4
    assert held["median_delay_s"] > waiting["median_delay_s"]


def test_call_probe_reports_every_part() -> None:
    report = probe_call("/py", zlib.compress, (DATA,), {"level": 1}, 0.1, time.perf_counter() + 30)
    assert report["ok"] is True
    assert len(report["wall_s"]) >= 3 and len(report["cpu_s"]) == len(report["wall_s"])
    assert report["transfer"]["picklable"]
    assert report["transfer"]["args_bytes"] > len(DATA)
    assert 0 < report["transfer"]["result_bytes"] < len(DATA)
    assert report["result_type"] == "builtins.bytes"
    assert report["thread_start_s"] > 0
    assert runqueue_wait_s() >= 0
    assert probe_thread_start(4) > 0


def test_unpicklable_arguments_are_reported_not_raised() -> None:
    import threading

    lock = threading.Lock()
    report = probe_call("/py", lambda lk: 1, (lock,), {}, 0.01, time.perf_counter() + 10)
    assert report["transfer"]["picklable"] is False
    assert "pickle" in report["transfer"]["reason"] or "lock" in report["transfer"]["reason"]
