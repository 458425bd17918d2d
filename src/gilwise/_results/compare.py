"""Compare two result documents row by row, with one family-wise decision: the regression gate.

A row is (workload, impl, model, workers, interpreter version). Every row measured in both runs
is one hypothesis, "B is at least ``threshold`` slower", tested on each basis it is judged on
(below); a CPU-bound parallel row is also tested per CPU second, and that counts as a second
hypothesis. Holm–Bonferroni over the whole family decides, so a same-code pair says "slower"
somewhere at most ``alpha`` of the time, whether the document has 6 rows or 40 (issue 28:
testing each row at 0.05 made eight of twelve same-code pairs fail). A row is slower when the
Mann–Whitney lower confidence bound of its change (the Hodges–Lehmann estimate's interval, at
the level Holm gives the row) lies above ``threshold``: "slower" means slower by the threshold,
with confidence, not a change whose interval reaches far below it. A row measured in A that
failed in B is a regression too.

Which values: a serial row is judged by its wall times. A parallel row whose group has a
measured serial row in both runs is judged by its wall time *relative to the serial cell of the
same round* (paired by round id, as speedups are): this machine's speed drifts in phases of
seconds, cells of one round run seconds apart, and so the ratio cancels the drift that moves
whole runs by 10–20 % (DESIGN.md, "Measuring on a noisy machine"). A slowdown of the code both
cells run shows in the serial row; what the ratio shows is a slowdown of the parallel model
itself. A serial row of a ``bench --anchor`` run is judged likewise relative to the pinned
anchor loop measured in the same round (basis "relative to anchor"), which cancels the same
drift; it cannot tell a slower machine from a change that slows the anchor loop itself (another
interpreter build, a slower bytecode loop), which then shows as no change. Without a serial
row (or round ids, in older documents) a parallel row falls back to its wall times, and the
row's note says which basis it was judged on.

A row that is not slower is only called unchanged when it could have shown a ``must_detect``
slowdown: ``detectable`` is the smallest slowdown that, with these repeats and their spread,
would have been called slower at the family's strictest level (B's values moved to A's median,
then scaled up until the lower bound clears the threshold). Where that exceeds ``must_detect``,
or no change at all could reach that level with so few repeats, the row is *inconclusive*: the
gate can neither pass nor fail it. ``baseline.compare_with_history`` judges B against earlier
runs' spread instead, with the same family-wise decision.
So is a slowdown measured while other processes used more than ``OTHER_LOAD_WARN_CORES`` cores
beside B's rounds than beside A's (each run's own noise guard): it may be the machine's.

The machine's *parallel* speed moves on its own, too: on this 2-vCPU VM both cores slow down
together when the host is busy (same code, back to back: serial cells unchanged, the processes
cells 30–43 % slower, their workers' CPU per task up by as much, no steal time reported). So a
parallel row's slowdown that the extra CPU of its workers accounts for (spread over the cores
the cell kept busy) is inconclusive, not slower: the gate cannot tell a slower machine from
code that does more work in parallel only. Conversely a CPU-bound parallel row (≥
``CPU_BOUND_CORES`` busy) is also tested on its wall time per CPU second, round by round, which
cancels that speed: a slowdown of the parallel machinery that faster cores hid in wall time is
still called slower (basis "per CPU second").
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .bases import TestedValues, measured, per_cpu_values, tested_values
from .causes import (
    extra_cpu_note,
    other_load_note,
    percent_text,
    slower_tasks_note,
)
from .document import ResultDocument, ResultRow, interpreter_label
from .headline import headline_speedup
from .significance import (
    TOLERANCE,
    Shift,
    change_lower_bound,
    hodges_lehmann_change,
    holm_adjusted,
    holm_levels,
    p_greater,
    p_slower_by,
    shift,
    significant,
    smallest_p,
)

THRESHOLD = 0.05
ALPHA = 0.05
MUST_DETECT = 0.25
"""The slowdown a gate must be able to catch in every row to pass it (exit 0, not 3)."""


@dataclass(frozen=True, order=True)
class RowKey:
    workload: str
    impl: str
    model: str
    workers: int
    python: str

    def label(self) -> str:
        return f"{self.workload}[{self.impl}] {self.model}×{self.workers} (Python {self.python})"


@dataclass(frozen=True)
class RowChange:
    key: RowKey
    verdict: str
    """slower | faster | unchanged | within noise | inconclusive | failed | fixed | not compared |
    only in A | only in B"""
    a_median: float | None = None
    b_median: float | None = None
    change: float | None = None
    """The Hodges–Lehmann estimate of b / a - 1 on ``basis`` (the median pairwise ratio; with
    a history baseline B's median over the runs' typical value): +0.25 means 25 % slower."""
    p_slower: float | None = None
    """One-sided p for "slower by at least the threshold" on ``basis``, before adjustment."""
    n_a: int = 0
    n_b: int = 0
    note: str = ""
    detectable: float | None = None
    """The smallest slowdown this comparison could have detected in the row (0.12 = 12 %), at
    the family's strictest level; None when even every B repeat slower than every A repeat
    would not reach it."""
    basis: str = "wall"
    """What was tested: "wall" (wall times), "relative to serial" (each round's wall time over
    the same round's serial cell) or "per CPU second" (each round's wall time over its workers'
    CPU seconds); ``change`` and ``detectable`` are on that basis, the medians are wall times
    either way."""
    a_speedup: float | None = None
    b_speedup: float | None = None
    """The row's headline speedup in A and in B (``_results.headline``), for the reader: the
    verdict is on the basis above, not on these."""
    change_low: float | None = None
    """The lower confidence bound of ``change`` at the level the row was judged at (Holm's step
    for it): the row is slower when this clears the threshold. None where the repeats are too
    few for any bound at that level."""
    p_adjusted: float | None = None
    """``p_slower`` after Holm's family-wise adjustment: the row regressed when this is ≤ alpha."""
    test: str = ""
    """Which test decided, and over how many hypotheses the comparison's family counted."""

    @property
    def regression(self) -> bool:
        return self.verdict in ("slower", "failed")


