"""Presentation of result documents: terminal tables, the classic comparison, HTML with SVG plots.

May import ``_results`` (the typed result document), ``_advise`` (the typed documents of its
verdicts, ``verdict`` and ``program_report`` only), ``_serving.document`` (the typed
``gilwise.serving/1`` document) and ``_exceptions``; it never measures, so
it may not import ``_harness``, ``_models`` or ``_workloads``. Only ``_cli`` imports it; the
harness and advise never do (they return records, not text).
"""

from __future__ import annotations

from .classic import classic_rows, render_classic
from .interpreters import compare as compare_interpreters
from .interpreters import render_interpreter_comparison
from .terminal import render_group_tables, render_iteration_costs, render_warnings

__all__ = [
    "classic_rows",
    "compare_interpreters",
    "render_classic",
    "render_group_tables",
    "render_interpreter_comparison",
    "render_iteration_costs",
    "render_warnings",
]
