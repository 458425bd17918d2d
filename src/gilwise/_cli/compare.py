"""``gilwise compare A B``: a row-by-row regression check, usable as a CI gate.

A serial row is judged by its wall times; a parallel row by its wall time relative to the
serial cell of the same round of the same run (paired, as speedups are: it cancels the machine's
speed drift between runs), falling back to wall times where a run has no serial row.

Exit codes: 0 no significant change (no row regressed, and every row's repeats could have shown
a --threshold slowdown), 1 some row got slower beyond noise (or newly failed), 2 bad usage
(unknown history id, unreadable file, bad threshold), 3 inconclusive: no row regressed, but the
repeats of some rows could not have detected a --threshold slowdown (too few, or too noisy);
the output names them with the smallest change they could have detected.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.markup import escape

from .._exceptions import UsageError
from .._report import fmt
from .._report.columns import TableColumn, dropped_note, fit_columns, fitted_table
from .._results.compare import ALPHA, THRESHOLD, Comparison, RowChange, compare_documents, percent_text
from .._results.files import check_output_target, write_json_atomic
from .._results.history import ENV_VAR, load_result, resolve_history_path
from .console import add_wide_flag, stdout_console

STYLES = {
    "slower": "bold red",
    "failed": "bold red",
    "faster": "green",
    "fixed": "green",
    "within noise": "yellow",
    "inconclusive": "yellow",
    "unchanged": "dim",
}
EXIT_INCONCLUSIVE = 3
"""No row regressed, but some rows' repeats could not have shown a --threshold slowdown."""

_BASIS_CELL = {"relative to serial": "÷ serial", "per CPU second": "÷ CPU s", "wall": "wall"}
"""What the compare table's `of` column says each basis was."""


def add_compare_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        description="Compare the median wall time of every row (workload, impl, model, workers, "
        "interpreter version) of run B against run A, with a one-sided Mann-Whitney U test on the "
        "repeat values (a parallel row's: its wall time over the same round's serial cell, which "
        "cancels the machine's speed drift between runs). Exit 0 when no row changed significantly "
        "and every row could have shown a --threshold slowdown, 1 when some row got at least "
        "--threshold slower with p <= --alpha (or was measured in A and failed in B), 2 for bad "
        "usage, 3 when no row regressed but some rows' repeats were too few or too noisy to detect "
        "a --threshold slowdown (inconclusive: the smallest detectable change is given).",
    )
    p.add_argument("a", metavar="A", help="baseline: a result JSON file, a history id, or 'latest'")
    p.add_argument("b", metavar="B", help="candidate: a result JSON file, a history id, or 'latest'")
    p.add_argument(
        "--threshold",
        type=float,
        default=THRESHOLD * 100,
        metavar="PCT",
        help=f"smallest slowdown that counts, in percent (default {THRESHOLD * 100:g})",
    )
    p.add_argument(
        "--alpha", type=float, default=ALPHA, metavar="P", help=f"significance level (default {ALPHA:g})"
    )
    p.add_argument("--history", metavar="PATH", help=f"history file for ids (default: ${ENV_VAR} or XDG)")
    p.add_argument("--json", metavar="PATH", help="also write the comparison as JSON (gilwise.compare/1)")
    add_wide_flag(p)
    p.set_defaults(handler=run_compare_command)


def comparison_json(comparison: Comparison, label_a: str, label_b: str) -> dict[str, Any]:
    return {
        "schema": "gilwise.compare/1",
        "a": label_a,
        "b": label_b,
        "threshold": comparison.threshold,
        "alpha": comparison.alpha,
        "regression": bool(comparison.regressions),
        "outcome": comparison.outcome,
        "rows": [
            {**asdict(row.key), **{k: v for k, v in asdict(row).items() if k != "key"}}
            for row in comparison.rows
        ],
        "regressions": [row.key.label() for row in comparison.regressions],
        "inconclusive": [row.key.label() for row in comparison.inconclusive],
        "notes": comparison.notes,
    }


def _pct(change: float | None) -> str:
    return "—" if change is None else f"{change:+.1%}"


COMPARE_COLUMNS = (
    TableColumn("workload", 0, wraps=True, justify="left"),
    TableColumn("model", 0, wraps=True, justify="left"),
    TableColumn("workers", 0),
    TableColumn("Python", 7, justify="left"),
    TableColumn("A median", 4),
    TableColumn("B median", 4),
    TableColumn("change", 0),
    TableColumn("of", 1, justify="left"),
    TableColumn("p", 3),
    TableColumn("detects", 6),
    TableColumn("speedup A → B", 2),
    TableColumn("verdict", 0, wraps=True, justify="left"),
)
"""The compare table, in display order: which row, its change and the verdict always; the basis
of the change, the headline speedups, p, the medians as the width allows (``--wide``: all)."""


