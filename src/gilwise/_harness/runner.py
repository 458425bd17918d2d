"""The orchestrator: calibrate each group, then measure its cells round-robin.

Within one round every cell of a group runs once, in a rotated order, each in a fresh worker
process; speedups are paired within rounds, because this machine's speed drifts in phases of
seconds (DESIGN.md, "Measuring on a noisy machine"). The orchestrator never times work itself.

Groups of one workload and impl under several interpreters (``--python A --python B``) form a
comparison set: they share the task size found for the first, and each round measures every
group of the set (in rotated order), so round *r* of a 3.13t serial cell and round *r* of a 3.13
serial cell are seconds apart and their ratio is paired like any speedup.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .._exceptions import HarnessError
from .._models import get_model
from .._pythons.discovery import InterpreterInfo
from .._results.stats import PRECISION
from .._system import process_cpu_s, raise_if_interrupted
from .._workloads import ResourceHandle, Workload, load_object
from .anchor import anchor_cell, anchor_spec, is_anchor
from .cells import Cell, CellKey, Group, RoundMeasurement
from .launch import byte_compile_package, calibrate_in_worker, measure_in_worker
from .precision import round_cost_s, serial_cell, uncertain_cells
from .protocol import MeasureReply, MeasureReport, WorkerSpec
from .sampler import MEMORY_CPU_SHARE, CpuSampler, CpuWindow


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
    dask_scheduler: str | None = None
    """``tcp://HOST:PORT`` of a running Dask cluster for the ``dask`` model (None: LocalCluster)."""
    budget_s: float = 0.0
    """Seconds the run may spend, after ``repeats`` rounds, on rounds that narrow the speedups
    still known to no better than ±``precision`` (0: exactly ``repeats`` rounds)."""
    precision: float = PRECISION
    anchor: bool = False
    """Run the pinned anchor loop as one more cell of every group's rounds (``anchor``)."""


class Progress(Protocol):
    def begin(self, total: int) -> None: ...
    def step(self, description: str) -> None: ...


def plan_groups(
    workloads: list[Workload],
    impls: list[str],
    models: list[str],
    workers_for: Callable[[Workload], list[int]],
    interpreters: list[InterpreterInfo],
    anchor: bool = False,
) -> list[Group]:
    """Every (workload, impl, interpreter) the workload implements, with serial first (and
    the anchor cell last, with ``anchor``)."""
    groups = []
    parallel = [m for m in models if m != "serial"]
    for interpreter in interpreters:
        for workload in workloads:
            workers = workers_for(workload)
            for impl in impls:
                if impl not in workload.impls:
                    continue
                # A model that cannot run this impl at all (cpp-threads on pure Python) is no row
                # here; one that could but is unavailable on this interpreter is, with its reason.
                applicable = [m for m in parallel if get_model(m).supports(workload, impl) is None]
                cells = [Cell(CellKey("serial", 1), reads_others=False)]
                cells += [
                    Cell(CellKey(m, n), reads_others=get_model(m).starts_processes)
                    for m in applicable
                    for n in workers
                ]
                for cell in cells:
                    reason = get_model(cell.key.model).available(interpreter)
                    if reason is not None:
                        cell.status, cell.reason = "unavailable", reason
                if anchor:
                    cells.append(anchor_cell())
                tasks = workload.tasks_per_worker * _even_share(workers)
                groups.append(Group(workload, impl, interpreter, cells, tasks=tasks))
    return groups


def inapplicable_models(groups: list[Group], models: list[str], workloads: list[Workload]) -> list[str]:
    """Requested models that fit no planned group, each with the reason (for the warnings)."""
    planned = {cell.key.model for group in groups for cell in group.cells}
    notes = []
    for name in models:
        if name in planned:
            continue
        reasons = {get_model(name).supports(w, impl) for w in workloads for impl in w.impls}
        reasons.discard(None)
        why = "; ".join(sorted(r for r in reasons if r)) or "no selected workload has an implementation"
        notes.append(f"model {name} was not run: {why}")
    return notes


