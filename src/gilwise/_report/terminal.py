"""Per-group terminal tables: model × workers with time, headline speedup, CPU and memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from .._results.document import GroupEntry, InterpreterRef, ResultDocument, ResultRow
from .._results.headline import headline_interval
from .._results.stats import OTHER_LOAD_WARN_CORES, SPREAD_WARN, relative_spread
from . import fmt
from .columns import TableColumn, dropped_note, fit_columns, fitted_table
from .interpreters import REENABLED_NOTE, build_text, label


def _group_key(rec: ResultRow) -> tuple[str, str, str]:
    return (rec["workload"], rec["impl"], rec["interpreter"]["path"])


def _measured(rec: ResultRow) -> bool:
    return rec["status"] == "ok" and bool(rec.get("rounds"))


def _busy(rec: ResultRow) -> bool:
    load = rec.get("other_cpu_cores")
    return bool(load and (load["max"] or 0.0) > OTHER_LOAD_WARN_CORES)


def _noisy(rec: ResultRow) -> bool:
    return _busy(rec) or relative_spread(rec["wall_s"]["values"]) >= SPREAD_WARN


def _dispatch(rec: ResultRow) -> str:
    """Dispatch of the batch, and the worker time per task not spent in the task."""
    text = fmt.seconds(rec["dispatch_s"]["median"])
    per_task = rec.get("overhead_per_task_s")
    if per_task is not None and per_task["median"] is not None:
        text += f" ({fmt.seconds(per_task['median'])})"
    return text


def _wall(rec: ResultRow) -> str:
    return fmt.spread(rec["wall_s"]) + (" ⚠" if _noisy(rec) else "")


def _other_load(rec: ResultRow) -> str:
    return fmt.other_load(rec) + (" ⚠" if _busy(rec) else "")


MODEL_ABBREVIATIONS = {
    "processes-forkserver": "proc-fksrv",
    "processes-fork": "proc-fork",
    "processes-spawn": "proc-spawn",
    "interpreters": "interp",
    "cpp-threads": "cpp-thr",
}
"""Short model labels for a narrow console; a legend under the table spells each out once."""


def _model_cell(rec: ResultRow, short: bool) -> str:
    name = MODEL_ABBREVIATIONS.get(rec["model"], rec["model"]) if short else rec["model"]
    return escape(name + (f" ({', '.join(rec['notes'])})" if rec.get("notes") else ""))


def _busy_cores(rec: ResultRow) -> str:
    return "—" if rec["cpu_busy_cores_mean"] is None else f"{rec['cpu_busy_cores_mean']:.2f}"


def _ns_per_iteration(rec: ResultRow) -> str:
    return "—" if rec.get("ns_per_iteration") is None else f"{rec['ns_per_iteration']:.1f}"


GROUP_COLUMNS: tuple[tuple[TableColumn, Callable[[ResultRow], str]], ...] = (
    # The model cell depends on the width (abbreviated or not): ``_row_cells`` fills it.
    (TableColumn("model", 0, min_width=6, wraps=True, justify="left"), lambda rec: ""),
    (TableColumn("workers", 0), lambda rec: str(rec["workers"])),
    (TableColumn("wall (median ±)", 0), _wall),
    (TableColumn("speedup [CI]", 0), fmt.speedup_ci),
    (TableColumn("effic.", 6), fmt.efficiency),
    (TableColumn("busy cores", 0), _busy_cores),
    (TableColumn("CPU-s", 7), lambda rec: f"{rec['cpu_s']['median']:.2f}"),
    (TableColumn("start-up", 1), lambda rec: fmt.seconds(rec["startup_s"]["median"])),
    (TableColumn("dispatch (/task)", 2), _dispatch),
    (TableColumn("USS/worker", 3), fmt.worker_memory),
    (TableColumn("ns/iter", 4), _ns_per_iteration),
    (TableColumn("other load", 5), _other_load),
)
"""The per-group table, in display order: model, workers, wall time, speedup [interval] and busy
cores always (priority 0); the detail columns as the width allows, priority 1 first. The JSON
and HTML reports carry every figure whatever the width."""
COLUMNS = tuple(column.header for column, _ in GROUP_COLUMNS)
_REGISTRY = tuple(column for column, _ in GROUP_COLUMNS)


def render_group_tables(console: Console, document: ResultDocument) -> None:
    groups: dict[tuple[str, str, str], list[ResultRow]] = defaultdict(list)
    for rec in document["results"]:
        groups[_group_key(rec)].append(rec)
    group_meta: dict[tuple[str, str, str], GroupEntry] = {
        (g["workload"], g["impl"], g["interpreter"]): g for g in document.get("groups", [])
    }
    several = len({rec["interpreter"]["path"] for rec in document["results"]}) > 1
    explained: set[str] = set()
    dropped: set[str] = set()
    for key, records in groups.items():
        console.print(escape(_title(records[0], _group_interpreter(records), several)), highlight=False)
        dropped.update(_render_group(console, records, group_meta.get(key), explained))
    if any(_noisy(r) for r in document["results"] if _measured(r)):
        console.print("⚠ = the machine was busy or the repeats disagreed during that cell: see warnings")
    if dropped:
        note = dropped_note([header for header in COLUMNS if header in dropped])
        console.print(f"[dim]{escape(note)}[/dim]", highlight=False)


def _group_interpreter(records: list[ResultRow]) -> InterpreterRef:
    """Any cell whose workers reported the GIL on at run time marks the whole group."""
    return {
        **records[0]["interpreter"],
        "gil_enabled": any(r["interpreter"]["gil_enabled"] for r in records),
    }


def _render_group(
    console: Console, records: list[ResultRow], meta: GroupEntry | None, explained: set[str]
) -> tuple[str, ...]:
    """One group's table, its caption, reasons and legend; returns the columns left out.
    Model names are abbreviated only where the full ones leave no room; ``explained`` holds the
    abbreviations a legend already spelt out, so each is explained once."""
    footnotes = list(dict.fromkeys(r.get("reason") or "not measured" for r in records if not _measured(r)))
    rows = [_row_cells(rec, footnotes, short=False) for rec in records]
    fitted = fit_columns(_REGISTRY, rows, console.width)
    short = not fitted.fits
    if short:
        rows = [_row_cells(rec, footnotes, short=True) for rec in records]
        fitted = fit_columns(_REGISTRY, rows, console.width)
    console.print(fitted_table(_REGISTRY, rows, fitted))
    for line in _caption(records, _group_interpreter(records), meta):
        console.print(line, highlight=False)
    # The whole reason once, under the table: wrapped into a cell it made rows dozens of lines tall.
    for number, reason in enumerate(footnotes, 1):
        console.print(f"  [dim]\\[{number}] {escape(reason)}[/dim]", highlight=False)
    legend = sorted({r["model"] for r in records if short and r["model"] in MODEL_ABBREVIATIONS} - explained)
    if legend:
        explained.update(legend)
        pairs = ", ".join(f"{MODEL_ABBREVIATIONS[model]} = {model}" for model in legend)
        console.print(f"  [dim]{escape(pairs)}[/dim]", highlight=False)
    return fitted.dropped


def _row_cells(rec: ResultRow, footnotes: list[str], short: bool) -> list[str]:
    """One row, in ``GROUP_COLUMNS`` order (rich markup: names escaped); a row not measured
    says its status and the number of its reason, printed in full under the table."""
    if _measured(rec):
        cells = [cell(rec) for _, cell in GROUP_COLUMNS]
    else:
        number = footnotes.index(rec.get("reason") or "not measured") + 1
        cells = ["", str(rec["workers"]), f"[dim]{escape(rec['status'])} \\[{number}][/dim]"]
        cells += [""] * (len(GROUP_COLUMNS) - len(cells))
    cells[0] = _model_cell(rec, short)
    return cells


def _title(first: ResultRow, interp: InterpreterRef, several: bool) -> str:
    """What the group ran, under which Python (plain text: the caller escapes it)."""
    return (
        (f"[{label(interp)}] " if several else "")
        + f"{first['workload']} [{first['impl']}] ({first['kind']}) — {first['tasks']} tasks × "
        f"{first['size']:,} {first.get('size_unit', 'units')} — Python {label(interp)} "
        f"({build_text(interp)})" + (f" — {interp['path']}" if several else "")
    )


def _caption(records: list[ResultRow], interp: InterpreterRef, meta: GroupEntry | None) -> list[str]:
    """The lines under the table, as rich markup (printed as lines, they wrap at the console's
    width): a failed group's reason, else the re-enabled GIL, else the resource, the running
    cluster and how sure the figures are."""
    if meta and meta["status"] == "failed":
        return [f"[red]{escape('group failed: ' + str(meta['reason']))}[/red]"]
    if interp["free_threaded"] and interp["gil_enabled"]:
        return [escape(REENABLED_NOTE)]
    captions = [meta["resource"]] if meta and meta["resource"] else []
    running = sorted({r["model"] for r in records if r.get("wall_excludes_startup")})
    if running:
        # A cluster outlives one batch: its rows time the work on the running cluster.
        captions.append(
            f"{', '.join(running)}: wall, speedup and CPU are of the work on a running cluster; "
            "creating or joining the cluster is the start-up column, outside the wall time"
        )
    captions += _fidelity_notes(records)
    return [f"[dim]{escape(line)}[/dim]" for line in captions]


def _fidelity_notes(records: list[ResultRow]) -> list[str]:
    """How sure the row's figures are, said under the table rather than left to the JSON."""
    measured = [r for r in records if _measured(r)]
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


def render_warnings(console: Console, document: ResultDocument) -> None:
    warnings = document.get("warnings", [])
    if not warnings:
        return
    console.print("[bold yellow]Warnings[/bold yellow]")
    for warning in warnings:
        console.print(f"  • {escape(warning['message'])}", highlight=False)
