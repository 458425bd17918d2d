"""``gilwise serving``'s terminal table: one row per serving model, the columns that answer
"which model keeps the cheap route fast" first, the rest while the width allows."""

from __future__ import annotations

from rich.console import Console

from .._serving.document import ServingDocument
from .columns import TableColumn, dropped_note, fit_columns, fitted_table
from .fmt import mebibytes as _mib
from .fmt import milliseconds as _ms


def _interval(values: list[float] | None) -> str:
    return "—" if not values else f"{_ms(values[0])}–{_ms(values[1])}"


def print_serving(document: ServingDocument, console: Console) -> None:
    """The table, what it leaves out, the unavailable rows' reasons, and the verdict."""
    cheap = document["cheap_route"]
    heavy = [path for path in document["mix"] if path != cheap]
    registry = [
        TableColumn("model", 0, wraps=True, justify="left"),
        TableColumn("req/s", 0),
        TableColumn(f"{cheap} p99 ms", 0),
        TableColumn("p99 range", 3),
        TableColumn("× 1 proc", 2),
        *(TableColumn(f"{path} p99 ms", 1) for path in heavy),
        TableColumn("busy cores", 0),
        TableColumn("USS MiB", 4),
        TableColumn("PSS MiB", 0),
        TableColumn("start s", 5),
        TableColumn("workers", 6),
        TableColumn("GIL wait", 5),
        TableColumn("ingest ev/s", 7),
    ]
    rows = []
    notes = []
    for r in document["results"]:
        if r["status"] != "ok":
            notes.append(f"{r['model']}: {r['status']}: {r['reason']}")
            rows.append([r["model"], r["status"], *["—"] * (len(registry) - 2)])
            continue
        routes = r["routes"]
        ratio = routes[cheap]["p99_ratio_vs_baseline"]
        rows.append(
            [
                r["model"],
                f"{r['throughput_rps']:.1f}",
                _ms(routes[cheap]["p99_ms"]),
                _interval(routes[cheap]["p99_ms_interval"]),
                "—" if ratio is None else f"{ratio:.2f}",
                *(_ms(routes[path]["p99_ms"]) for path in heavy),
                "—" if r["busy_cores"] is None else f"{r['busy_cores']:.2f}",
                _mib(r["uss_bytes"]),
                _mib(r["pss_bytes"]),
                "—" if r["startup_s"] is None else f"{r['startup_s']:.1f}",
                str(r["workers"]),
                "—" if r["gil_wait_s_per_s"] is None else f"{r['gil_wait_s_per_s']:.3f}",
                "—" if r["ingest"] is None else f"{r['ingest']['events_per_s']:,.0f}",
            ]
        )
    mix = ", ".join(f"{path}={weight:g}" for path, weight in document["mix"].items())
    offered = {r["offered_rps"] for r in document["results"] if r["offered_rps"] is not None}
    rate = ", ".join(f"{o:g}" for o in sorted(offered)) or "sweep"
    console.print(
        f"gilwise serving: {document['app']}, mix {mix}, {rate} requests/s offered, "
        f"{document['duration_s']:g} s x {document['repeats']}; {document['client']}"
    )
    fitted = fit_columns(registry, rows, console.width)
    console.print(fitted_table(registry, rows, fitted))
    if fitted.dropped:
        console.print(dropped_note(fitted.dropped))
    for note in notes:
        console.print(note, markup=False)
    console.print(f"GIL wait: {document['gil_wait']}.", markup=False)
    for warning in document["warnings"]:
        console.print(f"warning: {warning}", markup=False)
    console.print(f"[bold]Verdict:[/bold] {document['verdict']}")
