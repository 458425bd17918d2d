"""Offloader behaviour: results, routes, crashes, timeouts, cancellation, backpressure, data."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import offload_tasks as t
import pytest

from gilwise import (
    Offloader,
    OffloadTimeout,
    Overloaded,
    Unpicklable,
    UsageError,
    WorkerCrashed,
    cpu_bound,
    io_bound,
)

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]


def test_runs_on_every_route() -> None:
    async def main() -> list[object]:
        async with Offloader(workers=2) as off:
            return [
                await off.run(t.add, 2, b=3, route="cpu"),
                await off.run(t.add, 2, b=4, route="io"),
                await off.run(t.add, 2, b=5, route="native"),
                await off.run(t.add, 2, b=6),
            ]

    assert asyncio.run(main()) == [5, 6, 7, 8]


def test_bad_route_is_a_usage_error_listing_the_routes() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            await off.run(t.square, 2, route="gpu")

    with pytest.raises(UsageError, match="auto, cpu, io, native"):
        asyncio.run(main())


def test_sigkill_fails_only_its_task_and_the_worker_is_replaced() -> None:
    async def main() -> None:
        async with Offloader(workers=2) as off:
            before = set(off.worker_pids())
            calls = [off.run(t.nap, 0.05, route="cpu") for _ in range(6)]
            calls.insert(3, off.run(t.kill_self, route="cpu"))
            results = await asyncio.gather(*calls, return_exceptions=True)
            crashes = [r for r in results if isinstance(r, WorkerCrashed)]
            assert len(crashes) == 1 and results.count(0.05) == 6
            crash = crashes[0]
            assert crash.signal == "SIGKILL" and crash.exitcode == -signal.SIGKILL
            assert "kill_self" in str(crash) and "SIGKILL" in str(crash)
            # Where the kernel exposes the cgroup's OOM-kill counter, the cause is certain.
            assert ("kill -9" in str(crash)) and ("out-of-memory" in str(crash))
            assert await off.run(t.square, 7, route="cpu") == 49
            stats = off.statistics()
            assert stats.crashes == 1 and stats.restarts == 1 and stats.workers_alive == 2
            assert set(off.worker_pids()) != before

    asyncio.run(main())


def test_segfault_in_native_code_names_the_cause_and_shows_the_native_traceback() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            with pytest.raises(WorkerCrashed) as info:
                await off.run(t.segfault, route="cpu")
            assert info.value.signal == "SIGSEGV"
            assert "segmentation fault" in str(info.value)
            assert "Fatal Python error" in str(info.value)  # the worker's faulthandler output
            assert await off.run(t.square, 3, route="cpu") == 9

    asyncio.run(main())


def test_os_exit_reports_the_exit_status() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            with pytest.raises(WorkerCrashed) as info:
                await off.run(t.exit_now, 3, route="cpu")
            assert info.value.exitcode == 3 and info.value.signal is None
            assert "os._exit" in str(info.value)
            assert await off.run(t.square, 4, route="cpu") == 16

    asyncio.run(main())


def _wait_for(path: Path, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.01)
    return int(path.read_text())


def test_external_sigkill_during_a_200_task_batch(tmp_path: Path) -> None:
    started = tmp_path / "started"

    async def main() -> list[object]:
        async with Offloader(workers=2) as off:
            calls = [off.run(t.nap, 0.005, route="cpu") for _ in range(199)]
            calls.insert(100, off.run(t.wait_to_be_killed, str(started), route="cpu"))
            batch = asyncio.ensure_future(asyncio.gather(*calls, return_exceptions=True))
            os.kill(await asyncio.to_thread(_wait_for, started), signal.SIGKILL)
            results = await batch
            assert await off.run(t.square, 5, route="cpu") == 25
            return results

    results = asyncio.run(main())
    assert len(results) == 200 and results.count(0.005) == 199
    assert isinstance(results[100], WorkerCrashed)


def test_retries_rerun_a_task_whose_worker_died(tmp_path: Path) -> None:
    marker = tmp_path / "marker"

    async def main() -> list[object]:
        async with Offloader(workers=2) as off:
            calls = [off.run(t.nap, 0.005, route="cpu") for _ in range(199)]
            calls.append(off.run(t.kill_self_once, str(marker), route="cpu", retries=1))
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert off.statistics().retries == 1
            return results

    results = asyncio.run(main())
    assert results.count(0.005) == 199 and results[-1] == "second attempt"


def test_timeout_kills_the_worker_and_raises_offload_timeout() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            (before,) = off.worker_pids()
            start = time.monotonic()
            with pytest.raises(OffloadTimeout, match=r"timeout=0\.3"):
                await off.run(t.nap, 30, route="cpu", timeout=0.3)
            assert time.monotonic() - start < 10
            assert await off.run(t.square, 6, route="cpu") == 36
            assert off.worker_pids() != [before]
            assert off.statistics().timeouts == 1

    asyncio.run(main())


def test_cancelling_the_caller_cancels_queued_work(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    async def main() -> None:
        async with Offloader(workers=1) as off:
            busy = asyncio.ensure_future(off.run(t.nap, 0.5, route="cpu"))
            await asyncio.sleep(0.05)
            queued = asyncio.ensure_future(off.run(t.touch, str(marker), route="cpu"))
            await asyncio.sleep(0.05)
            queued.cancel()
            with pytest.raises(asyncio.CancelledError):
                await queued
            assert await busy == 0.5
            assert await off.run(t.square, 2, route="cpu") == 4
            assert off.statistics().cancelled == 1

    asyncio.run(main())
    assert not marker.exists()


def test_a_call_on_the_loop_that_reads_the_replies_makes_no_concurrent_future(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The round trip of issue 26: the loop's reader resolves a bare asyncio future; no
    ``concurrent.futures.Future`` (its lock, condition and callbacks) is made per call."""
    made: list[object] = []
    real_init = concurrent.futures.Future.__init__

    def counting_init(self: concurrent.futures.Future[object]) -> None:
        made.append(self)
        real_init(self)

    async def main() -> None:
        async with Offloader(workers=1) as off:
            assert await off.run(t.square, 2, route="cpu") == 4
            monkeypatch.setattr(concurrent.futures.Future, "__init__", counting_init)
            results = [await off.run(t.square, i, route="cpu") for i in range(20)]
            with pytest.raises(ValueError, match="bad"):
                await off.run(t.raise_value_error, "bad", route="cpu")
            monkeypatch.undo()
            assert results == [i * i for i in range(20)]
            assert off.statistics().completed == 21

    asyncio.run(main())
    assert made == []