@dataclass(frozen=True)
class Gate:
    """What the comparison decides with, passed whole from the CLI or a library caller."""

    threshold: float = THRESHOLD
    """A row regresses when its change's lower confidence bound clears this (0.05 = 5 %)."""
    alpha: float = ALPHA
    """The family-wise error rate: the chance a same-code pair says "slower" anywhere."""
    must_detect: float = MUST_DETECT
    """A row whose repeats could not have caught a slowdown this large is inconclusive."""


@dataclass
class Comparison:
    rows: list[RowChange]
    threshold: float
    alpha: float
    notes: list[str] = field(default_factory=list)
    family: int = 0
    """How many hypotheses the family-wise control counted (rows × the bases each was tested on)."""
    must_detect: float = 0.0
    baseline: str = "A's repeats"
    """What B was judged against: one run's repeats, or earlier runs' spread (the drift)."""

    @property
    def regressions(self) -> list[RowChange]:
        return [r for r in self.rows if r.regression]

    @property
    def inconclusive(self) -> list[RowChange]:
        return [r for r in self.rows if r.verdict == "inconclusive"]

    @property
    def outcome(self) -> str:
        """slower (some row regressed) | inconclusive (none did, but some could not have shown
        it) | clean."""
        if self.regressions:
            return "slower"
        return "inconclusive" if self.inconclusive else "clean"


def keyed_rows(document: ResultDocument) -> dict[RowKey, ResultRow]:
    """Rows by key; two interpreters of one version are told apart by their paths."""

    def base(rec: ResultRow) -> tuple[str, str, str, int, str]:
        python = interpreter_label(rec["interpreter"])
        return (rec["workload"], rec["impl"], rec["model"], int(rec["workers"]), python)

    counts = Counter(base(r) for r in document["results"])
    out: dict[RowKey, ResultRow] = {}
    for rec in document["results"]:
        workload, impl, model, workers, python = base(rec)
        if counts[base(rec)] > 1:
            python = f"{python} {rec['interpreter']['path']}"
        out[RowKey(workload, impl, model, workers, python)] = rec
    return out