def _row_cells(row: RowChange, note_number: int | None) -> list[str]:
    k = row.key
    style = STYLES.get(row.verdict, "")
    verdict = f"[{style}]{row.verdict}[/{style}]" if style else row.verdict
    if note_number is not None:
        verdict += f" [dim]\\[{note_number}][/dim]"
    return [
        escape(f"{k.workload}[{k.impl}]"),
        escape(k.model),
        str(k.workers),
        escape(k.python),
        fmt.seconds(row.a_median),
        fmt.seconds(row.b_median),
        _pct(row.change),
        _BASIS_CELL.get(row.basis, row.basis),
        "—" if row.p_slower is None else f"{row.p_slower:.3f}",
        _detects(row),
        f"{fmt.ratio(row.a_speedup)} → {fmt.ratio(row.b_speedup)}",
        verdict,
    ]


def _print_table(out: Console, comparison: Comparison, label_a: str, label_b: str) -> None:
    """The title, the table fitted to the width, then the notes of the rows that the summary
    below does not list (numbered in the verdict cell, which wrapped them dozens of lines tall)."""
    out.print(
        escape(
            f"{label_b} against {label_a}: median wall time per row "
            f"(slower = ≥ {comparison.threshold:.0%} and p ≤ {comparison.alpha:g}; "
            "a parallel row's change is of its time ÷ the same round's serial cell)"
        ),
        highlight=False,
    )
    listed = comparison.regressions or comparison.inconclusive
    notes = [row for row in comparison.rows if row.note and row not in listed]
    rows = [_row_cells(row, notes.index(row) + 1 if row in notes else None) for row in comparison.rows]
    fitted = fit_columns(COMPARE_COLUMNS, rows, out.width)
    out.print(fitted_table(COMPARE_COLUMNS, rows, fitted))
    for number, row in enumerate(notes, 1):
        out.print(f"  [dim]\\[{number}] {escape(row.key.label())}: {escape(row.note)}[/dim]", highlight=False)
    if fitted.dropped:
        out.print(
            f"[dim]{escape(dropped_note(fitted.dropped, also='so does --json'))}[/dim]", highlight=False
        )


def _detects(row: RowChange) -> str:
    """The smallest slowdown the row's repeats could have shown ("never": too few repeats)."""
    if row.change is None:
        return "—"
    return "never" if row.detectable is None else f"≥ {percent_text(row.detectable)}"


def _describe(row: RowChange) -> str:
    if row.verdict == "failed":
        return f"{row.key.label()}: {row.note}"
    return f"{row.key.label()}: {_pct(row.change)} (p = {row.p_slower:.3f})"


def run_compare_command(args: argparse.Namespace) -> int:
    if not 0 < args.threshold < 1000:
        raise UsageError(f"--threshold {args.threshold:g} is out of range: give a percentage above 0")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha {args.alpha:g} is out of range: give a probability between 0 and 1")
    if args.json:
        check_output_target("--json", args.json)
    history = resolve_history_path(args.history)
    label_a, doc_a = load_result(args.a, history)
    label_b, doc_b = load_result(args.b, history)
    comparison = compare_documents(doc_a, doc_b, args.threshold / 100, args.alpha)
    if args.json:
        write_json_atomic(args.json, comparison_json(comparison, label_a, label_b))
    out = stdout_console(args.wide)
    _print_table(out, comparison, label_a, label_b)
    for note in comparison.notes:
        out.print(f"[yellow]note:[/yellow] {escape(note)}", highlight=False)
    regressions = comparison.regressions
    if regressions:
        out.print(
            f"[bold red]REGRESSION:[/bold red] {len(regressions)} row(s) got ≥ {comparison.threshold:.0%} "
            f"slower beyond noise or failed in B:",
            highlight=False,
        )
        for row in regressions:
            out.print(f"  • {escape(_describe(row))}", highlight=False)
        return 1
    compared = sum(1 for r in comparison.rows if r.change is not None)
    unsure = comparison.inconclusive
    if unsure:
        out.print(
            f"[bold yellow]INCONCLUSIVE:[/bold yellow] no row got slower beyond noise, but {len(unsure)} of "
            f"{compared} row(s) could not have shown a {comparison.threshold:.0%} slowdown:",
            highlight=False,
        )
        for row in unsure:
            out.print(f"  • {escape(row.key.label())}: {escape(row.note)}", highlight=False)
        out.print(
            "  Rerun both sides with more --repeats on a quiet machine, or gate on a --threshold "
            "those repeats can detect.",
            highlight=False,
        )
        return EXIT_INCONCLUSIVE
    out.print(
        f"[green]clean:[/green] no row of {compared} compared got ≥ {comparison.threshold:.0%} slower "
        "beyond noise, and each could have shown it.",
        highlight=False,
    )
    return 0