def test_a_cancelled_caller_keeps_its_slot_until_its_running_task_ends() -> None:
    async def main() -> None:
        async with Offloader(workers=1, max_pending=1, overload="raise") as off:
            running = asyncio.ensure_future(off.run(t.nap, 0.3, route="cpu"))
            await asyncio.sleep(0.05)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            with pytest.raises(Overloaded):  # the task still runs in its worker
                await off.run(t.square, 2, route="cpu")
            await asyncio.sleep(0.5)
            assert await off.run(t.square, 3, route="cpu") == 9

    asyncio.run(main())


def test_unpicklable_function_argument_and_result_name_the_object() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            with pytest.raises(Unpicklable, match="lambda"):
                await off.run(lambda: 1, route="cpu")
            with pytest.raises(Unpicklable, match=r"argument 0 .*lock"):
                await off.run(t.square, threading.Lock(), route="cpu")
            with pytest.raises(Unpicklable, match=r"result .*lock.*return_lock"):
                await off.run(t.return_lock, route="cpu")
            assert await off.run(t.square, 8, route="cpu") == 64
            assert off.statistics().crashes == 0

    asyncio.run(main())


def test_exceptions_keep_their_type_and_the_remote_traceback() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            with pytest.raises(ValueError, match="bad input") as info:
                await off.run(t.raise_value_error, "bad input", route="cpu")
            assert "raise_value_error" in str(info.value.__cause__)

    asyncio.run(main())


def test_overload_policy_raise_refuses_beyond_max_pending() -> None:
    async def main() -> None:
        async with Offloader(workers=1, max_pending=2, overload="raise") as off:
            running = [asyncio.ensure_future(off.run(t.nap, 0.3, route="cpu")) for _ in range(2)]
            await asyncio.sleep(0.05)
            with pytest.raises(Overloaded, match="max_pending=2"):
                await off.run(t.square, 1, route="cpu")
            assert await asyncio.gather(*running) == [0.3, 0.3]
            assert off.statistics().rejected == 1

    asyncio.run(main())


def test_a_flood_waits_and_stays_bounded() -> None:
    async def main() -> None:
        async with Offloader(workers=2, max_pending=4) as off:
            peak = 0

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, off.statistics().pending)
                    await asyncio.sleep(0)

            watcher = asyncio.ensure_future(watch())
            results = await asyncio.gather(*(off.run(t.square, i, route="cpu") for i in range(500)))
            watcher.cancel()
            assert results == [i * i for i in range(500)]
            assert 0 < peak <= 4

    asyncio.run(main())


def test_numpy_arguments_arrive_zero_copy_and_results_come_back() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            arr = np.ones(4 << 20)  # 32 MiB: through shared memory
            writeable, owns, total = await off.run(t.array_info, arr, route="cpu")
            assert (writeable, owns, total) == (False, False, float(4 << 20))
            writeable, _, total = await off.run(t.array_info, np.ones(10), route="cpu")
            assert (writeable, total) == (True, 10.0)  # below the threshold: an ordinary copy
            big = await off.run(t.make_array, 1 << 20, route="cpu")
            assert big[-1] == (1 << 20) - 1 and big.flags.writeable
            assert await off.run(t.bytes_len, b"x" * (8 << 20), route="cpu") == ("bytes", 8 << 20)

    asyncio.run(main())


