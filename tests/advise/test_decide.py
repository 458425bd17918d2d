"""advise's verdict follows its measurement: the prediction only chose what to verify.

Figures given here, nothing run: :func:`decide` on measured speedups with their intervals,
then :func:`verified_choice` on verification records built from predictions.
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from gilwise._advise.choose import Choice
from gilwise._advise.costmodel import Prediction
from gilwise._advise.decide import MeasuredFigure, decide, verified_choice
from gilwise._advise.verdict import AdviseDocument
from gilwise._advise.verify import Measured
from gilwise._pythons.discovery import InterpreterInfo
from gilwise._report.advise import render_advice

SERIAL = MeasuredFigure("serial", 1, 1.0, 1.0, 1.0)
GIL = InterpreterInfo("/py/3.11", "3.11.7", (3, 11, 7), "CPython", False, True, "", ("fork",), "fork", None)
FREE = InterpreterInfo("/py/3.13t", "3.13.5", (3, 13, 5), "CPython", True, False, "", ("fork",), "fork", None)


def figure(label: str, speedup: float, low: float, high: float) -> MeasuredFigure:
    model, _, workers = label.partition("×")
    return MeasuredFigure(model, int(workers or 1), speedup, low, high)


def test_overlapping_threads_and_processes_go_to_the_cheaper_threads() -> None:
    # issue 22's zlib run: threads×2 1.92× [1.89–2.33], processes×2 1.75× [1.46–2.02],
    # and processes×2 had been the verdict because the prediction favoured it.
    threads = figure("threads×2", 1.92, 1.89, 2.33)
    processes = figure("processes×2", 1.75, 1.46, 2.02)
    decision = decide([SERIAL, processes, threads], "processes×2")
    assert decision.winner == threads
    assert decision.note == (
        "threads×2 1.92× [1.89–2.33] and processes×2 1.75× [1.46–2.02] overlap; threads×2 is cheaper "
        "(no extra processes: less memory and start-up); the prediction favoured processes×2"
    )
    # Even where processes measured the higher median, an overlap is a tie the cheaper wins.
    higher = figure("processes×2", 2.05, 1.85, 2.20)
    decision = decide([SERIAL, higher, threads], "processes×2")
    assert decision.winner == threads
    assert "overlap; threads×2 is cheaper (no extra processes" in decision.note


def figures(text: str) -> list[MeasuredFigure]:
    """``"threads×2 1.90 [1.80–2.00], …"`` (as the note prints them), serial first."""
    found = re.findall(r"(\S+) ([\d.]+)× \[([\d.]+)–([\d.]+)\]", text)
    return [SERIAL, *(figure(label, float(m), float(lo), float(hi)) for label, m, lo, hi in found)]


# What was measured, what the prediction favoured, the verdict, a piece of its note.
DECISIONS = {
    "measured threads beat predicted processes": (
        "processes×2 1.40× [1.30–1.50], threads×2 1.90× [1.80–2.00]",
        "processes×2",
        "threads×2",
        "threads×2 1.90× [1.80–2.00] measured best, ahead of processes×2 1.40× [1.30–1.50]; "
        "the prediction favoured processes×2",
    ),
    "below the threshold: serial": (
        "processes×2 1.10× [1.05–1.20]",
        "processes×2",
        "serial",
        "no measured model beats serial by 15%: the best, processes×2 1.10× [1.05–1.20]",
    ),
    "an interval reaching 1.00x is not convincing: serial": (
        "threads×2 1.30× [0.95–1.60]",
        "threads×2",
        "serial",
        "threads×2 1.30× [0.95–1.60] reaches serial's 1.00×; serial is cheaper (no pool at all)",
    ),
    "interpreters and processes overlap: interpreters": (
        "processes×2 1.85× [1.60–2.00], interpreters×2 1.70× [1.50–1.90]",
        "processes×2",
        "interpreters×2",
        "interpreters×2 is cheaper (one process: less memory and start-up)",
    ),
    "a measured model beats a predicted serial": (
        "threads×4 2.50× [2.20–2.80]",
        "serial",
        "threads×4",
        "threads×4 2.50× [2.20–2.80] measured best; the prediction favoured serial",
    ),
    "a confirmed prediction says so": (
        "processes×2 1.85× [1.75–1.95], threads×2 0.95× [0.90–1.00]",
        "processes×2",
        "processes×2",
        "ahead of threads×2 0.95× [0.90–1.00], as predicted",
    ),
    "equally cheap: the higher median": (
        "asyncio×6 1.70× [1.55–1.90], threads×2 1.80× [1.60–2.00]",
        "asyncio×6",
        "threads×2",
        "overlap; threads×2 measured higher at the same cost",
    ),
}


@pytest.mark.parametrize(("measured", "predicted", "winner", "note"), DECISIONS.values(), ids=DECISIONS)
def test_the_verdict_follows_the_measurement(measured: str, predicted: str, winner: str, note: str) -> None:
    decision = decide(figures(measured), predicted)
    assert decision.winner.label == winner
    assert note in decision.note


def test_decide_needs_serial() -> None:
    with pytest.raises(ValueError, match="serial"):
        decide([figure("threads×2", 1.9, 1.8, 2.0)], "threads×2")


def prediction(model: str, workers: int, speedup: float, who: InterpreterInfo = GIL) -> Prediction:
    cell = "threads" if model == "free-threaded-threads" else model
    return Prediction(model, workers, who, cell, 1, 1.0 / speedup, speedup, "given")  # type: ignore[arg-type]


def measured(p: Prediction, ratios: tuple[float, ...]) -> Measured:
    return Measured(p, tuple(1.0 / r for r in ratios), ratios, 0.0)


def test_verified_choice_follows_the_measurement_of_the_baseline_build() -> None:
    serial = prediction("serial", 1, 1.0)
    processes = prediction("processes", 2, 1.56)
    threads = prediction("threads", 2, 1.20)
    free = prediction("free-threaded-threads", 2, 1.90, FREE)
    choice = Choice(processes, threads, threads)
    runs = [
        measured(serial, (1.0,) * 5),
        measured(processes, (1.46, 1.60, 1.75, 1.80, 2.02)),
        measured(threads, (1.89, 1.90, 1.92, 2.10, 2.33)),
        # Another build measured faster: it is a "what would change the verdict", not the verdict.
        measured(free, (3.0, 3.1, 3.2, 3.3, 3.4)),
    ]
    verified = verified_choice(choice, runs, GIL.path)
    assert verified.decided_by == "measurement"
    assert verified.choice.recommended is threads
    assert verified.choice.runner_up is processes
    assert verified.predicted_best is processes
    assert verified.measured is runs[2]
    assert "threads×2 1.92× [1.89–2.33] and processes×2 1.75× [1.46–2.02] overlap" in verified.note


def test_without_a_serial_measurement_the_prediction_stands() -> None:
    processes = prediction("processes", 2, 1.56)
    choice = Choice(processes, None)
    verified = verified_choice(choice, [measured(prediction("serial", 1, 1.0), ())], GIL.path)
    assert verified.decided_by == "prediction"
    assert verified.choice is choice
    assert "rests on the prediction alone" in verified.note


def test_the_terminal_verdict_prints_the_measured_winner_and_why() -> None:
    doc = _document()
    out = io.StringIO()
    render_advice(Console(file=out, width=200, color_system=None), doc)
    text = " ".join(out.getvalue().split())
    assert "Verdict: threads×2 — measured 1.92× [1.89–2.33], predicted 1.20×" in text
    assert "Decided by the measurement: threads×2 1.92× [1.89–2.33] and processes×2" in text
    assert "the prediction favoured processes×2" in text
    assert "advise work:[crunch]" in text and "[native]" in text, "names are printed, not read as markup"


def _document() -> AdviseDocument:
    ci = {"low": 1.89, "high": 2.33, "level": 0.9375, "target_level": 0.95, "rounds": 5}
    return {  # type: ignore[typeddict-item]
        "schema": "gilwise.advise/1",
        "target": "work:[crunch]",
        "calls": 40,
        "call_s": 0.05,
        "recommended": {
            "model": "threads",
            "workers": 2,
            "interpreter": "3.11",
            "reason": "crunch holds the GIL 5% of its time [native]",
            "code": "pass",
            "predicted_speedup": 1.2,
            "measured_speedup": 1.92,
            "measured_ci": ci,
            "decided_by": "measurement",
            "decision": "threads×2 1.92× [1.89–2.33] and processes×2 1.75× [1.46–2.02] overlap; "
            "threads×2 is cheaper (no extra processes: less memory and start-up); "
            "the prediction favoured processes×2",
            "predicted_best": "processes×2",
        },
        "runner_up": "processes×2",
        "predictions": [],
        "gil_held_fraction": 0.05,
        "gil_held_assumed": False,
        "cpu_wall_ratio": 1.0,
        "transfer": {
            "picklable": True,
            "reason": "",
            "args_bytes": 30,
            "result_bytes": 20,
            "args_dumps_s": 1e-6,
            "args_loads_s": 1e-6,
            "result_dumps_s": 1e-6,
            "result_loads_s": 1e-6,
            "per_call_s": None,
            "message_s": None,
            "start_method": None,
            "pool_startup_s": [],
            "break_even_call_s": None,
            "chunksize": None,
        },
        "interpreters": [{"interpreter": "3.11"}],
        "machine": {"usable_cores": 2},
        "would_change": [],
        "notes": [],
        "memory": {"peak_call_bytes": 64 << 20, "available_bytes": 8 << 30, "workers_cap": None, "note": ""},
        "elapsed_s": 10.0,
        "budget_s": 60.0,
    }
