"""advise on a busy machine: two real busy loops on the cores while it verifies a pure-Python
function that scales on processes when the machine is quiet. It must not answer "serial" (the
machine's doing, not the function's): a verdict that a parallel model wins, or "inconclusive"
with exit 3, and the load it measured in the JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_injection import run_gilwise, survivors
from gilwise._advise.load import BUSY_ROUND_CORES, MIN_QUIET_ROUNDS, LoadSeen

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def two_busy_loops() -> Iterator[list[subprocess.Popen[bytes]]]:
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield loops
    finally:
        for loop in loops:
            loop.kill()
            loop.wait(timeout=10)


@pytest.mark.slow
def test_a_busy_machine_gives_inconclusive_or_a_parallel_verdict_never_serial(
    tmp_path: Path,
    fault_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    two_busy_loops: list[subprocess.Popen[bytes]],
) -> None:
    monkeypatch.chdir(FIXTURES)
    out = tmp_path / "verdict.json"
    done = run_gilwise(
        fault_env, "advise", "advise_faulty:python_loop", "--budget", "40", "--json", str(out), timeout_s=120
    )
    assert all(loop.poll() is None for loop in two_busy_loops), "the load ran throughout"
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode in (0, 3), done.stderr
    doc = json.loads(out.read_text())
    load = doc["load"]
    assert load["other_cpu_cores"] > BUSY_ROUND_CORES, load  # two loops on two cores, measured
    if done.returncode == 3:
        assert not doc["conclusive"] and not load["conclusive"]
        assert load["quiet_rounds"] < MIN_QUIET_ROUNDS <= load["busy_rounds"] + load["quiet_rounds"]
        shown = " ".join(done.stdout.split())
        assert "inconclusive: the machine is busy (" in shown and "cores used by other processes" in shown
        assert "Verdict:" not in shown
    else:
        assert doc["conclusive"] and doc["recommended"]["model"] != "serial", doc["recommended"]
    assert not survivors(fault_env["GILWISE_FAULT_RUN"])


@pytest.mark.parametrize(
    ("per_round", "parallel_won", "settles"),
    [
        ((0.01, 0.02, 0.0), False, True),  # quiet: any verdict stands
        ((1.2, 1.1, 1.3), False, False),  # busy throughout: "serial" would blame the function
        ((1.2, 1.1, 1.3), True, True),  # a parallel model won despite the load
        ((1.2, 0.1, 1.3, 0.2), False, True),  # busy rounds retried until two were quiet
        ((1.2, 0.1, 1.3), False, False),  # one quiet round: no spread to judge serial by
    ],
)
def test_a_verdict_stands_on_quiet_rounds_or_a_parallel_win(
    per_round: tuple[float, ...], parallel_won: bool, settles: bool
) -> None:
    assert LoadSeen(per_round).settles(parallel_won) is settles
