"""Messages between the advise orchestrator and its probe workers: one JSON spec in, one JSON
reply out, each on a pipe of its own (:mod:`.launch`), never the user's stdout.

Stdlib only: the worker side runs under any ``--python``. Three kinds of worker:

* ``call``: time single calls (wall, CPU), the GIL-held fraction, pickled sizes and times;
* ``pool``: process-pool start-up per worker count and the cost of one message to a worker;
* ``cell``: ``calls`` calls under one model and worker count (scaling probes, verification).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

AdviseFailureKind = Literal["usage", "raised", "unavailable", "exception", "timeout", "crash"]
"""``usage``: the target cannot be imported or called (CLI exit 2); ``raised``: it raised
(exit 1, traceback shown); ``unavailable``: this interpreter cannot run it (a reason, not an
error); the rest as the harness's: the worker itself failed."""

CellModel = Literal["serial", "threads", "processes", "asyncio", "interpreters"]


class TargetSpec(TypedDict):
    target: str
    """``"package.module:qualified.name"``, imported in the worker."""
    args_path: str
    """A pickle file holding ``(args, kwargs)``."""
    sys_path: list[str]
    """Folders put first on the worker's ``sys.path`` (where the target's package lives)."""


class AdviseSpec(TypedDict):
    mode: Literal["call", "pool", "cell"]
    target: TargetSpec
    deadline_s: float
    """Seconds this worker may spend; it stops early and reports what it measured."""
    min_time_s: NotRequired[float]
    """call: how long each timing phase lasts at least."""
    pool_workers: NotRequired[list[int]]
    """pool: worker counts whose start-up is measured."""
    model: NotRequired[CellModel]
    workers: NotRequired[int]
    calls: NotRequired[int]
    chunksize: NotRequired[int]
    reference_s: NotRequired[float]
    """cell: first time serial calls in the main thread for about this long (0: none)."""


class GilProbe(TypedDict):
    """A probe thread sleeps random short intervals and times how late it gets to run again.

    Late means it waited for the GIL: the share of late wake-ups while the call runs, less
    the share without it (the machine's own scheduling noise), estimates the held fraction."""

    held_fraction: float | None
    """None on a build without a GIL (or one too busy to tell: see ``note``)."""
    samples: int
    late_during_call: int
    baseline_samples: int
    late_baseline: int
    threshold_s: float
    switch_interval_s: float
    median_delay_s: float
    note: str


class TransferProbe(TypedDict):
    picklable: bool
    reason: str
    """Why it is not picklable (empty when it is)."""
    args_bytes: int
    result_bytes: int
    args_dumps_s: float
    args_loads_s: float
    result_dumps_s: float
    result_loads_s: float


class CallReport(TypedDict):
    ok: Literal[True]
    python: str
    version: str
    gil_enabled: bool
    free_threaded: bool
    coroutine: bool
    first_call_s: float
    wall_s: list[float]
    """One per timed call (after the first, untimed-for-the-model call)."""
    cpu_s: list[float]
    """Process CPU time per call (every thread the call used)."""
    runqueue_s: float
    """Mean time per call the process's threads waited for a core (a busy machine)."""
    gil: GilProbe
    thread_start_s: float
    transfer: TransferProbe
    result_type: str
    peak_call_bytes: int | None
    """What the first call added to the process's resident memory at its peak (None where the
    kernel cannot reset the high-water mark): n calls at once need about n times this."""
    notes: list[str]


class PoolReport(TypedDict):
    ok: Literal[True]
    start_method: str
    startup_s: list[list[float]]
    """[workers, seconds]: creating a pool until every worker has imported the target."""
    shutdown_s: list[list[float]]
    message_s: float
    """Round trip of a call with no arguments and no result (dispatch and IPC)."""
    args_roundtrip_s: float
    """Round trip of a call carrying the target's arguments (and no result)."""
    pipe_bytes_per_s: float
    notes: list[str]


class CellReport(TypedDict):
    ok: Literal[True]
    model: CellModel
    workers: int
    calls: int
    chunksize: int
    wall_s: float
    in_task_s: list[float]
    """Each call's own duration, timed where it ran."""
    submit_s: float
    """Time the caller spent submitting the calls (0 where nothing is submitted)."""
    reference_call_s: float | None
    """Mean serial call in the main thread just before the pool ran (the machine's speed at
    that moment), when the spec asked for it."""
    window: list[float]
    """[start, end] on CLOCK_MONOTONIC, for the orchestrator's CPU sampler."""
    cpu_self_s: float
    cpu_children_s: float
    notes: list[str]


class AdviseFailure(TypedDict):
    ok: Literal[False]
    kind: AdviseFailureKind
    error: str
    traceback: NotRequired[str]
    output: NotRequired[str]
    """The tail of what the worker printed (stdout and stderr), trimmed; set by the orchestrator."""
    fault: NotRequired[str]
    """faulthandler's dump of a crashed worker's Python stacks."""


CallReply = CallReport | AdviseFailure
PoolReply = PoolReport | AdviseFailure
CellReply = CellReport | AdviseFailure
AdviseReply = CallReport | PoolReport | CellReport | AdviseFailure
