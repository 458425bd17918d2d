"""Fault injection (``tests/faults/``) with real processes, files and signals: helpers shared by the cases.

Each run gets a marker in its environment (``GILWISE_FAULT_RUN``), which every process it starts
inherits whatever session it moves to; :func:`survivors` finds them all by it, so "nothing left
running" is checked on the whole tree, re-parented orphans included.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MARKER = "GILWISE_FAULT_RUN"


def gilwise_command() -> list[str]:
    return [sys.executable, "-m", "gilwise.cli"]


def _carries(proc: psutil.Process, marker: str) -> bool:
    try:
        return proc.environ().get(MARKER) == marker and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def survivors(marker: str, within_s: float = 2.0) -> list[psutil.Process]:
    """The processes carrying ``marker`` still alive ``within_s`` seconds from now (sooner if
    none is left)."""
    deadline = time.monotonic() + within_s
    while True:
        alive = [p for p in psutil.process_iter() if p.pid != os.getpid() and _carries(p, marker)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def sigkill_leaves_nothing(proc: subprocess.Popen[str] | subprocess.Popen[bytes], marker: str) -> None:
    """SIGKILL ``proc``; fail if any process of its run (``marker``) is alive 2 s later."""
    proc.kill()
    proc.wait(timeout=5)
    left = survivors(marker, within_s=2)
    kill_all(left)
    assert not left, [p.cmdline() for p in left]


@contextlib.contextmanager
def reaped(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """``proc`` for the block; then killed if still alive, waited for, its pipes closed."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def kill_all(processes: list[psutil.Process]) -> None:
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(processes, timeout=5)


def fault_environment(folder: Path) -> dict[str, str]:
    """An environment for one faulted run: its own history under ``folder`` and its marker."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["COLUMNS"] = "200"
    env["GILWISE_HISTORY"] = str(folder / "history.sqlite")
    env[MARKER] = uuid.uuid4().hex
    return env


@contextlib.contextmanager
def full_filesystem(mount_point: Path) -> Iterator[Path]:
    """A real full file system at ``mount_point``: a 256 KiB tmpfs, filled to the last byte.

    Skips (with the reason) where it cannot be made: mounting needs root, as CI runs."""
    with tmpfs(mount_point, size="256k"):
        filler = os.open(mount_point / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(filler, b"\0" * 4096):
                pass
        except OSError:  # ENOSPC: full to the last block
            pass
        finally:
            os.close(filler)
        yield mount_point


def run_gilwise(env: dict[str, str], *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """One ``gilwise`` command as a user runs it: its exit code, stdout and stderr."""
    return subprocess.run(
        [*gilwise_command(), *args], capture_output=True, text=True, env=env, timeout=timeout_s, check=False
    )


@contextlib.contextmanager
def tmpfs(mount_point: Path, size: str = "4m") -> Iterator[Path]:
    """A fresh tmpfs at ``mount_point`` (skips without root, as :func:`full_filesystem`)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
