"""A Dask worker SIGKILLed during a 200-task batch: no task lost, and the next call works.

Each test gets a cluster of its own (scheduler + 2 workers, separate processes): the nanny of
the killed worker starts a replacement, and it is stopped with the rest before the per-test
leftover check runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import dask_tasks as t
import pytest

from dask_test_cluster import RunningCluster
from gilwise import Executor, Offloader, WorkerCrashed

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


SETTLE_S = 0.3
"""Killed this long after it began: a task killed in its first milliseconds, before its start
event reached the scheduler, makes gilwise count a task queued behind it as started too (it
cannot tell; docs/offload.md). Mid-task is what this test is about."""


def _pid_in(marker: Path, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text():
            time.sleep(SETTLE_S)
            return int(marker.read_text())
        time.sleep(0.01)
    raise AssertionError("the victim task never started")


@pytest.mark.parametrize("retries", [0, 1])
def test_sigkill_during_a_200_task_batch(
    fresh_dask_cluster: RunningCluster, tmp_path: Path, retries: int
) -> None:
    marker = tmp_path / "victim"

    async def main() -> list[object]:
        async with Offloader(backend="dask", address=fresh_dask_cluster.address) as off:
            calls = [off.run(t.nap, 0.005, route="cpu") for _ in range(199)]
            calls.insert(100, off.run(t.wait_to_be_killed_once, str(marker), route="cpu", retries=retries))
            batch = asyncio.ensure_future(asyncio.gather(*calls, return_exceptions=True))
            victim = await asyncio.to_thread(_pid_in, marker)
            assert victim in off.worker_pids()
            os.kill(victim, signal.SIGKILL)
            results = await batch
            assert await off.run(t.square, 5, route="cpu") == 25  # the next call works
            stats = off.statistics()
            assert stats.crashes == (0 if retries else 1) and stats.retries == retries
            return results

    results = asyncio.run(main())
    odd = [(i, r) for i, r in enumerate(results) if r != 0.005]
    assert len(results) == 200 and results.count(0.005) == 199, odd
    if retries:
        assert results[100] == "retried"
    else:
        crash = results[100]
        assert isinstance(crash, WorkerCrashed), crash
        assert "wait_to_be_killed_once" in str(crash) and "retries=N" in str(crash)


def test_executor_survives_a_sigkill(fresh_dask_cluster: RunningCluster, tmp_path: Path) -> None:
    marker = tmp_path / "victim"
    with Executor(backend="dask", address=fresh_dask_cluster.address, route="cpu") as executor:
        futures = [executor.submit(t.nap, 0.005) for _ in range(199)]
        futures.insert(100, executor.submit(t.wait_to_be_killed_once, str(marker)))
        os.kill(_pid_in(marker), signal.SIGKILL)
        outcomes = [f.exception(timeout=60) or f.result() for f in futures]
        assert executor.submit(t.square, 3).result(timeout=60) == 9
    assert outcomes.count(0.005) == 199, [(i, o) for i, o in enumerate(outcomes) if o != 0.005]
    assert isinstance(outcomes[100], WorkerCrashed)
