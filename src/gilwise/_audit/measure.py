"""``--measure MODULE:FUNC``: what a re-enabled GIL costs the user's own function.

Three builds run the same cells: the GIL build of the target's version (its twin), the
free-threaded target with its GIL off, and the same target with ``PYTHON_GIL=1`` (what a
re-enabling dependency does to every thread). Each cell is advise's: a fresh worker calling
``FUNC()`` serially, or spread over N threads. Every cell runs once per round in a rotated
order, and each build's speedup is the median of its per-round paired ratios (serial ÷
threads in the same round: the machine's speed drifts in phases of seconds), with the
harness's sign-test interval.
"""

from __future__ import annotations

import math
import os
import pickle
import statistics
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .._advise.probes import Budget, call_probe, cell
from .._advise.protocol import TargetSpec
from .._advise.verify import other_process_cores
from .._exceptions import UsageError
from .._harness.sampler import CpuSampler
from .._pythons.discovery import InterpreterInfo, probe, survey
from .._results.stats import OTHER_LOAD_WARN_CORES, median_interval, paired_ratios
from .._system.lifetime import owned_temp_directory, sweep_stale_temp_dirs
from .document import MeasuredBuild, Measurement

SERIAL_CELL_S = 1.0
"""About how long a serial cell runs: long enough that a worker's start-up is noise."""


@dataclass(frozen=True)
class _Build:
    label: str
    interpreter: InterpreterInfo
    environment: Mapping[str, str | None]


def gil_twin(free_threaded: InterpreterInfo) -> InterpreterInfo | None:
    """A GIL build of the same version, the same configure flags first when known."""
    same = [
        i
        for i in survey().interpreters
        if not i.free_threaded and i.version_info[:2] == free_threaded.version_info[:2]
    ]
    same.sort(
        key=lambda i: (
            i.build_flags != free_threaded.build_flags,
            i.version_info != free_threaded.version_info,
        )
    )
    return same[0] if same else None


@contextmanager
def _no_arguments() -> Iterator[str]:
    sweep_stale_temp_dirs()  # what a SIGKILLed earlier audit left behind
    with owned_temp_directory("gilwise-audit-") as folder:
        path = os.path.join(folder, "args.pickle")
        with open(path, "wb") as f:
            pickle.dump(((), {}), f)
        yield path


def check_measure_counts(threads: int, rounds: int) -> None:
    """Raise UsageError for counts no measurement can use (checked before a long audit runs)."""
    if threads < 2:
        raise UsageError("must be at least 2", parameter="threads", value=threads)
    if rounds < 2:
        raise UsageError("must be at least 2 to pair rounds", parameter="rounds", value=rounds)


