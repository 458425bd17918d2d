"""Nothing left behind after a SIGKILL: every helper process dies with its owner (the bench's
loopback HTTP server and cell worker; an Offloader's zygote and its workers, even one stuck in
a task), and the next run sweeps the temp folders a killed run left."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from fault_injection import MARKER, gilwise_command, reaped, sigkill_leaves_nothing, survivors

pytestmark = pytest.mark.slow


def _wait_for(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout_s} s")


def _listening_http_server(marker: str) -> bool:
    return any("gilwise._workloads.http_server" in " ".join(p.cmdline()) for p in survivors(marker, 0))


def test_sigkill_of_the_bench_during_http_leaves_nothing(tmp_path: Path, fault_env: dict[str, str]) -> None:
    argv = ["bench", "--workload", "http", "--model", "serial,threads", "--repeats", "50", "--budget", "0"]
    proc = subprocess.Popen(
        [*gilwise_command(), *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=fault_env
    )
    with reaped(proc):
        _wait_for(lambda: _listening_http_server(fault_env[MARKER]), 60, "the http server start")
        time.sleep(0.5)  # a cell under way
        sigkill_leaves_nothing(proc, fault_env[MARKER])


OWNER = textwrap.dedent(
    """
    import sys, time
    from gilwise import Executor

    def stuck(seconds):
        time.sleep(seconds)

    if __name__ == "__main__":
        executor = Executor(max_workers=2)
        futures = [executor.submit(stuck, 3600) for _ in range(2)]
        time.sleep(1.5)
        print("SUBMITTED", flush=True)
        time.sleep(3600)
    """
)


def test_sigkill_of_an_executor_owner_kills_the_zygote_and_stuck_workers(
    tmp_path: Path, fault_env: dict[str, str]
) -> None:
    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env=fault_env,
        start_new_session=True,
    )
    with reaped(proc):
        assert proc.stdout is not None and proc.stdout.readline().strip() == "SUBMITTED"
        helpers = [p for p in survivors(fault_env[MARKER], 0) if p.pid != proc.pid]
        assert len(helpers) >= 3, [p.cmdline() for p in helpers]  # the zygote and two workers
        sigkill_leaves_nothing(proc, fault_env[MARKER])


def test_the_next_run_sweeps_temp_folders_of_dead_owners(tmp_path: Path, fault_env: dict[str, str]) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    printed = [sys.executable, "-c", "import os; print(os.getpid())"]
    dead_pid = int(subprocess.run(printed, capture_output=True, text=True, check=True).stdout)
    stale = [
        temp / f"gilwise-advise-{dead_pid}-abc",
        temp / f"gilwise-path-{dead_pid}-def",
        temp / f"gilwise-audit-{dead_pid}-jkl",  # a scratch venv of an audit killed mid-install
    ]
    for folder in stale:
        folder.mkdir()
        (folder / "arguments.pickle").write_bytes(b"the user's arguments")
    alive = temp / f"gilwise-advise-{os.getpid()}-ghi"
    alive.mkdir()
    foreign = temp / "gilwise-notes-1-x"
    foreign.mkdir()
    env = {**fault_env, "TMPDIR": str(temp)}
    done = subprocess.run(
        [
            *gilwise_command(),
            "bench",
            "--workload",
            "sleep",
            "--model",
            "serial",
            "--repeats",
            "1",
            "--budget",
            "0",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not any(folder.exists() for folder in stale)
    assert alive.exists() and foreign.exists()


def test_audits_scratch_folders_carry_their_owners_pid(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """audit's scratch venv and its no-arguments file live in owned temp folders, which the
    next run sweeps once their owner is dead (``TemporaryDirectory`` never is, after a kill)."""
    from gilwise._audit import measure

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with measure._no_arguments() as path:
        assert Path(path).parent.name.startswith(f"gilwise-audit-{os.getpid()}-"), path
    assert not Path(path).parent.exists()
