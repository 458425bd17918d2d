"""What a sub-interpreter run takes and returns: ``Task``, ``TaskOutcome``, ``SubinterpreterRun``,
and ``TaskFailed`` (what a task raised, named by its classes); ``task_outcomes`` turns the clock
readings taken inside the interpreters into outcomes, the same way for both backends.

Below both backends: ``runner`` (3.12 / 3.13, and the entry point ``run_tasks``) and ``pool``
(3.14+'s ``InterpreterPoolExecutor``) build these. Stdlib-only, like them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._exceptions import WorkloadFailed

if TYPE_CHECKING:
    from collections.abc import Iterable


def qualified_name(cls: type) -> str:
    """How a class is named across interpreters (class objects themselves cannot cross)."""
    return f"{cls.__module__}.{cls.__qualname__}"


class TaskFailed(WorkloadFailed):
    """A task (or its setup) raised inside a sub-interpreter.

    ``exception_types`` holds the qualified names of the raised exception's classes (its MRO),
    so callers can tell *what* was raised without the object, which cannot cross interpreters.
    """

    def __init__(self, message: str, exception_types: frozenset[str]) -> None:
        super().__init__(message)
        self.exception_types = exception_types

    def raised(self, cls: type[BaseException]) -> bool:
        return qualified_name(cls) in self.exception_types


@dataclass(frozen=True)
class Task:
    """One unit of work, importable by name inside a fresh interpreter."""

    module: str
    function: str
    args: tuple[Any, ...] = ()
    setup: str | None = None
    """A function of ``module`` called once with ``setup_args`` while the interpreter starts
    (timed as start-up, not compute): build inputs, import what the task will need."""
    setup_args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class TaskOutcome:
    value: Any
    compute_s: float  # the call alone, timed inside its interpreter
    started_at: float  # seconds after the tasks were released (all interpreters share the clock)
    finished_at: float


def task_outcomes(raw: Iterable[tuple[Any, ...]], t_go: float) -> tuple[TaskOutcome, ...]:
    """The outcomes of tasks that each returned ``(value, t0, t1)``, clock readings taken in its
    interpreter around the call; ``t_go`` is when the parent released them all."""
    return tuple(
        TaskOutcome(value=v, compute_s=t1 - t0, started_at=t0 - t_go, finished_at=t1 - t_go)
        for v, t0, t1 in raw
    )


@dataclass(frozen=True)
class SubinterpreterRun:
    backend: str  # "InterpreterPoolExecutor", "_interpreters" or "_xxsubinterpreters"
    outcomes: tuple[TaskOutcome, ...]  # in the order of the tasks
    startup_s: float
    compute_wall_s: float
    teardown_s: float

    @property
    def values(self) -> list[Any]:
        return [o.value for o in self.outcomes]