@dataclass(frozen=True)
class _RowEvidence:
    """A row measured in both runs, with the values each of its hypotheses is tested on: the
    basis (relative to serial, wall) first, then its wall time per CPU second where the row is
    a CPU-bound parallel one. Each is one member of the comparison's family of tests."""

    key: RowKey
    a: ResultRow
    b: ResultRow
    tests: list[TestedValues]


def _evidence(
    key: RowKey, a: ResultRow, b: ResultRow, serial_a: ResultRow | None, serial_b: ResultRow | None
) -> _RowEvidence:
    tests = [tested_values(a, b, serial_a, serial_b)]
    per_cpu = per_cpu_values(a, b)
    if per_cpu is not None:
        tests.append(per_cpu)
    return _RowEvidence(key, a, b, tests)


@dataclass(frozen=True)
class _Decision:
    """Holm's answer for one hypothesis: its adjusted p and the level it was judged at."""

    p: float
    adjusted: float
    level: float


def _judge(evidence: _RowEvidence, decisions: list[_Decision], gate: Gate, family: int) -> RowChange:
    """The row's verdict from its hypotheses' family-wise decisions (same order as its tests)."""
    key, a, b = evidence.key, evidence.a, evidence.b
    primary = evidence.tests[0]
    before, after = primary.before, primary.after
    test = shift(before, after)
    change = hodges_lehmann_change(before, after)
    # What these repeats could have caught, at the strictest level of the family (the one the
    # row would face had it the smallest p): honest whatever the other rows did.
    detectable = _detectable(before, after, gate.threshold, gate.alpha / family)
    notes = [primary.note] if primary.note else []
    # Beside more other load in B, or with its busiest worker's tasks running longer, a slowdown
    # may be the machine's: judged below, and never overridden per CPU second.
    disturbed = other_load_note(a, b)
    tasks_note = slower_tasks_note(a, b, gate.threshold)
    chosen, decision = primary, decisions[0]
    if significant(decision.adjusted, gate.alpha):
        reason = disturbed or tasks_note or extra_cpu_note(a, b, gate.threshold)
        verdict = "inconclusive" if reason else "slower"
    else:
        verdict, reason = _verdict_not_slower(test, change, detectable, gate, len(before), len(after))
    notes = [reason, *notes] if reason else notes
    per_cpu = evidence.tests[1:]
    quiet = disturbed is None and tasks_note is None
    if verdict != "slower" and per_cpu and quiet and significant(decisions[1].adjusted, gate.alpha):
        # Wall time per CPU second cancels the machine's parallel speed (both move with it):
        # a slowdown of the parallel machinery itself shows there even when B's cores
        # happened to run faster than A's and hid it in wall time. Not beside other load in
        # B: processes taking the workers' cores lengthen wall time at the same CPU.
        verdict, chosen, decision = "slower", per_cpu[0], decisions[1]
        change = hodges_lehmann_change(chosen.before, chosen.after)
        detectable = _detectable(chosen.before, chosen.after, gate.threshold, gate.alpha / family)
        notes = [f"wall time per CPU second of its workers rose {percent_text(change)}", *notes]
    return RowChange(
        key,
        verdict,
        statistics.median(float(v) for v in a["wall_s"]["values"]),
        statistics.median(float(v) for v in b["wall_s"]["values"]),
        change,
        decision.p,
        len(before),
        len(after),
        "; ".join(notes),
        detectable,
        chosen.basis,
        headline_speedup(a),
        headline_speedup(b),
        change_low=change_lower_bound(chosen.before, chosen.after, decision.level),
        p_adjusted=decision.adjusted,
        test=f"{MANN_WHITNEY}, Holm over {family}",
    )


MANN_WHITNEY = "Mann–Whitney U on the repeats"


def _detectable(before: list[float], after: list[float], threshold: float, level: float) -> float | None:
    """The smallest slowdown that would have tested slower by ``threshold`` at ``level``: B's
    repeats moved to A's median, then scaled up until the lower confidence bound of the change
    clears the threshold. None when no slowdown could (too few repeats for ``level``)."""
    beyond_noise = detectable_slowdown(before, after, level)
    return None if beyond_noise is None else (1 + beyond_noise) * (1 + threshold) - 1


