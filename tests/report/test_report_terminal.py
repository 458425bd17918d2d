"""The terminal tables say how sure each figure is: the interval, the uncertain mark, the
orchestrator's own CPU, USS per worker and the other load where the cell is judged."""

from __future__ import annotations

import copy
import io
import re

from rich.console import Console

from gilwise._report import fmt, render_group_tables
from gilwise._report.classic import render_classic
from gilwise._results.document import ResultDocument, ResultRow
from sample_documents import default_document


def _measured(document: ResultDocument, model: str) -> ResultRow:
    return next(r for r in document["results"] if r["model"] == model and r["status"] == "ok" and r["rounds"])


def _with_fidelity_fields(row: ResultRow, uncertain: bool) -> ResultRow:
    out = copy.deepcopy(row)
    out["speedup_paired"] = {"median": 1.8, "min": 1.5, "max": 2.0, "values": [1.5, 1.8, 2.0]}
    out["speedup_ci"] = {
        "low": 1.5,
        "high": 2.0,
        "level": 0.75,
        "target_level": 0.95,
        "rounds": 3,
        "half_width": 0.17,
        "method": "sign test",
    }
    out["speedup_uncertain"] = uncertain
    out["memory_per_worker"] = {"rss_bytes": 14 * 2**20, "pss_bytes": 3 * 2**20, "uss_bytes": 2**20}
    out["orchestrator_cpu_cores"] = {"median": 0.004, "min": 0.003, "max": 0.006, "values": [0.004]}
    return out


def test_interval_uncertain_mark_and_uss() -> None:
    document = default_document()
    row = _with_fidelity_fields(_measured(document, "processes"), uncertain=True)
    assert fmt.speedup_ci(row) == "1.80× [1.50–2.00] ?"
    assert fmt.worker_memory(row) == "1.0 MiB"
    steady = _with_fidelity_fields(row, uncertain=False)
    assert fmt.speedup_ci(steady) == "1.80× [1.50–2.00]"
    # A file written before intervals existed: the interval the harness would have stored (the
    # sign test over its paired ratios: [min–max] for 3 rounds, wider than ±10 % here, so ?).
    old = _measured(default_document(), "processes")
    assert fmt.speedup_ci(old) == fmt.paired(old.get("speedup_paired")) + " ?"
    assert fmt.worker_memory(old).endswith("RSS") or fmt.worker_memory(old) == "—"


def test_table_caption_states_level_orchestrator_and_unjudged_load() -> None:
    document = default_document()
    index = document["results"].index(_measured(document, "processes"))
    document["results"][index] = _with_fidelity_fields(document["results"][index], uncertain=True)
    short = _measured(document, "threads")
    short["other_cpu_note"] = "3 of 3 rounds shorter than 0.2 s: too short to tell other load"
    short["other_cpu_cores"] = {"median": None, "min": None, "max": None, "values": []}
    assert fmt.other_load(short) == "n/a"
    console = Console(file=io.StringIO(), width=220, record=True)
    render_group_tables(console, document)
    text = console.export_text()
    assert "75% interval of the median paired speedup" in text and "? = still wider than ±10 %" in text
    assert "gilwise's orchestrator used at most 0.60% of a core" in text
    assert f"other load {short['model']}×{short['workers']}: " in text
    assert "USS/worker" in text and "other load" in text


def test_names_with_brackets_print_literally() -> None:
    """Workload names, notes, interpreter paths and reasons are text, not rich markup."""
    document = default_document()
    path = "/opt/[red]py[/red]/bin/python"
    for rec in document["results"]:
        rec["workload"] = rec["workload"] + "[bold]"
        rec["notes"] = ["[dim]pinned"]
    second = copy.deepcopy(document["results"][:4])
    for rec in second:
        rec["interpreter"]["path"] = path
    document["results"] += second
    group = document["groups"][0]
    group.update(workload=group["workload"] + "[bold]", status="failed", reason="worker died [i]twice[/i]")
    console = Console(file=io.StringIO(), width=400, record=True)
    render_group_tables(console, document)
    render_classic(console, document)
    text = console.export_text()
    assert "sqrt_log[bold] [python] (cpu)" in text
    assert "threads ([dim]pinned)" in text
    assert f"— {path}" in text
    assert "group failed: worker died [i]twice[/i]" in text
    assert re.search(r"\w+\[bold\] \d+\.\d\d× on 2 workers", text)
