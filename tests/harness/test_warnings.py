from __future__ import annotations

from typing import Any

from gilwise._harness.records import warnings_for


def _row(model: str, values: list[float], other: float, status: str = "ok") -> dict[str, Any]:
    return {
        "workload": "sqrt_log",
        "impl": "python",
        "model": model,
        "workers": 2,
        "status": status,
        "reason": "worker died (signal 9)" if status == "failed" else None,
        "rounds": len(values),
        "wall_s": {"values": values},
        "other_cpu_cores": {"max": other},
        "steal_cores": {"max": 0.0},
    }


def test_one_warning_per_kind_naming_the_cells_and_the_remedy() -> None:
    found = warnings_for(
        [
            _row("threads", [1.0, 1.3, 1.0], 0.1),
            _row("processes", [1.0, 1.01, 1.0], 0.7),
            _row("asyncio", [1.0, 1.0, 1.0], 0.9),
            _row("serial", [], 0.0, status="failed"),
        ]
    )
    by_kind = {w["kind"]: w for w in found}
    assert set(by_kind) == {"failed", "busy", "spread"}
    assert by_kind["busy"]["cells"] == ["sqrt_log[python] processes×2", "sqrt_log[python] asyncio×2"]
    assert "0.90 cores" in by_kind["busy"]["message"] and "rerun" in by_kind["busy"]["message"]
    assert by_kind["spread"]["cells"] == ["sqrt_log[python] threads×2"]
    assert "30%" in by_kind["spread"]["message"] and "--repeats" in by_kind["spread"]["message"]
    assert "signal 9" in by_kind["failed"]["message"]


def test_a_quiet_stable_run_has_no_warnings() -> None:
    assert warnings_for([_row("threads", [1.0, 1.02, 1.01], 0.05)]) == []


def test_orchestrator_cpu_above_one_percent_is_warned_about() -> None:
    # One costly round (a memory read) is no warning; a costly typical round is.
    quiet = {**_row("serial", [1.0, 1.0, 1.0], 0.0), "orchestrator_cpu_cores": {"median": 0.004, "max": 0.03}}
    costly = {
        **_row("processes", [0.5, 0.5, 0.5], 0.0),
        "orchestrator_cpu_cores": {"median": 0.03, "max": 0.04},
    }
    found = warnings_for([quiet, costly])
    assert [w["kind"] for w in found] == ["orchestrator"]
    assert found[0]["cells"] == ["sqrt_log[python] processes×2"]
    assert "3.0% of a core" in found[0]["message"]
    # Files written before the field existed carry no orchestrator figure: no warning.
    assert warnings_for([_row("serial", [1.0, 1.0], 0.0)]) == []
