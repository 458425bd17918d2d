"""The interpreter comparison is computed from the records: pairing, baselines, explanations."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from gilwise._report import compare_interpreters, render_group_tables, render_interpreter_comparison

FT = {"path": "/x/python3.13t", "version": "3.13.5", "free_threaded": True, "gil_enabled": False}
TWIN = {"path": "/x/python3.13", "version": "3.13.5", "free_threaded": False, "gil_enabled": True}
OLD = {"path": "/y/python3.13", "version": "3.13.0", "free_threaded": False, "gil_enabled": True}


def _summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    return {"median": ordered[len(ordered) // 2], "min": ordered[0], "max": ordered[-1], "values": values}


def rec(
    interp: dict[str, Any],
    model: str,
    walls: list[float],
    *,
    workload: str = "sqrt_log_local",
    rounds: list[int] | None = None,
    speedup: float | None = None,
    size: int = 1000,
) -> dict[str, Any]:
    return {
        "workload": workload,
        "kind": "cpu",
        "impl": "python",
        "model": model,
        "interpreter": dict(interp),
        "workers": 1 if model == "serial" else 2,
        "tasks": 4,
        "size": size,
        "size_unit": "iterations",
        "status": "ok",
        "reason": None,
        "rounds": len(walls),
        "round_ids": rounds if rounds is not None else list(range(len(walls))),
        "wall_s": _summary(walls),
        "speedup": speedup,
        "speedup_paired": _summary([speedup] * len(walls)) if speedup else None,
        "efficiency": None if speedup is None else speedup / 2,
        "cpu_busy_cores_mean": 1.0,
        "cpu_s": _summary(walls),
        "startup_s": _summary([0.05] * len(walls)),
        "dispatch_s": _summary([0.0] * len(walls)),
        "memory_per_worker_bytes": None,
        "ns_per_iteration": None,
        "other_cpu_cores": _summary([0.0] * len(walls)),
        "notes": [],
    }


def doc(*records: dict[str, Any]) -> dict[str, Any]:
    return {"machine": {"usable_cores": 2}, "results": list(records), "groups": [], "warnings": []}


def test_penalty_is_paired_by_round_against_the_same_version_gil_build() -> None:
    data = compare_interpreters(
        doc(
            rec(FT, "serial", [1.2, 3.0, 1.5], rounds=[0, 1, 2]),
            rec(OLD, "serial", [0.1, 0.1, 0.1]),
            rec(TWIN, "serial", [1.0, 2.0, 1.0], rounds=[0, 1, 2]),
        )
    )
    (penalty,) = data["penalties"]
    assert penalty["baseline"] == "3.13.5" and penalty["baseline_kind"] == "the same-version GIL build"
    # Round by round: 1.2/1.0, 3.0/2.0, 1.5/1.0; the unpaired medians would give 1.5/1.0.
    assert penalty["ratio"]["values"] == [1.2, 1.5, 1.5]


def test_penalty_uses_time_per_iteration_and_only_common_rounds() -> None:
    data = compare_interpreters(
        doc(
            rec(FT, "serial", [2.0, 2.0], rounds=[0, 1], size=2000),
            rec(OLD, "serial", [1.0, 5.0, 1.0], rounds=[0, 1, 2]),
        )
    )
    (penalty,) = data["penalties"]
    assert penalty["baseline"] == "3.13.0" and "not the same patch release" in penalty["baseline_kind"]
    assert penalty["ratio"]["values"] == [1.0, 0.2]


def test_no_penalty_without_a_gil_build() -> None:
    assert compare_interpreters(doc(rec(FT, "serial", [1.0])))["penalties"] == []


def _contention_doc(classic: float, local: float) -> dict[str, Any]:
    return doc(
        rec(FT, "serial", [1.0], workload="sqrt_log"),
        rec(FT, "threads", [1.0], workload="sqrt_log", speedup=classic),
        rec(FT, "serial", [1.0]),
        rec(FT, "threads", [1.0], speedup=local),
    )


def _render(document: dict[str, Any]) -> str:
    buffer = io.StringIO()
    render_interpreter_comparison(Console(file=buffer, width=3000), document)
    return buffer.getvalue()


def test_contention_is_explained_with_both_figures_when_the_classic_loop_lags() -> None:
    document = _contention_doc(1.12, 1.91)
    (item,) = compare_interpreters(document)["contention"]
    assert item["contended"] is True
    text = _render(document)
    assert "sqrt_log_local 1.91× but the classic sqrt_log only 1.12×" in text
    assert "reference counts" in text and "not automatic parallelism" in text


def test_no_contention_claim_when_both_loops_scale() -> None:
    document = _contention_doc(1.85, 1.9)
    assert compare_interpreters(document)["contention"][0]["contended"] is False
    text = _render(document)
    assert "reference counts" not in text and "no contention" in text


def test_gil_re_enabled_at_run_time_is_in_the_table_title() -> None:
    reenabled = {**FT, "gil_enabled": True}
    buffer = io.StringIO()
    render_group_tables(
        Console(file=buffer, width=3000),
        doc(rec(reenabled, "serial", [1.0]), rec(TWIN, "serial", [1.0])),
    )
    text = " ".join(buffer.getvalue().split())  # titles wrap at the table's width
    assert "[3.13.5t] sqrt_log_local" in text and "[3.13.5] sqrt_log_local" in text
    assert "free-threaded build, ⚠ GIL re-enabled at run time" in text
    assert "does not declare Py_mod_gil" in text
    assert text.count("GIL re-enabled") == 1  # the GIL build's table says nothing of the kind


def test_no_contention_claim_for_a_free_threaded_build_whose_gil_was_on() -> None:
    document = _contention_doc(1.0, 1.9)
    for record in document["results"]:
        record["interpreter"]["gil_enabled"] = True
    assert compare_interpreters(document)["contention"] == []
    assert "Py_mod_gil" in _render(document)


def test_single_gil_interpreter_prints_no_comparison() -> None:
    assert _render(doc(rec(TWIN, "serial", [1.0]))) == ""


FT14 = {"path": "/x/python3.14t", "version": "3.14.10", "free_threaded": True, "gil_enabled": False}
TWIN14 = {"path": "/x/python3.14", "version": "3.14.10", "free_threaded": False, "gil_enabled": True}
DEBIAN14 = {"path": "/d/python3.14", "version": "3.14.10", "free_threaded": False, "gil_enabled": True}


def _entries(doc_: dict[str, Any], flags: dict[str, str], jit: dict[str, str]) -> dict[str, Any]:
    doc_["interpreters"] = [
        {"path": p, "build_flags": f, "jit": jit.get(p, "not built")} for p, f in flags.items()
    ]
    return doc_


def test_the_same_flags_twin_is_preferred_to_another_build_of_the_same_version() -> None:
    # Debian's 3.14.10 (PGO, LTO) comes first in the records, the twin second.
    document = _entries(
        doc(
            rec(FT14, "serial", [1.1, 1.2]),
            rec(DEBIAN14, "serial", [0.5, 0.5]),
            rec(TWIN14, "serial", [1.0, 1.0]),
        ),
        {FT14["path"]: "a", TWIN14["path"]: "a", DEBIAN14["path"]: "debian"},
        {DEBIAN14["path"]: "off"},
    )
    (penalty,) = compare_interpreters(document)["penalties"]
    assert penalty["baseline_path"] == TWIN14["path"]
    assert penalty["baseline_kind"] == "its same-flags GIL twin"
    assert penalty["ratio"]["values"] == [1.1, 1.2]
    # Without the twin, the other same-version build is named as such.
    document["results"] = [r for r in document["results"] if r["interpreter"]["path"] != TWIN14["path"]]
    (penalty,) = compare_interpreters(document)["penalties"]
    assert penalty["baseline_kind"] == "the same-version GIL build (other configure flags)"


def test_penalty_by_version_compares_the_jit_free_builds_oldest_first() -> None:
    document = _entries(
        doc(
            rec(FT14, "serial", [1.08, 1.1, 1.09]),
            rec(TWIN14, "serial", [1.0, 1.0, 1.0]),
            rec(FT, "serial", [1.6, 1.7, 1.62]),
            rec(TWIN, "serial", [1.0, 1.0, 1.0]),
        ),
        {FT14["path"]: "a", TWIN14["path"]: "a", FT["path"]: "b", TWIN["path"]: "b"},
        {},
    )
    (versions,) = compare_interpreters(document)["versions"]
    assert [b["free_threaded"] for b in versions["builds"]] == ["3.13.5t", "3.14.10t"]
    assert all(b["jit_free"] for b in versions["builds"])
    text = _render(document)
    assert "3.13.5t +62 % → 3.14.10t +9 % (53 points less from 3.13.5t to 3.14.10t)" in text
    assert "5–10 %" in text  # what CPython's docs say of 3.14t, beside the measured figure


def test_a_build_with_its_jit_on_is_left_out_of_the_jit_free_comparison() -> None:
    document = _entries(
        doc(
            rec(FT14, "serial", [1.1]),
            rec(TWIN14, "serial", [1.0]),
            rec(FT, "serial", [1.6]),
            rec(TWIN, "serial", [1.0]),
        ),
        {FT14["path"]: "a", TWIN14["path"]: "a", FT["path"]: "b", TWIN["path"]: "b"},
        {TWIN14["path"]: "on"},
    )
    (versions,) = compare_interpreters(document)["versions"]
    assert [b["jit_free"] for b in versions["builds"]] == [True, False]
    assert "Single-thread penalty by version" not in _render(document)
