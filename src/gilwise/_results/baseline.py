"""B against the machine's own between-run drift: ``gilwise compare --baseline history[:N] B``.

Within-run repeats cannot see how far this machine's speed moves between runs minutes apart
(DESIGN.md: 10–20 %), so a serial row judged on one earlier run's repeats mistakes that drift
for a regression. The last N comparable runs in the history (same machine, the row measured)
show it: each gives the row one value, its median on the row's basis (a parallel row's time
over the same round's serial cell, a serial row's over the anchor loop's of its round where
the runs have one, else wall time per unit of work), and B's median is tested
against their spread (``drift.DriftTest``: a t prediction bound on logs, as hosted trackers set
a threshold per measure from a window of past results). One hypothesis per row, Holm over the
rows, as for an A-vs-B comparison.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .bases import measured, relative_to_anchor, relative_to_serial
from .causes import percent_text, work_per_cell
from .compare import (
    Comparison,
    Gate,
    RowChange,
    RowKey,
    keyed_rows,
    machine_differences,
    unmeasured_change,
)
from .document import ResultDocument, ResultRow
from .drift import MIN_RUNS, DriftTest, drift_test
from .headline import headline_speedup
from .significance import holm_adjusted, holm_levels, significant

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


def _value(rows: dict[RowKey, ResultRow], key: RowKey, basis: str) -> float | None:
    """The row's median on ``basis`` in one run, or None where that run cannot give it."""
    rec = rows.get(key)
    if rec is None or not measured(rec):
        return None
    if basis == "relative to serial":
        relative = relative_to_serial(rec, _serial_of(rows, key))
        return statistics.median(relative) if relative else None
    if basis == "relative to anchor":
        anchored = relative_to_anchor(rec)
        return statistics.median(anchored) if anchored else None
    return statistics.median(float(v) for v in rec["wall_s"]["values"]) / work_per_cell(rec)


@dataclass(frozen=True)
class _RowDrift:
    key: RowKey
    b: ResultRow
    basis: str
    test: DriftTest
    earlier_walls: list[float]


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
        basis = "wall"
        if relative_to_serial(rec, _serial_of(rows_b, key)):
            basis = "relative to serial"
        elif relative_to_anchor(rec):
            basis = "relative to anchor"
        values = [v for rows in documents if (v := _value(rows, key, basis)) is not None]
        value_b = _value(rows_b, key, basis)
        test = drift_test(values, value_b) if value_b is not None else None
        if test is None:
            note = (
                f"only {len(values)} earlier comparable run(s) hold this row on basis {basis!r}; "
                f"{MIN_RUNS} are needed for their spread"
            )
            slots.append(RowChange(key, "inconclusive", n_a=len(values), n_b=1, note=note, basis=basis))
            continue
        walls = [float(r["wall_s"]["median"] or 0) for r in seen if measured(r)]
        slots.append(_RowDrift(key, rec, basis, test, walls))
    tested = [s for s in slots if isinstance(s, _RowDrift)]
    p_values = [s.test.p_slower_by(gate.threshold) for s in tested]
    family = len(p_values)
    decided = zip(p_values, holm_adjusted(p_values), holm_levels(p_values, gate.alpha), strict=True)
    judged = {
        id(s): _judge(s, p, adjusted, level, gate, family)
        for s, (p, adjusted, level) in zip(tested, decided, strict=True)
    }
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


def _judge(drift: _RowDrift, p: float, adjusted: float, level: float, gate: Gate, family: int) -> RowChange:
    test = drift.test
    detectable = test.detectable(gate.threshold, gate.alpha / family)
    spread = f"earlier runs spread ±{percent_text(test.log_sd)} (one sd)"
    verdict, note = "unchanged", ""
    if significant(adjusted, gate.alpha):
        verdict, note = "slower", f"beyond the {spread}"
    elif detectable > gate.must_detect:
        verdict = "inconclusive"
        note = f"{spread}: only a slowdown of ≥ {percent_text(detectable)} shows beyond it"
    elif abs(test.change) >= gate.threshold:
        verdict, note = "within noise", spread
    return RowChange(
        drift.key,
        verdict,
        statistics.median(drift.earlier_walls) if drift.earlier_walls else None,
        statistics.median(float(v) for v in drift.b["wall_s"]["values"]),
        test.change,
        p,
        test.runs,
        len(drift.b["wall_s"]["values"]),
        note,
        detectable,
        drift.basis,
        None,
        headline_speedup(drift.b),
        change_low=test.lower_bound(level),
        p_adjusted=adjusted,
        test=f"t on {test.runs} earlier runs' medians, Holm over {family}",
    )
