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

from gilwise import Offloader, WorkerCrashed

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