def unmeasured_change(key: RowKey, a: ResultRow, b: ResultRow) -> RowChange | None:
    """The row's change when one side has no repeats (failed, fixed, not compared), else None."""
    if measured(a) and not measured(b) and b.get("status") == "failed":
        return RowChange(key, "failed", note=f"failed in B: {b.get('reason')}")
    if not measured(a) and measured(b) and a.get("status") == "failed":
        return RowChange(key, "fixed", note=f"failed in A: {a.get('reason')}")
    if not (measured(a) and measured(b)):
        missing = a if not measured(a) else b
        side = "A" if missing is a else "B"
        why = missing.get("reason") or "no repeats"
        return RowChange(key, "not compared", note=f"{missing.get('status')} in {side}: {why}")
    return None


def _verdict_not_slower(
    test: Shift, change: float, detectable: float | None, gate: Gate, n_a: int, n_b: int
) -> tuple[str, str | None]:
    """faster, inconclusive (with why: these repeats could not have caught a ``must_detect``
    slowdown), within noise or unchanged."""
    if test.faster(gate.threshold, gate.alpha):
        return "faster", None
    if detectable is None:
        return "inconclusive", (
            f"{n_a} vs {n_b} repeats cannot reach the family's p ≤ {gate.alpha:g} whatever the change"
        )
    if detectable > gate.must_detect + TOLERANCE:
        return "inconclusive", f"these repeats could detect only a slowdown of ≥ {percent_text(detectable)}"
    if abs(change) >= gate.threshold - TOLERANCE:
        return "within noise", None
    return "unchanged", None


def detectable_slowdown(before: list[float], after: list[float], alpha: float) -> float | None:
    """The smallest slowdown f that would have made B significantly slower than A.

    B's repeats keep their own spread but are moved to A's median, then multiplied by 1 + f;
    f is found by bisection (p only falls as f grows) to 0.1 %. None when even complete
    separation cannot reach ``alpha`` with this many repeats.
    """
    if not before or not after or not significant(smallest_p(len(before), len(after)), alpha):
        return None
    a_med, b_med = statistics.median(before), statistics.median(after)
    if a_med <= 0 or b_med <= 0:
        return None
    centred = [v * a_med / b_med for v in after]

    def detected(f: float) -> bool:
        return significant(p_greater(before, [v * (1 + f) for v in centred]), alpha)

    if detected(0.0):
        return 0.0
    # Complete separation (every B repeat above every A repeat) reaches the smallest p.
    high = max(before) / min(centred) * (1 + 1e-6) - 1
    low = 0.0
    while high - low > 0.001:
        mid = (low + high) / 2
        low, high = (low, mid) if detected(mid) else (mid, high)
    return high


MACHINE_FIELDS = ("cpu_model", "usable_cores", "platform")
"""What must match for two runs' times to compare the code, not the machine."""


def machine_differences(a: ResultDocument, b: ResultDocument) -> list[str]:
    """The ``MACHINE_FIELDS`` in which A's and B's machines differ."""
    ma: Mapping[str, object] = a.get("machine", {})
    mb: Mapping[str, object] = b.get("machine", {})
    return [f for f in MACHINE_FIELDS if ma.get(f) != mb.get(f)]


def _machine_note(a: ResultDocument, b: ResultDocument) -> str | None:
    ma: Mapping[str, object] = a.get("machine", {})
    mb: Mapping[str, object] = b.get("machine", {})
    differ = machine_differences(a, b)
    if not differ:
        return None
    detail = "; ".join(f"{f}: {ma.get(f)} vs {mb.get(f)}" for f in differ)
    return (
        f"A and B ran on different machines ({detail}): a time change there measures the machine, "
        "not the code. Compare runs from one machine."
    )


