from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from gilwise._harness.sampler import CpuSampler, TreeMemory

BUSY = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end: pass\n"


@pytest.mark.timeout(60)
def test_sampler_sees_one_busy_core() -> None:
    with CpuSampler(interval_s=0.05) as sampler:
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", BUSY.format(s=1.0)], check=True, timeout=30)
        end = time.monotonic()
        window = sampler.window(start, end)
    assert window.interval_s == 0.05
    assert len(window.per_core) >= 15  # ≥ 10 Hz over ~1 s
    # The cores this process may run on, not the whole host.
    assert all(len(row) == len(os.sched_getaffinity(0)) for row in window.per_core)
    assert all(0.0 <= v <= 1.0 for row in window.per_core for v in row)
    # One busy loop: at least ~0.8 of a core, whatever else the machine does.
    assert window.busy_cores_mean >= 0.8
    assert window.busy_core_seconds >= 0.8 * (end - start)


@pytest.mark.timeout(60)
def test_sampler_follows_the_watched_tree_memory() -> None:
    code = (
        "import time\nblob = bytearray(300 * 2**20)\n"
        "blob[::4096] = b'x' * len(blob[::4096])\nprint('ready', flush=True)\ntime.sleep(1.0)\n"
    )
    with CpuSampler(interval_s=0.05) as sampler:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        sampler.watch(proc.pid)
        start = time.monotonic()
        proc.wait(timeout=30)
        proc.stdout.close()
        end = time.monotonic()
        sampler.watch(None)
        window = sampler.window(start, end)
    assert window.peak_tree_rss >= 300 * 2**20
    assert window.memory_reads >= 1
    # The 300 MiB are written by that process alone: private (USS) and not shared (PSS).
    assert window.peak_tree_uss is not None and window.peak_tree_uss >= 300 * 2**20
    assert window.peak_tree_pss is not None and window.peak_tree_pss >= 300 * 2**20


@contextlib.contextmanager
def _ready_tree(code: str) -> Iterator[int]:
    """A process tree in its own session, once it printed "ready"; killed whole afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.stdout is not None
        proc.stdout.close()


FORKED = """
import os, sys, time
blob = bytearray(120 * 2**20)
blob[::4096] = b"x" * len(blob[::4096])
kids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    kids.append(pid)
print("ready", flush=True)
time.sleep(30)
"""


@pytest.mark.timeout(60)
def test_fork_children_count_shared_pages_once_in_pss() -> None:
    """Three processes map the same 120 MiB after fork: RSS counts it 3 times, PSS once, and
    the children hold almost nothing of their own (USS)."""
    with _ready_tree(FORKED) as root:
        tree = TreeMemory(root)
        assert len(tree.members()) == 3
        reading = tree.read(time.monotonic())
    assert reading is not None and reading.processes == 3
    assert reading.rss >= 3 * 115 * 2**20
    assert reading.pss is not None and 115 * 2**20 <= reading.pss <= 200 * 2**20
    assert reading.uss is not None and reading.uss <= 200 * 2**20


@pytest.mark.timeout(60)
def test_tree_is_the_worker_session_not_other_processes() -> None:
    """A process outside the worker's session is not counted, even if it started later."""
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert TreeMemory(worker.pid).members() == [worker.pid]
    finally:
        for proc in (worker, stranger):
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.timeout(60)
def test_orchestrator_cpu_is_measured_over_the_window() -> None:
    """CPU the orchestrating process spends while a cell runs shows up in the cell's window."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            pass

    with CpuSampler(interval_s=0.05) as sampler:
        time.sleep(0.3)
        start = time.monotonic()
        time.sleep(0.5)
        quiet = sampler.window(start, time.monotonic())
        spinner = threading.Thread(target=spin)
        spinner.start()
        start, cpu0 = time.monotonic(), time.process_time()
        time.sleep(0.6)
        end, cpu1 = time.monotonic(), time.process_time()
        stop.set()
        spinner.join()
        busy = sampler.window(start, end)
    # What the spinner got depends on other load (a busy shared machine gives it well under a
    # core): compare with this process's own CPU clock over the same window, not a fixed figure.
    spent = (cpu1 - cpu0) / (end - start)
    assert spent > 0.05, "the spinner never ran: nothing to compare"
    assert busy.orchestrator_cpu_cores == pytest.approx(spent, rel=0.35, abs=0.03)
    assert quiet.orchestrator_cpu_cores < busy.orchestrator_cpu_cores / 5


@pytest.mark.timeout(60)
def test_a_watched_window_takes_the_rate_over_the_workers_life() -> None:
    """Between watch(pid) and watch(None) the counter is read exactly: a burst of orchestrator
    CPU just after the worker was reaped is not charged to its window."""
    with CpuSampler(interval_s=0.05) as sampler:
        worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.4)"])
        sampler.watch(worker.pid)
        start = time.monotonic()
        worker.wait(timeout=30)
        end = time.monotonic()
        sampler.watch(None)
        burst = time.process_time() + 0.03
        while time.process_time() < burst:  # 30 ms of CPU right after the cell
            pass
        time.sleep(0.1)
        window = sampler.window(start, end)
    assert window.orchestrator_cpu_cores < 0.03


@pytest.mark.timeout(60)
def test_per_core_rows_follow_the_affinity_set() -> None:
    code = (
        "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "import time\nfrom gilwise._harness.sampler import CpuSampler\n"
        "with CpuSampler(interval_s=0.02) as s:\n"
        "    t0 = time.monotonic(); time.sleep(0.2)\n"
        "    w = s.window(t0, time.monotonic())\n"
        "print(s.cores, {len(r) for r in w.per_core})\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    core = min(os.sched_getaffinity(0))
    assert out.stdout.strip() == f"[{core}] {{1}}"


PRIVATE_KIDS = """
import os, time
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        own = bytearray(20 * 2**20)
        own[::4096] = b"y" * len(own[::4096])
        time.sleep(30)
        os._exit(0)
time.sleep(1.0)
print("ready", flush=True)
time.sleep(30)
"""


@pytest.mark.timeout(60)
def test_big_trees_sample_a_few_workers_for_pss_and_uss() -> None:
    """Seven processes: smaps_rollup is read for the root and 3 children per read (the pool's
    workers are alike), and the children's share is scaled up to all six."""
    with _ready_tree(PRIVATE_KIDS) as root:
        reading = TreeMemory(root).read(time.monotonic())
    assert reading is not None and reading.processes == 7
    assert reading.uss is not None and 6 * 19 * 2**20 <= reading.uss <= 6 * 26 * 2**20
