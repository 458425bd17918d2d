from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from gilwise._harness.sampler import CpuSampler

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
    assert all(len(row) == psutil.cpu_count() for row in window.per_core)
    assert all(0.0 <= v <= 1.0 for row in window.per_core for v in row)
    # One busy loop: at least ~0.8 of a core, whatever else the machine does.
    assert window.busy_cores_mean >= 0.8
    assert window.busy_core_seconds >= 0.8 * (end - start)


@pytest.mark.timeout(60)
def test_sampler_follows_the_watched_tree_memory() -> None:
    code = (
        "import time\nblob = bytearray(300 * 2**20)\n"
        "blob[::4096] = b'x' * len(blob[::4096])\ntime.sleep(1.0)\n"
    )
    with CpuSampler(interval_s=0.05) as sampler:
        proc = subprocess.Popen([sys.executable, "-c", code])
        sampler.watch(proc.pid)
        start = time.monotonic()
        proc.wait(timeout=30)
        end = time.monotonic()
        sampler.watch(None)
        window = sampler.window(start, end)
    assert window.peak_tree_rss >= 300 * 2**20
