"""The ``gilwise advise`` verdict on the terminal, from its ``gilwise.advise/1`` document
(or the ``gilwise.advise-program/1`` one of a running program)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from .._advise.program_report import ProgramDocument
from .._advise.verdict import AdviseDocument, PredictionEntry, RecommendedEntry
from . import fmt
from .columns import TableColumn, dropped_note, fit_columns, fitted_table

MAX_ROWS_PER_MODEL = 4


def _code(code: str) -> Syntax:
    """The suggested code, wrapped rather than cut at the terminal's width: a cut line would be
    copied as broken code."""
    return Syntax(code, "python", theme="ansi_dark", background_color="default", word_wrap=True)


def _measured(p: PredictionEntry) -> str:
    if p["measured_speedup"] is None:
        return "—"
    lo, hi = p["measured_min"], p["measured_max"]
    spread = f" [{lo:.2f}–{hi:.2f}]" if lo is not None and hi is not None else ""
    return f"{p['measured_speedup']:.2f}×{spread}"


def _interval(p: PredictionEntry) -> str:
    ci = p["measured_ci"]
    if ci is None:
        return ""
    return f"{ci['low']:.2f}–{ci['high']:.2f} ({ci['level']:.0%})"


def _error(p: PredictionEntry) -> str:
    if p["measured_speedup"] is None or p["model"] == "serial":
        return ""
    return f"{(p['predicted_speedup'] - p['measured_speedup']) / p['measured_speedup']:+.0%}"


def _verdict_figures(rec: RecommendedEntry) -> str:
    """``threads×2 — measured 1.92× [1.89–2.33], predicted 1.40×``: the measurement decided."""
    workers = "" if rec["model"] == "serial" else f"×{rec['workers']}"
    ci = rec["measured_ci"]
    interval = f" [{ci['low']:.2f}–{ci['high']:.2f}]" if ci is not None else ""
    measured = (
        f"measured {rec['measured_speedup']:.2f}×{interval}, " if rec["measured_speedup"] is not None else ""
    )
    return f"{rec['model']}{workers} — {measured}predicted {rec['predicted_speedup']:.2f}×"


def _shown(predictions: list[PredictionEntry]) -> list[PredictionEntry]:
    """Every measured row, and per model its best few predictions (a 64-thread sweep is long)."""
    by_model: dict[tuple[str, str], list[PredictionEntry]] = {}
    for p in predictions:
        by_model.setdefault((p["model"], p["python"]), []).append(p)
    shown = []
    for rows in by_model.values():
        best = sorted(rows, key=lambda r: -r["predicted_speedup"])[:MAX_ROWS_PER_MODEL]
        shown += [r for r in rows if r in best or r["measured_speedup"] is not None]
    return shown


def render_advice(console: Console, doc: AdviseDocument) -> None:
    rec = doc["recommended"]
    base = doc["interpreters"][0]
    cores = doc["machine"]["usable_cores"]
    console.print(
        f"[bold]gilwise advise[/bold] {escape(doc['target'])} — a batch of {doc['calls']:,} calls "
        f"({fmt.seconds(doc['call_s'])} each, {fmt.seconds(doc['call_s'] * doc['calls'])} serial) "
        f"on {cores} usable cores, Python {escape(base['interpreter'])}",
        highlight=False,
    )
    load = doc.get("load")
    if load is not None and not load["conclusive"]:
        # No verdict: what was measured would blame the function for the machine's load.
        console.print(f"\n[bold yellow]{escape(load['note'])}[/bold yellow]", highlight=False)
    else:
        console.print(f"\n[bold green]Verdict: {escape(_verdict_figures(rec))}[/bold green]", highlight=False)
        console.print(f"Decided by the {rec['decided_by']}: {escape(rec['decision'])}.", highlight=False)
        console.print(escape(rec["reason"]), highlight=False)
        console.print(_code(rec["code"]))
    console.print(_probes_line(doc), highlight=False)
    _print_predictions(console, doc["predictions"])
    _print_bullets(console, "What would change the verdict", doc["would_change"])
    _print_bullets(console, "Notes", doc["notes"])
    console.print(f"[dim]{doc['elapsed_s']:.1f} s of a {doc['budget_s']:g} s budget[/dim]", highlight=False)


def _probes_line(doc: AdviseDocument) -> str:
    """What the probes measured: the figures every prediction in the table is computed from."""
    t = doc["transfer"]
    gil = doc["gil_held_fraction"]
    gil_text = (
        "no GIL"
        if gil is None
        else f"{gil:.0%}" + (" (assumed: CPU share)" if doc["gil_held_assumed"] else "")
    )
    return (
        f"Probes: CPU/wall {doc['cpu_wall_ratio']:.2f}, GIL held {gil_text}, arguments "
        f"{fmt.size_bytes(t['args_bytes'])} (pickle {fmt.seconds(t['args_dumps_s'])}), result "
        f"{fmt.size_bytes(t['result_bytes'])}"
        + (
            f", pool start-up ({t['start_method']}) "
            + ", ".join(f"{fmt.seconds(s)} ×{int(n)}" for n, s in t["pool_startup_s"])
            + f", a message {fmt.seconds(t['message_s'])}"
            if t["message_s"] is not None
            else ""
        )
        + (
            f", processes break even at {fmt.seconds(t['break_even_call_s'])} a call"
            if t["break_even_call_s"]
            else ""
        )
        + _memory_text(doc)
    )


def _memory_text(doc: AdviseDocument) -> str:
    """One call's peak memory (a document written before it was measured has none)."""
    memory = doc.get("memory")
    if memory is None or memory["peak_call_bytes"] is None:
        return ""
    available = memory["available_bytes"]
    free = f" of {fmt.size_bytes(available)} available" if available is not None else ""
    return f", peak memory per call {fmt.size_bytes(memory['peak_call_bytes'])}{free}"


