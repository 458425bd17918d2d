"""The gate's family-wise decision, its confidence bound, and the history baseline (issue 28),
on synthetic documents whose every figure is set by the test."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from gilwise._results.baseline import EarlierRun, comparable_runs, compare_with_history
from gilwise._results.compare import Gate, compare_documents
from gilwise._results.drift import (
    ASSUMED_DRIFT,
    LogShift,
    drift_test,
    rounds_test,
    student_t_quantile,
    student_t_upper_tail,
)
from gilwise._results.history import History
from gilwise._results.significance import holm_adjusted
from gilwise.cli import main
from sample_documents import default_document

WORKLOADS = [f"w{i}" for i in range(6)]


def _serial_rows(values: dict[str, list[float]]) -> dict[str, Any]:
    """A document of one serial row per workload, with these wall times (no CPU, no rounds)."""
    doc = default_document()
    template = next(r for r in doc["results"] if r["model"] == "serial" and r["status"] == "ok")
    rows = []
    for name, walls in values.items():
        rec = json.loads(json.dumps(template))
        for extra in ("round_ids", "cpu_s", "other_cpu_cores", "critical_path_s"):
            rec.pop(extra, None)
        rec["workload"] = name
        rec["wall_s"] = {
            "median": sorted(walls)[len(walls) // 2],
            "min": min(walls),
            "max": max(walls),
            "values": walls,
        }
        rec["rounds"] = len(walls)
        rows.append(rec)
    return {**doc, "results": rows}


def test_holm_adjusts_step_down_and_never_below_an_earlier_step() -> None:
    assert holm_adjusted([0.01, 0.04, 0.03, 0.2]) == pytest.approx([0.04, 0.09, 0.09, 0.2])
    assert holm_adjusted([0.5]) == [0.5]
    assert holm_adjusted([0.3, 0.3, 0.3]) == pytest.approx([0.9, 0.9, 0.9])


def test_student_t_tail_and_quantile_match_tables() -> None:
    # Two-sided 95 % t values from any table: 12.706 (1 df), 2.571 (5), 2.262 (9).
    for df, t in ((1, 12.706), (5, 2.571), (9, 2.262)):
        assert student_t_upper_tail(t, df) == pytest.approx(0.025, abs=2e-5)
        assert student_t_quantile(0.025, df) == pytest.approx(t, abs=1e-3)
    assert student_t_upper_tail(0.0, 4) == pytest.approx(0.5)
    assert student_t_upper_tail(-2.571, 5) == pytest.approx(0.975, abs=2e-5)


def test_a_change_counts_at_exactly_the_threshold_and_alpha() -> None:
    """The test's p, bounds and detectable slowdown come from one estimate and one scale."""
    test = LogShift(math.log(1.10), 0.02, 8, "t")
    assert test.change == pytest.approx(0.10)
    assert test.p_slower_by(0.10) == pytest.approx(0.5)  # exactly at the threshold
    p = test.p_slower_by(0.05)
    assert test.lower_bound(p) == pytest.approx(0.05, abs=1e-6)  # the bound at p is the threshold
    # detectable at 80 % power: the test's margin plus the power's, so a change of exactly it
    # tests slower with p = 0.2 against the threshold plus the margin
    shown = test.detectable(0.05, p)
    margin = math.log((1 + shown) / 1.10)
    assert LogShift(math.log(1 + shown), 0.02, 8, "t").p_slower_by(0.10) == pytest.approx(0.2, abs=1e-6)
    assert shown > 0.10 and margin == pytest.approx(0.02 * student_t_quantile(0.2, 8), abs=1e-6)
    assert test.upper_bound(0.05) > 0.10 > test.lower_bound(0.05)
    assert LogShift(math.log(0.8), 0.02, 8, "t").p_faster_by(0.05) < 1e-4
    assert LogShift(0.01, 0.0, 8, "t").p_slower_by(0.0) == 0.0  # no spread at all: certain


def test_a_six_row_same_distribution_pair_with_one_row_at_p_003_does_not_regress() -> None:
    """Six rows, A and B drawn from one distribution; one row's B happens to sit high (its own
    test p = 0.03, +12 %): the per-row test of old called it a regression, the family's does
    not."""
    rng = random.Random(28)
    a = {w: [rng.uniform(1.0, 1.08) for _ in range(5)] for w in WORKLOADS}
    b = {w: [rng.uniform(1.0, 1.08) for _ in range(5)] for w in WORKLOADS}
    a["w0"] = [1.00, 1.02, 1.04, 1.06, 1.08]
    b["w0"] = [v * 1.12 / 1.05 for v in (1.05, 1.07, 1.10, 1.11, 1.12)]
    row_test = rounds_test(a["w0"], b["w0"])
    assert row_test is not None and row_test.p_slower_by(0.05) == pytest.approx(0.03, abs=0.005)
    assert row_test.change > 0.05  # what the per-row rule, p ≤ 0.05 and change ≥ 5 %, called slower
    result = compare_documents(_serial_rows(a), _serial_rows(b))
    assert result.family == 6 and not result.regressions
    row = next(r for r in result.rows if r.key.workload == "w0")
    assert row.verdict != "slower" and row.p_adjusted is not None and row.p_adjusted > 0.05
    assert row.p_slower == pytest.approx(row_test.p_slower_by(0.05))
    assert row.change_low is not None and row.change_low < 0.05


