"""What a fresh sub-interpreter pays to run a workload task: gilwise's own imports stay tiny.

Every interpreter of the ``interpreters`` model imports ``gilwise._subinterp.tasks`` and the
task's module afresh inside the measured cell (bench_fidelity compares it with a bare program
that imports nothing). The registry, ``_workloads._base`` (dataclasses → inspect, ast),
typing and json cost ~24 ms per interpreter on 3.13 when they load there.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "dataclasses",
    "typing",
    "inspect",
    "ast",
    "json",
    "gilwise._workloads.registry",
    "gilwise._workloads._base",
)


def test_a_task_module_and_the_share_runner_load_no_heavy_module() -> None:
    script = (
        "import sys\nimport gilwise._subinterp.tasks, gilwise._workloads.cpu\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""


def test_the_registry_still_loads_on_first_use() -> None:
    import gilwise._workloads as workloads

    assert workloads.get_workload("sqrt_log").impls["python"] == "gilwise._workloads.cpu:sqrt_log_python"
    assert "sqrt_log" in workloads.WORKLOADS
    try:
        workloads.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
