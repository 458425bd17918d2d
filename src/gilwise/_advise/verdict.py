"""The typed advise reports (frozen) and their ``gilwise.advise/1`` JSON documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from .._results.document import ConfidenceInterval, Machine
from .fmt import model_label
from .load import LoadEntry, LoadSeen
from .memory import MemoryCheck, MemoryEntry
from .protocol import TransferProbe

SCHEMA: Literal["gilwise.advise/1"] = "gilwise.advise/1"


class PredictionEntry(TypedDict):
    model: str
    workers: int
    interpreter: str
    python: str
    chunksize: int
    predicted_speedup: float
    predicted_s: float
    measured_speedup: float | None
    measured_min: float | None
    measured_max: float | None
    measured_ci: ConfidenceInterval | None
    """Where the median paired speedup lies (sign-test interval over the rounds)."""
    rounds: int
    basis: str


class RecommendedEntry(TypedDict):
    """The verdict: the best *measured* model (:mod:`.decide`); the prediction only chose which
    models to verify. ``predicted_speedup`` and ``measured_speedup`` are the verdict's own."""

    model: str
    workers: int
    interpreter: str
    reason: str
    code: str
    predicted_speedup: float
    measured_speedup: float | None
    measured_ci: ConfidenceInterval | None
    """The verdict's interval (None for serial, or when it was not measured)."""
    decided_by: Literal["measurement", "prediction"]
    """By the prediction only when not even serial could be measured within the budget."""
    decision: str
    """How the measurement chose it, e.g. "threads×2 … and processes×2 … overlap; threads×2 is
    cheaper (no extra processes: less memory and start-up); the prediction favoured processes×2"."""
    predicted_best: str
    """The model the prediction favoured (e.g. ``processes×2``), which may differ from ``model``."""


class TransferEntry(TransferProbe):
    """The call probe's pickling figures and what a process pool adds to them."""

    per_call_s: float | None
    message_s: float | None
    start_method: str | None
    pool_startup_s: list[list[float]]
    break_even_call_s: float | None
    chunksize: int | None


class InterpreterProbeEntry(TypedDict):
    interpreter: str
    python: str
    free_threaded: bool
    gil_enabled: bool
    call_s: float
    cpu_s: float
    cpu_wall_ratio: float
    gil_held_fraction: float | None
    calls_timed: int
    notes: list[str]


class AdviseDocument(TypedDict):
    schema: Literal["gilwise.advise/1"]
    target: str
    calls: int
    call_s: float
    recommended: RecommendedEntry
    runner_up: str | None
    """The best other verified model (by measured speedup; the prediction's other pick where
    none was measured), e.g. ``processes×2``; None if there is none."""
    predictions: list[PredictionEntry]
    gil_held_fraction: float | None
    gil_held_assumed: bool
    cpu_wall_ratio: float
    transfer: TransferEntry
    interpreters: list[InterpreterProbeEntry]
    machine: Machine
    would_change: list[str]
    notes: list[str]
    memory: MemoryEntry
    """One call's peak memory, what was available, and the cap on workers it set."""
    load: LoadEntry
    """Other processes' CPU during verification; ``load.conclusive`` False: no verdict stands."""
    conclusive: bool
    elapsed_s: float
    budget_s: float


