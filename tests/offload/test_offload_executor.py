"""gilwise.Executor: the concurrent.futures front end on the offload engine."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import BrokenExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import offload_tasks as t
import pytest

from gilwise import Executor, OffloadTimeout, Unpicklable, UsageError, WorkerCrashed

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]
HERE = Path(__file__).parent
SRC = HERE.parent.parent / "src"


def test_submit_map_and_context_manager() -> None:
    with Executor(2) as ex:
        assert ex.submit(t.add, 1, b=2).result(10) == 3
        assert list(ex.map(t.add, range(5), range(5))) == [0, 2, 4, 6, 8]
        assert list(ex.map(t.square, range(1000), chunksize=7))[-1] == 999 * 999


def test_map_chunks_automatically() -> None:
    with Executor(2, route="cpu") as ex:
        assert list(ex.map(t.square, range(20_000)))[-1] == 19_999**2
        assert ex.statistics().submitted <= 8


def test_a_killed_worker_fails_only_its_future() -> None:
    with Executor(2, route="cpu") as ex:
        fs = [ex.submit(t.nap, 0.05) for _ in range(8)]
        fs.insert(4, ex.submit(t.kill_self))
        wait(fs, timeout=30)
        errors = [f.exception() for f in fs]
        crashed = [e for e in errors if e is not None]
        assert len(crashed) == 1 and isinstance(crashed[0], WorkerCrashed)
        # Code written for ProcessPoolExecutor still catches it.
        assert isinstance(crashed[0], BrokenProcessPool | BrokenExecutor)
        assert ex.submit(t.square, 9).result(10) == 81


def test_timeout_kills_the_worker() -> None:
    with Executor(1, route="cpu", timeout=0.3) as ex:
        with pytest.raises(OffloadTimeout):
            ex.submit(t.nap, 30).result(20)
        assert ex.submit(t.square, 3).result(10) == 9


def test_retries_rerun_after_a_crash(tmp_path: Path) -> None:
    with Executor(1, route="cpu", retries=1) as ex:
        assert ex.submit(t.kill_self_once, str(tmp_path / "m")).result(20) == "second attempt"


def test_unpicklable_objects_fail_their_future_only() -> None:
    with Executor(1, route="cpu") as ex:
        assert isinstance(ex.submit(t.square, threading.Lock()).exception(10), Unpicklable)
        assert isinstance(ex.submit(t.return_lock).exception(10), Unpicklable)
        assert ex.submit(t.square, 5).result(10) == 25


def test_io_route_runs_in_threads() -> None:
    with Executor(1, route="io") as ex:
        assert ex.submit(threading.get_ident).result(10) != threading.get_ident()
        assert ex.statistics().thread_calls == 1


def test_fork_context_is_refused_with_the_reason() -> None:
    with pytest.raises(UsageError, match="fork"):
        Executor(1, mp_context=multiprocessing.get_context("fork"))


def test_shutdown_cancels_pending_futures_on_request() -> None:
    ex = Executor(1, route="cpu")
    fs = [ex.submit(t.nap, 0.1) for _ in range(20)]
    ex.shutdown(wait=True, cancel_futures=True)
    assert sum(f.cancelled() for f in fs) >= 15
    assert all(f.done() for f in fs)
    with pytest.raises(RuntimeError, match="cannot schedule new futures"):
        ex.submit(t.square, 1)


def _script(body: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE)])}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# The three below are CPython's ExecutorShutdownTest script tests, written for gilwise.Executor
# (CPython's versions import the executor by name from concurrent.futures).
def test_interpreter_exit_drains_pending_work() -> None:
    done = _script("""
        from gilwise import Executor
        from offload_tasks import sleep_and_print
        if __name__ == "__main__":
            t = Executor(5)
            t.submit(sleep_and_print, 1.0, "apple")
    """)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert done.stdout.strip() == "apple"


def test_submit_after_interpreter_shutdown_raises() -> None:
    done = _script("""
        import atexit
        @atexit.register
        def run_last():
            try:
                t.submit(id, None)
            except RuntimeError:
                print("runtime-error")
                raise
        from gilwise import Executor
        if __name__ == "__main__":
            t = Executor(5)
            t.submit(id, 42).result()
    """)
    assert "RuntimeError: cannot schedule new futures" in done.stderr
    assert done.stdout.strip() == "runtime-error"


def test_shutdown_without_wait_does_not_hang_at_exit() -> None:
    start = time.monotonic()
    done = _script("""
        from gilwise import Executor
        from offload_tasks import sleep_and_print
        if __name__ == "__main__":
            t = Executor(max_workers=3)
            t.submit(sleep_and_print, 1.0, "apple")
            t.shutdown(wait=False)
    """)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert done.stdout.strip() == "apple" and time.monotonic() - start < 30


def test_sigkill_from_outside_during_a_batch(tmp_path: Path) -> None:
    started = tmp_path / "started"
    with Executor(2, route="cpu") as ex:
        fs = [ex.submit(t.nap, 0.005) for _ in range(100)]  # submitted in list order
        fs.append(ex.submit(t.wait_to_be_killed, str(started)))
        fs += [ex.submit(t.nap, 0.005) for _ in range(99)]
        deadline = time.monotonic() + 20
        while not started.exists() or not started.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(int(started.read_text()), signal.SIGKILL)
        assert sum(f.done() for f in fs) < 150  # the batch was still running
        wait(fs, timeout=30)
        assert [f.exception() is None for f in fs].count(True) == 199
        assert isinstance(fs[100].exception(), WorkerCrashed)


def test_a_dropped_executor_finishes_its_work_and_stops_its_workers() -> None:
    import gc

    import psutil

    ex = Executor(2, route="cpu")
    future = ex.submit(t.nap, 0.2)
    del ex
    gc.collect()
    assert future.result(20) == 0.2
    deadline = time.monotonic() + 20
    while psutil.Process().children(recursive=True):
        assert time.monotonic() < deadline, "the workers of a dropped executor kept running"
        time.sleep(0.05)
    deadline = time.monotonic() + 20
    while any(th.name.endswith("-collector") for th in threading.enumerate()):
        assert time.monotonic() < deadline, "the collector thread kept running"
        time.sleep(0.05)