def test_a_row_whose_change_interval_lies_above_the_threshold_regresses() -> None:
    quiet = [1.00, 1.01, 0.99, 1.005, 0.995, 1.015, 0.985, 1.0]
    a = {w: list(quiet) for w in WORKLOADS}
    b = {w: list(quiet) for w in WORKLOADS}
    b["w3"] = [v * 1.3 for v in quiet]
    result = compare_documents(_serial_rows(a), _serial_rows(b))
    [row] = result.regressions
    assert row.key.workload == "w3" and row.verdict == "slower"
    assert row.change == pytest.approx(0.3)
    # The interval's lower bound at Holm's first step (0.05 / 6) is above 5 %, and the test says
    # which it was: a t test on the rounds' logs with the assumed drift, six hypotheses.
    test = rounds_test(quiet, b["w3"])
    assert test is not None and row.change_low is not None and 0.05 < row.change_low < 0.3
    assert row.change_low == pytest.approx(test.lower_bound(0.05 / 6), abs=1e-9)
    assert row.test == f"t on the logs of the quiet rounds, drift ±{ASSUMED_DRIFT:.0%} assumed, Holm over 6"
    assert (row.n_a, row.n_b) == (8, 8)
    # The same +30 % change with rounds spread ±30 %: the interval reaches below 5 %.
    wide = [1.0, 1.3, 0.7, 1.15, 0.85, 1.2, 0.8, 1.05]
    a["w3"], b["w3"] = wide, [v * 1.3 for v in wide]
    row = next(r for r in compare_documents(_serial_rows(a), _serial_rows(b)).rows if r.key.workload == "w3")
    assert row.verdict == "inconclusive" and row.change_low is not None and row.change_low < 0.05
    assert row.change == pytest.approx(0.3)


def test_same_code_pairs_regress_at_most_alpha_of_the_time() -> None:
    """Family-wise: 300 same-distribution pairs of 6 rows × 5 repeats, log-normal ±8 % noise.
    At most alpha (5 %) of the pairs may say slower; a per-row rule said so far more often."""
    rng = random.Random(7)
    regressed = 0
    for _ in range(300):
        a = {w: [math.exp(rng.gauss(0, 0.08)) for _ in range(5)] for w in WORKLOADS}
        b = {w: [math.exp(rng.gauss(0, 0.08)) for _ in range(5)] for w in WORKLOADS}
        regressed += bool(compare_documents(_serial_rows(a), _serial_rows(b), threshold=0.0).regressions)
    assert regressed <= 0.05 * 300


def _run(walls: list[float], scale: float) -> dict[str, Any]:
    return _serial_rows({w: [v * scale for v in walls] for w in WORKLOADS})


QUIET = [1.00, 1.01, 0.99, 1.005, 0.995]
DRIFT = [1.0, 1.12, 0.93, 1.08, 0.95, 1.15, 0.9, 1.04]
"""Eight earlier runs of the same code, whole runs moved by the machine's speed (±15 %)."""


def test_the_history_baseline_judges_b_against_the_machines_between_run_drift() -> None:
    earlier = [EarlierRun(i, _run(QUIET, s)) for i, s in enumerate(DRIFT)]
    # B in a slow phase, +14 % against the first run: one run's repeats (±1 %), with the 2 %
    # drift assumed between two runs, call that slower...
    b = _run(QUIET, 1.14)
    assert compare_documents(earlier[0].document, b).outcome == "slower"
    # ...the runs' own spread shows it is the machine's usual drift.
    result = compare_with_history(earlier, b, Gate())
    assert not result.regressions and result.family == 6
    row = result.rows[0]
    assert row.n_a == len(DRIFT) and row.test == f"t on {len(DRIFT)} earlier runs' medians, Holm over 6"
    assert row.detectable is not None and row.change_low is not None and row.change_low < 0.05
    assert "8 earlier runs" in result.baseline
    # A slowdown well beyond that drift is caught.
    slow = compare_with_history(earlier, _run(QUIET, 1.8), Gate())
    assert len(slow.regressions) == 6 and all(
        "beyond the earlier runs spread" in r.note for r in slow.regressions
    )
    # Two earlier runs cannot show a spread: inconclusive, with what to do.
    few = compare_with_history(earlier[:2], b, Gate())
    assert few.outcome == "inconclusive" and any("needs 3" in note for note in few.notes)


