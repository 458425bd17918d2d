"""The measuring engine: plan groups, calibrate, measure round-robin in fresh worker processes.

Entry: :func:`run_bench`, returning a :class:`BenchRun` whose ``to_json()`` is the typed result
document of ``_results``; ``doctor`` says what each CPython build here can run (``gilwise
doctor``). May import ``_workloads``, ``_models``, ``_native`` (``doctor``: which extension file
each build loads), ``_pythons``, ``_results``, ``_system`` (the kernel's counters,
``usable_cores``), ``_exceptions``; never ``_advise``, ``_report``, ``_cli``,
``_service``, ``_offload`` or the package root. ``worker`` and ``protocol`` stay stdlib-only:
they run under any ``--python``.

Fidelity (the orchestrator must cost the cells nothing measurable, and say how sure it is):

- ``sampler.CpuSampler`` reads the affinity set's cores from ``/proc/stat`` and the worker
  tree's memory (the worker's session: peak RSS, PSS, USS) without walking the process table;
  ``watch(pid, first_read_s=...)`` follows a worker and marks its start and reaping, and every
  ``CpuWindow`` carries ``orchestrator_cpu_cores``, the orchestrator's own CPU while that cell
  ran (rows: ``orchestrator_cpu_cores``, warned about above 1 % of a core). The runner disables
  the orchestrator's garbage collector while a cell runs.
- Every row's ``speedup`` is the headline, the median paired speedup (``_results.headline``);
  every parallel row has ``speedup_ci`` (its sign-test interval) and ``speedup_uncertain``.
  ``BenchSettings.budget_s`` (default 0: exactly ``repeats`` rounds) lets the runner add
  rounds, serial plus the cells whose interval is wider than ``BenchSettings.precision``,
  shared evenly among comparison sets; ``precision.uncertain_cells(group, precision,
  repeats)`` says which they would be.
- Memory per worker: ``memory_per_worker`` (RSS, PSS, USS) and ``memory_basis`` (the processes
  a cell started, per worker; or one process's growth over serial, per worker).
"""

from __future__ import annotations

from .bench_run import BenchRun, run_bench
from .cells import Cell, CellKey, Group
from .runner import BenchSettings, Progress

__all__ = [
    "BenchRun",
    "BenchSettings",
    "Cell",
    "CellKey",
    "Group",
    "Progress",
    "run_bench",
]
