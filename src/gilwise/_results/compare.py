"""Compare two result documents row by row, with one family-wise decision: the regression gate.

A row is (workload, impl, model, workers, interpreter version). Every row measured in both runs
is one hypothesis, "B is at least ``threshold`` slower", tested on the one basis fixed for it
before any value is read (``bases``: a parallel row relative to the serial cell of the same
round, a serial row of a ``bench --anchor`` run relative to the anchor loop of the same round,
else wall time per unit of work), from its rounds without other load beside them. One basis a
row, so the family counts rows: Holm–Bonferroni over them decides, and a same-code pair says
"slower" somewhere at most ``alpha`` of the time, whether the document has 6 rows or 40 (issue
28: testing each row at 0.05, on up to four fallback bases, made eight of twelve same-code pairs
fail). The test (``drift.rounds_test``) is a t test on the logs of the rounds' values, its scale
the rounds' pooled spread plus an assumed between-run drift of ``drift.ASSUMED_DRIFT`` a run, as
measured on this machine's quiet rounds; its p is continuous, so a 5 vs 5 round comparison can
reach the level Holm gives a row (the exact rank test used before could not: its smallest p,
1/252, sat above most rows' levels, and 13 of 20 injected 25 % slowdowns went inconclusive). A
row is slower when the lower confidence bound of its change, at the level Holm gives the row,
lies above ``threshold``: "slower" means slower by the threshold, with confidence, not a change
whose interval reaches far below it. A row measured in A that failed in B is a regression too.

Why ratios within a round: this machine's speed drifts in phases of seconds, cells of one round
run seconds apart, and so the ratio cancels the drift that moves whole runs (DESIGN.md,
"Measuring on a noisy machine"). A slowdown of the code both cells run shows in the serial row;
what the ratio shows is a slowdown of the parallel model itself. Relative to the anchor, a
serial row cannot tell a slower machine from a change that slows the anchor loop itself
(another interpreter build, a slower bytecode loop), which then shows as no change. The row's
``basis`` and ``test`` say what was done.

A row that is not slower is only called unchanged when it could have shown a ``must_detect``
slowdown: ``detectable`` is the smallest slowdown that, with these rounds, their spread and the
assumed drift, would have been called slower at the family's strictest level. Where that exceeds
``must_detect``, or a side has fewer than ``drift.MIN_ROUNDS`` quiet rounds, the row is
*inconclusive*: the gate can neither pass nor fail it. ``baseline.compare_with_history`` judges
B against earlier runs' spread instead, with the same family-wise decision.

A slowdown may be the machine's even so, and is then inconclusive, not slower: beside more other
load in B than in A where the rounds do not record it one by one (older documents); when the
extra CPU of its workers accounts for it (on this 2-vCPU VM both cores slow down together when
the host is busy: same code, back to back, serial cells unchanged, the processes cells 30–43 %
slower with their workers' CPU per task up by as much); or when its busiest worker's tasks took
that much longer (``causes``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .bases import TestedValues, dropped_rounds_note, measured, quiet_rounds, tested_values
from .causes import (
    extra_cpu_note,
    other_load_note,
    percent_text,
    slower_tasks_note,
)
from .document import ResultDocument, ResultRow, interpreter_label
from .drift import ASSUMED_DRIFT, MIN_ROUNDS, LogShift, rounds_test
from .headline import headline_speedup
from .significance import TOLERANCE, FamilyDecision, decide_family
from .stats import OTHER_LOAD_WARN_CORES

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
    """B over A, less one, on ``basis``, as the row's test estimates it (the ratio of the
    rounds' geometric means; with a history baseline B's median over the runs' typical value):
    +0.25 means 25 % slower. The verdict, ``change_low`` and ``detectable`` come from the same
    test."""
    p_slower: float | None = None
    """One-sided p for "slower by at least the threshold" on ``basis``, before adjustment."""
    n_a: int = 0
    n_b: int = 0
    note: str = ""
    detectable: float | None = None
    """The smallest slowdown this comparison could have detected in the row (0.12 = 12 %), at
    the family's strictest level; None when the row could not be tested (too few quiet
    rounds)."""
    basis: str = "wall"
    """What was tested (``bases.BASES``): "relative to serial" (each round's wall time over the
    same round's serial cell), "relative to anchor" (over the same round's anchor loop) or
    "wall" (wall time per unit of work); ``change`` and ``detectable`` are on that basis, the
    medians are wall times either way."""
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
    """Which test decided (on how many rounds, with which drift), and over how many hypotheses
    the comparison's family counted."""

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
    drift: float = ASSUMED_DRIFT
    """The between-run drift assumed when B is judged against A's repeats alone."""


@dataclass
class Comparison:
    rows: list[RowChange]
    threshold: float
    alpha: float
    notes: list[str] = field(default_factory=list)
    family: int = 0
    """How many hypotheses the family-wise control counted: the rows tested, one basis each."""
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
    """A row measured in both runs, its values on its basis, and their test: one member of the
    comparison's family (``test`` None: too few quiet rounds to be tested, not a member)."""

    key: RowKey
    a: ResultRow
    b: ResultRow
    values: TestedValues
    test: LogShift | None


def _evidence(
    key: RowKey,
    a: ResultRow,
    b: ResultRow,
    serial_a: ResultRow | None,
    serial_b: ResultRow | None,
    gate: Gate,
) -> _RowEvidence:
    values = tested_values(a, b, serial_a, serial_b)
    return _RowEvidence(key, a, b, values, rounds_test(values.before.values, values.after.values, gate.drift))


