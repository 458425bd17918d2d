"""The measuring engine: plan groups, calibrate, measure round-robin in fresh worker processes.

Entry: :func:`run_bench`, returning a :class:`BenchRun` whose ``to_json()`` is the typed result
document of ``_results``. May import ``_workloads``, ``_models``, ``_pythons``, ``_results``;
never ``_report``, ``_cli`` or ``_service``. ``worker`` and ``protocol`` stay stdlib-only: they
run under any ``--python``.
"""

from __future__ import annotations

from .bench_run import BenchRun, run_bench
from .cells import Cell, CellKey, Group
from .machine import usable_cores
from .runner import BenchSettings, Progress

__all__ = [
    "BenchRun",
    "BenchSettings",
    "Cell",
    "CellKey",
    "Group",
    "Progress",
    "run_bench",
    "usable_cores",
]