def compare_documents(
    a: ResultDocument,
    b: ResultDocument,
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
    must_detect: float = MUST_DETECT,
) -> Comparison:
    """B against A's repeats, row by row, with one family-wise decision at ``alpha``."""
    gate = Gate(threshold, alpha, must_detect)
    rows_a, rows_b = keyed_rows(a), keyed_rows(b)
    slots: list[RowChange | _RowEvidence] = []
    for key, rec in rows_a.items():
        if key not in rows_b:
            slots.append(RowChange(key, "only in A", a_speedup=headline_speedup(rec)))
            continue
        unmeasured = unmeasured_change(key, rec, rows_b[key])
        if unmeasured is not None:
            speedup_a, speedup_b = headline_speedup(rec), headline_speedup(rows_b[key])
            slots.append(replace(unmeasured, a_speedup=speedup_a, b_speedup=speedup_b))
            continue
        serial = RowKey(key.workload, key.impl, "serial", 1, key.python)
        pair = (rows_a.get(serial), rows_b.get(serial)) if key.model != "serial" else (None, None)
        slots.append(_evidence(key, rec, rows_b[key], *pair))
    slots += [
        RowChange(key, "only in B", b_speedup=headline_speedup(rec))
        for key, rec in rows_b.items()
        if key not in rows_a
    ]
    rows, family = _decide_family(slots, gate)
    result = Comparison(rows, threshold, alpha, family=family, must_detect=must_detect)
    note = _machine_note(a, b)
    if note:
        result.notes.append(note)
    result.notes += _comparison_notes(rows, gate, family)
    return result


def _decide_family(slots: list[RowChange | _RowEvidence], gate: Gate) -> tuple[list[RowChange], int]:
    """Every hypothesis of every row tested at once: Holm over the whole family, so a same-code
    pair says "slower" somewhere at most ``alpha`` of the time however many rows and bases."""
    evidence = [s for s in slots if isinstance(s, _RowEvidence)]
    p_values = [p_slower_by(t.before, t.after, gate.threshold) for e in evidence for t in e.tests]
    family = len(p_values)
    decisions = iter(
        _Decision(p, adjusted, level)
        for p, adjusted, level in zip(
            p_values, holm_adjusted(p_values), holm_levels(p_values, gate.alpha), strict=True
        )
    )
    judged = {id(e): _judge(e, [next(decisions) for _ in e.tests], gate, family) for e in evidence}
    return [s if isinstance(s, RowChange) else judged[id(s)] for s in slots], family


def _comparison_notes(rows: list[RowChange], gate: Gate, family: int) -> list[str]:
    """What the reader should know about the comparison as a whole."""
    notes = []
    compared = [r for r in rows if r.change is not None]
    level = gate.alpha / max(1, family)
    weak = sorted({(r.n_a, r.n_b) for r in compared if not significant(smallest_p(r.n_a, r.n_b), level)})
    if weak:
        sizes = ", ".join(f"{x} vs {y}" for x, y in weak)
        needed = next(n for n in range(2, 100) if significant(smallest_p(n, n), level))
        notes.append(
            f"rows with {sizes} repeats cannot reach the level a row faces in this family of {family} "
            f"tests (p ≤ {gate.alpha:g}/{family}) even when every repeat got slower: rerun both sides "
            f"with --repeats {needed} or more, or compare against the history (--baseline history)."
        )
    if any(r.basis == "wall" for r in compared):
        notes.append(
            "drift assumed between A and B: none, for the rows judged on wall time (the `of` column "
            "says wall): their test sees only each run's own repeats, while this machine's speed "
            "can move 10–20 % between runs. Parallel rows are judged against their round's serial "
            "cell, serial rows of `bench --anchor` runs against their round's anchor loop; "
            "--baseline history measures the drift from earlier runs instead."
        )
    # Rows judged on wall times move with the machine; ratios to the same round's cells do not.
    on_wall = [r.change for r in compared if r.basis == "wall" and r.change is not None]
    if len(on_wall) >= 3:
        overall = statistics.median(on_wall)
        if abs(overall) >= gate.threshold:
            direction = "slower" if overall > 0 else "faster"
            notes.append(
                f"the median row judged on wall time is {abs(overall):.0%} {direction} in B: when "
                "nearly every row moves "
                "together, the machine (its speed phase, other load) changed more likely than the code. "
                "Check the warnings of both runs and rerun on a quiet machine."
            )
    return notes