def _even_share(workers: list[int]) -> int:
    """Tasks per round unit: a multiple of every worker count when that stays small (so no cell
    pays for a last, half-empty wave), else the largest count."""
    unit = math.lcm(*workers)
    return unit if unit <= 4 * max(workers) else max(workers)


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
    """CPU seconds the workload's resource processes (its servers) have used so far."""
    return sum(process_cpu_s(pid) or 0.0 for pid in pids)


def _memory_due(cell: Cell) -> bool:
    """Whether this round of the cell reads the worker tree's memory.

    A read costs the orchestrator a millisecond or more (more in a bigger tree, and with cold
    caches on a busy machine), all inside the cell; memory barely moves from round to round. So
    a cell reads it until one round got a reading of its processes while they computed, then
    every k-th round, k chosen from the last read's cost and the cell's measured window so
    reads average at most MEMORY_CPU_SHARE of a core over the windows.
    """
    # The first round's read is timed blind (a spawn pool may still be starting); from the
    # second on it is aimed at the middle of the compute phase.
    # A compute phase of a few tens of ms (32 sleeping workers) can be missed by a read
    # aimed at it, since the worker's own start-up varies as much: two rounds that read the
    # processes at all are then enough.
    read_pool = sum(1 for r in cell.rounds if r.memory_reads and r.started_processes)
    if cell.memory_cost_s is None or (not any(r.compute_reads for r in cell.rounds) and read_pool < 2):
        return True
    # Over the measured window, where the read's CPU lands (not the worker's whole life).
    window_s = float(cell.rounds[-1].raw["wall_s"]) if cell.rounds else cell.elapsed_s
    every = math.ceil(cell.memory_cost_s / (MEMORY_CPU_SHARE * max(window_s, 0.05)) - 1e-9)
    return len(cell.rounds) % max(1, every) == 0


def _tree_memory(
    report: MeasureReport, window: CpuWindow, reading_others: bool
) -> tuple[int, int | None, int | None]:
    """The cell's tree at its peak: (RSS, PSS, USS) in bytes, PSS and USS None where unknown.

    The harness worker's own figures come from its report, read by itself right after the
    window: peak RSS is the kernel's high-water mark; its PSS and USS then, plus what it had
    freed since the peak (VmHWM − VmRSS: pages allocated during the cell are its own). The
    processes it started (``reading_others``) add their peak read mid-compute. A fork pool's
    worker shares its parent's pages while it lives, and the parent is read after its workers
    exited, so the parent counts those pages in full and the workers their share as well: a
    fork pool's tree PSS is an upper bound (USS is not affected; the per-worker figures are
    the workers' own).
    """
    rss = max(window.peak_tree_rss, report["maxrss_self_bytes"] + report["maxrss_children_bytes"])
    mine = report.get("own_memory")
    if mine is None:
        return rss, window.peak_tree_pss, window.peak_tree_uss
    freed = max(0, mine["peak_rss"] - mine["rss"])
    pss = None if mine["pss"] is None else mine["pss"] + freed
    uss = None if mine["uss"] is None else mine["uss"] + freed
    if reading_others:
        rss = max(rss, mine["peak_rss"] + window.peak_started_rss)
        if window.memory_reads == 0:
            return rss, None, None  # no read of its processes this round
        pss = None if pss is None or window.peak_started_pss is None else pss + window.peak_started_pss
        uss = None if uss is None or window.peak_started_uss is None else uss + window.peak_started_uss
    return max(rss, mine["peak_rss"]), pss, uss


