"""Per-group terminal tables: model × workers with time, headline speedup, CPU and memory."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._results.document import GroupEntry, InterpreterRef, ResultDocument, ResultRow
from .._results.headline import headline_interval
from .._results.stats import OTHER_LOAD_WARN_CORES, SPREAD_WARN, relative_spread
from . import fmt
from .interpreters import REENABLED_NOTE, build_text, label


def _group_key(rec: ResultRow) -> tuple[str, str, str]:
    return (rec["workload"], rec["impl"], rec["interpreter"]["path"])


COLUMNS = (
    "model",
    "workers",
    "wall (median ±)",
    "speedup [CI]",
    "effic.",
    "busy cores",
    "CPU-s",
    "start-up",
    "dispatch (/task)",
    "USS/worker",
    "ns/iter",
    "other load",
)


def render_group_tables(console: Console, document: ResultDocument) -> None:
    groups: dict[tuple[str, str, str], list[ResultRow]] = defaultdict(list)
    for rec in document["results"]:
        groups[_group_key(rec)].append(rec)
    group_meta: dict[tuple[str, str, str], GroupEntry] = {
        (g["workload"], g["impl"], g["interpreter"]): g for g in document.get("groups", [])
    }
    several = len({rec["interpreter"]["path"] for rec in document["results"]}) > 1
    for key, records in groups.items():
        # Any cell whose workers reported the GIL on at run time marks the whole group.
        interp: InterpreterRef = {
            **records[0]["interpreter"],
            "gil_enabled": any(r["interpreter"]["gil_enabled"] for r in records),
        }
        title = escape(_title(records[0], interp, several))
        table = Table(title=title, title_justify="left", header_style="bold")
        for column in COLUMNS:
            table.add_column(column, justify="left" if column == "model" else "right")
        footnotes: list[str] = []
        for rec in records:
            if rec["status"] == "ok" and rec.get("rounds"):
                table.add_row(*_measured_cells(rec))
                continue
            reason = rec.get("reason") or "not measured"
            cell = f"{rec['status']}: {fmt.short_reason(reason)}"
            if fmt.short_reason(reason) != reason:
                if reason not in footnotes:
                    footnotes.append(reason)
                cell += f" [{footnotes.index(reason) + 1}]"
            table.add_row(escape(rec["model"]), str(rec["workers"]), f"[dim]{escape(cell)}[/dim]")
        table.caption = _caption(records, interp, group_meta.get(key))
        console.print(table)
        # The whole reason once, under the table: wrapped into a cell it made rows dozens of lines tall.
        for number, reason in enumerate(footnotes, 1):
            console.print(f"  [dim]\\[{number}] {escape(reason)}[/dim]", highlight=False)
    if any(_noisy(r) for r in document["results"] if r["status"] == "ok" and r.get("rounds")):
        console.print("⚠ = the machine was busy or the repeats disagreed during that cell: see warnings")


def _title(first: ResultRow, interp: InterpreterRef, several: bool) -> str:
    """What the group ran, under which Python (plain text: the caller escapes it)."""
    return (
        (f"[{label(interp)}] " if several else "")
        + f"{first['workload']} [{first['impl']}] ({first['kind']}) — {first['tasks']} tasks × "
        f"{first['size']:,} {first.get('size_unit', 'units')} — Python {label(interp)} "
        f"({build_text(interp)})" + (f" — {interp['path']}" if several else "")
    )


def _measured_cells(rec: ResultRow) -> list[str]:
    """One measured row, in ``COLUMNS`` order (rich markup: names escaped)."""
    return [
        escape(rec["model"] + (f" ({', '.join(rec['notes'])})" if rec.get("notes") else "")),
        str(rec["workers"]),
        fmt.spread(rec["wall_s"]) + (" ⚠" if _noisy(rec) else ""),
        fmt.speedup_ci(rec),
        fmt.efficiency(rec),
        "—" if rec["cpu_busy_cores_mean"] is None else f"{rec['cpu_busy_cores_mean']:.2f}",
        f"{rec['cpu_s']['median']:.2f}",
        fmt.seconds(rec["startup_s"]["median"]),
        _dispatch(rec),
        fmt.worker_memory(rec),
        "—" if rec.get("ns_per_iteration") is None else f"{rec['ns_per_iteration']:.1f}",
        fmt.other_load(rec) + (" ⚠" if _busy(rec) else ""),
    ]


def _caption(records: list[ResultRow], interp: InterpreterRef, meta: GroupEntry | None) -> str | None:
    """Under the table, as rich markup: a failed group's reason, else the re-enabled GIL, else
    the resource, the running cluster and how sure the figures are."""
    if meta and meta["status"] == "failed":
        return f"[red]{escape('group failed: ' + str(meta['reason']))}[/red]"
    if interp["free_threaded"] and interp["gil_enabled"]:
        return escape(REENABLED_NOTE)
    captions = [meta["resource"]] if meta and meta["resource"] else []
    running = sorted({r["model"] for r in records if r.get("wall_excludes_startup")})
    if running:
        # A cluster outlives one batch: its rows time the work on the running cluster.
        captions.append(
            f"{', '.join(running)}: wall, speedup and CPU are of the work on a running cluster; "
            "creating or joining the cluster is the start-up column, outside the wall time"
        )
    captions += _fidelity_notes(records)
    return escape("\n".join(captions)) if captions else None


def _dispatch(rec: ResultRow) -> str:
    """Dispatch of the batch, and the worker time per task not spent in the task."""
    text = fmt.seconds(rec["dispatch_s"]["median"])
    per_task = rec.get("overhead_per_task_s")
    if per_task is not None and per_task["median"] is not None:
        text += f" ({fmt.seconds(per_task['median'])})"
    return text


def _fidelity_notes(records: list[ResultRow]) -> list[str]:
    """How sure the row's figures are, said under the table rather than left to the JSON."""
    measured = [r for r in records if r["status"] == "ok" and r.get("rounds")]
    notes = []
    intervals = [ci for r in measured if (ci := headline_interval(r)) is not None]
    levels = sorted({ci["level"] for ci in intervals})
    if levels:
        level = f"{levels[0]:.0%}" if len(levels) == 1 else f"{levels[0]:.0%}–{levels[-1]:.0%}"
        notes.append(
            f"[CI]: {level} interval of the median paired speedup (sign test over the rounds); "
            "? = still wider than ±10 %"
        )
    own = [r["orchestrator_cpu_cores"]["max"] for r in measured if r.get("orchestrator_cpu_cores")]
    worst = max((v for v in own if v is not None), default=None)
    if worst is not None:
        notes.append(f"gilwise's orchestrator used at most {worst:.2%} of a core during any cell")
    short = [r for r in measured if r.get("other_cpu_note")]
    for rec in short:
        notes.append(f"other load {rec['model']}×{rec['workers']}: {rec['other_cpu_note']}")
    return notes