def test_drift_test_needs_three_runs_and_scales_with_their_spread() -> None:
    assert drift_test([1.0, 1.1], 1.0) is None
    tight = drift_test([1.0, 1.01, 0.99, 1.0], 1.0)
    loose = drift_test([1.0, 1.2, 0.8, 1.1], 1.0)
    assert tight is not None and loose is not None
    assert tight.detectable(0.05, 0.01) < 0.2 < loose.detectable(0.05, 0.01)
    # Three earlier runs agreeing to 0.2 % by chance, B's median of two rounds 10 % above (seen in
    # the stored runs of issue 28, same code): B's own rounds' spread keeps that within noise.
    earlier, rounds = [0.517, 0.516, 0.518], [0.522, 0.618]
    alone = drift_test(earlier, 0.57)
    with_rounds = drift_test(earlier, 0.57, rounds)
    assert alone is not None and with_rounds is not None
    assert alone.p_slower_by(0.05) < 0.05 / 6 < with_rounds.p_slower_by(0.05)


def test_compare_baseline_history_from_the_command_line(
    isolated_history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = History(isolated_history)
    other = _run(QUIET, 1.0)
    other["machine"] = {**other["machine"], "cpu_model": "another machine"}
    history.record(other)  # not comparable: never in the window
    for scale in DRIFT:
        history.record(_run(QUIET, scale))  # type: ignore[arg-type]
    history.record(_run(QUIET, 1.14))  # type: ignore[arg-type]
    report = tmp_path / "cmp.json"
    assert main(["compare", "--baseline", "history:8", "latest", "--json", str(report)]) in (0, 3)
    out = " ".join(capsys.readouterr().out.split())  # lines wrap at 80 columns when piped
    assert "decided against the spread of 8 earlier runs" in out and "REGRESSION" not in out
    written = json.loads(report.read_text())
    assert written["a"] == "history[:8]" and written["family"] == 6
    assert {r["test"] for r in written["rows"]} == {"t on 8 earlier runs' medians, Holm over 6"}
    assert all(r["detectable"] is not None and "change_low" in r for r in written["rows"])
    history.record(_run(QUIET, 1.8))  # type: ignore[arg-type]
    assert main(["compare", "--baseline", "history", "latest"]) == 1
    assert "REGRESSION: 6 row(s)" in " ".join(capsys.readouterr().out.split())
    # The run before: the window holds only runs older than B.
    latest = history.latest_id()
    assert latest is not None
    runs = comparable_runs(
        (EarlierRun(i, d) for i, d in history.documents(before_id=latest)), history.load(latest), 20
    )
    assert [r.run_id for r in runs] == list(range(latest - 1, 1, -1))


def _anchored(doc: dict[str, Any], anchor: list[float]) -> dict[str, Any]:
    """``doc`` with the anchor loop's times of each round on every serial row (as `bench
    --anchor` writes them), one round id per repeat."""
    out = json.loads(json.dumps(doc))
    for rec in out["results"]:
        rec["round_ids"] = list(range(len(rec["wall_s"]["values"])))
        rec["anchor_s"] = {"median": sorted(anchor)[len(anchor) // 2], "min": min(anchor), "max": max(anchor)}
        rec["anchor_s"]["values"] = list(anchor)
        rec["anchor_round_ids"] = list(range(len(anchor)))
    return out


def test_a_serial_row_drifting_10_percent_with_its_anchor_is_unchanged() -> None:
    """B ran in a phase where the whole machine was 10 % slower: every serial row and the anchor
    loop of the same rounds moved alike. Judged on wall times every row changed by 10 % (and by
    20 %, a regression of every row); relative to the anchor nothing changed."""
    speed = [1.00, 1.03, 0.97, 1.02, 0.98, 1.01, 0.99, 1.0]  # the machine's speed, round by round
    anchor = [0.2 * s for s in speed]
    a = {w: [s * (1 + 0.002 * i) for i, s in enumerate(speed)] for w in WORKLOADS}
    for phase in (1.10, 1.20):
        b = {w: [v * phase for v in walls] for w, walls in a.items()}
        plain = compare_documents(_serial_rows(a), _serial_rows(b))
        assert {r.basis for r in plain.rows} == {"wall"}
        assert all(r.change == pytest.approx(phase - 1) for r in plain.rows)
        assert len(plain.regressions) == (len(WORKLOADS) if phase > 1.1 else 0)
        anchored = compare_documents(
            _anchored(_serial_rows(a), anchor), _anchored(_serial_rows(b), [v * phase for v in anchor])
        )
        assert not anchored.regressions and anchored.outcome == "clean"
        assert {r.basis for r in anchored.rows} == {"relative to anchor"}
        assert {r.verdict for r in anchored.rows} == {"unchanged"}
        assert all(r.change == pytest.approx(0.0, abs=1e-9) for r in anchored.rows)
    # In the same slow phase, a real 30 % slowdown of one row's code is still caught.
    b = {w: [v * 1.10 for v in walls] for w, walls in a.items()}
    b["w2"] = [v * 1.10 * 1.3 for v in a["w2"]]
    slow_anchor = [v * 1.10 for v in anchor]
    caught = compare_documents(_anchored(_serial_rows(a), anchor), _anchored(_serial_rows(b), slow_anchor))
    assert [r.key.workload for r in caught.regressions] == ["w2"]


NOISE = {
    ("python", "serial"): 0.024,
    ("native", "serial"): 0.011,
    ("python", "threads"): 0.028,
    ("python", "processes"): 0.042,
    ("native", "threads"): 0.038,
    ("native", "processes"): 0.025,
}
"""Within-run spread (one sd of the log) of each row of `bench --repeats 5 --workload sqrt_log
--model serial,threads,processes --workers 2` in its rounds without other load: a serial row's
wall time, a parallel row's ratio to the serial cell of its round. Measured over issue 28's 83
stored runs, as was ``RUN_DRIFT``: how far a run's mean moved beyond that between two
consecutive runs (the largest row's)."""
RUN_DRIFT = 0.019
RATIO = {"threads": 0.52, "processes": 0.53}


def _simulated_run(rng: random.Random, busy: float, slower: tuple[str, str] | None = None) -> dict[str, Any]:
    """One simulated run of the gate's benchmark command, 5 rounds: each round is beside other
    load with chance ``busy`` (0.4–1.2 cores, which lengthens the parallel cells by 70 % and
    spreads them ±27 %, as the stored runs' loaded rounds did); ``slower`` 25 % slower."""
    doc = default_document()
    template = next(r for r in doc["results"] if r["model"] == "serial" and r["status"] == "ok")
    rows = []
    for impl in ("python", "native"):
        loads = [rng.uniform(0.4, 1.2) if rng.random() < busy else rng.uniform(0.0, 0.1) for _ in range(5)]
        serial = [math.exp(rng.gauss(0, RUN_DRIFT) + rng.gauss(0, NOISE[impl, "serial"])) for _ in loads]
        for model in ("serial", "threads", "processes"):
            if model == "serial":
                walls = serial
            else:
                drift = rng.gauss(0, RUN_DRIFT)
                walls = [
                    s
                    * RATIO[model]
                    * math.exp(drift + rng.gauss(0, NOISE[impl, model]))
                    * (1.7 * math.exp(rng.gauss(0, 0.27)) if load > 0.2 else 1.0)
                    for s, load in zip(serial, loads, strict=True)
                ]
            if (impl, model) == slower:
                walls = [v * 1.25 for v in walls]
            rec = json.loads(json.dumps(template))
            for extra in ("cpu_s", "critical_path_s", "compute_s", "dispatch_s", "anchor_s"):
                rec.pop(extra, None)
            rec.update(workload="sqrt_log", impl=impl, model=model, workers=1 if model == "serial" else 2)
            rec.update(kind="cpu", rounds=5, round_ids=list(range(5)))
            rec["wall_s"] = {
                "median": sorted(walls)[2],
                "min": min(walls),
                "max": max(walls),
                "values": walls,
            }
            rec["other_cpu_cores"] = {"median": sorted(loads)[2], "min": min(loads), "max": max(loads)}
            rec["other_cpu_cores"]["values"] = loads
            rows.append(rec)
    return {**doc, "results": rows}


def test_false_alarms_stay_below_alpha_with_the_stored_noise_and_a_quiet_machine_catches_25_pct() -> None:
    """300 same-code pairs with the stored runs' noise: their within-run spread, their drift
    between runs, and other load beside half of the rounds. The family says slower in at most
    alpha of them. On a quiet machine (one round in ten beside other load) a 25 % slowdown of
    one parallel row is caught in at least 18 of 20 pairs (issue 28's target); beside load in
    half the rounds, rows left with too few quiet rounds are inconclusive, never slower."""
    rng = random.Random(28)
    parallel = [(impl, model) for impl in ("python", "native") for model in ("threads", "processes")]
    alarms = sum(
        bool(compare_documents(_simulated_run(rng, 0.5), _simulated_run(rng, 0.5)).regressions)
        for _ in range(300)
    )
    assert alarms <= 0.05 * 300
    caught = 0
    for pair in range(100):
        target = parallel[pair % len(parallel)]
        result = compare_documents(_simulated_run(rng, 0.1), _simulated_run(rng, 0.1, slower=target))
        caught += [(r.key.impl, r.key.model) for r in result.regressions] == [target]
    assert caught >= 90
