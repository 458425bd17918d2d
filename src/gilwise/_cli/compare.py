"""``gilwise compare A B`` / ``--baseline history[:N] B``: a row-by-row regression gate for CI.

A serial row is judged by its wall times (relative to the anchor loop of the same round in
``bench --anchor`` runs); a parallel row by its wall time relative to the serial cell of the
same round of the same run (paired, as speedups are: it cancels the machine's speed drift
between runs), falling back to wall times where a run has no serial row. Rounds beside other
load are left out (``_results.bases``). With
``--baseline history[:N]`` B is judged against the spread of the last N comparable runs in the
history instead of one run's repeats: the machine's between-run drift, measured.

One decision per comparison: Holm over every row tested (one basis a row), so a same-code pair says
REGRESSION at most --alpha of the time; a row regresses when the lower confidence bound of its
change clears --threshold.

Exit codes: 0 no row regressed, and every row could have shown a --must-detect slowdown, 1 some
row got slower beyond noise (or newly failed), 2 bad usage (unknown history id, unreadable file,
bad threshold), 3 inconclusive: no row regressed, but some rows could not have caught a
--must-detect slowdown (too few repeats, too noisy); the output names them with the smallest
slowdown they could have detected.
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
from .._results.baseline import DEFAULT_WINDOW, EarlierRun, comparable_runs, compare_with_history
from .._results.causes import percent_text
from .._results.compare import (
    ALPHA,
    MUST_DETECT,
    THRESHOLD,
    Comparison,
    Gate,
    RowChange,
    compare_documents,
)
from .._results.drift import ASSUMED_DRIFT, MIN_RUNS
from .._results.files import check_output_target, write_output_json
from .._results.history import ENV_VAR, History, history_run_id, load_result, resolve_history_path
from .console import add_wide_flag, stdout_console
from .exit_codes import EXIT_INCONCLUSIVE

STYLES = {
    "slower": "bold red",
    "failed": "bold red",
    "faster": "green",
    "fixed": "green",
    "within noise": "yellow",
    "inconclusive": "yellow",
    "unchanged": "dim",
}
"""No row regressed, but some rows' repeats could not have shown a --threshold slowdown."""

_BASIS_CELL = {
    "relative to serial": "÷ serial",
    "relative to anchor": "÷ anchor",
    "wall": "wall",
}
"""What the compare table's `of` column says each basis was."""


