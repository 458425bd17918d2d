"""Advise worker: one probe or one cell on the user's function, in a fresh process.

Run as ``python -m gilwise._advise.worker SPEC_FD REPLY_FD FAULT_PATH``: the
:class:`~.protocol.AdviseSpec` arrives as JSON on the pipe ``SPEC_FD``, the reply leaves as JSON
on the pipe ``REPLY_FD`` (both passed by :mod:`.launch`), and ``faulthandler`` writes a crash's
stacks to ``FAULT_PATH``. Stdout, stderr and stdin stay the user's function's own: it may print
progress dots or read stdin without touching what advise says. Stdlib only (any ``--python``).
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import time
import traceback

from .._system.lifetime import die_with_parent
from .cells import run_cell
from .probe_call import probe_call
from .probe_pool import probe_pool
from .protocol import AdviseFailure, AdviseSpec, CallReply, CellReply, PoolReply
from .target import TargetProblem, load, raised


def handle(spec: AdviseSpec) -> CallReply | PoolReply | CellReply:
    start = time.perf_counter()
    deadline = start + spec["deadline_s"]
    fn, args, kwargs = load(spec["target"])
    try:
        if spec["mode"] == "call":
            return probe_call(sys.executable, fn, args, kwargs, spec.get("min_time_s", 0.4), deadline)
        if spec["mode"] == "pool":
            return probe_pool(spec["target"], args, kwargs, spec.get("pool_workers", [1]), deadline)
        return run_cell(
            spec.get("model", "serial"),
            spec.get("workers", 1),
            spec.get("calls", 1),
            spec.get("chunksize", 1),
            fn,
            args,
            kwargs,
            spec.get("reference_s", 0.0),
        )
    except TargetProblem:
        raise
    except NotImplementedError as exc:
        return {"ok": False, "kind": "unavailable", "error": str(exc)}
    except Exception as exc:  # the user's function raised (in a call, a thread or a worker)
        raise raised(spec["target"]["target"], exc) from exc


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def main(argv: list[str]) -> int:
    die_with_parent()  # a SIGKILLed advise must not leave the user's function running for no one
    spec_fd, reply_fd, fault_path = int(argv[0]), int(argv[1]), argv[2]
    # Kept open for the process's life: a segfault in the user's code dumps every thread's
    # Python stack there, and the orchestrator names the user's frame from it.
    fault_file = open(fault_path, "w")  # noqa: SIM115
    faulthandler.enable(file=fault_file, all_threads=True)
    spec: AdviseSpec = json.loads(_read_all(spec_fd))
    reply: CallReply | PoolReply | CellReply
    try:
        reply = handle(spec)
    except TargetProblem as problem:
        reply = problem.failure
    except BaseException as exc:  # report every failure as data; the orchestrator decides
        failed: AdviseFailure = {
            "ok": False,
            "kind": "exception",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
        }
        reply = failed
    _write_all(reply_fd, json.dumps(reply, separators=(",", ":")).encode())
    return 0 if reply["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