PREDICTION_COLUMNS = (
    TableColumn("model", 0, wraps=True, justify="left"),
    TableColumn("workers", 0),
    TableColumn("python", 3, wraps=True, justify="left"),
    TableColumn("chunk", 4),
    TableColumn("predicted", 0),
    TableColumn("measured [min–max]", 0),
    TableColumn("95% CI (reached)", 2),
    TableColumn("error", 1),
    TableColumn("rounds", 5),
)
"""Predicted vs measured: the model and both speedups always, the rest as the width allows."""


def _print_predictions(console: Console, predictions: list[PredictionEntry]) -> None:
    """The rows ``_shown`` keeps; a measured row is bold, since a measurement outranks its prediction."""
    console.print("Predicted (from the probes) vs measured (paired with serial, per round)")
    rows = []
    for p in _shown(predictions):
        cells = [
            escape(p["model"]),
            str(p["workers"]),
            escape(p["interpreter"]),
            str(p["chunksize"]),
            f"{p['predicted_speedup']:.2f}×",
            _measured(p),
            _interval(p),
            _error(p),
            str(p["rounds"] or ""),
        ]
        rows.append(
            [f"[bold]{cell}[/bold]" if cell and p["measured_speedup"] is not None else cell for cell in cells]
        )
    fitted = fit_columns(PREDICTION_COLUMNS, rows, console.width)
    console.print(fitted_table(PREDICTION_COLUMNS, rows, fitted))
    if fitted.dropped:
        console.print(f"[dim]{escape(dropped_note(fitted.dropped, also='so does --json'))}[/dim]")


def _print_bullets(console: Console, heading: str, lines: list[str]) -> None:
    if lines:
        console.print(f"[bold]{heading}[/bold]")
        for line in lines:
            console.print(f"  • {escape(line)}", highlight=False)


THREAD_COLUMNS = (
    TableColumn("thread", 0, wraps=True, justify="left"),
    TableColumn("tid", 0),
    TableColumn("CPU (cores)", 0),
    TableColumn("GIL held", 0),
    TableColumn("hottest functions holding the GIL", 0, wraps=True, justify="left"),
)


def render_program(console: Console, doc: ProgramDocument) -> None:
    v = doc["verdict"]
    console.print(
        f"[bold]gilwise advise[/bold] PID {doc['pid']} ({escape(doc['command'][:80])}) — sampled "
        f"{doc['duration_s']:.1f} s; the process used {doc['busy_cores']:.2f} of {doc['usable_cores']} cores"
        + (f"; the GIL was held {doc['gil_busy']:.0%} of the time" if doc["gil_busy"] is not None else ""),
        highlight=False,
    )
    if doc["sampler_note"]:
        console.print(f"[yellow]{escape(doc['sampler_note'])}[/yellow]", highlight=False)
    rows = []
    for t in doc["threads"]:
        if t["cpu_cores"] < 0.005 and not t["gil_share"]:
            continue
        gil = "—" if t["gil_share"] is None else f"{t['gil_share']:.0%}"
        hot = "; ".join(f"{escape(h['function'])} {h['gil_share']:.0%}" for h in t["hottest"])
        rows.append([escape(t["name"]), str(t["tid"]), f"{t['cpu_cores']:.2f}", gil, hot])
    console.print("Threads")
    console.print(fitted_table(THREAD_COLUMNS, rows, fit_columns(THREAD_COLUMNS, rows, console.width)))
    headline = "GIL-bound" if v["gil_bound"] else "not GIL-bound"
    model = (
        f": use {v['model']}" + (f"×{v['workers']}" if v["workers"] else "") if v["model"] != "as-is" else ""
    )
    console.print(f"\n[bold green]Verdict: {headline}{model}[/bold green]", highlight=False)
    console.print(escape(v["reason"]), highlight=False)
    if v["code"]:
        console.print(_code(v["code"]))
