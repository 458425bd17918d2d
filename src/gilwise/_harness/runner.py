"""The orchestrator: calibrate each group, then measure its cells round-robin.

Within one round every cell of a group runs once, in a rotated order, each in a fresh worker
process; speedups are paired within rounds, because this machine's speed drifts in phases of
seconds (DESIGN.md, "Measuring on a noisy machine"). The orchestrator never times work itself.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .._exceptions import HarnessError
from .._interpreters import InterpreterInfo
from .._models import get_model
from .._workloads import ResourceHandle, Workload, load_object
from .cells import Cell, CellKey, Group, RoundMeasurement
from .launch import run_worker
from .sampler import CpuSampler


class ImplementationUnavailable(HarnessError):
    """The interpreter cannot run this implementation (its reason is shown in the row)."""


@dataclass(frozen=True)
class BenchSettings:
    repeats: int = 5
    target_cell_s: float = 0.5
    """Calibrated serial time of one cell: long enough for the sampler and the clock."""
    cell_timeout_s: float = 300.0
    size: int | None = None
    """Fixed task size (skips calibration)."""


class Progress(Protocol):
    def begin(self, total: int) -> None: ...
    def step(self, description: str) -> None: ...


def plan_groups(
    workloads: list[Workload],
    impls: list[str],
    models: list[str],
    workers_for: Callable[[Workload], list[int]],
    interpreters: list[InterpreterInfo],
) -> list[Group]:
    """Every (workload, impl, interpreter) the workload implements, with serial first."""
    groups = []
    parallel = [m for m in models if m != "serial"]
    for interpreter in interpreters:
        for workload in workloads:
            workers = workers_for(workload)
            for impl in impls:
                if impl not in workload.impls:
                    continue
                cells = [Cell(CellKey("serial", 1))]
                cells += [Cell(CellKey(m, n)) for m in parallel for n in workers]
                for cell in cells:
                    model = get_model(cell.key.model)
                    reason = model.available(interpreter) or model.supports(workload, impl)
                    if reason is not None:
                        cell.status, cell.reason = "unavailable", reason
                tasks = workload.tasks_per_worker * max(workers)
                groups.append(Group(workload, impl, interpreter, cells, tasks=tasks))
    return groups


def _nice(value: float) -> int:
    """Round to 2 significant digits so sizes read well in tables."""
    if value < 10:
        return max(1, round(value))
    digits = 10 ** (int(math.log10(value)) - 1)
    return int(round(value / digits) * digits)


@contextlib.contextmanager
def _resource(workload: Workload) -> Iterator[ResourceHandle]:
    if workload.resource is None:
        yield ResourceHandle(params={})
        return
    with load_object(workload.resource)() as handle:
        yield handle


def _cpu_of(pids: tuple[int, ...]) -> float:
    import psutil  # here, not at the top: harness workers (any CPython, stdlib only) import this package

    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


class Runner:
    def __init__(
        self,
        settings: BenchSettings,
        sampler: CpuSampler,
        progress: Progress | None = None,
        on_round: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sampler = sampler
        self.progress = progress
        self.on_round = on_round

    def run(self, groups: list[Group]) -> None:
        runnable = sum(1 for g in groups for c in g.cells if c.status == "ok")
        if self.progress is not None:
            self.progress.begin(runnable * self.settings.repeats + len(groups))
        for group in groups:
            group.status = "running"
            try:
                self._run_group(group)
            except KeyboardInterrupt:
                group.status = "interrupted"
                raise
            except ImplementationUnavailable as exc:
                group.status, group.reason = "unavailable", str(exc)
                for cell in group.cells:
                    if cell.status == "ok":
                        cell.status, cell.reason = "unavailable", str(exc)
            except HarnessError as exc:
                group.status, group.reason = "failed", str(exc)
                for cell in group.cells:
                    if cell.status == "ok":
                        cell.status, cell.reason = "failed", str(exc)
            else:
                group.status = "done"
            if self.on_round is not None:
                self.on_round()

    def _spec(self, group: Group, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "workload": group.workload.name,
            "impl": group.impl,
            "size": group.size,
            "params": params,
            **extra,
        }

    def _calibrate(self, group: Group, params: dict[str, Any]) -> None:
        workload = group.workload
        group.size = self.settings.size or workload.default_size
        python = group.interpreter.path
        report = run_worker(python, self._spec(group, params, mode="calibrate"), 120)
        if not report["ok"] and report.get("kind") == "unavailable":
            raise ImplementationUnavailable(report["error"])
        if not report["ok"]:
            raise HarnessError(f"{group.title}: calibration failed: {report['error']}")
        if workload.calibrate and self.settings.size is None:
            per_task = self.settings.target_cell_s / group.tasks
            scale = per_task / max(report["task_s"], 1e-6)
            size = _nice(min(max(group.size * scale, group.size / 64), group.size * 64))
            if size != group.size:
                group.size = size
                report = run_worker(python, self._spec(group, params, mode="calibrate"), 120)
                if not report["ok"]:
                    raise HarnessError(f"{group.title}: calibration failed: {report['error']}")
        elif not workload.calibrate and self.settings.size is None:
            # Fixed-latency work: add tasks (a multiple of the largest worker count, so every
            # worker gets the same share) until the serial cell lasts the target time.
            unit = max(c.key.workers for c in group.cells)
            wanted = math.ceil(self.settings.target_cell_s / max(report["task_s"], 1e-6))
            group.tasks = max(group.tasks, math.ceil(wanted / unit) * unit)
        group.expected = report["result"]
        if group.impl != workload.reference_impl and workload.reference_impl in workload.impls:
            self._cross_check(group, params)

    def _cross_check(self, group: Group, params: dict[str, Any]) -> None:
        """An implementation must agree with the reference one (checked at a small size)."""
        small = max(1, min(group.size, group.workload.default_size // 10))
        answers = []
        for impl in (group.workload.reference_impl, group.impl):
            spec = {**self._spec(group, params, mode="calibrate"), "impl": impl, "size": small}
            report = run_worker(group.interpreter.path, spec, 120)
            if not report["ok"]:
                raise HarnessError(f"{group.title}: cross-check of {impl} failed: {report['error']}")
            answers.append(report["result"])
        problem = group.workload.verify(answers[1], answers[0])
        if problem is not None:
            raise HarnessError(
                f"{group.title}: {group.impl} disagrees with {group.workload.reference_impl}: {problem}"
            )

    def _run_group(self, group: Group) -> None:
        with _resource(group.workload) as handle:
            group.resource = handle.description
            params = dict(handle.params)
            self._calibrate(group, params)
            if self.progress is not None:
                self.progress.step(f"{group.title}: calibrated")
            cells = [c for c in group.cells if c.status == "ok"]
            for round_index in range(self.settings.repeats):
                shift = round_index % len(cells)
                for cell in cells[shift:] + cells[:shift]:
                    self._measure(group, cell, round_index, params, handle.pids)
                    if self.progress is not None:
                        self.progress.step(f"{group.title}: {cell.key.label} (round {round_index + 1})")
                group.rounds_done = round_index + 1
                if self.on_round is not None:
                    self.on_round()

    def _measure(
        self,
        group: Group,
        cell: Cell,
        round_index: int,
        params: dict[str, Any],
        pids: tuple[int, ...],
    ) -> None:
        if cell.status != "ok":
            return
        spec = self._spec(
            group,
            params,
            mode="measure",
            model=cell.key.model,
            workers=cell.key.workers,
            tasks=group.tasks,
            expected=group.expected,
        )
        resource_cpu0 = _cpu_of(pids)
        try:
            report = run_worker(
                group.interpreter.path,
                spec,
                self.settings.cell_timeout_s,
                on_start=self.sampler.watch,
            )
        finally:
            self.sampler.watch(None)
        resource_cpu = _cpu_of(pids) - resource_cpu0
        if not report["ok"]:
            cell.status, cell.reason = "failed", report["error"]
            return
        group.gil_enabled = report["gil_enabled"]
        start, end = report["window"]
        window = self.sampler.window(start, end)
        own = report["cpu_self_s"] + report["cpu_children_s"] + resource_cpu
        seconds = max(end - start, 1e-9)
        other = max(0.0, window.busy_core_seconds - own) / seconds
        cell.rounds.append(
            RoundMeasurement(
                round=round_index,
                raw=report,
                busy_core_seconds=window.busy_core_seconds,
                steal_core_seconds=window.steal_core_seconds,
                other_cpu_cores=other,
                per_core=window.per_core,
                peak_tree_rss=max(
                    window.peak_tree_rss,
                    report["maxrss_self_bytes"] + report["maxrss_children_bytes"],
                ),
                resource_cpu_s=resource_cpu,
            )
        )
