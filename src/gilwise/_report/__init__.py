"""Rendering of result documents: terminal tables, the classic comparison, JSON files."""

from __future__ import annotations

from .classic import classic_rows, render_classic
from .interpreters import compare as compare_interpreters
from .interpreters import render_interpreter_comparison
from .json_out import write_json_atomic
from .terminal import render_group_tables, render_iteration_costs, render_warnings

__all__ = [
    "classic_rows",
    "compare_interpreters",
    "render_classic",
    "render_group_tables",
    "render_interpreter_comparison",
    "render_iteration_costs",
    "render_warnings",
    "write_json_atomic",
]
