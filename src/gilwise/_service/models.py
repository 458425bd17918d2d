"""Every request and response body of the service, defined once (the OpenAPI schema is built
from these, and schemathesis fuzzes against it)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, with_config
from typing_extensions import TypedDict  # pydantic needs it for TypedDicts before Python 3.12

from .analytics import SessionsReport

# 1e11 s is the year 5138: a bound that catches milliseconds sent as seconds.
# Strict: a JSON number (integer or not), never a boolean or a string that pydantic's lax mode
# would turn into one ({"ts": true} was stored as 1.0).
Timestamp = Annotated[float, Strict(), Field(ge=0, le=1e11, allow_inf_nan=False, description="epoch seconds")]


@with_config(ConfigDict(extra="allow"))
class EventIn(TypedDict):
    """One event; any further properties are kept as JSON (``props``).

    A TypedDict rather than a model: validating a 1,000-event batch into dicts is about 2.5×
    faster than into model instances, and ingest is the hot path."""

    ts: Timestamp
    user: Annotated[str, Field(min_length=1, max_length=256)]
    event: Annotated[str, Field(min_length=1, max_length=64)]
    value: Annotated[float, Field(allow_inf_nan=False)]


class Accepted(BaseModel):
    accepted: int = Field(description="events stored (all of the batch)")
    batch_id: int


class Count(BaseModel):
    count: int


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    offload: str


class Problem(BaseModel):
    """The body of every 4xx / 503 this service sends on purpose."""

    detail: str
    item: int | None = Field(default=None, description="index of the first bad event in the batch")
    field: str | None = Field(default=None, description="the bad field of that event")


class EventTypeCount(BaseModel):
    event: str
    count: int
    per_s: float


class TimelinePoint(BaseModel):
    t: float = Field(description="bucket start, epoch seconds")
    count: int


class Summary(BaseModel):
    window_s: float
    events: int
    events_per_s: float
    unique_users: int
    value_p50: float | None
    value_p95: float | None
    by_type: list[EventTypeCount]
    timeline: list[TimelinePoint]
    bucket_s: float


class Sessions(BaseModel):
    window_s: float
    mode: str = Field(description="the offload mode this report ran under")
    compute_ms: float = Field(description="time from the start of the analytics to its result")
    report: SessionsReport = Field(description="the report itself: identical in every mode")
    user_names: dict[int, str] = Field(description="the name of each user id in the report")


class OffloadChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: str = Field(description="one of the modes listed by GET /admin/offload")


class OffloadState(BaseModel):
    mode: str
    modes: dict[str, str] = Field(
        description="every mode this server can run (dask only with Dask installed) "
        "and what it runs the analytics in"
    )
    token_required: bool
    demo_cycling: bool = Field(description="--demo switches modes by itself until one is chosen")


class Percentiles(BaseModel):
    p50: float
    p99: float
    count: int = 0


class ClusterWorkerLive(BaseModel):
    """One worker of the ``dask`` mode's cluster, as its scheduler last heard from it."""

    address: str
    name: str
    host: str
    nthreads: int
    cpu_percent: float = Field(description="of one core, from the worker's last heartbeat")
    memory_bytes: int
    memory_limit_bytes: int = Field(description="0: no limit")


class OffloadLive(BaseModel):
    mode: str
    workers: int = Field(description="offload worker processes alive")
    queue_depth: int = Field(description="sessions reports waiting for or running in the offload mode")
    restarts: int
    crashes: int
    cluster_workers: list[ClusterWorkerLive] = Field(
        default_factory=list, description="the Dask cluster's workers, once the dask mode has been used"
    )
    cluster_error: str | None = Field(
        default=None, description="why the cluster could not be asked about its workers this second"
    )


class Live(BaseModel):
    """One ``/live`` message (Server-Sent Events, at least one a second)."""

    t: float
    interval_s: float
    cpu_per_core: list[float] = Field(
        description="busy fraction of each core this server may run on (its affinity set), 0..1"
    )
    busy_cores: float
    usable_cores: int = Field(
        description="cores this server may really use: its affinity set capped by a cgroup CPU quota"
    )
    server_cores: float = Field(description="CPU of the server process (its threads), in cores")
    worker_cores: float = Field(description="CPU of the offload worker processes, in cores")
    loop_lag_ms: Percentiles
    events_per_s: float
    latency_ms: dict[str, Percentiles] = Field(description="per route, handler time in the server")
    offload: OffloadLive


class BenchRow(BaseModel):
    workload: str
    impl: str
    model: str
    workers: int
    interpreter: str
    status: str
    wall_median_s: float | None
    speedup: float | None
    busy_cores: float | None


class BenchLatest(BaseModel):
    run_id: int | None
    started: str | None
    message: str | None = None
    rows: list[BenchRow]
