"""How workers are born: the zygote forked from a single-threaded parent, or a fresh
interpreter when the parent runs threads or another Python is asked for."""

from __future__ import annotations

import asyncio
import glob
import os
import signal
import threading
from pathlib import Path

import offload_tasks as t
import pytest

from gilwise import Executor, Offloader, WorkerCrashed
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
    pool = WorkerPool(2, python=str(fake))
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
