"""The event loop's bounded wait for a reply (``_loop_replies.ReplySpin``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from gilwise._offload._loop_replies import ReplySpin
from gilwise._offload._process import WorkerProcess


class FakeWorker:
    """A reply pipe that becomes readable after ``after_s`` (never, with None)."""

    def __init__(self, after_s: float | None) -> None:
        self.polls = 0
        self._at = None if after_s is None else time.perf_counter() + after_s

    def reply_waiting(self) -> bool:
        self.polls += 1
        return self._at is not None and time.perf_counter() >= self._at


class FakeLoop:
    def __init__(self, ready: list[Any] | None = None) -> None:
        self._ready = ready or []


def _loop(ready: list[Any] | None = None) -> asyncio.AbstractEventLoop:
    return cast(asyncio.AbstractEventLoop, FakeLoop(ready))


def _worker(after_s: float | None) -> WorkerProcess:
    return cast(WorkerProcess, FakeWorker(after_s))


def test_a_reply_within_the_budget_is_caught_awake() -> None:
    spin = ReplySpin(budget_us=200_000)
    assert spin.wait(_worker(0.001), _loop())


def test_late_replies_halve_the_budget_down_to_no_spin_and_a_prompt_one_restores_it() -> None:
    spin = ReplySpin(budget_us=50)
    never = FakeWorker(None)
    for _ in range(ReplySpin.MAX_HALVINGS + 1):
        assert not spin.wait(cast(WorkerProcess, never), _loop())
    polls = never.polls
    assert not spin.wait(cast(WorkerProcess, never), _loop())
    assert never.polls == polls  # budget 50 >> 6 == 0: no polling at all
    prompt = _worker(None)
    assert not spin.wait(prompt, _loop())
    spin.reply_read(prompt)  # its reply came at once: within the full budget
    assert spin.wait(_worker(0.0), _loop())


def test_no_spin_while_other_callbacks_wait_or_with_a_zero_budget() -> None:
    busy_loop = _loop([object()])
    worker = FakeWorker(0.0)
    assert not ReplySpin(budget_us=1_000).wait(cast(WorkerProcess, worker), busy_loop)
    assert not ReplySpin(budget_us=0).wait(cast(WorkerProcess, worker), _loop())
    assert worker.polls == 0
