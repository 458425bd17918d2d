"""Ctrl-C at any moment of a bench: start-up, calibration, a cell, between rounds.

Every SIGINT, to the process or to its group, ends the run with exit 130 within 2 s and leaves
no process of it running. 16 moments by default (about 25 s here); ``GILWISE_INTERRUPT_MOMENTS=50``
runs the issue's 50.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from fault_injection import MARKER, gilwise_command, kill_all, reaped, survivors

pytestmark = pytest.mark.slow

MOMENTS = int(os.environ.get("GILWISE_INTERRUPT_MOMENTS", "16"))
RUN = "bench --workload sqrt_log --model serial,processes-fork --workers 2 --repeats 50 --size 20000"
LATEST_S = 1.6
"""Moments are drawn up to here: start-up, calibration and the first rounds of the run below."""


def _interpreter_start_up_only(stderr: str) -> bool:
    """A KeyboardInterrupt inside the interpreter's own start-up (site, runpy), before the first
    line of gilwise runs: Python prints it and dies of the signal, nothing gilwise can catch."""
    frames = re.findall(r'File "([^"]+)"', stderr)
    return bool(frames) and not any("gilwise" in f for f in frames[1:]) and "KeyboardInterrupt" in stderr


def test_sigint_at_random_moments_exits_130_within_2_s(tmp_path: Path, fault_env: dict[str, str]) -> None:
    chooser = random.Random(27)
    failures: list[str] = []
    for attempt in range(MOMENTS):
        moment = chooser.uniform(0.0, LATEST_S)
        to_group = attempt % 2 == 1
        out = tmp_path / f"run{attempt}.json"
        proc = subprocess.Popen(
            [*gilwise_command(), *RUN.split(), "--json", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=fault_env,
            start_new_session=True,  # its own group, so a group SIGINT reaches it and not pytest
        )
        where = f"SIGINT to the {'group' if to_group else 'process'} at {moment:.2f} s"
        try:
            time.sleep(moment)
            sent = time.monotonic()
            if to_group:
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(signal.SIGINT)
            try:
                _, stderr = proc.communicate(timeout=2)
            except subprocess.TimeoutExpired:
                failures.append(f"{where}: still running after 2 s")
                continue
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        # 130, or dead of the signal itself (the shell's 130) when it came before Python's handler
        if proc.returncode not in (130, -signal.SIGINT):
            failures.append(f"{where}: exit {proc.returncode} after {took:.2f} s: {stderr[-300:]}")
        elif "Traceback" in stderr and not _interpreter_start_up_only(stderr):
            failures.append(f"{where}: a traceback: {stderr[-600:]}")
        left = survivors(fault_env[MARKER])
        if left:
            failures.append(f"{where}: left running: {[p.cmdline() for p in left]}")
            kill_all(left)
    assert not failures, "\n".join(failures)


HTTP_RUN = "bench --workload http --model serial,threads,asyncio --repeats 20 --budget 0"


@pytest.mark.parametrize("moment", [1.5, 3.0, 4.5])
def test_ctrl_c_during_the_http_workload_prints_no_traceback(
    tmp_path: Path, fault_env: dict[str, str], moment: float
) -> None:
    """A terminal's Ctrl-C reaches the whole group, the loopback HTTP server included: it stops
    quietly, even with clients mid-request."""
    proc = subprocess.Popen(
        [*gilwise_command(), *HTTP_RUN.split()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=fault_env,
        start_new_session=True,
    )
    with reaped(proc):
        time.sleep(moment)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=2)
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert not survivors(fault_env[MARKER])
