"""HTML tables of the report: per-group summary, every JSON row, classic comparison, metadata."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._results.document import (
    InterpreterEntry,
    Machine,
    ResultDocument,
    ResultRow,
    Summary,
    interpreter_label,
)
from .._results.headline import headline_speedup
from . import fmt
from .classic import classic_rows, columns_for
from .svg import esc


def row_key(rec: ResultRow) -> str:
    """Identifies one result row; every row of the JSON carries it as ``data-row`` in the page."""
    return f"{rec['workload']}|{rec['impl']}|{rec['model']}|{rec['workers']}|{rec['interpreter']['path']}"


def _table(headers: Sequence[str], rows: Sequence[str], css_class: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _tr(cells: Sequence[str], attrs: str = "") -> str:
    return f"<tr{attrs}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _cores(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _median(summary: Summary | None, render: Callable[[float | None], str] = fmt.seconds) -> str:
    return esc(render(summary["median"] if summary else None))


def model_text(rec: ResultRow) -> str:
    notes = rec.get("notes") or []
    return str(rec["model"]) + (f" ({', '.join(notes)})" if notes else "")


def _headline_cell(rec: ResultRow) -> str:
    """The headline in bold and, beside it, the interval it lies in (the terminal's figures)."""
    interval = fmt.interval_text(rec)
    speedup = f"<b>{esc(fmt.ratio(headline_speedup(rec)))}</b>"
    return f"{speedup} {esc(interval)}" if interval else speedup


def group_table(records: list[ResultRow]) -> str:
    rows = []
    for rec in records:
        attrs = f' data-row="{esc(row_key(rec))}"'
        if rec["status"] != "ok" or not rec.get("rounds"):
            reason = esc(f"{rec['status']}: {rec.get('reason') or 'not measured'}")
            rows.append(
                f"<tr{attrs} class='not-measured'><td>{esc(rec['model'])}</td><td>{rec['workers']}</td>"
                f"<td colspan='7'>{reason}</td></tr>"
            )
            continue
        rows.append(
            _tr(
                [
                    esc(model_text(rec)),
                    str(rec["workers"]),
                    esc(fmt.spread(rec["wall_s"])),
                    _headline_cell(rec),
                    esc(fmt.efficiency(rec)),
                    esc(_cores(rec["cpu_busy_cores_mean"])),
                    _median(rec.get("startup_s")),
                    _median(rec.get("dispatch_s")),
                    esc(fmt.worker_memory(rec)),
                ],
                attrs,
            )
        )
    headers = (
        "model",
        "workers",
        "wall time (median ±)",
        "speedup [CI]",
        "efficiency",
        "busy cores",
        "start-up",
        "dispatch",
        "USS / worker",
    )
    return _table(headers, rows, "group")


FULL_HEADERS = (
    "#",
    "workload",
    "impl",
    "kind",
    "model",
    "workers",
    "Python",
    "tasks × size",
    "status",
    "wall median",
    "wall min–max",
    "wall per repeat",
    "speedup [CI]",
    "paired per round (median [min–max])",
    "efficiency",
    "busy cores",
    "worker CPU cores",
    "CPU-s",
    "start-up",
    "dispatch",
    "compute",
    "shutdown",
    "peak RSS",
    "memory / worker",
    "ns / iteration",
    "other load (max cores)",
    "reason / notes",
)


def full_table(records: list[ResultRow]) -> str:
    """Every row of the result JSON, measured or not, with its raw repeat values."""
    rows = []
    for index, rec in enumerate(records, 1):
        wall = rec["wall_s"]
        python = interpreter_label(rec["interpreter"])
        load = rec.get("other_cpu_cores")
        other = load["max"] if load else None
        notes = "; ".join(x for x in [rec.get("reason") or "", ", ".join(rec.get("notes") or [])] if x)
        ns = rec.get("ns_per_iteration")
        rows.append(
            _tr(
                [
                    str(index),
                    esc(rec["workload"]),
                    esc(rec["impl"]),
                    esc(rec["kind"]),
                    esc(rec["model"]),
                    str(rec["workers"]),
                    f'<span title="{esc(rec["interpreter"]["path"])}">{esc(python)}</span>',
                    esc(f"{rec['tasks']} × {rec['size']:,} {rec.get('size_unit', '')}".strip()),
                    esc(rec["status"]),
                    esc(fmt.seconds(wall.get("median"))),
                    esc(f"{fmt.seconds(wall.get('min'))} – {fmt.seconds(wall.get('max'))}"),
                    esc(", ".join(fmt.seconds(v) for v in wall.get("values") or [])),
                    _headline_cell(rec),
                    esc(fmt.paired(rec.get("speedup_paired"))),
                    esc(fmt.efficiency(rec)),
                    esc(_cores(rec.get("cpu_busy_cores_mean"))),
                    esc(_cores(rec.get("worker_cpu_cores_mean"))),
                    _median(rec.get("cpu_s"), lambda v: "—" if v is None else f"{v:.3f}"),
                    _median(rec.get("startup_s")),
                    _median(rec.get("dispatch_s")),
                    _median(rec.get("compute_s")),
                    _median(rec.get("shutdown_s")),
                    esc(fmt.size_bytes(rec.get("peak_rss_bytes"))),
                    esc(fmt.size_bytes(rec.get("memory_per_worker_bytes"))),
                    "—" if ns is None else f"{ns:.1f}",
                    esc(_cores(other)),
                    esc(notes or "—"),
                ],
                f' data-row="{esc(row_key(rec))}" class="status-{esc(rec["status"])}"',
            )
        )
    return _table(FULL_HEADERS, rows, "full")


def classic_table(document: ResultDocument) -> str:
    rows = [_tr([f"<b>{esc(row)}</b>", *(esc(c) for c in cells)]) for row, cells in classic_rows(document)]
    return _table(["", *(c.title for c in columns_for(document["results"]))], rows, "classic")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return "—" if value is None else str(value)


def key_value_table(items: Sequence[tuple[str, Any]]) -> str:
    rows = [f"<tr><th scope='row'>{esc(k)}</th><td>{esc(_value(v))}</td></tr>" for k, v in items]
    return f"<table class='kv'><tbody>{''.join(rows)}</tbody></table>"


def machine_table(machine: Machine) -> str:
    items: list[tuple[str, Any]] = []
    fields: Mapping[str, Any] = machine  # older documents may carry other keys: show them all
    for key, value in fields.items():
        if key == "memory_bytes":
            items.append(("memory", fmt.size_bytes(value)))
        elif key == "load_average":
            items.append(("load average (1, 5, 15 min) at start", ", ".join(f"{v:.2f}" for v in value)))
        else:
            items.append((key.replace("_", " "), value))
    return key_value_table(items)


def interpreters_table(interpreters: list[InterpreterEntry]) -> str:
    keys: list[str] = []
    for interp in interpreters:
        keys += [k for k in interp if k not in keys]
    as_mappings: list[Mapping[str, object]] = list(interpreters)
    rows = [_tr([esc(_value(interp.get(k))) for k in keys]) for interp in as_mappings]
    return _table([k.replace("_", " ") for k in keys], rows, "interpreters")
