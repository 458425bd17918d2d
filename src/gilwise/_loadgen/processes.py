"""Load-client processes: started with their plan, started together, always reaped.

Both generators use it: the open loop (``client``) and the closed-loop clients that seed
``gilwise serving``'s database and drive ``benchmarks/bench_serve.py``
(``_service.load_client``). A client is its own process so that its GIL never delays the
server's or another client's timing; it reads one JSON plan line, says ``ready``, starts its
clock on ``go``."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .._exceptions import GilwiseError
from .._system import pin_to_cores

START_TIMEOUT_S = 60.0


def client_environment() -> dict[str, str]:
    """This environment, with gilwise's source first on the path (works from a checkout too)."""
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def read_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    """The client's next line, or a GilwiseError when it says nothing for ``timeout_s``."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout_s):
            raise GilwiseError(f"a load client said nothing within {timeout_s:g} s")
    return proc.stdout.readline().strip()


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread: ``terminate()``
    (``gilwise serve --demo`` stopping its load) must reach ``started_clients``' cleanup, which
    the default SIGTERM action would skip, leaving the clients running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def started_clients(
    module: str, plans: Sequence[Mapping[str, object]], cores: Sequence[int] | None = None
) -> Iterator[list[subprocess.Popen[str]]]:
    """One ``python -m module`` per plan, each ready, then all told ``go`` together; yields them
    running and kills and reaps whatever is left when the block ends."""
    env = client_environment()
    procs: list[subprocess.Popen[str]] = []
    try:
        for plan in plans:
            proc = subprocess.Popen(
                [sys.executable, "-m", module],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            procs.append(proc)
            if cores is not None:
                pin_to_cores(proc.pid, cores)
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(plan) + "\n")
            proc.stdin.flush()
        for proc in procs:
            line = read_line(proc, START_TIMEOUT_S)
            if line != "ready":
                raise GilwiseError(f"a load client failed to start (exit {proc.poll()}): {line!r}")
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
