"""What a bench run is made of: groups of cells compared round-robin against their own serial."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._pythons.discovery import InterpreterInfo
from .._results.document import GroupStatus, RowStatus
from .._workloads import Workload
from .protocol import MeasureReport


@dataclass(frozen=True)
class CellKey:
    model: str
    workers: int

    @property
    def label(self) -> str:
        return self.model if self.model == "serial" else f"{self.model}×{self.workers}"


@dataclass
class RoundMeasurement:
    """One cell measured once, in one fresh worker process."""

    round: int
    raw: MeasureReport
    """The worker's own report (see worker.measure)."""
    busy_core_seconds: float
    steal_core_seconds: float
    other_cpu_cores: float
    per_core: list[list[float]]
    peak_tree_rss: int
    resource_cpu_s: float
    orchestrator_cpu_cores: float = 0.0
    """The orchestrator's own CPU over the cell's window (sampler included), in cores."""
    peak_tree_pss: int | None = None
    peak_tree_uss: int | None = None
    memory_reads: int = 0
    compute_reads: int = 0
    """Memory reads that found the started processes during the compute phase itself."""
    started_processes: int = 0
    """Processes the harness worker started (a pool's workers and helpers), at most."""
    peak_started_rss: int = 0
    peak_started_pss: int | None = None
    peak_started_uss: int | None = None


@dataclass
class Cell:
    key: CellKey
    status: RowStatus = "ok"
    reason: str | None = None
    rounds: list[RoundMeasurement] = field(default_factory=list)
    elapsed_s: float = 0.0
    """The last round's time from starting its worker to reaping it (for the --budget plan)."""
    reads_others: bool = True
    """Whether the processes the harness worker starts are read during the cell (set from the
    model's ``starts_processes``, and again if a one-process model's worker had children)."""
    compute_mid_s: float | None = None
    """The last round's time from starting its worker to the middle of its compute phase."""
    memory_cost_s: float | None = None
    """CPU the orchestrator spent on this cell's last memory read (paces the next ones)."""


@dataclass
class Group:
    """One comparison: a workload, an implementation and an interpreter, serial included."""

    workload: Workload
    impl: str
    interpreter: InterpreterInfo
    cells: list[Cell]
    tasks: int
    size: int = 0
    expected: Any = None
    status: GroupStatus = "pending"
    reason: str | None = None
    resource: str = ""
    gil_enabled: bool | None = None
    rounds_done: int = 0
    extra_rounds: int = 0
    """Rounds added after the minimum to narrow uncertain speedups."""

    @property
    def title(self) -> str:
        return f"{self.workload.name} [{self.impl}] on {self.interpreter.label}"
