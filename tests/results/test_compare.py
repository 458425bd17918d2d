"""`gilwise compare`: the verdicts, the rounds and bases a row is judged on, and the exit codes a
CI gate relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gilwise._results.compare import compare_documents
from gilwise._results.stats import relative_spread
from gilwise.cli import main
from sample_documents import default_document


def _printed(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command printed, its lines joined: text wraps at the width (80 when piped)."""
    return " ".join(capsys.readouterr().out.split())


JITTER = [1.00, 1.01, 0.99, 1.005, 0.995, 1.015, 0.985, 1.0]
"""Eight quiet repeats (±1.5 %): enough for the family-wise level of a document of ~40 tests."""


def _repeated(doc: dict[str, Any], pattern: list[float] = JITTER) -> dict[str, Any]:
    """``doc`` with each measured row's repeats replaced by its median times ``pattern`` (and its
    CPU seconds alike), one round id per repeat; each row's pattern starts one step further, so
    a parallel row's ratios to its serial cell spread as well."""
    out = json.loads(json.dumps(doc))
    for index, rec in enumerate(out["results"]):
        if rec["status"] != "ok" or not rec["wall_s"]["values"]:
            continue
        turned = pattern[index % len(pattern) :] + pattern[: index % len(pattern)]
        for name in ("wall_s", "cpu_s"):
            if name in rec:
                base = rec[name]["median"]
                rec[name]["values"] = [base * f for f in turned]
        rec["round_ids"], rec["rounds"] = list(range(len(pattern))), len(pattern)
        rec.pop("critical_path_s", None)
    return out


def _quietest_row(doc: dict[str, Any]) -> dict[str, Any]:
    measured = [r for r in doc["results"] if r["status"] == "ok" and r["rounds"]]

    # A serial row (judged on its wall times, which is what these tests change), I/O among equals.
    def rank(r: dict[str, Any]) -> tuple[bool, float, bool]:
        return r["model"] != "serial", round(relative_spread(r["wall_s"]["values"]), 6), r["kind"] != "io"

    return min(measured, key=rank)


def _slow_down(doc: dict[str, Any], row: dict[str, Any], factor: float) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    for rec in out["results"]:
        if all(rec[k] == row[k] for k in ("workload", "impl", "model", "workers")):
            rec["wall_s"]["values"] = [v * factor for v in rec["wall_s"]["values"]]
            rec["wall_s"]["median"] *= factor
    return out


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_identical_runs_never_fail_the_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = default_document()
    result = compare_documents(doc, doc)
    assert not result.regressions
    # 3 repeats a side, ~40 tests: the rows whose repeats spread too far for a 25 % slowdown to
    # show are inconclusive, with the slowdown they could have shown, and the gate says so
    # instead of passing.
    assert result.family > 20 and {r.verdict for r in result.rows} <= {"inconclusive", "unchanged"}
    assert all(r.change == pytest.approx(0.0) and r.detectable is not None for r in result.rows)
    assert result.inconclusive and all(r.detectable > 0.25 for r in result.inconclusive)  # type: ignore[operator]
    assert main(["compare", _write(tmp_path, "a.json", doc), _write(tmp_path, "b.json", doc)]) == 3
    assert "INCONCLUSIVE" in _printed(capsys)
    more = _repeated(doc)
    again = compare_documents(more, more)
    assert again.outcome == "clean" and {r.verdict for r in again.rows} == {"unchanged"}