def _judge(evidence: _RowEvidence, decision: FamilyDecision, gate: Gate, family: int) -> RowChange:
    """The row's verdict from its test and Holm's decision for it."""
    a, b, test = evidence.a, evidence.b, evidence.test
    assert test is not None
    # What these rounds could have caught, at the strictest level of the family (the one the
    # row would face had it the smallest p): honest whatever the other rows did.
    detectable = test.detectable(gate.threshold, gate.alpha / family)
    notes = [n for n in (evidence.values.note, dropped_rounds_note(evidence.values)) if n]
    if decision.rejected(gate.alpha):
        reason = machine_reason(a, b, gate)
        verdict = "inconclusive" if reason else "slower"
    else:
        verdict, reason = verdict_not_slower(test, detectable, gate, family)
    notes = [reason, *notes] if reason else notes
    return RowChange(
        evidence.key,
        verdict,
        statistics.median(float(v) for v in a["wall_s"]["values"]),
        statistics.median(float(v) for v in b["wall_s"]["values"]),
        test.change,
        decision.p,
        len(evidence.values.before.values),
        len(evidence.values.after.values),
        "; ".join(notes),
        detectable,
        evidence.values.basis,
        headline_speedup(a),
        headline_speedup(b),
        change_low=test.lower_bound(decision.level),
        p_adjusted=decision.adjusted,
        test=f"{test.name}, Holm over {family}",
    )


def machine_reason(a: ResultRow, b: ResultRow, gate: Gate) -> str | None:
    """Why B's slowdown of the row against A may be the machine's, or None: then it is
    inconclusive, never slower. Other load counts only where the rounds beside it could not be
    left out one by one (``bases.quiet_rounds``)."""
    filtered = quiet_rounds(a) is not None and quiet_rounds(b) is not None
    disturbed = None if filtered else other_load_note(a, b)
    return disturbed or slower_tasks_note(a, b, gate.threshold) or extra_cpu_note(a, b, gate.threshold)


def _untested(evidence: _RowEvidence) -> RowChange:
    """A row with fewer than ``MIN_ROUNDS`` quiet rounds a side: inconclusive, with why."""
    before, after = evidence.values.before, evidence.values.after
    if before.rounds < MIN_ROUNDS or after.rounds < MIN_ROUNDS:
        why = (
            f"{before.rounds} vs {after.rounds} rounds: a spread needs {MIN_ROUNDS} a side; "
            "rerun both with --repeats 5 or more"
        )
    else:
        why = (
            f"other processes used > {OTHER_LOAD_WARN_CORES:g} cores beside "
            f"{before.rounds - len(before.values)} of A's {before.rounds} and "
            f"{after.rounds - len(after.values)} of B's {after.rounds} rounds, leaving fewer than "
            f"{MIN_ROUNDS} quiet ones a side: rerun on a quiet machine, or compare against the "
            "history (--baseline history)"
        )
    a, b = evidence.a, evidence.b
    return RowChange(
        evidence.key,
        "inconclusive",
        statistics.median(float(v) for v in a["wall_s"]["values"]),
        statistics.median(float(v) for v in b["wall_s"]["values"]),
        n_a=len(before.values),
        n_b=len(after.values),
        note=why,
        basis=evidence.values.basis,
        a_speedup=headline_speedup(a),
        b_speedup=headline_speedup(b),
    )


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


def verdict_not_slower(
    test: LogShift, detectable: float, gate: Gate, family: int, subject: str = "these rounds"
) -> tuple[str, str | None]:
    """faster (the change's upper bound at the family's strictest level is below -threshold:
    the same test and change figure as "slower"), inconclusive (with why: ``subject`` could not
    have caught a ``must_detect`` slowdown), within noise or unchanged."""
    if test.upper_bound(gate.alpha / family) <= -gate.threshold + TOLERANCE:
        return "faster", None
    if detectable > gate.must_detect + TOLERANCE:
        return "inconclusive", f"{subject} could detect only a slowdown of ≥ {percent_text(detectable)}"
    if abs(test.change) >= gate.threshold - TOLERANCE:
        return "within noise", None
    return "unchanged", None


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
        evidence = _evidence(key, rec, rows_b[key], *pair, gate)
        slots.append(evidence if evidence.test is not None else _untested(evidence))
    slots += [
        RowChange(key, "only in B", b_speedup=headline_speedup(rec))
        for key, rec in rows_b.items()
        if key not in rows_a
    ]
    tested = [s for s in slots if isinstance(s, _RowEvidence)]
    decisions = decide_family([e.test.p_slower_by(gate.threshold) for e in tested if e.test], gate.alpha)
    family = len(decisions)
    judged = {id(e): _judge(e, d, gate, family) for e, d in zip(tested, decisions, strict=True)}
    rows = [s if isinstance(s, RowChange) else judged[id(s)] for s in slots]
    result = Comparison(rows, threshold, alpha, family=family, must_detect=must_detect)
    note = _machine_note(a, b)
    if note:
        result.notes.append(note)
    result.notes += _comparison_notes(rows, gate)
    return result


def _comparison_notes(rows: list[RowChange], gate: Gate) -> list[str]:
    """What the reader should know about the comparison as a whole."""
    notes = []
    compared = [r for r in rows if r.change is not None]
    if compared:
        notes.append(
            f"drift assumed between A and B: ±{gate.drift:.0%} a run (one sd), as measured between "
            "this machine's quiet runs; rows judged on wall time (the `of` column says wall) also "
            "move with the machine's speed phases, which parallel rows (÷ serial) and serial rows of "
            "`bench --anchor` runs (÷ anchor) cancel. --baseline history measures the drift from "
            "earlier runs instead."
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