def _busy(rec: ResultRow) -> bool:
    load = rec.get("other_cpu_cores")
    return bool(load and (load["max"] or 0.0) > OTHER_LOAD_WARN_CORES)


def render_iteration_costs(console: Console, document: ResultDocument) -> None:
    """Serial cost per loop iteration of each implementation, and its ratio to the slowest."""
    by_workload: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for rec in document["results"]:
        cost = rec.get("ns_per_iteration")
        if rec["model"] == "serial" and rec["status"] == "ok" and cost:
            by_workload[f"{rec['workload']} on {label(rec['interpreter'])}"].append((rec["impl"], cost))
    for name, costs in by_workload.items():
        if len(costs) < 2:
            continue
        slowest = max(cost for _, cost in costs)
        parts = [
            f"{impl} {cost:.1f} ns ({slowest / cost:.0f}×)"
            for impl, cost in sorted(costs, key=lambda c: -c[1])
        ]
        console.print(escape(f"Cost per iteration, {name}, serial: " + ", ".join(parts)))


def _noisy(rec: ResultRow) -> bool:
    return _busy(rec) or relative_spread(rec["wall_s"]["values"]) >= SPREAD_WARN


def render_warnings(console: Console, document: ResultDocument) -> None:
    warnings = document.get("warnings", [])
    if not warnings:
        return
    console.print("[bold yellow]Warnings[/bold yellow]")
    for warning in warnings:
        console.print(f"  • {escape(warning['message'])}", highlight=False)
