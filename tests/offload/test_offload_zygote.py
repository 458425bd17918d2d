"""How workers are born: the zygote forked from a single-threaded parent, or a fresh
interpreter when the parent runs threads or another Python is asked for."""

from __future__ import annotations

import asyncio
import glob
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import offload_tasks as t
import psutil
import pytest

from gilwise import Executor, Offloader, PoolConfig, WorkerCrashed
from gilwise._offload._pool import WorkerPool

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]


def _zygote(off: Offloader) -> object:
    rt = off._runtime
    assert rt is not None
    return rt.pool._zygote


def test_single_threaded_parent_forks_the_zygote() -> None:
    async def main() -> None:
        async with Offloader(workers=2) as off:
            assert _zygote(off).forked  # type: ignore[attr-defined]
            assert await off.run(t.square, 3, route="cpu") == 9

    asyncio.run(main())


def test_threaded_parent_starts_a_fresh_interpreter_zygote() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:

        async def main() -> None:
            async with Offloader(workers=2) as off:
                assert not _zygote(off).forked  # type: ignore[attr-defined]
                assert await off.run(t.square, 4, route="cpu") == 16
                with pytest.raises(WorkerCrashed):
                    await off.run(t.kill_self, route="cpu")
                assert await off.run(t.square, 5, route="cpu") == 25

        asyncio.run(main())
    finally:
        stop.set()
        other.join()


def test_a_killed_zygote_is_replaced_when_a_worker_must_be() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            os.kill(_zygote(off).pid, signal.SIGKILL)  # type: ignore[attr-defined]
            with pytest.raises(WorkerCrashed):
                await off.run(t.kill_self, route="cpu")
            assert await off.run(t.square, 6, route="cpu") == 36

    asyncio.run(main())


OTHER_PYTHONS = sorted(glob.glob("/root/.pyenv/versions/3.1[2-9]*/bin/python3.1[2-9]"))


@pytest.mark.skipif(not OTHER_PYTHONS, reason="no other CPython (3.12+) installed here")
def test_workers_can_run_another_interpreter(tmp_path: Path) -> None:
    async def main() -> tuple[int, int]:
        async with Offloader(workers=1, python=OTHER_PYTHONS[-1]) as off:
            return await off.run(t.version, route="cpu")

    assert asyncio.run(main()) >= (3, 12)


def test_workers_that_cannot_start_fail_ready_and_the_futures(tmp_path: Path) -> None:
    # The workers start in the collector thread, not in the constructor: a zygote that dies
    # before forking any (here a "python" that exits at once) reaches the caller through
    # `ready` (what Offloader's __aenter__ awaits) and through every queued future.
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nsleep 0.2\nexit 1\n")
    fake.chmod(0o755)
    pool = WorkerPool(PoolConfig(workers=2, python=str(fake)))
    try:
        queued = pool.submit(t.square, (3,), {})
        with pytest.raises(WorkerCrashed, match="zygote process"):
            pool.ready.result(timeout=30)
        with pytest.raises(WorkerCrashed, match="zygote process"):
            queued.result(timeout=30)
        with pytest.raises(WorkerCrashed):
            pool.submit(t.square, (4,), {}).result(timeout=30)
    finally:
        pool.shutdown(wait=True)


def test_an_executor_shut_down_at_once_starts_no_worker() -> None:
    ex = Executor(max_workers=4, route="cpu")
    ex.shutdown(wait=True)
    assert ex.worker_pids() == []


_KILLED_PARENT = """
import asyncio, os, sys, numpy as np
from gilwise import Offloader

async def main():
    async with Offloader(workers=2) as off:
        total = await off.run(np.sum, np.ones(1 << 18), route="cpu")  # 2 MiB: shared memory
        print(os.getpid(), off.worker_pids()[0], total, flush=True)
        await asyncio.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


def test_a_killed_pool_process_leaves_no_segment_or_fault_log(tmp_path: Path) -> None:
    """SIGKILL of the process that owns a pool: its workers and zygote exit and remove the
    pool's shared-memory segments and fault logs, which the dead process can no longer do."""
    script = tmp_path / "owner.py"
    script.write_text(_KILLED_PARENT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        pid, worker, total = proc.stdout.readline().split()
        assert float(total) == 1 << 18
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert glob.glob(f"/dev/shm/gilwise-{pid}-*"), "the pool should own segments by now"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        _, alive = psutil.wait_procs(tree, timeout=10)
        assert not alive, f"pool processes outlived their owner: {alive}"
        deadline = time.monotonic() + 5
        while glob.glob(f"/dev/shm/gilwise-{pid}-*") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert glob.glob(f"/dev/shm/gilwise-{pid}-*") == []
        assert glob.glob(f"/tmp/gilwise-{pid}-*") == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