def comparison_sets(groups: list[Group]) -> list[list[Group]]:
    """Groups of the same workload and impl (one per interpreter), in first-seen order."""
    sets: dict[tuple[str, str], list[Group]] = {}
    for group in groups:
        sets.setdefault((group.workload.name, group.impl), []).append(group)
    return list(sets.values())


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
        self._total = 0
        self._budget_left = settings.budget_s

    def run(self, groups: list[Group]) -> None:
        runnable = sum(1 for g in groups for c in g.cells if c.status == "ok")
        self._total = runnable * self.settings.repeats + len(groups)
        if self.progress is not None:
            self.progress.begin(self._total)
        sets = comparison_sets(groups)
        for index, comparison in enumerate(sets):
            self._run_set(comparison, sets_left=len(sets) - index)

    def _run_set(self, groups: list[Group], sets_left: int = 1) -> None:
        try:
            with _resource(groups[0].workload) as handle:
                self._run_set_with(groups, handle, sets_left)
        except HarnessError as exc:  # the resource (a server, a database) failed
            for group in groups:
                if group.status in ("pending", "running"):
                    self._mark(group, "failed", str(exc))

    def _run_set_with(self, groups: list[Group], handle: ResourceHandle, sets_left: int = 1) -> None:
        """Groups of one workload and impl under several interpreters share a task size and
        are measured in the same rounds, so their serial times can be paired across builds."""
        params = dict(handle.params)
        live: list[Group] = []
        for group in groups:
            group.status, group.resource = "running", handle.description
            with self._failures(group):
                self._calibrate(group, params, shared=live[0] if live else None)
                live.append(group)
            if self.progress is not None:
                self.progress.step(f"{group.title}: calibrated")
        try:
            for round_index in range(self.settings.repeats):
                shift = round_index % len(live) if live else 0
                for group in live[shift:] + live[:shift]:
                    self._measure_round(group, round_index, params, handle.pids)
                for group in live:
                    group.rounds_done = round_index + 1
                if self.on_round is not None:
                    self.on_round()
            # An equal share of what is left of the budget; what a set does not use, the next gets.
            self._precision_rounds(live, params, handle.pids, self._budget_left / max(1, sets_left))
        except KeyboardInterrupt:
            for group in live:
                group.status = "interrupted"
            raise
        for group in live:
            group.status = "done"
        if self.on_round is not None:
            self.on_round()

    def _precision_rounds(
        self, live: list[Group], params: dict[str, Any], pids: tuple[int, ...], share_s: float
    ) -> None:
        """Added rounds of the serial cell and the uncertain cells, while the share lasts."""
        begun = time.monotonic()
        deadline = begun + share_s
        while True:
            wanted = [
                (group, cells)
                for group in live
                if (cells := uncertain_cells(group, self.settings.precision, self.settings.repeats))
            ]
            chosen = [(g, [c for c in [serial_cell(g), *cells] if c is not None]) for g, cells in wanted]
            cost = sum(round_cost_s(cells) for _, cells in chosen)
            if not chosen or time.monotonic() + cost > deadline:
                break
            round_index = max(g.rounds_done for g in live)
            self._total += sum(len(cells) for _, cells in chosen)
            if self.progress is not None:
                self.progress.begin(self._total)
            for group, cells in chosen:
                self._measure_round(group, round_index, params, pids, cells)
                group.rounds_done, group.extra_rounds = round_index + 1, group.extra_rounds + 1
            if self.on_round is not None:
                self.on_round()
        self._budget_left -= time.monotonic() - begun

    @contextlib.contextmanager
    def _failures(self, group: Group) -> Iterator[None]:
        """A group that cannot run is marked with the reason; the others go on."""
        try:
            yield
        except KeyboardInterrupt:
            group.status = "interrupted"
            raise
        except ImplementationUnavailable as exc:
            self._mark(group, "unavailable", str(exc))
        except HarnessError as exc:
            self._mark(group, "failed", str(exc))

    @staticmethod
    def _mark(group: Group, status: Literal["unavailable", "failed"], reason: str) -> None:
        group.status, group.reason = status, reason
        for cell in group.cells:
            if cell.status == "ok":
                cell.status, cell.reason = status, reason

    @staticmethod
    def _calibration_spec(group: Group, params: dict[str, Any], **change: Any) -> WorkerSpec:
        spec: WorkerSpec = {
            "mode": "calibrate",
            "workload": group.workload.name,
            "impl": group.impl,
            "size": group.size,
            "params": params,
        }
        if "impl" in change:
            spec["impl"] = change["impl"]
        if "size" in change:
            spec["size"] = change["size"]
        return spec

    def _calibrate(self, group: Group, params: dict[str, Any], shared: Group | None = None) -> None:
        """Find the task size (and count) for the target cell time, and the expected answer.

        ``shared``: an already calibrated group of the same workload and impl under another
        interpreter, whose size and task count this one takes, so both measure the same work.
        """
        workload = group.workload
        group.size = shared.size if shared else self.settings.size or workload.default_size
        if shared is not None:
            group.tasks = shared.tasks
        python = group.interpreter.path
        timeout = self.settings.cell_timeout_s
        report = calibrate_in_worker(python, self._calibration_spec(group, params), timeout)
        if not report["ok"] and report["kind"] == "unavailable":
            raise ImplementationUnavailable(report["error"])
        if not report["ok"]:
            raise HarnessError(f"{group.title}: calibration failed: {report['error']}")
        rescale = shared is None and self.settings.size is None
        if rescale and workload.calibrate:
            per_task = self.settings.target_cell_s / group.tasks
            scale = per_task / max(report["task_s"], 1e-6)
            size = _nice(min(max(group.size * scale, group.size / 64), group.size * 64))
            if size != group.size:
                group.size = size
                report = calibrate_in_worker(
                    python, self._calibration_spec(group, params), self.settings.cell_timeout_s
                )
                if not report["ok"]:
                    raise HarnessError(f"{group.title}: calibration failed: {report['error']}")
        elif rescale:
            # Fixed-latency work: add tasks (whole rounds of every worker count, so every
            # worker gets the same share) until the serial cell lasts the target time.
            unit = _even_share([c.key.workers for c in group.cells])
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
            spec = self._calibration_spec(group, params, impl=impl, size=small)
            report = calibrate_in_worker(group.interpreter.path, spec, self.settings.cell_timeout_s)
            if not report["ok"]:
                raise HarnessError(f"{group.title}: cross-check of {impl} failed: {report['error']}")
            answers.append(report["result"])
        problem = group.workload.verify(answers[1], answers[0])
        if problem is not None:
            raise HarnessError(
                f"{group.title}: {group.impl} disagrees with {group.workload.reference_impl}: {problem}"
            )

    def _measure_round(
        self,
        group: Group,
        round_index: int,
        params: dict[str, Any],
        pids: tuple[int, ...],
        only: list[Cell] | None = None,
    ) -> None:
        cells = [c for c in (group.cells if only is None else only) if c.status == "ok"]
        shift = round_index % len(cells) if cells else 0
        for cell in cells[shift:] + cells[:shift]:
            self._measure(group, cell, round_index, params, pids)
            if self.progress is not None:
                self.progress.step(f"{group.title}: {cell.key.label} (round {round_index + 1})")

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
        raise_if_interrupted()
        spec = self._worker_spec(group, cell, params)
        # Before ``begun``: the first call per interpreter compiles gilwise (seconds once), which
        # must not count as this worker's start-up when the next round aims its memory read.
        byte_compile_package(group.interpreter.path)
        resource_cpu0 = _cpu_of(pids)
        begun = time.monotonic()

        # Only processes the worker starts are read while the cell computes: the worker's own
        # memory it reports itself after the clock stops (root_shares=False), so a one-process
        # model's cell costs the orchestrator no read at all.
        memory = cell.reads_others and _memory_due(cell)
        report, started = self._run_worker(group, cell, spec, memory, begun)
        cell.elapsed_s = time.monotonic() - begun
        if memory and self.sampler.last_memory_cost_s is not None:
            cell.memory_cost_s = self.sampler.last_memory_cost_s
        resource_cpu = _cpu_of(pids) - resource_cpu0
        if not report["ok"]:
            # A model that cannot run this impl under this interpreter (an extension that does
            # not load in a sub-interpreter, say) makes the cell unavailable, not failed.
            unavailable = report["kind"] == "unavailable"
            cell.status, cell.reason = ("unavailable" if unavailable else "failed"), report["error"]
            return
        group.gil_enabled = bool(group.gil_enabled) or bool(report["gil_enabled"])
        self._record_round(cell, round_index, report, started, memory, resource_cpu)

    def _worker_spec(self, group: Group, cell: Cell, params: dict[str, Any]) -> WorkerSpec:
        """What the fresh worker of this cell is told to run."""
        if is_anchor(cell):
            return anchor_spec()
        spec: WorkerSpec = {
            "mode": "measure",
            "workload": group.workload.name,
            "impl": group.impl,
            "size": group.size,
            "params": params,
            "model": cell.key.model,
            "workers": cell.key.workers,
            "tasks": group.tasks,
            "expected": group.expected,
        }
        if self.settings.dask_scheduler is not None:
            spec["dask_scheduler"] = self.settings.dask_scheduler
        return spec

    def _run_worker(
        self, group: Group, cell: Cell, spec: WorkerSpec, memory: bool, begun: float
    ) -> tuple[MeasureReply, float]:
        """The cell itself, in its fresh worker, with the sampler watching it: the worker's report
        and when its process started (``begun`` if it never did)."""
        started = [begun]

        def watch(pid: int) -> None:
            started[0] = time.monotonic()  # aims are kept from here: Popen's own time varies
            self.sampler.watch(pid, first_read_s=cell.compute_mid_s, memory=memory, root_shares=False)

        # No garbage collection while a cell runs: a full collection walks the orchestrator's
        # whole heap (tens of ms), CPU the parallel cells would pay for. Nothing allocated
        # meanwhile (sampler readings) forms cycles; it runs between cells instead.
        collecting = gc.isenabled()
        gc.disable()
        try:
            report = measure_in_worker(
                group.interpreter.path, spec, self.settings.cell_timeout_s, on_start=watch
            )
        finally:
            self.sampler.watch(None)
            if collecting:
                gc.enable()
        return report, started[0]

    def _record_round(
        self,
        cell: Cell,
        round_index: int,
        report: MeasureReport,
        started: float,
        memory: bool,
        resource_cpu: float,
    ) -> None:
        """One round of a cell that ran: the worker's report joined with what the sampler saw
        in the same window (busy cores, other load, memory of the processes it started)."""
        start, end = report["window"]
        # The next round's first memory read lands mid-compute, when its pool is up.
        cell.compute_mid_s = max(0.0, start - started + report["startup_s"] + report["compute_s"] / 2)
        window = self.sampler.window(start, end)
        if not cell.reads_others and (report["cpu_children_s"] > 0 or report["maxrss_children_bytes"] > 0):
            cell.reads_others = True  # a one-process model that started processes after all
        tree = _tree_memory(report, window, reading_others=memory)
        # The window holds start-up, compute and shut-down, except a running cluster's (compute).
        compute_from = start if report.get("wall_excludes_startup") else start + report["startup_s"]
        compute_reads = (
            self.sampler.pool_reads_between(compute_from, compute_from + report["compute_s"]) if memory else 0
        )
        other = window.other_cpu_cores(report["cpu_self_s"] + report["cpu_children_s"] + resource_cpu)
        cell.rounds.append(
            RoundMeasurement(
                round=round_index,
                raw=report,
                busy_core_seconds=window.busy_core_seconds,
                steal_core_seconds=window.steal_core_seconds,
                other_cpu_cores=other,
                per_core=window.per_core,
                peak_tree_rss=tree[0],
                resource_cpu_s=resource_cpu,
                orchestrator_cpu_cores=window.orchestrator_cpu_cores,
                peak_tree_pss=tree[1],
                peak_tree_uss=tree[2],
                memory_reads=window.memory_reads,
                compute_reads=compute_reads,
                started_processes=window.started_processes,
                peak_started_rss=window.peak_started_rss,
                peak_started_pss=window.peak_started_pss,
                peak_started_uss=window.peak_started_uss,
            )
        )
