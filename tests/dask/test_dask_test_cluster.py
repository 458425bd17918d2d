"""The test cluster's own promise: its processes die with the process that started them, even
when that one is SIGKILLed (no orphaned scheduler or worker after a killed test run)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from dask_test_cluster import HERE

ORPHAN = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from dask_test_cluster import _spawn
child = _spawn([sys.executable, "-c", "import time; time.sleep(120)"], Path(sys.argv[2]), dict(os.environ))
print(child.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.timeout(60)
def test_a_spawned_cluster_process_dies_when_its_starter_is_killed(tmp_path: Path) -> None:
    starter = subprocess.run(
        [sys.executable, "-c", ORPHAN, str(HERE), str(tmp_path / "child.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert starter.returncode == -9, starter.stderr
    pid = int(starter.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    else:
        psutil.Process(pid).kill()
        raise AssertionError(f"process {pid} outlived the test run that started it")
