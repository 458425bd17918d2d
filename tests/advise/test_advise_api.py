"""``gilwise.advise(fn, *args)``: what it refuses, and the frozen report it returns."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

import gilwise

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import advise_fixtures


def test_public_names() -> None:
    assert gilwise.advise.__module__ == "gilwise"
    assert gilwise.AdviseReport.__module__ == "gilwise"
    assert gilwise.AdviseSettings.__module__ == "gilwise"


@pytest.mark.parametrize(
    ("fn", "needle"),
    [
        (lambda n: n, "is a lambda or a nested function"),
        (42, "advise needs a function"),
    ],
)
def test_targets_workers_cannot_import_are_refused(fn: object, needle: str) -> None:
    with pytest.raises(gilwise.UsageError, match=needle):
        gilwise.advise(fn, 1)  # type: ignore[arg-type]


def test_a_function_defined_in_main_is_refused_with_the_fix() -> None:
    def work() -> None:
        return None

    work.__module__ = "__main__"
    work.__qualname__ = "work"
    with pytest.raises(gilwise.UsageError, match="move it into a module"):
        gilwise.advise(work)


def test_unpicklable_arguments_are_refused() -> None:
    import threading

    with pytest.raises(gilwise.UsageError, match="cannot be pickled"):
        gilwise.advise(advise_fixtures.waits, threading.Lock())


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_blocking_waits_get_threads_and_a_frozen_report() -> None:
    report = gilwise.AdviseSettings(budget_s=40, find_free_threaded=False).advise(advise_fixtures.waits, 0.01)
    assert isinstance(report, gilwise.AdviseReport)
    assert report.recommended.model in ("threads", "asyncio")
    assert report.recommended.workers > 2, "waiting work overlaps far past the core count"
    assert report.gil_held_fraction is not None and report.gil_held_fraction < 0.3
    assert report.cpu_wall_ratio < 0.3
    assert report.elapsed_s <= 40
    assert "ThreadPoolExecutor" in report.recommended.code or "to_thread" in report.recommended.code
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.calls = 1  # type: ignore[misc]
    assert report.to_json()["schema"] == "gilwise.advise/1"
