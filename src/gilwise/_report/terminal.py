"""Per-group terminal tables: model × workers with time, paired speedup, CPU and memory."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._harness.records import OTHER_LOAD_WARN_CORES, SPREAD_WARN
from .._harness.stats import relative_spread
from . import fmt
from .interpreters import REENABLED_NOTE, build_text, label


def _group_key(rec: dict[str, Any]) -> tuple[str, str, str]:
    return (rec["workload"], rec["impl"], rec["interpreter"]["path"])


def render_group_tables(console: Console, document: dict[str, Any]) -> None:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in document["results"]:
        groups[_group_key(rec)].append(rec)
    group_meta = {(g["workload"], g["impl"], g["interpreter"]): g for g in document.get("groups", [])}
    several = len({rec["interpreter"]["path"] for rec in document["results"]}) > 1
    for key, records in groups.items():
        first = records[0]
        # Any cell whose workers reported the GIL on at run time marks the whole group.
        interp = {
            **first["interpreter"],
            "gil_enabled": any(r["interpreter"]["gil_enabled"] for r in records),
        }
        build = build_text(interp)
        meta = group_meta.get(key, {})
        title = (
            (f"[{label(interp)}] " if several else "")
            + f"{first['workload']} [{first['impl']}] ({first['kind']}) — {first['tasks']} tasks × "
            f"{first['size']:,} {first['size_unit']} — Python {label(interp)} ({build})"
            + (f" — {interp['path']}" if several else "")
        )
        table = Table(title=escape(title), title_justify="left", header_style="bold")
        for column in (
            "model",
            "workers",
            "wall (median ±)",
            "speedup (paired)",
            "effic.",
            "busy cores",
            "CPU-s",
            "start-up",
            "dispatch",
            "mem/worker",
            "ns/iter",
        ):
            table.add_column(column, justify="left" if column == "model" else "right")
        for rec in records:
            if rec["status"] != "ok" or not rec.get("rounds"):
                reason = rec.get("reason") or "not measured"
                table.add_row(
                    rec["model"], str(rec["workers"]), f"[dim]{escape(rec['status'] + ': ' + reason)}[/dim]"
                )
                continue
            table.add_row(
                rec["model"] + (f" ({', '.join(rec['notes'])})" if rec.get("notes") else ""),
                str(rec["workers"]),
                fmt.spread(rec["wall_s"]) + (" ⚠" if _noisy(rec) else ""),
                fmt.paired(rec.get("speedup_paired")),
                _efficiency(rec),
                "—" if rec["cpu_busy_cores_mean"] is None else f"{rec['cpu_busy_cores_mean']:.2f}",
                f"{rec['cpu_s']['median']:.2f}",
                fmt.seconds(rec["startup_s"]["median"]),
                fmt.seconds(rec["dispatch_s"]["median"]),
                fmt.size_bytes(rec.get("memory_per_worker_bytes")),
                "—" if rec.get("ns_per_iteration") is None else f"{rec['ns_per_iteration']:.1f}",
            )
        if meta.get("resource"):
            table.caption = meta["resource"]
        if interp["free_threaded"] and interp["gil_enabled"]:
            table.caption = escape(REENABLED_NOTE)
        if meta.get("status") == "failed":
            table.caption = f"[red]group failed: {meta.get('reason')}[/red]"
        console.print(table)
    if any(_noisy(r) for r in document["results"] if r["status"] == "ok" and r.get("rounds")):
        console.print("⚠ = the machine was busy or the repeats disagreed during that cell: see warnings")


def _efficiency(rec: dict[str, Any]) -> str:
    speedup = fmt.shown_speedup(rec)
    return "—" if speedup is None else f"{speedup / rec['workers']:.0%}"


def render_iteration_costs(console: Console, document: dict[str, Any]) -> None:
    """Serial cost per loop iteration of each implementation, and its ratio to the slowest."""
    serial = [
        r
        for r in document["results"]
        if r["model"] == "serial" and r["status"] == "ok" and r.get("ns_per_iteration")
    ]
    by_workload: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in serial:
        by_workload[f"{rec['workload']} on {label(rec['interpreter'])}"].append(rec)
    for name, records in by_workload.items():
        if len(records) < 2:
            continue
        slowest = max(r["ns_per_iteration"] for r in records)
        parts = [
            f"{r['impl']} {r['ns_per_iteration']:.1f} ns ({slowest / r['ns_per_iteration']:.0f}×)"
            for r in sorted(records, key=lambda r: -r["ns_per_iteration"])
        ]
        console.print(escape(f"Cost per iteration, {name}, serial: " + ", ".join(parts)))


def _noisy(rec: dict[str, Any]) -> bool:
    other = (rec.get("other_cpu_cores") or {}).get("max") or 0.0
    return bool(other > OTHER_LOAD_WARN_CORES or relative_spread(rec["wall_s"]["values"]) >= SPREAD_WARN)


def render_warnings(console: Console, document: dict[str, Any]) -> None:
    warnings = document.get("warnings", [])
    if not warnings:
        return
    console.print("[bold yellow]Warnings[/bold yellow]")
    for warning in warnings:
        console.print(f"  • {escape(warning['message'])}", highlight=False)
