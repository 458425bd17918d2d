"""Start a harness worker under a chosen interpreter and collect its report.

The worker runs in its own session (process group), so a timeout or Ctrl-C kills it and every
process it started, leaving nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

from .._system import INTERRUPT_POLL_S, raise_if_interrupted
from .._system.install import PACKAGE_DIR  # not the package root: it sits above the harness
from .._system.lifetime import owned_temp_dir, owner_environment
from .protocol import CalibrationReply, MeasureReply, WorkerReply, WorkerSpec, decode_result, failure

_shim_dir: str | None = None
_compiled: set[str] = set()


def package_path_dir() -> str:
    """A folder holding only a ``gilwise`` link: PYTHONPATH for workers of any interpreter."""
    global _shim_dir
    if _shim_dir is None or not Path(_shim_dir, "gilwise").exists():
        folder = owned_temp_dir("gilwise-path-")
        os.symlink(PACKAGE_DIR, Path(folder, "gilwise"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _shim_dir = folder
    return _shim_dir


def byte_compile_package(python: str) -> None:
    """Write gilwise's .pyc files for ``python``, once per interpreter and run, before any cell.

    Every harness worker, pool child under spawn/forkserver and sub-interpreter imports gilwise
    afresh. Where no .pyc exists (an editable install under PYTHONDONTWRITEBYTECODE=1, as here,
    or a checkout never imported by that interpreter) each of them compiles the sources again
    and the cell's start-up measures the compiler. ``compileall`` writes them whatever
    PYTHONDONTWRITEBYTECODE says (Python still reads them); it only stats files already fresh.
    A read-only install (where pip already compiled) just fails quietly.
    """
    if python in _compiled:
        return
    _compiled.add(python)
    command = [python, "-I", "-m", "compileall", "-q", str(PACKAGE_DIR)]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=300, check=False)


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_path_dir(), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONSTARTUP", None)
    env.update(owner_environment())
    return env


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def calibrate_in_worker(python: str, spec: WorkerSpec, timeout_s: float) -> CalibrationReply:
    """A ``mode="calibrate"`` spec run to completion in a fresh worker."""
    return cast(CalibrationReply, run_worker(python, spec, timeout_s))


def measure_in_worker(
    python: str, spec: WorkerSpec, timeout_s: float, on_start: Callable[[int], None] | None = None
) -> MeasureReply:
    """A ``mode="measure"`` spec run to completion in a fresh worker."""
    return cast(MeasureReply, run_worker(python, spec, timeout_s, on_start))


def run_worker(
    python: str,
    spec: Mapping[str, object],
    timeout_s: float,
    on_start: Callable[[int], None] | None = None,
) -> WorkerReply:
    """Run one harness worker to completion; failures come back as ``{"ok": False, "error": ...}``.
    (advise's workers have a launcher of their own, ``gilwise._advise.launch``: they run the
    user's code, which owns their stdout.)"""
    env = worker_env()
    byte_compile_package(python)
    proc = subprocess.Popen(
        [python, "-m", "gilwise._harness.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        # Inside the try: a Ctrl-C while the watch starts must still kill the worker's group.
        if on_start is not None:
            on_start(proc.pid)
        stdout, stderr = _communicate_interruptibly(proc, json.dumps(spec), timeout_s)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        return failure(
            "timeout",
            f"the cell did not finish within {timeout_s:g} s and was killed; "
            "raise --cell-timeout or use a smaller --size",
        )
    except BaseException:
        kill_group(proc.pid)
        proc.communicate()
        raise
    finally:
        kill_group(proc.pid)  # pool processes a crashed worker left behind
    result = decode_result(stdout)
    if result is None:
        tail = (stderr or stdout).strip()[-600:]
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        return failure("crash", f"worker died ({how}): {tail}")
    return result


def _communicate_interruptibly(proc: subprocess.Popen[str], text: str, timeout_s: float) -> tuple[str, str]:
    """``proc.communicate`` that also stops on a latched Ctrl-C (``_system.interrupts``), one
    whose KeyboardInterrupt was swallowed elsewhere, within :data:`INTERRUPT_POLL_S`."""
    deadline = time.monotonic() + timeout_s
    pending: str | None = text
    while True:
        raise_if_interrupted()
        left = deadline - time.monotonic()
        try:
            return proc.communicate(pending, timeout=max(0.0, min(INTERRUPT_POLL_S, left)))
        except subprocess.TimeoutExpired:
            if left <= INTERRUPT_POLL_S:
                raise
        pending = None  # communicate keeps what it has not written yet
