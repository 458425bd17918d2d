"""The classic table's optional JVM threads column: there when jvm-threads rows ran, else absent."""

from __future__ import annotations

import copy
import io
from typing import Any

from rich.console import Console

from gilwise._report import classic_rows, render_classic
from gilwise._report.html_tables import classic_table
from sample_documents import default_document


def _with_jvm_rows(document: dict[str, Any]) -> dict[str, Any]:
    """The sqrt_log threads row of a real run, re-labelled as the JVM's serial and ×2 cells."""
    threads = next(r for r in document["results"] if (r["workload"], r["model"]) == ("sqrt_log", "threads"))
    serial = {**copy.deepcopy(threads), "impl": "jvm", "model": "serial", "workers": 1}
    jvm = {**copy.deepcopy(threads), "impl": "jvm", "model": "jvm-threads"}
    jvm["speedup_paired"] = {"median": 1.85, "min": 1.8, "max": 1.9, "values": [1.8, 1.85, 1.9]}
    jvm["cpu_busy_cores_mean"] = 1.93
    jvm["startup_s"] = {"median": 0.061, "min": 0.055, "max": 0.07, "values": [0.055, 0.061, 0.07]}
    document["results"] += [serial, jvm]
    return document


def _text(document: dict[str, Any]) -> str:
    buffer = io.StringIO()
    render_classic(Console(file=buffer, width=400), document)
    return " ".join(buffer.getvalue().split())


def test_no_jvm_column_when_no_jvm_threads_row_ran() -> None:
    document = default_document()
    assert all(len(cells) == 3 for _, cells in classic_rows(document))
    assert "JVM threads" not in _text(document)
    assert "JVM threads" not in classic_table(document)


def test_jvm_threads_rows_add_a_column_with_their_own_evidence() -> None:
    document = _with_jvm_rows(default_document())
    rows = dict(classic_rows(document))
    jvm = [cells[3] for cells in rows.values()]
    assert jvm[0].startswith("Yes: sqrt_log 1.85× on 2 workers") and jvm[0].endswith("1.93 busy cores")
    assert jvm[2] == "61.0 ms to start the JVM and warm its JIT; threads start inside each task"
    assert "the JVM heap" in jvm[3]
    text = _text(document)
    assert "JVM threads" in text and "C/C++ threads" in text
    assert "<th>JVM threads</th>" in classic_table(document)
