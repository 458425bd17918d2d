"""B against the machine's own between-run drift: ``gilwise compare --baseline history[:N] B``.

Within-run repeats cannot see how far this machine's speed moves between runs minutes apart
(DESIGN.md: 10–20 %), so a serial row judged on one earlier run's repeats mistakes that drift
for a regression. The last N comparable runs in the history (same machine, the row measured)
show it: each gives the row one value, the median of its quiet rounds on the row's basis
(``bases.values_on``: a parallel row's time over the same round's serial cell, a serial row's
over the anchor loop's of its round where the runs have one, else wall time per unit of work),
and B's is tested against their spread (``drift.drift_test``: a t prediction bound on logs, as
hosted trackers set a threshold per measure from a window of past results). One hypothesis per
row, decided with the same Holm family (``significance.decide_family``) and the same verdicts
as an A-vs-B comparison.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .bases import BASES, measured, values_on
from .causes import percent_text
from .compare import (
    Comparison,
    Gate,
    RowChange,
    RowKey,
    keyed_rows,
    machine_differences,
    machine_reason,
    unmeasured_change,
    verdict_not_slower,
)
from .document import ResultDocument, ResultRow
from .drift import MIN_ROUNDS, MIN_RUNS, LogShift, drift_test
from .headline import headline_speedup
from .significance import FamilyDecision, decide_family

DEFAULT_WINDOW = 10
"""How many earlier comparable runs ``--baseline history`` uses when no N is given."""


@dataclass(frozen=True)
class EarlierRun:
    """A run from the history, by id, as the baseline window holds it."""

    run_id: int
    document: ResultDocument


def comparable_runs(earlier: Iterable[EarlierRun], b: ResultDocument, window: int) -> list[EarlierRun]:
    """The first ``window`` runs of ``earlier`` (newest first) from B's machine that share a row
    with B; reads no further once it has them."""
    keys = set(keyed_rows(b))
    usable: list[EarlierRun] = []
    for run in earlier:
        if len(usable) >= window:
            break
        if not machine_differences(run.document, b) and keys & set(keyed_rows(run.document)):
            usable.append(run)
    return usable


def _serial_of(rows: dict[RowKey, ResultRow], key: RowKey) -> ResultRow | None:
    if key.model == "serial":
        return None
    return rows.get(RowKey(key.workload, key.impl, "serial", 1, key.python))


def _rounds(rows: dict[RowKey, ResultRow], key: RowKey, basis: str) -> list[float] | None:
    """The row's values on ``basis`` in its quiet rounds of one run, or None where that run
    cannot give it (no such basis, fewer than ``MIN_ROUNDS`` quiet rounds)."""
    rec = rows.get(key)
    if rec is None:
        return None
    values = values_on(rec, _serial_of(rows, key), basis)
    return values.values if values is not None and len(values.values) >= MIN_ROUNDS else None


@dataclass(frozen=True)
class _RowDrift:
    key: RowKey
    b: ResultRow
    basis: str
    test: LogShift
    earlier_walls: list[float]
    runs: int
    """How many earlier runs gave the row a value (the spread's sample)."""
    newest: ResultRow | None
    """The row in the newest earlier run that measured it: what B's CPU and tasks are held
    against when its slowdown may be the machine's."""


def compare_with_history(earlier: Sequence[EarlierRun], b: ResultDocument, gate: Gate) -> Comparison:
    """B against the spread of ``earlier`` runs (already the comparable window), row by row."""
    documents = [keyed_rows(run.document) for run in earlier]
    rows_b = keyed_rows(b)
    slots: list[RowChange | _RowDrift] = []
    for key, rec in rows_b.items():
        seen = [rows[key] for rows in documents if key in rows]
        if not seen:
            slots.append(RowChange(key, "only in B", b_speedup=headline_speedup(rec)))
            continue
        if not measured(rec):
            reference = next((r for r in seen if measured(r)), seen[0])
            change = unmeasured_change(key, reference, rec)
            slots.append(change or RowChange(key, "not compared", note="no repeats in B"))
            continue
        serial = _serial_of(rows_b, key)
        basis = next(basis for basis in BASES if values_on(rec, serial, basis) is not None)
        values = [statistics.median(v) for rows in documents if (v := _rounds(rows, key, basis))]
        rounds_b = _rounds(rows_b, key, basis)
        test = drift_test(values, statistics.median(rounds_b), rounds_b) if rounds_b else None
        if test is None:
            note = (
                f"only {len(values)} earlier comparable run(s) hold this row on basis {basis!r}; "
                f"{MIN_RUNS} are needed for their spread"
            )
            if rounds_b is None:
                note = (
                    f"fewer than {MIN_ROUNDS} of B's rounds ran beside little enough other load "
                    "for a value on its basis: rerun B on a quiet machine"
                )
            slots.append(RowChange(key, "inconclusive", n_a=len(values), n_b=1, note=note, basis=basis))
            continue
        walls = [float(r["wall_s"]["median"] or 0) for r in seen if measured(r)]
        newest = next((r for r in seen if measured(r)), None)
        slots.append(_RowDrift(key, rec, basis, test, walls, len(values), newest))
    tested = [s for s in slots if isinstance(s, _RowDrift)]
    decisions = decide_family([s.test.p_slower_by(gate.threshold) for s in tested], gate.alpha)
    family = len(decisions)
    judged = {id(s): _judge(s, d, gate, family) for s, d in zip(tested, decisions, strict=True)}
    rows = [s if isinstance(s, RowChange) else judged[id(s)] for s in slots]
    ids = ", ".join(f"#{run.run_id}" for run in earlier)
    comparison = Comparison(
        rows,
        gate.threshold,
        gate.alpha,
        family=family,
        must_detect=gate.must_detect,
        baseline=f"the spread of {len(earlier)} earlier runs on this machine ({ids})",
    )
    if len(earlier) < MIN_RUNS:
        comparison.notes.append(
            f"the history holds {len(earlier)} comparable run(s) of B's machine and rows; their "
            f"between-run spread needs {MIN_RUNS}: run `gilwise bench` with the same options a few "
            "more times, or compare against one run (gilwise compare A B)."
        )
    return comparison


def _judge(drift: _RowDrift, decision: FamilyDecision, gate: Gate, family: int) -> RowChange:
    test = drift.test
    detectable = test.detectable(gate.threshold, gate.alpha / family)
    spread = f"earlier runs spread ±{percent_text(test.scale / math.sqrt(1 + 1 / drift.runs))} (one sd)"
    reason = machine_reason(drift.newest, drift.b, gate) if drift.newest is not None else None
    if decision.rejected(gate.alpha) and reason:
        verdict, note = "inconclusive", f"beyond the {spread}, but {reason}"
    elif decision.rejected(gate.alpha):
        verdict, note = "slower", f"beyond the {spread}"
    else:
        verdict, reason = verdict_not_slower(test, detectable, gate, family, subject="B against them")
        note = "; ".join(n for n in (spread, reason) if n) if verdict != "unchanged" else ""
    return RowChange(
        drift.key,
        verdict,
        statistics.median(drift.earlier_walls) if drift.earlier_walls else None,
        statistics.median(float(v) for v in drift.b["wall_s"]["values"]),
        test.change,
        decision.p,
        drift.runs,
        len(drift.b["wall_s"]["values"]),
        note,
        detectable,
        drift.basis,
        None,
        headline_speedup(drift.b),
        change_low=test.lower_bound(decision.level),
        p_adjusted=decision.adjusted,
        test=f"{test.name}, Holm over {family}",
    )
