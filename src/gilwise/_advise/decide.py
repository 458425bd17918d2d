"""The verdict follows the measurement: the prediction only chose what to verify.

Each verified model has a median paired speedup against serial and an interval (the sign-test
interval of that median; its min–max spread where a single round gave none). Serial is 1.00×
exactly: every one of its ratios is serial over itself. :func:`decide` then applies, in order:

1. A model is a candidate only if it beats serial convincingly: its median by ``WORTH_IT``
   (the 15 % the prediction is held to, :mod:`.choose`) and its whole interval above serial's
   1.00×. Without a candidate, serial is the verdict.
2. The candidate with the best measured median leads; every candidate whose interval overlaps
   the leader's is as fast as far as this run can tell, and the cheapest of them wins, in
   ``COST_ORDER``: serial, then threads / asyncio, then sub-interpreters, then processes
   (memory and start-up). Between equally cheap ones, the higher median wins.

The prediction never overrules a measurement; the note names it where the two disagree.
:func:`verified_choice` applies the rule to :mod:`.verify`'s measurements of a :class:`Choice`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .choose import WORTH_IT, Choice
from .costmodel import Prediction
from .fmt import model_label
from .verify import Measured

COST_ORDER = {
    "serial": 0,
    "threads": 1,
    "asyncio": 1,
    "free-threaded-threads": 1,
    "interpreters": 2,
    "processes": 3,
}
"""What a model costs besides its speed, cheapest first: a pool of threads shares memory and
starts in microseconds; sub-interpreters share one process; processes add memory, start-up
and pickling. A model missing here counts as the dearest."""

SERIAL_SPEEDUP = 1.0
"""Serial against itself: every one of its paired ratios is exactly this."""


@dataclass(frozen=True)
class MeasuredFigure:
    """One verified model as the decision sees it (serial included, at 1.00×)."""

    model: str
    workers: int
    speedup: float
    """The median paired speedup against serial."""
    low: float
    high: float
    """Where that median lies: the sign-test interval, or the min–max spread of one round."""

    @property
    def label(self) -> str:
        return model_label(self.model, self.workers)

    @property
    def text(self) -> str:
        return f"{self.label} {self.speedup:.2f}× [{self.low:.2f}–{self.high:.2f}]"

    @property
    def cost(self) -> int:
        return COST_ORDER.get(self.model, max(COST_ORDER.values()) + 1)

    def overlaps(self, other: MeasuredFigure) -> bool:
        return self.low <= other.high and other.low <= self.high


@dataclass(frozen=True)
class Decision:
    """What :func:`decide` found: the verdict among the measured models, and why."""

    winner: MeasuredFigure
    note: str
    """Why the measurement chose it, in one sentence (and the prediction where it disagreed)."""


def _beats_serial(figure: MeasuredFigure) -> bool:
    return figure.speedup >= WORTH_IT and figure.low > SERIAL_SPEEDUP


def _why_preferred(cheap: MeasuredFigure, dear: MeasuredFigure) -> str:
    """Why ``cheap`` wins a tie with ``dear`` (their intervals overlap)."""
    if cheap.cost == dear.cost:
        return f"{cheap.label} measured higher at the same cost"
    if cheap.model == "serial":
        return f"{cheap.label} is cheaper (no pool at all)"
    if dear.model == "processes":
        extra = "no extra processes" if cheap.cost < COST_ORDER["interpreters"] else "one process"
        return f"{cheap.label} is cheaper ({extra}: less memory and start-up)"
    return f"{cheap.label} is cheaper (no interpreters to start)"


def _serial_note(figures: Sequence[MeasuredFigure], serial: MeasuredFigure) -> str:
    others = [f for f in figures if f.model != "serial"]
    if not others:
        return "only serial was measured"
    best = max(others, key=lambda f: f.speedup)
    if best.speedup < WORTH_IT:
        return f"no measured model beats serial by {WORTH_IT - 1:.0%}: the best, {best.text}"
    return f"{best.text} reaches serial's 1.00×; {_why_preferred(serial, best)}"


def decide(figures: Sequence[MeasuredFigure], predicted_best: str) -> Decision:
    """The verdict among the measured models (``figures`` must include serial), whatever
    the prediction said; ``predicted_best`` (a label, e.g. ``processes×2``) is only named."""
    serial = next((f for f in figures if f.model == "serial"), None)
    if serial is None:
        raise ValueError("decide needs serial's figure: every speedup is paired with it")
    candidates = [f for f in figures if f.model != "serial" and _beats_serial(f)]
    if not candidates:
        winner, note = serial, _serial_note(figures, serial)
    else:
        leader = max(candidates, key=lambda f: f.speedup)
        tied = [f for f in candidates if f.overlaps(leader)]
        winner = min(tied, key=lambda f: (f.cost, -f.speedup))
        rivals = sorted((f for f in tied if f is not winner), key=lambda f: -f.speedup)
        if rivals:
            note = f"{winner.text} and {rivals[0].text} overlap; {_why_preferred(winner, rivals[0])}"
        else:
            behind = [f.text for f in figures if f is not winner and f.model != "serial"]
            note = f"{winner.text} measured best" + (f", ahead of {', '.join(behind)}" if behind else "")
    if winner.label == predicted_best:
        return Decision(winner, note + ", as predicted")
    return Decision(winner, note + f"; the prediction favoured {predicted_best}")


@dataclass(frozen=True)
class VerifiedChoice:
    """The verdict after verification: ``choice.recommended`` is the measured winner."""

    choice: Choice
    decided_by: Literal["measurement", "prediction"]
    """By the prediction only where not even serial could be measured within the budget."""
    predicted_best: Prediction
    note: str
    measured: Measured | None
    """The winner's measurement (None when decided by the prediction)."""


def _figure(m: Measured) -> MeasuredFigure | None:
    speedup = m.speedup
    if speedup is None:
        return None
    interval = m.interval
    low, high = (interval["low"], interval["high"]) if interval else (m.spread or (speedup, speedup))
    p = m.prediction
    return MeasuredFigure(p.model, p.workers, speedup, low, high)


def verified_choice(choice: Choice, measured: Sequence[Measured], baseline: str) -> VerifiedChoice:
    """Apply :func:`decide` to the baseline interpreter's measurements (another build is a "what
    would change the verdict", never the verdict); the prediction stands only if serial itself
    could not be measured."""
    mine: dict[str, tuple[Measured, MeasuredFigure]] = {}
    for m in measured:
        figure = _figure(m)
        if figure is not None and m.prediction.interpreter.path == baseline:
            mine[figure.label] = (m, figure)
    predicted = choice.recommended
    predicted_label = model_label(predicted.model, predicted.workers)
    if "serial" not in mine:
        note = f"nothing was measured within the budget, so {predicted_label} rests on the prediction alone"
        return VerifiedChoice(choice, "prediction", predicted, note, None)
    decision = decide([f for _, f in mine.values()], predicted_label)
    winner = mine[decision.winner.label][0]
    alternatives = [m for m, _ in sorted(mine.values(), key=lambda pair: -pair[1].speedup)]
    runner_up = next(
        (m.prediction for m in alternatives if m is not winner and m.prediction.model != "serial"),
        None,
    )
    final = Choice(winner.prediction, runner_up or _other(choice, winner.prediction), choice.threads)
    return VerifiedChoice(final, "measurement", predicted, decision.note, winner)


def _other(choice: Choice, winner: Prediction) -> Prediction | None:
    """The prediction's pick that did not win, where no other model was measured."""
    for p in (choice.recommended, choice.runner_up):
        if p is not None and p is not winner and p.model != "serial":
            return p
    return None
