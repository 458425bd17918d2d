"""The ``dask`` bench model against a real scheduler and two worker processes, and on a LocalCluster."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dask_test_cluster import RunningCluster
from gilwise._models import MODELS
from gilwise._models.dask_cluster import INSTALL_HINT
from gilwise._pythons.builds import gil_twin_build_path
from gilwise._pythons.discovery import probe

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SIZE = "100000"  # fixed: no calibration, ~15 ms tasks


def _bench(cmd: list[str], env: dict[str, str], tmp_path: Path, *args: str) -> tuple[int, str, Any]:
    out = tmp_path / "run.json"
    proc = subprocess.run(
        [*cmd, "bench", "--workload", "sqrt_log", "--impl", "python", "--quick", "--size", SIZE,
         "--no-history", "--json", str(out), *args],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip
    document = json.loads(out.read_text()) if out.exists() else None
    return proc.returncode, proc.stdout + proc.stderr, document


def _row(document: Any, model: str, workers: int = 2) -> Any:
    return next(r for r in document["results"] if r["model"] == model and r["workers"] == workers)


def test_bench_on_a_running_cluster(
    dask_cluster: RunningCluster, gilwise_cmd: list[str], subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    code, output, document = _bench(
        gilwise_cmd, subprocess_env, tmp_path,
        "--model", "serial,processes,dask", "--workers", "2", "--dask-scheduler", dask_cluster.address,
    )  # fmt: skip
    assert code == 0, output
    row = _row(document, "dask")
    assert row["status"] == "ok", row["reason"]
    assert f"scheduler {dask_cluster.address}: 2 workers" in row["notes"]
    # Both external workers ran tasks, each answer was checked against the serial one.
    assert row["distinct_workers"] == 2
    assert row["wall_excludes_startup"] is True
    assert row["startup_s"]["median"] > 0
    assert row["overhead_per_task_s"]["median"] is not None
    assert _row(document, "processes")["overhead_per_task_s"]["median"] is not None
    assert "work on a running cluster" in output
    # The cluster's CPU (separate processes, not the harness worker's tree) is counted as the
    # cell's own, not blamed on "other load": about what the same tasks cost serially.
    serial = _row(document, "serial", workers=1)
    assert row["cpu_s"]["median"] >= 0.7 * serial["cpu_s"]["median"]


def test_workers_beyond_the_cluster_fail_with_its_layout(
    dask_cluster: RunningCluster, gilwise_cmd: list[str], subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    code, output, document = _bench(
        gilwise_cmd, subprocess_env, tmp_path,
        "--model", "serial,dask", "--workers", "3", "--dask-scheduler", dask_cluster.address,
    )  # fmt: skip
    assert code == 1, output
    row = _row(document, "dask", workers=3)
    assert row["status"] == "failed"
    assert "needs exactly 3 worker threads" in row["reason"]
    assert "(1 threads)" in row["reason"]


def test_bench_on_a_local_cluster(
    gilwise_cmd: list[str], subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    code, output, document = _bench(
        gilwise_cmd, subprocess_env, tmp_path, "--model", "serial,dask", "--workers", "2"
    )
    assert code == 0, output
    row = _row(document, "dask")
    assert row["status"] == "ok", row["reason"]
    assert "LocalCluster, 2 processes × 1 thread" in row["notes"]
    assert row["distinct_workers"] == 2
    # Creating the cluster (worker processes, imports) takes far longer than the work here.
    assert row["startup_s"]["median"] > row["wall_s"]["median"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "serial,processes", "--dask-scheduler", "tcp://127.0.0.1:8786"], "add --model dask"),
        (["--model", "dask", "--dask-scheduler", "127.0.0.1"], "PROTOCOL://HOST:PORT"),
    ],
)
def test_scheduler_option_usage_errors(
    args: list[str], message: str, gilwise_cmd: list[str], subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    code, output, _ = _bench(gilwise_cmd, subprocess_env, tmp_path, *args)
    assert code == 2, output
    assert message in output


def test_unavailable_names_the_install_command() -> None:
    path = gil_twin_build_path()
    if not Path(path).exists():
        pytest.skip(f"no second CPython without distributed at {path}")
    reason = MODELS["dask"].available(probe(path))
    assert reason is not None
    assert INSTALL_HINT in reason
    assert path in reason


def test_available_here() -> None:
    assert MODELS["dask"].available(probe(__import__("sys").executable)) is None