def test_map_keeps_order_and_chunks_automatically() -> None:
    async def main() -> None:
        async with Offloader(workers=2) as off:
            out = [r async for r in off.map(t.square, range(10_000), route="cpu")]
            assert out == [i * i for i in range(10_000)]
            assert off.statistics().submitted <= 16  # chunks, not 10,000 messages
            gen = (i for i in range(300))  # no len(): chunked too
            assert [r async for r in off.map(t.square, gen, route="cpu")][-1] == 299 * 299

    asyncio.run(main())


def test_auto_routes_waiting_calls_to_threads_and_cpu_calls_to_processes() -> None:
    @io_bound
    def fetch() -> str:
        return "threaded"

    async def main() -> None:
        async with Offloader(workers=1) as off:
            for _ in range(3):
                await off.run(t.nap, 0.05)
                await off.run(t.spin, 300_000)
            routes = off.statistics().routes
            assert routes["io"] >= 2 and routes["cpu"] >= 4  # first nap probes in a process
            assert await off.run(fetch) == "threaded"
            assert await off.run(cpu_bound(t.add), 1, b=1) == 2

    asyncio.run(main())


def test_thread_route_timeout_raises_without_killing_anything() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            with pytest.raises(OffloadTimeout, match="cannot be killed"):
                await off.run(t.nap, 0.5, route="io", timeout=0.05)

    asyncio.run(main())


def test_exception_in_the_block_cancels_and_kills_running_work() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            running = asyncio.ensure_future(off.run(t.nap, 30, route="cpu"))
            await asyncio.sleep(0.1)
            raise KeyError(f"boom while {running!r} runs")

    start = time.monotonic()
    with pytest.raises(KeyError):
        asyncio.run(main())
    assert time.monotonic() - start < 10


def test_failing_initializer_breaks_the_pool_with_a_clear_error() -> None:
    async def main() -> None:
        off = Offloader(workers=1, initializer=t.failing_initializer).start()
        try:
            with pytest.raises(WorkerCrashed, match="died while starting"):
                await off.run(t.square, 2, route="cpu")
        finally:
            await off.aclose()

    asyncio.run(main())


def test_entering_with_a_failing_initializer_raises_instead_of_hanging() -> None:
    async def main() -> None:
        async with Offloader(workers=1, initializer=t.failing_initializer):
            pass

    with pytest.raises(WorkerCrashed, match="died while starting"):
        asyncio.run(main())


def test_max_tasks_per_child_recycles_workers() -> None:
    async def main() -> None:
        async with Offloader(workers=1, max_tasks_per_child=2) as off:
            pids = [await off.run(t.pid, route="cpu") for _ in range(6)]
            assert len(set(pids)) == 3

    asyncio.run(main())


def test_process_wide_offload_runs_and_closes() -> None:
    from gilwise import offload
    from gilwise._offload._asyncio import close_default

    async def main() -> None:
        try:
            assert await offload(t.square, 12, route="cpu") == 144
            assert await offload(t.add, 1, b=2) == 3
        finally:
            await close_default()

    asyncio.run(main())


def test_an_idle_worker_killed_from_outside_is_replaced_without_failing_anything() -> None:
    async def main() -> None:
        async with Offloader(workers=2) as off:
            victim = off.worker_pids()[0]
            os.kill(victim, signal.SIGKILL)
            for _ in range(200):  # until the pool has noticed and replaced it
                if victim not in off.worker_pids():
                    break
                await asyncio.sleep(0.01)
            results = await asyncio.gather(*(off.run(t.square, i, route="cpu") for i in range(20)))
            assert results == [i * i for i in range(20)]
            stats = off.statistics()
            assert stats.restarts == 1 and stats.failed == 0 and stats.workers_alive == 2

    asyncio.run(main())


def test_a_task_sent_to_a_worker_that_just_died_is_requeued_not_failed() -> None:
    async def main() -> None:
        async with Offloader(workers=1) as off:
            for _ in range(5):
                (victim,) = off.worker_pids()
                os.kill(victim, signal.SIGKILL)
                # Sent at once: the request reaches a dead (or dying) worker that never reads
                # it; the shared read-counter tells the pool, which runs it elsewhere.
                assert await off.run(t.square, 7, route="cpu") == 49
            stats = off.statistics()
            assert stats.failed == 0 and stats.crashes == 0 and stats.restarts == 5

    asyncio.run(main())


def test_a_sigkill_is_attributed_by_the_cgroup_oom_counter() -> None:
    from gilwise._offload._process import sigkill_cause

    f = "/sys/fs/cgroup/memory.events"
    assert "out-of-memory killer killed it" in (sigkill_cause((f, 3), (f, 4)) or "")
    assert "kill -9" in (sigkill_cause((f, 3), (f, 3)) or "")
    assert sigkill_cause(None, (f, 3)) is None  # no counter: the generic cause stays
