"""The typed report of ``advise --pid`` (frozen) and its ``gilwise.advise-program/1`` JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

PROGRAM_SCHEMA: Literal["gilwise.advise-program/1"] = "gilwise.advise-program/1"


class HotFunctionEntry(TypedDict):
    function: str
    gil_share: float


class ThreadEntry(TypedDict):
    tid: int
    name: str
    cpu_cores: float
    gil_share: float | None
    hottest: list[HotFunctionEntry]


class ProgramVerdictEntry(TypedDict):
    gil_bound: bool
    model: str
    workers: int
    reason: str
    serialising_threads: list[str]
    functions: list[HotFunctionEntry]
    code: str


class ProgramDocument(TypedDict):
    schema: Literal["gilwise.advise-program/1"]
    pid: int
    command: str
    duration_s: float
    usable_cores: int
    busy_cores: float
    gil_busy: float | None
    sampler: str | None
    sampler_note: str
    threads: list[ThreadEntry]
    verdict: ProgramVerdictEntry


@dataclass(frozen=True)
class HotFunction:
    function: str
    """``name (file:line)`` as py-spy reports the innermost Python frame."""
    gil_share: float
    """Share of the ticks at which this function held the GIL."""

    def to_json(self) -> HotFunctionEntry:
        return {"function": self.function, "gil_share": self.gil_share}


@dataclass(frozen=True)
class ThreadReport:
    tid: int
    name: str
    cpu_cores: float
    """CPU seconds over wall seconds (1.0 = one core all the time)."""
    gil_share: float | None
    hottest: tuple[HotFunction, ...]


@dataclass(frozen=True)
class ProgramVerdict:
    gil_bound: bool
    model: str
    workers: int
    reason: str
    serialising_threads: tuple[str, ...]
    functions: tuple[HotFunction, ...]
    code: str


@dataclass(frozen=True)
class ProgramReport:
    pid: int
    command: str
    duration_s: float
    usable_cores: int
    busy_cores: float
    gil_busy: float | None
    """Share of ticks at which some thread held the GIL (None without samples)."""
    sampler: str | None
    sampler_note: str
    """Why there are no samples (empty when there are)."""
    threads: tuple[ThreadReport, ...]
    verdict: ProgramVerdict

    def to_json(self) -> ProgramDocument:
        v = self.verdict
        return {
            "schema": PROGRAM_SCHEMA,
            "pid": self.pid,
            "command": self.command,
            "duration_s": self.duration_s,
            "usable_cores": self.usable_cores,
            "busy_cores": self.busy_cores,
            "gil_busy": self.gil_busy,
            "sampler": self.sampler,
            "sampler_note": self.sampler_note,
            "threads": [
                {
                    "tid": t.tid,
                    "name": t.name,
                    "cpu_cores": t.cpu_cores,
                    "gil_share": t.gil_share,
                    "hottest": [h.to_json() for h in t.hottest],
                }
                for t in self.threads
            ],
            "verdict": {
                "gil_bound": v.gil_bound,
                "model": v.model,
                "workers": v.workers,
                "reason": v.reason,
                "serialising_threads": list(v.serialising_threads),
                "functions": [h.to_json() for h in v.functions],
                "code": v.code,
            },
        }
