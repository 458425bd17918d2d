"""Fault injection (``tests/faults/``) with real processes, files and signals: helpers shared by the cases.

Each run gets a marker in its environment (``GILWISE_FAULT_RUN``), which every process it starts
inherits whatever session it moves to; :func:`survivors` finds them all by it, so "nothing left
running" is checked on the whole tree, re-parented orphans included.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from pathlib import Path

import psutil

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
