"""The wire between the parent and a worker: whole frames in one read, and the worker's spin
after a reply (its budget on the board, the pool's gate, the worker's own backing off)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import wait

import pytest
from offload_tasks import nap, square

from gilwise import PoolConfig
from gilwise._offload import _pool, _worker
from gilwise._offload._pool import WorkerPool


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        with contextlib.suppress(OSError):
            os.close(fd)


def _frame(obj: object, tid: int = 7) -> bytes:
    return _worker.Encoder("unused", 1 << 62).encode(obj, tid)[0]


def test_frames_that_arrive_together_are_read_apart(pipe: tuple[int, int]) -> None:
    r, w = pipe
    os.write(w, _frame(("a",)) + _frame(("b",), 8))
    reader = _worker.FrameReader(r)
    first = reader.read()
    assert first is not None
    assert _worker.decode(first, writable=False, unlink=False) == ("a",)
    assert reader.has_header(), "the second frame is already here: no wait, no spin"
    second = reader.read()
    assert second is not None
    assert _worker.decode(second, writable=False, unlink=False) == ("b",)
    assert not reader.has_header()


def test_a_frame_larger_than_one_read_arrives_whole(pipe: tuple[int, int]) -> None:
    r, w = pipe
    payload = os.urandom(3 * _worker.READ_AHEAD)
    frame = _frame((payload,))
    reader = _worker.FrameReader(r)
    # A pipe holds 64 KiB: the writer and the reader take turns.
    writer = threading.Thread(target=_worker.write_all, args=(w, frame))
    writer.start()
    got = reader.read()
    writer.join(timeout=10)
    assert got is not None
    assert _worker.decode(got, writable=False, unlink=False) == (payload,)


def test_end_of_file_inside_a_frame_is_the_parent_gone(pipe: tuple[int, int]) -> None:
    r, w = pipe
    os.write(w, _frame(("cut",))[:-3])
    os.close(w)
    assert _worker.FrameReader(r).read() is None


def test_a_reply_alone_in_its_read_is_recognised_whole() -> None:
    frame = _frame((1, 0, 9, 0.0, 0.0))
    assert _worker.is_one_frame(frame)
    assert not _worker.is_one_frame(frame[:-1])
    assert not _worker.is_one_frame(frame + frame)


def _board(budget_us: int) -> memoryview:
    board = memoryview(bytearray(_worker.BOARD_BYTES)).cast("Q")
    board[_worker.SPIN_SLOT] = budget_us
    return board


def test_the_spin_catches_a_request_that_is_already_there(pipe: tuple[int, int]) -> None:
    r, w = pipe
    spin = _worker.AdaptiveSpin(r, _board(50_000))
    os.write(w, b"x")
    assert spin.wait_awake()


def test_the_spin_is_bounded_and_backs_off_when_requests_come_late(pipe: tuple[int, int]) -> None:
    r, w = pipe
    budget_us = 2_000
    spin = _worker.AdaptiveSpin(r, _board(budget_us))
    started = time.perf_counter()
    assert not spin.wait_awake()
    assert budget_us * 1e-6 <= time.perf_counter() - started < 1.0, "it polls for its budget, then stops"
    time.sleep(0.01)  # the next request comes later than the budget: spinning did not pay
    spin.request_arrived()
    assert spin.next_budget_us() == budget_us // 2
    for _ in range(2 * _worker.AdaptiveSpin.MAX_HALVINGS):
        spin.wait_awake()
        time.sleep(0.005)
        spin.request_arrived()
    assert spin.next_budget_us() == budget_us >> _worker.AdaptiveSpin.MAX_HALVINGS, "halved, bounded"
    spin.wait_awake()
    os.write(w, b"x")
    spin.request_arrived()  # came at once: the spin would have caught it
    assert spin.next_budget_us() == budget_us, "one request in time restores the whole budget"


def test_a_zero_budget_never_spins(pipe: tuple[int, int]) -> None:
    r, w = pipe
    spin = _worker.AdaptiveSpin(r, _board(0))
    started = time.perf_counter()
    assert not spin.wait_awake()
    assert time.perf_counter() - started < 0.01


def _budgets(pool: WorkerPool) -> list[int]:
    with pool._lock:
        return [int(w._board[_worker.SPIN_SLOT]) for w in pool._workers.values()]


def test_the_gate_lets_workers_spin_only_while_a_core_is_free_for_it(
    monkeypatch: pytest.MonkeyPatch, no_leaks: None
) -> None:
    # 3 cores: the parent's thread and one busy worker leave one core for a spinning one.
    monkeypatch.setattr(_pool, "usable_cores", lambda: 3)
    pool = WorkerPool(PoolConfig(workers=3, spin_us=30))
    try:
        pool.ready.result(timeout=60)
        assert pool.submit(square, (3,), {}).result(timeout=30) == 9
        assert _budgets(pool) == [30, 30, 30], "one task at a time: every worker may spin"
        running = [pool.submit(nap, (0.5,), {}) for _ in range(3)]
        time.sleep(0.2)
        assert _budgets(pool) == [0, 0, 0], "three busy workers on three cores: nobody spins"
        wait(running, timeout=30)
        assert pool.submit(square, (4,), {}).result(timeout=30) == 16
        assert _budgets(pool) == [30, 30, 30], "the spin comes back when the work is done"
    finally:
        pool.shutdown(wait=True)


def test_spin_off_keeps_every_board_at_zero(no_leaks: None) -> None:
    pool = WorkerPool(PoolConfig(workers=2, spin_us=0))
    try:
        for i in range(5):
            assert pool.submit(square, (i,), {}).result(timeout=30) == i * i
        assert _budgets(pool) == [0, 0]
    finally:
        pool.shutdown(wait=True)
