"""The ``gilwise advise`` verdict on the terminal, from its ``gilwise.advise/1`` document
(or the ``gilwise.advise-program/1`` one of a running program)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from .._advise.program_report import ProgramDocument
from .._advise.verdict import AdviseDocument, PredictionEntry, RecommendedEntry
from . import fmt

MAX_ROWS_PER_MODEL = 4


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
    console.print(f"\n[bold green]Verdict: {escape(_verdict_figures(rec))}[/bold green]", highlight=False)
    console.print(f"Decided by the {rec['decided_by']}: {escape(rec['decision'])}.", highlight=False)
    console.print(escape(rec["reason"]), highlight=False)
    console.print(Syntax(rec["code"], "python", theme="ansi_dark", background_color="default"))
    console.print(_probes_line(doc), highlight=False)
    console.print(_predictions_table(doc["predictions"]))
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
    )


def _predictions_table(predictions: list[PredictionEntry]) -> Table:
    """The rows ``_shown`` keeps; a measured row is bold, since a measurement outranks its prediction."""
    table = Table(
        title="Predicted (from the probes) vs measured (paired with serial, per round)", title_justify="left"
    )
    for column in (
        "model",
        "workers",
        "python",
        "chunk",
        "predicted",
        "measured [min–max]",
        "95% CI (reached)",
        "error",
        "rounds",
    ):
        table.add_column(column, justify="left" if column in ("model", "python") else "right")
    for p in _shown(predictions):
        style = "bold" if p["measured_speedup"] is not None else None
        table.add_row(
            p["model"],
            str(p["workers"]),
            p["interpreter"],
            str(p["chunksize"]),
            f"{p['predicted_speedup']:.2f}×",
            _measured(p),
            _interval(p),
            _error(p),
            str(p["rounds"] or ""),
            style=style,
        )
    return table


def _print_bullets(console: Console, heading: str, lines: list[str]) -> None:
    if lines:
        console.print(f"[bold]{heading}[/bold]")
        for line in lines:
            console.print(f"  • {escape(line)}", highlight=False)


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
    table = Table(title="Threads", title_justify="left")
    for column in ("thread", "tid", "CPU (cores)", "GIL held", "hottest functions holding the GIL"):
        table.add_column(
            column, justify="left" if column in ("thread", "hottest functions holding the GIL") else "right"
        )
    for t in doc["threads"]:
        if t["cpu_cores"] < 0.005 and not t["gil_share"]:
            continue
        gil = "—" if t["gil_share"] is None else f"{t['gil_share']:.0%}"
        hot = "; ".join(f"{escape(h['function'])} {h['gil_share']:.0%}" for h in t["hottest"])
        table.add_row(escape(t["name"]), str(t["tid"]), f"{t['cpu_cores']:.2f}", gil, hot)
    console.print(table)
    headline = "GIL-bound" if v["gil_bound"] else "not GIL-bound"
    model = (
        f": use {v['model']}" + (f"×{v['workers']}" if v["workers"] else "") if v["model"] != "as-is" else ""
    )
    console.print(f"\n[bold green]Verdict: {headline}{model}[/bold green]", highlight=False)
    console.print(escape(v["reason"]), highlight=False)
    if v["code"]:
        console.print(Syntax(v["code"], "python", theme="ansi_dark", background_color="default"))
