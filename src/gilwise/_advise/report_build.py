"""Assemble the frozen :class:`~.verdict.AdviseReport` from probes, predictions and measurements."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .._results.document import Machine
from .choose import Choice, best_per_model, reason
from .costmodel import ModelInputs, Prediction, break_even_call_s, chunksize_for
from .decide import VerifiedChoice
from .fmt import model_label, seconds_text
from .load import LoadSeen
from .memory import MemoryCheck
from .probes import Budget, InterpreterProbes
from .snippets import code_for
from .verdict import AdviseReport, InterpreterProbe, PredictionRow, Recommendation, Transfer
from .verify import Measured

HIGH_GIL_SHARE = 0.5


@dataclass(frozen=True)
class Conditions:
    """What the machine allowed while advise measured: memory for n calls at once, other load."""

    memory: MemoryCheck
    load: LoadSeen
    conclusive: bool
    """False where the verdict would blame the function for the machine's load (:mod:`.load`)."""


def _row(p: Prediction, measured: dict[int, Measured]) -> PredictionRow:
    m = measured.get(id(p))
    return PredictionRow(
        model=p.model,
        workers=p.workers,
        interpreter=p.interpreter.label,
        python=p.interpreter.path,
        chunksize=p.chunksize,
        predicted_speedup=p.predicted_speedup,
        predicted_s=p.predicted_s,
        measured_speedup=m.speedup if m else None,
        measured_range=m.spread if m else None,
        measured_ci=m.interval if m else None,
        rounds=len(m.ratios) if m else 0,
        basis=p.basis,
    )


def _probe_entry(probes: InterpreterProbes) -> InterpreterProbe:
    info = probes.interpreter
    return InterpreterProbe(
        interpreter=info.label,
        python=info.path,
        free_threaded=info.free_threaded,
        gil_enabled=info.gil_enabled,
        call_s=probes.call_s,
        cpu_s=probes.cpu_s,
        gil_held_fraction=probes.call["gil"]["held_fraction"],
        calls_timed=len(probes.call["wall_s"]),
        notes=tuple(
            probes.notes
            + probes.call["notes"]
            + ([probes.call["gil"]["note"]] if probes.call["gil"]["note"] else [])
        ),
    )


def _transfer(inputs: ModelInputs, calls: int) -> Transfer:
    t = inputs.baseline.call["transfer"]
    costs, shape = inputs.costs, inputs.shape
    return Transfer(
        picklable=t["picklable"],
        reason=t["reason"],
        args_bytes=t["args_bytes"],
        result_bytes=t["result_bytes"],
        args_dumps_s=t["args_dumps_s"],
        args_loads_s=t["args_loads_s"],
        result_dumps_s=t["result_dumps_s"],
        result_loads_s=t["result_loads_s"],
        per_call_s=costs.parent_s + costs.child_s + costs.message_s if costs else None,
        message_s=costs.message_s if costs else None,
        start_method=costs.start_method if costs else None,
        pool_startup_s=tuple(sorted(costs.startup_s.items())) if costs else (),
        break_even_call_s=break_even_call_s(shape, costs, calls, inputs.cores) if costs else None,
        chunksize=chunksize_for(costs, shape.call_s, calls, inputs.cores) if costs else None,
    )


def would_change(
    inputs: ModelInputs, predictions: list[Prediction], choice: Choice, transfer: Transfer, notes: list[str]
) -> list[str]:
    out = []
    rec = choice.recommended
    base = inputs.baseline.interpreter.path
    for p in best_per_model([p for p in predictions if p.interpreter.path != base]):
        if p.predicted_speedup > rec.predicted_speedup * 1.05:
            out.append(
                f"with {p.interpreter.label} ({p.interpreter.path}): {p.model}×{p.workers}, "
                f"predicted {p.predicted_speedup:.2f}×"
            )
    probed_free_threaded = any(o.interpreter.free_threaded for o, _ in inputs.others)
    if not probed_free_threaded and inputs.shape.gil_held >= HIGH_GIL_SHARE:
        reasons = [n for n in notes if "free-threaded" in n or "t (" in n]
        why = reasons[0] if reasons else "no free-threaded build was probed"
        out.append("a free-threaded build (3.13t, 3.14t) could run it on threads without the GIL: " + why)
    be = transfer.break_even_call_s
    if rec.model != "processes" and transfer.picklable and be is not None and be > inputs.shape.call_s:
        out.append(
            f"processes×{inputs.cores} pay off once a call does more than {seconds_text(be)} of work with "
            f"these arguments (this one: {seconds_text(inputs.shape.call_s)})"
        )
    if not transfer.picklable:
        out.append(f"processes need picklable calls: {transfer.reason}")
    return out


def _recommendation(inputs: ModelInputs, target: str, verified: VerifiedChoice) -> Recommendation:
    rec, shape = verified.choice.recommended, inputs.shape
    predicted = verified.predicted_best
    serial_measured_only = rec.model == "serial" and predicted.model != "serial"
    return Recommendation(
        model=rec.model,
        workers=rec.workers,
        interpreter=rec.interpreter.label,
        reason=reason(
            verified.choice, shape, inputs.costs, target.partition(":")[2], inputs.cores, serial_measured_only
        ),
        code=code_for(rec, target, shape, inputs.baseline.call["coroutine"]),
        predicted_speedup=rec.predicted_speedup,
        measured_speedup=verified.measured.speedup if verified.measured else None,
        measured_ci=verified.measured.interval if verified.measured else None,
        decided_by=verified.decided_by,
        decision=verified.note,
        predicted_best=model_label(predicted.model, predicted.workers),
    )


def build_report(
    target: str,
    calls: int,
    inputs: ModelInputs,
    predictions: list[Prediction],
    verified: VerifiedChoice,
    measured: list[Measured],
    notes: list[str],
    budget: Budget,
    machine: Machine,
    conditions: Conditions,
) -> AdviseReport:
    """``verified.choice.recommended`` is the verdict (the measured winner)."""
    by_id = {id(m.prediction): m for m in measured}
    shape = inputs.shape
    transfer = _transfer(inputs, calls)
    ru = verified.choice.runner_up
    recommended = _recommendation(inputs, target, verified)
    if not conditions.conclusive:
        # What was measured stays in the figures; the sentence must not blame the function.
        recommended = replace(
            recommended, decision=f"{conditions.load.inconclusive_text()} (measured: {recommended.decision})"
        )
    return AdviseReport(
        target=target,
        calls=calls,
        call_s=shape.call_s,
        recommended=recommended,
        runner_up=model_label(ru.model, ru.workers) if ru is not None else None,
        predictions=tuple(_row(p, by_id) for p in predictions),
        gil_held_fraction=inputs.baseline.call["gil"]["held_fraction"],
        gil_held_assumed=shape.gil_assumed,
        cpu_wall_ratio=shape.cpu_s / shape.call_s if shape.call_s > 0 else 0.0,
        transfer=transfer,
        interpreters=(_probe_entry(inputs.baseline), *(_probe_entry(p) for p, _ in inputs.others)),
        machine=machine,
        would_change=tuple(would_change(inputs, predictions, verified.choice, transfer, notes)),
        notes=tuple(notes),
        memory=conditions.memory,
        load=conditions.load,
        conclusive=conditions.conclusive,
        elapsed_s=budget.elapsed(),
        budget_s=budget.seconds,
    )
