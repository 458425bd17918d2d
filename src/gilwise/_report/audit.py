"""The ``gilwise audit`` document as a terminal table, worst findings first, then what to do.

The table answers "which distribution brings the GIL back, and through which module" in 80
columns; the fixes follow as wrapped paragraphs (a sentence never fits a cell), and the measured
cost of a re-enabled GIL, when ``--measure`` asked for it, closes the report.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from .._audit.document import AuditDocument, DistributionFinding, Measurement
from .columns import TableColumn, dropped_note, fit_columns, fitted_table

_STYLE = {
    "crash": "red",
    "gil-enabled": "red",
    "import-error": "red",
    "timeout": "yellow",
    "not-checked": "yellow",
    "ok": "green",
    "pure": "green",
}

AUDIT_COLUMNS: tuple[TableColumn, ...] = (
    TableColumn("distribution", 0, wraps=True, justify="left"),
    TableColumn("version", 0, justify="left"),
    TableColumn("status", 0, justify="left"),
    TableColumn("what happened", 0, min_width=12, wraps=True, justify="left"),
    TableColumn("kind", 1, justify="left"),
    TableColumn("direct", 2, justify="left"),
    TableColumn("wheel tags", 3, wraps=True, justify="left"),
)


def _row(finding: DistributionFinding) -> list[str]:
    style = _STYLE[finding["status"]]
    what = ", ".join(finding["gil_modules"]) if finding["gil_modules"] else finding["detail"]
    return [
        escape(finding["name"]),
        escape(finding["version"]),
        f"[{style}]{finding['status']}[/{style}]",
        escape(what),
        finding["kind"],
        "yes" if finding["direct"] else "no",
        escape(" ".join(finding["wheel_tags"]) or "-"),
    ]


def render_audit(console: Console, document: AuditDocument) -> None:
    target = document["target"]
    build = "free-threaded" if target["free_threaded"] else "GIL build"
    console.print(
        f"[bold]Audit[/bold] of {escape(target['path'])} ({target['version']}, {build}, wheels "
        f"{'/'.join(target['wheel_tags'])}): {len(document['distributions'])} distributions",
        highlight=False,
    )
    findings = document["distributions"]
    if findings:
        rows = [_row(f) for f in findings]
        fitted = fit_columns(AUDIT_COLUMNS, rows, console.width)
        console.print(fitted_table(AUDIT_COLUMNS, rows, fitted))
        if fitted.dropped:
            console.print(dropped_note(fitted.dropped, "--json PATH has every field"), highlight=False)
    for finding in findings:
        if finding["fix"]:
            console.print(
                f"[bold]{escape(finding['name'])}[/bold]: {escape(finding['detail'])}. "
                f"Fix: {escape(finding['fix'])}",
                highlight=False,
            )
    for note in document["notes"]:
        console.print(f"  • {escape(note)}", highlight=False)
    if "measure" in document:
        render_measurement(console, document["measure"])


def render_measurement(console: Console, measurement: Measurement) -> None:
    console.print(
        f"[bold]{escape(measurement['target'])}[/bold] under {measurement['threads']} threads vs "
        f"serial ({measurement['calls']} calls per cell), paired per round:",
        highlight=False,
    )
    for build in measurement["builds"]:
        speedup = build["speedup"]
        interval = build["interval"]
        figure = "no figure" if speedup is None else f"{speedup:.2f}×"
        if interval is not None:
            figure += f" [{interval['low']:.2f}–{interval['high']:.2f}] at {interval['level']:.0%}"
        # Each round's ratio is in the JSON: here, one line per build fits 80 columns.
        rounds = len(build["ratios"])
        console.print(f"  {escape(build['label']):<22} {figure}, {rounds} paired rounds", highlight=False)
    for note in measurement["notes"]:
        console.print(f"  • {escape(note)}", highlight=False)