def measure_gil_cost(
    target: str,
    python: str,
    *,
    threads: int = 2,
    rounds: int = 5,
    progress: Callable[[str], None] | None = None,
    budget_s: float = 900.0,
    serial_cell_s: float = SERIAL_CELL_S,
    sys_path: Sequence[str] = (),
) -> Measurement:
    """Time ``target`` (``module:function``, called without arguments) serially and under
    ``threads`` threads on the three builds; ``python`` is the free-threaded target.
    ``sys_path``: folders where the target's module lives (the current one is added)."""
    check_measure_counts(threads, rounds)
    say = progress or (lambda _message: None)
    free = _free_threaded_target(python)
    twin = gil_twin(free)
    notes: list[str] = []
    if twin is None:
        notes.append(
            f"no GIL build of {free.version_info[0]}.{free.version_info[1]} found: "
            "measured the free-threaded one only"
        )
    builds = _builds_to_compare(free, twin)
    budget = Budget(budget_s)
    load_before = os.getloadavg()[0]
    with _no_arguments() as args_path:
        spec: TargetSpec = {"target": target, "args_path": args_path, "sys_path": [*sys_path, os.getcwd()]}
        calls = _calls_per_cell(free, spec, budget, threads, serial_cell_s, say)
        walls, other = _time_rotated_rounds(builds, spec, budget, threads, calls, rounds, say)
    load_after = os.getloadavg()[0]
    notes.append(f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after")
    if other > OTHER_LOAD_WARN_CORES:
        notes.append(
            f"other processes used up to {other:.2f} cores during a cell: the speedups are less "
            "certain (quiet the machine and run again)"
        )
    measured = [
        _measured_build(build, walls[(build.label, "serial")], walls[(build.label, "threads")])
        for build in builds
    ]
    return {"target": target, "threads": threads, "calls": calls, "builds": measured, "notes": notes}


def _free_threaded_target(python: str) -> InterpreterInfo:
    free = probe(python)
    if not free.free_threaded:
        raise UsageError(
            "is a GIL build: measuring the cost of a re-enabled GIL needs a free-threaded target: "
            "pass one (3.13t or newer) as `python`",
            parameter="python",
            value=python,
        )
    return free


def _builds_to_compare(free: InterpreterInfo, twin: InterpreterInfo | None) -> list[_Build]:
    """The GIL twin (when found), then the free-threaded target with its GIL off and forced on:
    the order of the document's rows and of each round's first rotation."""
    builds = [
        _Build(free.label, free, {"PYTHON_GIL": None}),
        _Build(f"{free.label} PYTHON_GIL=1", free, {"PYTHON_GIL": "1"}),
    ]
    if twin is not None:
        builds.insert(0, _Build(twin.label, twin, {"PYTHON_GIL": None}))
    return builds


def _calls_per_cell(
    free: InterpreterInfo,
    spec: TargetSpec,
    budget: Budget,
    threads: int,
    serial_cell_s: float,
    say: Callable[[str], None],
) -> int:
    """Calls that keep a serial cell busy about ``serial_cell_s``, rounded to a multiple of
    ``threads`` (at least two each) so every thread gets the same share of the work."""
    say(f"timing one call of {spec['target']} under {free.label}")
    call = call_probe(free, spec, budget, 0.3, environment={"PYTHON_GIL": None})
    call_s = statistics.median(call["wall_s"]) if call["wall_s"] else call["first_call_s"]
    return threads * max(2, math.ceil(serial_cell_s / max(call_s, 1e-6) / threads))


def _time_rotated_rounds(
    builds: Sequence[_Build],
    spec: TargetSpec,
    budget: Budget,
    threads: int,
    calls: int,
    rounds: int,
    say: Callable[[str], None],
) -> tuple[dict[tuple[str, str], list[float | None]], float]:
    """Each round runs every (build, serial|threads) cell once, starting one cell later than
    the round before, so no cell always runs first or last in a round. Returns each cell's
    walls by (build label, model), one per round, and the most cores other processes used
    during any cell."""
    cells = [(b, model) for b in builds for model in ("serial", "threads")]
    walls: dict[tuple[str, str], list[float | None]] = {(b.label, m): [] for b, m in cells}
    other = 0.0
    with CpuSampler() as sampler:
        for round_index in range(rounds):
            say(f"round {round_index + 1} of {rounds}")
            shift = round_index % len(cells)
            for build, model in cells[shift:] + cells[:shift]:
                try:
                    report = cell(
                        build.interpreter,
                        spec,
                        budget,
                        "serial" if model == "serial" else "threads",
                        1 if model == "serial" else threads,
                        calls,
                        on_start=sampler.watch,
                        environment=build.environment,
                    )
                finally:
                    sampler.watch(None)
                walls[(build.label, model)].append(report["wall_s"])
                other = max(other, other_process_cores(sampler, report))
    return walls, other


def _measured_build(
    build: _Build, serial: Sequence[float | None], threaded: Sequence[float | None]
) -> MeasuredBuild:
    ratios = paired_ratios(serial, threaded)
    return {
        "label": build.label,
        "path": build.interpreter.path,
        "environment": {k: v for k, v in build.environment.items() if v is not None},
        "speedup": statistics.median(ratios) if ratios else None,
        "interval": median_interval(ratios) if len(ratios) >= 2 else None,
        "ratios": [round(r, 4) for r in ratios],
        "serial_s": [round(w, 4) for w in serial if w is not None],
        "threads_s": [round(w, 4) for w in threaded if w is not None],
    }