@dataclass(frozen=True)
class PredictionRow:
    model: str
    workers: int
    interpreter: str
    python: str
    chunksize: int
    predicted_speedup: float
    predicted_s: float
    measured_speedup: float | None
    measured_range: tuple[float, float] | None
    measured_ci: ConfidenceInterval | None
    rounds: int
    basis: str

    @property
    def label(self) -> str:
        return model_label(self.model, self.workers)

    def to_json(self) -> PredictionEntry:
        lo, hi = self.measured_range or (None, None)
        return {
            "model": self.model,
            "workers": self.workers,
            "interpreter": self.interpreter,
            "python": self.python,
            "chunksize": self.chunksize,
            "predicted_speedup": self.predicted_speedup,
            "predicted_s": self.predicted_s,
            "measured_speedup": self.measured_speedup,
            "measured_min": lo,
            "measured_max": hi,
            "measured_ci": self.measured_ci,
            "rounds": self.rounds,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class Recommendation:
    model: str
    workers: int
    interpreter: str
    reason: str
    code: str
    predicted_speedup: float
    measured_speedup: float | None
    measured_ci: ConfidenceInterval | None
    decided_by: Literal["measurement", "prediction"]
    decision: str
    predicted_best: str


@dataclass(frozen=True)
class Transfer:
    picklable: bool
    reason: str
    args_bytes: int
    result_bytes: int
    args_dumps_s: float
    args_loads_s: float
    result_dumps_s: float
    result_loads_s: float
    per_call_s: float | None
    """What one call costs a process pool besides the work (both sides, one message)."""
    message_s: float | None
    start_method: str | None
    pool_startup_s: tuple[tuple[int, float], ...]
    break_even_call_s: float | None
    """Processes on every core beat serial for calls longer than this (same arguments, batch)."""
    chunksize: int | None


@dataclass(frozen=True)
class InterpreterProbe:
    interpreter: str
    python: str
    free_threaded: bool
    gil_enabled: bool
    call_s: float
    cpu_s: float
    gil_held_fraction: float | None
    calls_timed: int
    notes: tuple[str, ...]

    @property
    def cpu_wall_ratio(self) -> float:
        return self.cpu_s / self.call_s if self.call_s > 0 else 0.0


@dataclass(frozen=True)
class AdviseReport:
    """``gilwise.advise(fn, ...)``'s answer: the verdict, every prediction, what was measured."""

    target: str
    calls: int
    """The batch the predictions and the verification are for (calls of the target)."""
    call_s: float
    recommended: Recommendation
    """The verdict: the best measured model (the cheaper where intervals overlap)."""
    runner_up: str | None
    """The best other verified model (see :class:`AdviseDocument`)."""
    predictions: tuple[PredictionRow, ...]
    gil_held_fraction: float | None
    gil_held_assumed: bool
    cpu_wall_ratio: float
    transfer: Transfer
    interpreters: tuple[InterpreterProbe, ...]
    machine: Machine
    would_change: tuple[str, ...]
    notes: tuple[str, ...]
    memory: MemoryCheck
    load: LoadSeen
    conclusive: bool
    """False when the machine was too busy for the verdict to stand (``gilwise advise`` then
    says "inconclusive" and exits 3): ``recommended`` is what was measured, not a verdict."""
    elapsed_s: float
    budget_s: float

    def to_json(self) -> AdviseDocument:
        t, r = self.transfer, self.recommended
        return {
            "schema": SCHEMA,
            "target": self.target,
            "calls": self.calls,
            "call_s": self.call_s,
            "recommended": {
                "model": r.model,
                "workers": r.workers,
                "interpreter": r.interpreter,
                "reason": r.reason,
                "code": r.code,
                "predicted_speedup": r.predicted_speedup,
                "measured_speedup": r.measured_speedup,
                "measured_ci": r.measured_ci,
                "decided_by": r.decided_by,
                "decision": r.decision,
                "predicted_best": r.predicted_best,
            },
            "runner_up": self.runner_up,
            "predictions": [p.to_json() for p in self.predictions],
            "gil_held_fraction": self.gil_held_fraction,
            "gil_held_assumed": self.gil_held_assumed,
            "cpu_wall_ratio": self.cpu_wall_ratio,
            "transfer": {
                "picklable": t.picklable,
                "reason": t.reason,
                "args_bytes": t.args_bytes,
                "result_bytes": t.result_bytes,
                "args_dumps_s": t.args_dumps_s,
                "args_loads_s": t.args_loads_s,
                "result_dumps_s": t.result_dumps_s,
                "result_loads_s": t.result_loads_s,
                "per_call_s": t.per_call_s,
                "message_s": t.message_s,
                "start_method": t.start_method,
                "pool_startup_s": [[n, s] for n, s in t.pool_startup_s],
                "break_even_call_s": t.break_even_call_s,
                "chunksize": t.chunksize,
            },
            "interpreters": [
                {
                    "interpreter": i.interpreter,
                    "python": i.python,
                    "free_threaded": i.free_threaded,
                    "gil_enabled": i.gil_enabled,
                    "call_s": i.call_s,
                    "cpu_s": i.cpu_s,
                    "cpu_wall_ratio": i.cpu_wall_ratio,
                    "gil_held_fraction": i.gil_held_fraction,
                    "calls_timed": i.calls_timed,
                    "notes": list(i.notes),
                }
                for i in self.interpreters
            ],
            "machine": self.machine,
            "would_change": list(self.would_change),
            "notes": list(self.notes),
            "memory": self.memory.to_json(),
            "load": self.load.to_json(self.conclusive),
            "conclusive": self.conclusive,
            "elapsed_s": self.elapsed_s,
            "budget_s": self.budget_s,
        }