def add_compare_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        description="Compare every row (workload, impl, model, workers, interpreter version) of run "
        "B against run A (or, with --baseline history[:N], against the spread of the last N "
        "comparable runs in the history), with one decision for all rows: a row is slower when "
        "the lower confidence bound of its change (a t test on the logs of its rounds without "
        f"other load, with a {ASSUMED_DRIFT:.0%} between-run drift assumed; a parallel row's values: "
        "its wall time "
        "over the same round's serial cell, a serial row of a bench --anchor run: over the same "
        "round's anchor loop) is above --threshold, with Holm's correction over all rows at "
        "--alpha. Exit 0 when no row regressed and every row "
        "could have caught a --must-detect slowdown, 1 when some row is slower (or was measured "
        "in A and failed in B), 2 for bad usage, 3 when no row regressed but some could not have "
        "caught such a slowdown (inconclusive: the smallest detectable slowdown is given).",
    )
    p.add_argument("a", metavar="A", help="baseline: a result JSON file, a history id, or 'latest'")
    p.add_argument(
        "b", metavar="B", nargs="?", help="candidate: a result JSON file, a history id, or 'latest'"
    )
    p.add_argument(
        "--baseline",
        metavar="history[:N]",
        help="judge B (then the only run given) against the spread of the last N comparable runs in "
        f"the history (default N {DEFAULT_WINDOW}): the machine's between-run drift, measured",
    )
    p.add_argument(
        "--must-detect",
        type=float,
        default=MUST_DETECT * 100,
        metavar="PCT",
        help="a row whose repeats could not have caught a slowdown this large, in percent, is "
        f"inconclusive (default {MUST_DETECT * 100:g})",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=THRESHOLD * 100,
        metavar="PCT",
        help="smallest slowdown that counts, in percent: a row regresses when the lower confidence "
        f"bound of its change is above it (default {THRESHOLD * 100:g})",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=ALPHA,
        metavar="P",
        help=f"family-wise significance level, for all rows together (default {ALPHA:g})",
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
        "must_detect": comparison.must_detect,
        "family": comparison.family,
        "baseline": comparison.baseline,
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
        _p_cell(row),
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
            f"(slower = change ≥ {comparison.threshold:.0%} with confidence, family-wise "
            f"p ≤ {comparison.alpha:g}; "
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


def _p_cell(row: RowChange) -> str:
    """The row's Holm-adjusted p (what is compared with alpha), or its raw p in older objects."""
    p = row.p_adjusted if row.p_adjusted is not None else row.p_slower
    return "—" if p is None else f"{p:.3f}"


def _detects(row: RowChange) -> str:
    """The smallest slowdown the row's repeats could have shown ("never": too few repeats)."""
    if row.change is None:
        return "—"
    return "never" if row.detectable is None else f"≥ {percent_text(row.detectable)}"


def _describe(row: RowChange) -> str:
    if row.verdict == "failed":
        return f"{row.key.label()}: {row.note}"
    low = "" if row.change_low is None else f"at least {_pct(row.change_low)} with confidence, "
    p = row.p_adjusted if row.p_adjusted is not None else row.p_slower
    return f"{row.key.label()}: {_pct(row.change)} ({low}{row.basis}, adjusted p = {p:.3g})"


def _baseline_window(spec: str) -> int:
    """N from ``history`` / ``history:N``."""
    name, _, count = spec.partition(":")
    if name != "history" or (count and not (count.isdigit() and int(count) >= MIN_RUNS)):
        raise UsageError(
            f"--baseline {spec!r} is not understood: give 'history' (the last {DEFAULT_WINDOW} "
            f"comparable runs) or 'history:N' with N ≥ {MIN_RUNS}, e.g. --baseline history:10"
        )
    return int(count) if count else DEFAULT_WINDOW


def _compare(args: argparse.Namespace, gate: Gate) -> tuple[Comparison, str, str]:
    """The comparison the arguments ask for, with the labels of its two sides."""
    history = resolve_history_path(args.history)
    if args.baseline is None:
        if args.b is None:
            raise UsageError(
                "compare needs two runs, A B, or one with a history baseline: "
                "gilwise compare --baseline history:10 latest"
            )
        label_a, doc_a = load_result(args.a, history)
        label_b, doc_b = load_result(args.b, history)
        return compare_documents(doc_a, doc_b, gate.threshold, gate.alpha, gate.must_detect), label_a, label_b
    if args.b is not None:
        raise UsageError(f"--baseline {args.baseline} takes one run, B; got two ({args.a}, {args.b})")
    window = _baseline_window(args.baseline)
    label_b, doc_b = load_result(args.a, history)
    if not history.exists():
        raise UsageError(
            f"--baseline history needs a bench history, and there is none at {history}: "
            f"run `gilwise bench` a few times, or point --history / ${ENV_VAR} at it."
        )
    run_id = history_run_id(args.a, history)
    earlier = (EarlierRun(i, doc) for i, doc in History.for_reading(history).documents(before_id=run_id))
    window_runs = comparable_runs(earlier, doc_b, window)
    return compare_with_history(window_runs, doc_b, gate), f"history[:{window}]", label_b


def run_compare_command(args: argparse.Namespace) -> int:
    if not 0 < args.threshold < 1000:
        raise UsageError(f"--threshold {args.threshold:g} is out of range: give a percentage above 0")
    if not 0 < args.alpha < 1:
        raise UsageError(f"--alpha {args.alpha:g} is out of range: give a probability between 0 and 1")
    if not args.must_detect > 0:
        raise UsageError(f"--must-detect {args.must_detect:g} is out of range: give a percentage above 0")
    if args.json:
        check_output_target("--json", args.json)
    gate = Gate(args.threshold / 100, args.alpha, args.must_detect / 100)
    comparison, label_a, label_b = _compare(args, gate)
    if args.json:
        write_output_json("--json", args.json, comparison_json(comparison, label_a, label_b))
    out = stdout_console(args.wide)
    _print_table(out, comparison, label_a, label_b)
    out.print(escape(_decision_line(comparison)), highlight=False)
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
            f"{compared} row(s) could not have caught a {percent_text(comparison.must_detect)} slowdown:",
            highlight=False,
        )
        for row in unsure:
            out.print(f"  • {escape(row.key.label())}: {escape(row.note)}", highlight=False)
        out.print(
            "  To decide: rerun both sides with more --repeats (and bench --anchor) on a quiet machine, "
            "judge B against the history's between-run spread (--baseline history), or accept a "
            "larger --must-detect.",
            highlight=False,
        )
        return EXIT_INCONCLUSIVE
    out.print(
        f"[green]clean:[/green] no row of {compared} compared got ≥ {comparison.threshold:.0%} slower "
        f"beyond noise, and each could have caught a {percent_text(comparison.must_detect)} slowdown.",
        highlight=False,
    )
    return 0


def _decision_line(comparison: Comparison) -> str:
    """How the comparison decided: against what, by which test, over how many hypotheses."""
    tests = sorted({r.test for r in comparison.rows if r.test})
    return (
        f"decided against {comparison.baseline} by {'; '.join(tests) or 'no test'}: one decision at "
        f"alpha {comparison.alpha:g} for all {comparison.family} tests (p column: Holm-adjusted); a row is "
        f"slower when the lower confidence bound of its change is ≥ {percent_text(comparison.threshold)}."
    )
