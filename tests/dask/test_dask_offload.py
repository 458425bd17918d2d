"""``Offloader(backend="dask")`` and ``Executor(backend="dask")`` against a real scheduler and
two worker processes: results, errors, scattering, timeouts, usage errors, a LocalCluster."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys
import threading
from pathlib import Path

import dask_tasks as t
import numpy as np
import pytest
from distributed import Client

from dask_test_cluster import RunningCluster, cluster_env, start_cluster
from gilwise import Executor, Offloader, OffloadError, OffloadTimeout, Unpicklable, UsageError
from gilwise._offload import _dask

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _scattered_keys(address: str) -> list[str]:
    with Client(address, set_as_default=False) as client:
        keys = client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks])
    return [k for k in keys if k.startswith("gilwise-arg-")]


def test_run_and_errors_on_the_cluster(dask_cluster: RunningCluster) -> None:
    async def main() -> None:
        async with Offloader(backend="dask", address=dask_cluster.address) as off:
            assert await off.run(t.square, 7, route="cpu") == 49
            with pytest.raises(ValueError, match="on purpose") as info:
                await off.run(t.fail, "on purpose", route="cpu")
            assert "dask_tasks.py" in str(info.value.__cause__)  # the worker's traceback
            workers = off.cluster_workers()
            assert [w.nthreads for w in workers] == [1, 1] and {w.host for w in workers} == {"127.0.0.1"}
            pids = set(await asyncio.gather(*(off.run(t.pid, route="cpu") for _ in range(20))))
            assert pids <= set(off.worker_pids()) and len(off.worker_pids()) == 2
            stats = off.statistics()
            assert stats.workers == 2 and stats.workers_alive == 2
            assert stats.completed == 21 and stats.failed == 1 and stats.pending == 0

    asyncio.run(main())


def test_map_keeps_order(dask_cluster: RunningCluster) -> None:
    async def main() -> list[int]:
        async with Offloader(backend="dask", address=dask_cluster.address) as off:
            return [x async for x in off.map(t.square, range(20_000), route="cpu")]

    assert asyncio.run(main()) == [x * x for x in range(20_000)]


def test_executor_on_the_cluster(dask_cluster: RunningCluster) -> None:
    with Executor(backend="dask", address=dask_cluster.address, route="cpu") as executor:
        assert executor.submit(t.square, 9).result(timeout=30) == 81
        assert list(executor.map(t.square, range(1000))) == [x * x for x in range(1000)]
        with pytest.raises(ValueError, match="boom"):
            executor.submit(t.fail, "boom").result(timeout=30)
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(t.square, 1)


def test_numpy_arguments_are_scattered_once(dask_cluster: RunningCluster) -> None:
    array = np.arange(1 << 20, dtype=np.float64)  # 8 MiB: above the 256 KiB threshold

    async def main() -> None:
        async with Offloader(backend="dask", address=dask_cluster.address) as off:
            for _ in range(3):
                assert await off.run(t.total, array, route="cpu") == float(array.sum())
            assert len(_scattered_keys(dask_cluster.address)) == 1  # one copy on the cluster
            changed = array.copy()
            changed[0] = 1.0
            assert await off.run(t.total, changed, route="cpu") == float(changed.sum())
            assert len(_scattered_keys(dask_cluster.address)) == 2  # new content, new key
            small = np.arange(10.0)
            assert await off.run(t.total, small, route="cpu") == 45.0
            assert len(_scattered_keys(dask_cluster.address)) == 2  # small ones travel inline

    asyncio.run(main())
    assert _scattered_keys(dask_cluster.address) == []  # released with the Offloader


def test_unpicklable_argument_and_result(dask_cluster: RunningCluster) -> None:
    async def main() -> None:
        async with Offloader(backend="dask", address=dask_cluster.address) as off:
            unpicklable_lock = r"cannot send argument 0 \(<unlocked _thread.lock.*of type lock\) of len"
            with pytest.raises(Unpicklable, match=unpicklable_lock):
                await off.run(len, threading.Lock(), route="cpu")
            with pytest.raises(Unpicklable, match="result of make_lock"):
                await off.run(t.make_lock, route="cpu")
            assert await off.run(t.square, 4, route="cpu") == 16

    asyncio.run(main())


def test_initializer_runs_on_every_worker(dask_cluster: RunningCluster) -> None:
    async def main() -> None:
        async with Offloader(
            backend="dask", address=dask_cluster.address, initializer=t.remember, initargs=("yes",)
        ) as off:
            seen = await asyncio.gather(*(off.run(t.initialized, route="cpu") for _ in range(8)))
            assert all(s[-1] == "yes" for s in seen)

    asyncio.run(main())


def test_cancelled_caller_cancels_the_cluster_task(dask_cluster: RunningCluster) -> None:
    async def main() -> None:
        async with Offloader(backend="dask", address=dask_cluster.address) as off:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(off.run(t.nap, 0.5, route="cpu"), 0.1)
            assert await off.run(t.square, 2, route="cpu") == 4
            assert off.statistics().cancelled == 1

    asyncio.run(main())


def test_usage_errors(dask_cluster: RunningCluster) -> None:
    with pytest.raises(UsageError, match="a running cluster has the workers it has"):
        Offloader(workers=2, backend="dask", address=dask_cluster.address).start()
    with pytest.raises(UsageError, match="does not apply to backend='dask'"):
        Offloader(backend="dask", python="/usr/bin/python3").start()
    with pytest.raises(UsageError, match="valid backends are 'process', 'dask'"):
        Executor(backend="threads")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="is for backend='dask'"):
        Executor(address=dask_cluster.address)


def test_a_scheduler_that_reruns_dead_workers_tasks_is_refused(tmp_path: Path) -> None:
    cluster = start_cluster(tmp_path, workers=0, allowed_failures=3)
    try:

        async def main() -> None:
            with pytest.raises(UsageError, match="ALLOWED_FAILURES=0"):
                async with Offloader(backend="dask", address=cluster.address):
                    pass
            async with Offloader(backend="dask", address=cluster.address, cluster_reruns=True) as off:
                assert off.statistics().workers_alive == 0

        asyncio.run(main())
    finally:
        cluster.stop()


def test_unreachable_scheduler_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT_S", 1.0)

    async def main() -> None:
        with pytest.raises(
            OffloadError, match=r"could not start on the Dask scheduler at tcp://127\.0\.0\.1:9"
        ):
            async with Offloader(backend="dask", address="tcp://127.0.0.1:9"):
                pass

    asyncio.run(main())


@pytest.mark.timeout(180)
def test_timeout_restarts_the_worker(fresh_dask_cluster: RunningCluster) -> None:
    async def main() -> None:
        async with Offloader(backend="dask", address=fresh_dask_cluster.address) as off:
            with pytest.raises(OffloadTimeout, match="is being restarted"):
                await off.run(t.nap, 30.0, route="cpu", timeout=1.0)
            assert await off.run(t.square, 6, route="cpu") == 36
            assert off.statistics().timeouts == 1
            with pytest.raises(OffloadTimeout):  # math.inf is no timeout, a float is one
                await off.run(t.nap, 5.0, route="cpu", timeout=0.5)
            assert await off.run(t.nap, 0.2, route="cpu", timeout=math.inf) == 0.2

    asyncio.run(main())


LOCAL_CLUSTER_SCRIPT = """
import asyncio, sys
import dask_tasks as t
from gilwise import Executor, Offloader

async def main():
    async with Offloader(workers=2, backend="dask") as off:
        assert off.statistics().workers == 2
        assert await off.run(t.square, 12, route="cpu") == 144
        assert len(set(off.worker_pids())) == 2

if __name__ == "__main__":
    asyncio.run(main())
    with Executor(2, backend="dask") as executor:
        assert sum(executor.map(t.square, range(100))) == sum(x * x for x in range(100))
    print("ok")
"""


@pytest.mark.timeout(180)
def test_local_cluster_backend(tmp_path: Path) -> None:
    # In a process of its own: a LocalCluster leaves distributed's process-wide offload thread
    # behind, and a parent with threads makes later process pools of this test run spawn
    # their zygote instead of forking it, which other tests rely on.
    script = tmp_path / "local_cluster.py"
    script.write_text(LOCAL_CLUSTER_SCRIPT)
    env = cluster_env()
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=150)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
