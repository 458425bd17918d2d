"""Advise worker: one probe or one cell on the user's function, in a fresh process.

Run as ``python -m gilwise._advise.worker`` with an :class:`~.protocol.AdviseSpec` on stdin; the
reply is one result line framed like the harness worker's. Stdlib only (any ``--python``).
"""

from __future__ import annotations

import json
import sys
import time
import traceback

from .._harness.protocol import encode_result
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


def main() -> int:
    spec: AdviseSpec = json.loads(sys.stdin.read())
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
    sys.stdout.write(encode_result(reply) + "\n")  # type: ignore[arg-type]
    sys.stdout.flush()
    return 0 if reply["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
