"""The native call-overhead benchmark runs end to end and writes its JSON (figures not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_native_call_overhead.py"


@pytest.mark.timeout(120)
def test_benchmark_smoke_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for heading in ("1. call overhead", "2. sqrt_log cost per iteration", "3. two threads"):
        assert heading in proc.stdout
    report = json.loads(out.read_text())
    assert report["schema"] == "gilwise.bench_native_call/1"
    assert set(report["call_overhead_ns"]) >= {"python noop()", "C-API noop()", "ctypes noop()"}
    assert set(report["ns_per_iteration"]) == {
        "python",
        "native",
        "native-gil",
        "ctypes",
        "numpy",
        "cpp-threads/1",
    }
    speedups = report["two_threads_speedup"]
    assert "native-gil + threads" in speedups and "cpp-threads" in speedups
    for entry in speedups.values():
        assert len(entry["values"]) >= 2 and entry["min"] <= entry["median"] <= entry["max"]
    assert isinstance(report["warnings"], list)
