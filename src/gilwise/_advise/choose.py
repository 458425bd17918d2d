"""Pick what to verify from the predictions (the predicted best and the runner-up), and say
why the verdict suits the function in one sentence. The verdict itself is the best *measured*
model (:mod:`.decide`); a prediction only decides which models get benched.

Preferences, in order: a model must beat serial by ``WORTH_IT`` to be worth its complexity;
threads win over processes within ``THREADS_PREFERRED`` of them (shared memory, no pickling,
no start-up, nothing to crash); within one model, the fewest workers within ``FEWER_WORKERS``
of that model's best. Only the baseline interpreter can be recommended: another build is a
"what would change the verdict".
"""

from __future__ import annotations

from dataclasses import dataclass

from .costmodel import CallShape, Prediction, ProcessCosts
from .fmt import bytes_text, seconds_text

WORTH_IT = 1.15
THREADS_PREFERRED = 0.90
FEWER_WORKERS = 0.97


@dataclass(frozen=True)
class Choice:
    recommended: Prediction
    runner_up: Prediction | None
    threads: Prediction | None = None
    """The baseline's best threads row (what the reason compares processes with)."""


def best_per_model(predictions: list[Prediction]) -> list[Prediction]:
    """Each (model, interpreter): its best row, or fewer workers when nearly as good.

    A pool of one worker is a scaling reference, not a candidate: it cannot run calls side by
    side, so a prediction above serial there is noise in its probe (or an offloading choice,
    which is not what advise ranks)."""
    groups: dict[tuple[str, str], list[Prediction]] = {}
    for p in predictions:
        if p.model == "serial" or p.workers > 1:
            groups.setdefault((p.model, p.interpreter.path), []).append(p)
    best = []
    for rows in groups.values():
        top = max(r.predicted_speedup for r in rows)
        best.append(
            min((r for r in rows if r.predicted_speedup >= FEWER_WORKERS * top), key=lambda r: r.workers)
        )
    return sorted(best, key=lambda r: -r.predicted_speedup)


def _close(candidate: Prediction | None, top: Prediction, share: float) -> bool:
    return candidate is not None and candidate.predicted_speedup >= share * top.predicted_speedup


def choose(predictions: list[Prediction], baseline: str, coroutine: bool = False) -> Choice:
    ranked = best_per_model(predictions)
    mine = [p for p in ranked if p.interpreter.path == baseline]
    serial = next(p for p in mine if p.model == "serial")
    threads = next((p for p in mine if p.model == "threads"), None)
    top = mine[0]
    # asyncio.to_thread on a blocking function is a thread pool by another name.
    if top.model == "asyncio" and not coroutine and _close(threads, top, FEWER_WORKERS):
        top = threads or top
    if top.predicted_speedup < WORTH_IT:
        top = serial
    elif top.model == "processes" and _close(threads, top, THREADS_PREFERRED):
        top = threads or top
    # Serial is benched anyway (every speedup is paired with it): the runner-up is the best
    # other model, so the verification shows the alternative a user would reach for.
    others = [p for p in ranked if p.model not in (top.model, "serial")]
    # asyncio over to_thread is threads under another name: a runner-up that adds nothing.
    distinct = [p for p in others if coroutine or not (p.model == "asyncio" and top.model == "threads")]
    distinct = distinct or others
    return Choice(top, distinct[0] if distinct else None, threads)


def reason(
    choice: Choice,
    shape: CallShape,
    costs: ProcessCosts | None,
    name: str,
    cores: int,
    serial_measured_only: bool = False,
) -> str:
    """Why ``choice.recommended`` suits the function, from its probes. ``serial_measured_only``:
    serial won on the measurement although the prediction favoured a pool, so the sentence
    must not quote a predicted speedup the measurement refuted."""
    p = choice.recommended
    held = f"holds the GIL {shape.gil_held:.0%} of its time"
    if p.model == "interpreters":
        return (
            f"{name} {held}; {p.workers} sub-interpreters, one GIL each, run it in parallel in one "
            f"process ({p.predicted_speedup:.2f}× predicted, start-up and pickling included)."
        )
    if p.model == "processes":
        ship = ""
        if costs is not None:
            share = (costs.parent_s + costs.child_s) / shape.call_s if shape.call_s else 0.0
            ship = f", and shipping {bytes_text(costs.args_bytes)} of arguments costs {share:.0%} of a call"
        if shape.gil_held >= 0.5 or choice.threads is None:
            return f"{name} {held}, so threads take turns; {p.workers} processes run it in parallel{ship}."
        return (
            f"{name} {held}, yet its threads probe scaled to only {choice.threads.predicted_speedup:.2f}× "
            f"(threads×{choice.threads.workers}); {p.workers} processes are predicted "
            f"{p.predicted_speedup:.2f}×{ship}."
        )
    if p.model in ("threads", "asyncio") and shape.wait_share >= 0.5:
        return (
            f"{name} waits {shape.wait_share:.0%} of its time without holding the GIL, so {p.workers} "
            f"threads overlap the waits ({p.predicted_speedup:.1f}× predicted)."
        )
    if p.model in ("threads", "asyncio") and shape.gil_held < 0.5:
        return (
            f"{name} {held} (its work runs in code that releases it), so {p.workers} threads run in "
            f"parallel on {cores} cores with no pickling or pool start-up."
        )
    if p.model in ("threads", "asyncio"):
        return (
            f"{name} {held}, yet {p.workers} threads are predicted {p.predicted_speedup:.2f}× "
            f"(its {shape.wait_share:.0%} of waiting overlaps) and processes no better."
        )
    return _serial_reason(choice, shape, costs, name, held, serial_measured_only)


def _serial_reason(
    choice: Choice, shape: CallShape, costs: ProcessCosts | None, name: str, held: str, measured_only: bool
) -> str:
    call = seconds_text(shape.call_s)
    if costs is not None and costs.parent_s + costs.child_s > shape.call_s:
        ship = seconds_text(costs.parent_s + costs.child_s)
        return (
            f"no model beats serial by {WORTH_IT - 1:.0%}: {name} {held}, and shipping its "
            f"{bytes_text(costs.args_bytes)} of arguments to a process ({ship}) costs more than "
            f"the call ({call})."
        )
    if measured_only:
        return f"no model measured clearly faster than serial: {name} {held} and a call takes {call}."
    if choice.runner_up is not None:
        return (
            f"no model beats serial by {WORTH_IT - 1:.0%}: {name} {held} and a call takes {call}; "
            f"the best alternative, {choice.runner_up.model}×{choice.runner_up.workers}, is predicted "
            f"{choice.runner_up.predicted_speedup:.2f}×."
        )
    return f"no model beats serial by {WORTH_IT - 1:.0%}: {name} {held} and a call takes {call}."
