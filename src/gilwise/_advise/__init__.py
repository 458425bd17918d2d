"""``gilwise advise``: probes, cost model and verdict for the user's own function or program.

One call of a function is the unit of work. :mod:`.probes` measures it in fresh worker
processes (:mod:`.worker`, stdlib-only, any ``--python``): CPU time / wall time, the GIL-held
fraction (a probe thread's scheduling delay, as gil_load does), pickled sizes and times,
pool start-up, short scaling runs of threads and processes. :mod:`.costmodel` predicts each
model's speedup from those probes alone; :mod:`.choose` picks from the predictions what to
verify; :mod:`.verify` benches those models for real (fresh worker per cell, round-robin
rounds, paired ratios); :mod:`.decide` makes the best measured model the verdict (the cheaper
where intervals overlap); :mod:`.verdict` holds the typed report. :mod:`.program` looks at a
whole running process (``--pid``, ``-- python SCRIPT``): per-thread CPU from ``/proc`` and
py-spy's GIL samples.

May import ``_harness`` (launching workers, the CPU sampler), ``_system`` (``usable_cores``,
``/proc``), ``_pythons``, ``_results`` (statistics), ``_extras`` (install commands) and
``_exceptions``; never ``_report``, ``_cli`` or ``_service``: advise returns records, the
report package renders them. ``worker`` and ``protocol`` are stdlib-only (they run under any
CPython with gilwise on PYTHONPATH).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import AdviseSettings, advise, advise_target
    from .program import advise_command, advise_pid
    from .program_report import ProgramReport
    from .verdict import AdviseReport

# Loaded on first use: workers import ``gilwise._advise.worker`` (so this package) under any
# CPython, where the orchestrator's dependencies (psutil) may not be installed.
_WHERE = {
    "AdviseReport": ".verdict",
    "AdviseSettings": ".api",
    "ProgramReport": ".program_report",
    "advise": ".api",
    "advise_command": ".program",
    "advise_pid": ".program",
    "advise_target": ".api",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AdviseReport",
    "AdviseSettings",
    "ProgramReport",
    "advise",
    "advise_command",
    "advise_pid",
    "advise_target",
]