def _steady(doc: dict[str, Any], values: list[float]) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    for rec in out["results"]:
        if rec["status"] == "ok" and rec["wall_s"]["values"]:
            rec["wall_s"]["values"] = list(values)
            rec["wall_s"]["median"] = sorted(values)[len(values) // 2]
    return out


def test_three_outcomes_and_their_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = default_document()
    steady = _steady(doc, JITTER)
    # Eight quiet repeats a side: a 25 % slowdown would have cleared the 5 % threshold with
    # confidence (it takes the threshold plus the repeats' spread and the assumed drift), and
    # none happened.
    clean = compare_documents(steady, steady)
    assert clean.outcome == "clean" and {r.verdict for r in clean.rows} == {"unchanged"}
    assert all(r.detectable is not None and 0.05 < r.detectable < 0.25 for r in clean.rows)
    assert main(["compare", _write(tmp_path, "s.json", steady), str(tmp_path / "s.json")]) == 0
    assert "each could have caught a 25% slowdown" in _printed(capsys)
    # Noisy repeats: nothing significant, but a 5 % slowdown could not have shown either.
    noisy = _steady(doc, [1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 0.85, 1.05])
    unsure = compare_documents(noisy, noisy)
    assert unsure.outcome == "inconclusive" and not unsure.regressions
    [row, *_] = unsure.inconclusive
    # Complete separation would take 1.3 / 0.8 × 1.05 = +71 %; the family's level needs less.
    assert row.detectable is not None and 0.25 < row.detectable < 1.3 / 0.8 * 1.05 - 1
    assert row.change == pytest.approx(0.0)
    shown = f"could detect only a slowdown of ≥ {row.detectable:.0%}"
    assert shown in row.note
    report = tmp_path / "cmp.json"
    argv = ["compare", _write(tmp_path, "n.json", noisy), str(tmp_path / "n.json"), "--json", str(report)]
    assert main(argv) == 3
    out = _printed(capsys)
    assert "INCONCLUSIVE" in out and shown in out
    written = json.loads(report.read_text())
    assert written["outcome"] == "inconclusive" and written["regression"] is False
    assert len(written["inconclusive"]) == len(unsure.inconclusive)
    # One repeat a side shows no spread at all: inconclusive, not clean, and not in the family.
    one = _steady(doc, [1.0])
    few = compare_documents(one, one)
    assert few.outcome == "inconclusive" and all(r.detectable is None for r in few.inconclusive)
    assert few.family == 0 and "1 vs 1 rounds: a spread needs 2 a side" in few.inconclusive[0].note
    # A real slowdown still fails the gate, whatever else is inconclusive.
    slower = json.loads(json.dumps(noisy))
    slower["results"][0]["wall_s"]["values"] = [v * 2 for v in steady["results"][0]["wall_s"]["values"]]
    assert compare_documents(steady, slower).outcome == "slower"


def test_injected_25_percent_slowdown_of_one_row_is_flagged_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _repeated(default_document())
    # A parallel row, as in the gate's benchmark (slowing a serial row alone would also move its
    # parallel rows' ratios to it, which no real change of the code does).
    row = next(r for r in doc["results"] if r["model"] == "threads" and r["status"] == "ok" and r["rounds"])
    slower = _slow_down(doc, row, 1.25)
    result = compare_documents(doc, slower)
    [flagged] = result.regressions
    assert (flagged.key.workload, flagged.key.model, flagged.key.workers) == (
        row["workload"],
        row["model"],
        row["workers"],
    )
    assert flagged.change == pytest.approx(0.25)
    # Judged on its 8 vs 8 ratios to the serial cell: the smallest p of the family, times its size.
    assert (flagged.n_a, flagged.n_b) == (8, 8)
    assert flagged.basis == "relative to serial"
    assert flagged.test.startswith("t on the logs of the quiet rounds")
    assert flagged.p_slower is not None and flagged.p_slower < 1e-6
    assert flagged.p_adjusted == pytest.approx(result.family * flagged.p_slower)
    assert flagged.change_low is not None and 0.05 < flagged.change_low < 0.25
    code = main(["compare", _write(tmp_path, "a.json", doc), _write(tmp_path, "b.json", slower)])
    assert code == 1
    out = _printed(capsys)
    name = f"{row['workload']}[{row['impl']}] {row['model']}×{row['workers']} (Python 3.11.7): +25.0%"
    assert "REGRESSION: 1 row(s)" in out and name in out
    report = tmp_path / "cmp.json"
    argv = ["compare", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json", str(report)]
    assert main(argv) == 1
    written = json.loads(report.read_text())
    assert written["schema"] == "gilwise.compare/1" and written["regression"] is True
    assert written["regressions"] == [name.removesuffix(": +25.0%")]
    [slow] = [r for r in written["rows"] if r["verdict"] == "slower"]
    assert slow["model"] == row["model"] and slow["change"] == pytest.approx(0.25)
    # the same injection, compared the other way round, is an improvement, not a regression
    back = compare_documents(slower, doc)
    assert not back.regressions and any(r.verdict == "faster" for r in back.rows)
    assert main(["compare", _write(tmp_path, "c.json", slower), _write(tmp_path, "d.json", doc)]) == 0


def test_a_slowdown_inside_the_noise_does_not_fail_the_gate() -> None:
    doc = _repeated(default_document())
    row = _quietest_row(doc)
    row["wall_s"]["values"] = [1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 0.85, 1.05]
    noisy = json.loads(json.dumps(doc))
    twin = next(r for r in noisy["results"] if r == row)
    twin["wall_s"]["values"] = [v * 1.25 for v in row["wall_s"]["values"]]  # +25 %, but overlapping
    result = compare_documents(doc, noisy)
    assert not result.regressions
    [changed] = [r for r in result.rows if r.change == pytest.approx(0.25)]
    # The repeats overlap: they could not have caught a 25 % slowdown, so the gate says so.
    assert changed.verdict == "inconclusive" and changed.detectable is not None and changed.detectable > 0.25
    assert changed.change_low is not None and changed.change_low < 0.05


def test_threshold_and_too_few_repeats() -> None:
    doc = _repeated(default_document())
    row = _quietest_row(doc)
    # +12 %: its interval (±1.5 % repeats, ±2 % drift a run) reaches below the 5 % threshold,
    # not below 2 %...
    assert compare_documents(doc, _slow_down(doc, row, 1.12)).regressions == []
    assert len(compare_documents(doc, _slow_down(doc, row, 1.12), threshold=0.02).regressions) == 1
    # ...while +25 % clears 5 % with confidence.
    assert len(compare_documents(doc, _slow_down(doc, row, 1.25)).regressions) == 1
    one = _repeated(doc, [1.0])
    result = compare_documents(one, _slow_down(one, row, 1.5))
    assert result.regressions == [] and result.family == 0
    assert result.outcome == "inconclusive" and {r.verdict for r in result.rows} == {"inconclusive"}


def test_newly_failed_rows_fail_the_gate_and_missing_rows_are_listed() -> None:
    doc = default_document()
    broken = json.loads(json.dumps(doc))
    broken["results"][5].update(status="failed", reason="worker killed by SIGKILL", rounds=0)
    broken["results"][5]["wall_s"]["values"] = []
    gone = broken["results"].pop(0)
    result = compare_documents(doc, broken)
    assert [r.verdict for r in result.regressions] == ["failed"]
    assert "SIGKILL" in result.regressions[0].note
    only_a = [r for r in result.rows if r.verdict == "only in A"]
    assert [r.key.model for r in only_a] == [gone["model"]]


def test_machine_drift_is_pointed_out() -> None:
    doc = _repeated(default_document())
    everything = json.loads(json.dumps(doc))
    for rec in everything["results"]:
        for name in ("wall_s", "cpu_s"):  # a slower machine: the CPU per task rose with it
            if name in rec:
                rec[name]["values"] = [v * 1.3 for v in rec[name]["values"]]
    result = compare_documents(doc, everything)
    # Parallel rows are judged relative to their serial cell, which moved alike: serial rows only.
    serial = [r for r in result.rows if r.key.model == "serial" and r.change is not None]
    assert {r.key for r in result.regressions} == {r.key for r in serial} and len(serial) > 3
    assert any("machine" in note and "30% slower" in note for note in result.notes)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["compare", "7", "8"], "no bench history"),
        (["compare", "/nonexistent.json", "latest"], "neither a result file nor a history id"),
        (["compare", "a", "b", "--threshold", "0"], "--threshold 0 is out of range"),
        (["compare", "a", "b", "--alpha", "2"], "--alpha 2 is out of range"),
        (["compare", "only-one"], "compare needs two runs, A B"),
        (["compare", "a", "b", "--baseline", "history"], "takes one run, B"),
        (["compare", "a", "--baseline", "yesterday"], "--baseline 'yesterday' is not understood"),
        (["compare", "a", "b", "--must-detect", "0"], "--must-detect 0 is out of range"),
    ],
)
def test_bad_usage_exits_2(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert needle in capsys.readouterr().err.replace("\n", " ")


def test_unknown_history_id_exits_2(isolated_history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gilwise._results.history import History

    History(isolated_history).record(default_document())
    assert main(["compare", "1", "5"]) == 2
    assert "no run #5" in capsys.readouterr().err.replace("\n", " ")
    assert main(["compare", "1", "latest"]) in (0, 3)


def test_a_row_that_did_more_work_is_compared_per_unit_of_work() -> None:
    # Calibration may give a row twice the size in the next run: twice the time is no regression.
    doc = _repeated(default_document())
    row = _quietest_row(doc)
    bigger = _slow_down(doc, row, 2.0)
    for rec in bigger["results"]:
        if all(rec[k] == row[k] for k in ("workload", "impl", "model", "workers")):
            rec["size"] = row["size"] * 2
    result = compare_documents(doc, bigger)
    assert not result.regressions
    [changed] = [r for r in result.rows if "per unit of work" in r.note]
    assert changed.verdict in ("unchanged", "inconclusive") and changed.change == pytest.approx(0.0)
    # ...while the same doubling at the same size is flagged.
    assert compare_documents(doc, _slow_down(doc, row, 2.0)).regressions


def test_a_slowdown_beside_other_load_is_inconclusive_not_slower() -> None:
    """B's noise guard saw other processes beside its rounds that A's did not: the slowdown may
    be the machine's, so the gate neither fails nor clears the row."""
    doc = _repeated(default_document())
    cpu = [r for r in doc["results"] if r["kind"] == "cpu" and r["status"] == "ok" and r["rounds"]]
    row = min(cpu, key=lambda r: relative_spread(r["wall_s"]["values"]))
    row["other_cpu_cores"] = {"median": 0.05, "min": 0.0, "max": 0.1, "values": [0.0, 0.05, 0.1]}
    slower = _slow_down(doc, row, 1.25)
    assert [r.verdict for r in compare_documents(doc, slower).regressions] == ["slower"]
    for rec in slower["results"]:
        if all(rec[k] == row[k] for k in ("workload", "impl", "model", "workers")):
            rec["other_cpu_cores"] = {"median": 0.9, "min": 0.8, "max": 1.0, "values": [0.8, 0.9, 1.0]}
    result = compare_documents(doc, slower)
    assert not result.regressions and result.outcome == "inconclusive"
    [busy] = [r for r in result.rows if "other processes" in r.note]
    assert busy.verdict == "inconclusive" and busy.change == pytest.approx(0.25)
    assert "B ran beside 0.90 cores of other processes (A 0.05)" in busy.note
    # Waiting is not slowed by other processes' CPU: an I/O row's slowdown stays a regression.
    io = _quietest_row(doc)
    assert io["kind"] == "io"
    io_slower = _slow_down(doc, io, 1.25)
    for rec in io_slower["results"]:
        if all(rec[k] == io[k] for k in ("workload", "impl", "model", "workers")):
            rec["other_cpu_cores"] = {"median": 0.9, "min": 0.8, "max": 1.0, "values": [0.8, 0.9, 1.0]}
    assert [r.verdict for r in compare_documents(doc, io_slower).regressions] == ["slower"]


def _pair_of_rows(
    serial: list[float],
    parallel: list[float],
    ids: list[int] | None = None,
    parallel_cpu: list[float] | None = None,
) -> dict[str, Any]:
    """A document holding one group's serial row and its threads×2 row, with round ids.

    CPU seconds per cell: the serial cell's equal its wall time; the parallel cell's are 1.6 ×
    its wall time (CPU-bound on two cores) unless ``parallel_cpu`` says otherwise."""
    doc = default_document()
    cpu = [r for r in doc["results"] if r["status"] == "ok" and r["rounds"] and r["kind"] == "cpu"]
    first = next(r for r in cpu if r["model"] == "serial")
    group = [r for r in cpu if all(r[k] == first[k] for k in ("workload", "impl"))]
    twin = next(r for r in group if r["model"] != "serial")
    out = json.loads(json.dumps({**doc, "results": [first, twin]}))
    rounds = list(range(len(serial))) if ids is None else ids
    cpus = (serial, parallel_cpu if parallel_cpu is not None else [v * 1.6 for v in parallel])
    for rec, values, cpu in zip(out["results"], (serial, parallel), cpus, strict=True):
        rec["wall_s"]["values"], rec["rounds"], rec["round_ids"] = values, len(values), rounds
        rec["wall_s"]["median"] = sorted(values)[len(values) // 2]
        rec["cpu_s"] = {"median": sorted(cpu)[len(cpu) // 2], "min": min(cpu), "max": max(cpu), "values": cpu}
        rec.pop("other_cpu_cores", None)
    return out


SERIAL = [1.00, 1.02, 0.98, 1.01, 0.99]
PARALLEL = [0.60, 0.61, 0.59, 0.60, 0.61]


def test_a_parallel_row_is_judged_against_the_serial_cell_of_the_same_round() -> None:
    a = _pair_of_rows(SERIAL, PARALLEL)
    # B ran in a 20 % faster phase, and its parallel model got 25 % slower: the raw wall times
    # of the parallel row look unchanged, its time per serial time of the round does not.
    b = _pair_of_rows([v * 0.8 for v in SERIAL], [v * 0.8 * 1.25 for v in PARALLEL])
    serial, parallel = compare_documents(a, b).rows
    assert serial.basis == "wall" and serial.verdict == "faster"
    assert parallel.basis == "relative to serial" and parallel.verdict == "slower"
    assert parallel.change == pytest.approx(0.25)
    assert parallel.a_median == pytest.approx(0.60) and parallel.b_median == pytest.approx(0.60)
    # A whole run in a slow phase: the serial row shows it, the parallel row's ratio did not move.
    slow = _pair_of_rows([v * 1.2 for v in SERIAL], [v * 1.2 for v in PARALLEL])
    serial, parallel = compare_documents(a, slow).rows
    assert serial.verdict == "slower" and parallel.verdict == "unchanged"
    assert parallel.change == pytest.approx(0.0)


def test_rounds_are_paired_by_their_ids_and_old_documents_fall_back_to_wall_times() -> None:
    a = _pair_of_rows(SERIAL, PARALLEL)
    # Rounds 0-2 ran in a slow phase, both cells of each: paired, the parallel row is unchanged
    # (its median wall time alone moved 30 %).
    phase = [1.3, 1.3, 1.3, 1.0, 1.0]
    serial = [s * f for s, f in zip(SERIAL, phase, strict=True)]
    b = _pair_of_rows(serial, [p * f for p, f in zip(PARALLEL, phase, strict=True)])
    row = compare_documents(a, b).rows[1]
    assert row.change == pytest.approx(0.0) and row.b_median == pytest.approx(0.60 * 1.3, rel=0.02)
    # The same rounds listed in another order (ids say which is which): the same verdict.
    shuffled = _pair_of_rows(
        [SERIAL[i] for i in (4, 3, 2, 1, 0)], [PARALLEL[i] for i in (4, 3, 2, 1, 0)], ids=[4, 3, 2, 1, 0]
    )
    assert compare_documents(a, shuffled).rows[1].change == pytest.approx(0.0)
    # (the parallel machinery got slower: its workers' CPU did not grow)
    old = _pair_of_rows(SERIAL, [v * 1.25 for v in PARALLEL], parallel_cpu=[v * 1.6 for v in PARALLEL])
    for rec in old["results"]:
        del rec["round_ids"]
    row = compare_documents(a, old).rows[1]
    assert row.basis == "wall" and row.verdict == "slower"


def test_the_table_says_which_rows_were_judged_relative_to_serial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _write(tmp_path, "a.json", _pair_of_rows(SERIAL, PARALLEL))
    slower = _pair_of_rows(SERIAL, [v * 1.25 for v in PARALLEL], parallel_cpu=[v * 1.6 for v in PARALLEL])
    b = _write(tmp_path, "b.json", slower)
    assert main(["compare", a, b, "--json", str(tmp_path / "c.json")]) == 1
    out = _printed(capsys)
    assert "÷ serial" in out and "REGRESSION" in out
    rows = json.loads((tmp_path / "c.json").read_text())["rows"]
    assert [r["basis"] for r in rows] == ["wall", "relative to serial"]


def test_a_parallel_slowdown_its_extra_cpu_accounts_for_is_inconclusive_not_slower() -> None:
    """Same code, the serial cells as fast as before, but both vCPUs ran ~35 % slower together
    (measured on this machine: the workers' CPU per task rose with the wall time). The gate can
    not tell that from more work done in parallel only, so it neither fails nor clears the row."""
    a = _pair_of_rows(SERIAL, PARALLEL)
    b = _pair_of_rows(SERIAL, [v * 1.35 for v in PARALLEL])  # CPU 1.6 × wall: rose with it
    result = compare_documents(a, b)
    row = result.rows[1]
    assert row.verdict == "inconclusive" and result.outcome == "inconclusive"
    assert row.change == pytest.approx(0.35)
    assert "more CPU for the same work" in row.note and "+0.0% without it" in row.note
    # The same slowdown with the workers' CPU unchanged is the parallel machinery's: slower.
    flat_cpu = [v * 1.6 for v in PARALLEL]
    b = _pair_of_rows(SERIAL, [v * 1.35 for v in PARALLEL], parallel_cpu=flat_cpu)
    assert [r.verdict for r in compare_documents(a, b).regressions] == ["slower"]


def test_extra_cpu_of_a_waiting_cell_does_not_excuse_its_slowdown() -> None:
    """A cell that mostly waits (0.1 core busy): 30 % more of its little CPU accounts for a
    sliver of a 25 % longer wall time, so the row is slower."""
    a = _pair_of_rows(SERIAL, PARALLEL, parallel_cpu=[v * 0.1 for v in PARALLEL])
    b = _pair_of_rows(SERIAL, [v * 1.25 for v in PARALLEL], parallel_cpu=[v * 0.1 * 1.3 for v in PARALLEL])
    row = compare_documents(a, b).rows[1]
    assert row.verdict == "slower" and row.basis == "relative to serial"


def test_other_load_beside_b_keeps_a_parallel_slowdown_inconclusive() -> None:
    """Other processes taking the workers' cores lengthen B's wall time at the same CPU; where
    the document does not say beside which rounds, the row is neither failed nor cleared."""
    a = _pair_of_rows(SERIAL, PARALLEL)
    b = _pair_of_rows(SERIAL, [v * 1.25 for v in PARALLEL], parallel_cpu=[v * 1.6 for v in PARALLEL])
    b["results"][1]["other_cpu_cores"] = {"median": 0.9, "min": 0.8, "max": 1.0, "values": [0.8, 0.9, 1.0]}
    row = compare_documents(a, b).rows[1]
    assert row.verdict == "inconclusive" and "other processes" in row.note
    # Without the other load the same figures are a regression.
    del b["results"][1]["other_cpu_cores"]
    assert compare_documents(a, b).rows[1].verdict == "slower"


def _critical_paths(doc: dict[str, Any], paths: list[float]) -> dict[str, Any]:
    doc["results"][1]["critical_path_s"] = {
        "median": sorted(paths)[len(paths) // 2],
        "min": min(paths),
        "max": max(paths),
        "values": paths,
    }
    return doc


def test_a_parallel_slowdown_its_busiest_workers_tasks_account_for_is_inconclusive() -> None:
    """Same code, serial cells as fast as before, but one of the two vCPUs ran slower: the
    busiest worker's tasks took 50 % longer, the wall time as much, the workers' CPU less (the
    other worker waited), so wall time per CPU second rose too. Measured on this machine; code
    whose tasks contend when run side by side looks the same, so the row is neither blamed
    nor cleared."""
    paths = [0.55, 0.56, 0.54, 0.55, 0.56]
    a = _critical_paths(_pair_of_rows(SERIAL, PARALLEL), paths)
    slow = [v * 1.5 for v in PARALLEL]
    b = _critical_paths(
        _pair_of_rows(SERIAL, slow, parallel_cpu=[v * 1.6 * 1.25 for v in PARALLEL]), [p * 1.5 for p in paths]
    )
    result = compare_documents(a, b)
    row = result.rows[1]
    assert row.verdict == "inconclusive" and result.outcome == "inconclusive"
    assert "busiest worker's tasks took 50% longer" in row.note
    # The same wall time with the tasks as fast as before is the parallel machinery's: slower.
    b = _critical_paths(_pair_of_rows(SERIAL, slow, parallel_cpu=[v * 1.6 for v in PARALLEL]), paths)
    assert [r.verdict for r in compare_documents(a, b).regressions] == ["slower"]


def test_the_critical_path_of_older_documents_is_compute_less_dispatch() -> None:
    from gilwise._results.causes import critical_path

    row = {"compute_s": {"values": [0.30, 0.32, 0.31]}, "dispatch_s": {"values": [0.02, 0.03, 0.01]}}
    assert critical_path(row) == pytest.approx(0.29)  # type: ignore[arg-type]
    row["critical_path_s"] = {"median": 0.25, "min": 0.2, "max": 0.3, "values": [0.2, 0.25, 0.3]}
    assert critical_path(row) == pytest.approx(0.25)  # type: ignore[arg-type]


def _loaded(doc: dict[str, Any], cores: list[float]) -> dict[str, Any]:
    """``doc`` with the other load its noise guard measured beside each round of every row."""
    for rec in doc["results"]:
        rec["other_cpu_cores"] = {"median": sorted(cores)[len(cores) // 2], "min": min(cores)}
        rec["other_cpu_cores"].update(max=max(cores), values=list(cores))
    return doc


def test_rounds_beside_other_load_are_left_out() -> None:
    """Rounds 0 and 1 of B ran beside a core of other processes: its parallel cells took 70 %
    longer there (as on this machine). Judged on its three quiet rounds, the same code is
    unchanged, a 25 % slowdown of the parallel model is caught, and the note says which rounds
    counted; with one quiet round left the row is inconclusive, with what to do."""
    quiet = [0.05] * 5
    a = _loaded(_pair_of_rows(SERIAL, PARALLEL), quiet)
    busy = [1.7, 1.7, 1.0, 1.0, 1.0]
    b = _loaded(
        _pair_of_rows(SERIAL, [p * f for p, f in zip(PARALLEL, busy, strict=True)]), [1.0, 1.0, 0.1, 0.0, 0.1]
    )
    same = compare_documents(a, b).rows[1]
    assert same.verdict == "unchanged" and same.n_b == 3 and same.change == pytest.approx(0.0, abs=0.02)
    assert "judged on the 5 of A's 5 and 3 of B's 5 rounds run beside ≤ 0.2 cores" in same.note
    everywhere = compare_documents(
        a, _loaded(_pair_of_rows(SERIAL, [p * f for p, f in zip(PARALLEL, busy, strict=True)]), quiet)
    )
    assert everywhere.rows[1].verdict != "unchanged"  # the loaded rounds, kept, move the row
    slowed = [p * f * 1.25 for p, f in zip(PARALLEL, busy, strict=True)]
    slower = _pair_of_rows(SERIAL, slowed, parallel_cpu=[v * 1.6 for v in PARALLEL])
    caught = compare_documents(a, _loaded(slower, [1.0, 1.0, 0.1, 0.0, 0.1]))
    assert [r.key.model for r in caught.regressions] == ["threads"] and caught.family == 2
    crowded = _loaded(_pair_of_rows(SERIAL, PARALLEL), [1.0, 1.0, 1.0, 1.0, 0.1])
    result = compare_documents(a, crowded)
    row = result.rows[1]
    assert {r.verdict for r in result.rows} == {"inconclusive"} and result.family == 0
    assert row.detectable is None and result.outcome == "inconclusive"
    assert "beside 0 of A's 5 and 4 of B's 5 rounds" in row.note and "rerun on a quiet machine" in row.note


def test_the_history_baseline_also_holds_a_slowdown_the_machine_accounts_for_inconclusive() -> None:
    """The same busiest-worker slowdown as above, judged against three earlier runs' spread:
    beyond it, but the machine may account for it, so inconclusive there too (seen in the gate's
    benchmark: a same-code run whose native parallel rows all ran 60 % slower, no other load)."""
    from gilwise._results.baseline import EarlierRun, compare_with_history
    from gilwise._results.compare import Gate

    paths = [0.55, 0.56, 0.54, 0.55, 0.56]
    earlier = [
        EarlierRun(i, _critical_paths(_pair_of_rows(SERIAL, [v * f for v in PARALLEL]), paths))
        for i, f in enumerate((1.0, 1.01, 0.99))
    ]
    slow = [v * 1.5 for v in PARALLEL]
    b = _critical_paths(
        _pair_of_rows(SERIAL, slow, parallel_cpu=[v * 1.6 * 1.25 for v in PARALLEL]), [p * 1.5 for p in paths]
    )
    row = compare_with_history(earlier, b, Gate()).rows[1]
    assert row.verdict == "inconclusive" and "busiest worker's tasks took 50% longer" in row.note
    assert "beyond the earlier runs spread" in row.note
    # The same wall time with the tasks as fast as before is the parallel machinery's: slower.
    b = _critical_paths(_pair_of_rows(SERIAL, slow, parallel_cpu=[v * 1.6 for v in PARALLEL]), paths)
    assert [r.verdict for r in compare_with_history(earlier, b, Gate()).regressions] == ["slower"]
