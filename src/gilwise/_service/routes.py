"""The API endpoints: ingest, count, health, the two analytics, the offload switch, ``/live``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.sse import EventSourceResponse
from pydantic import TypeAdapter

from .._exceptions import UsageError
from .errors import RequestRejected
from .ingest import NDJSON_TYPES, decode_batch, read_limited
from .models import (
    Accepted,
    Count,
    EventIn,
    Health,
    Live,
    OffloadChoice,
    OffloadState,
    Problem,
    Sessions,
    Summary,
)
from .modes import MODES, available_modes, unavailable
from .state import Authorized, State

router = APIRouter()

MAX_WINDOW_S = 366 * 86400.0
_EVENTS_SCHEMA = TypeAdapter(list[EventIn]).json_schema(ref_template="#/components/schemas/{model}")
_EVENT_SCHEMA = TypeAdapter(EventIn).json_schema(ref_template="#/components/schemas/{model}")
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": why}
    for code, why in (
        (400, "the body is not valid JSON"),
        (401, "a token is set and the request lacks it"),
        (413, "the body is over the limit"),
        (415, "neither JSON nor NDJSON"),
        (422, "an event is invalid (the first bad item and field are named); nothing was stored"),
    )
}


@router.get("/health", response_model=Health)
async def health(state: State) -> Health:
    return Health(offload=state.switch.mode.name)


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    response_model=Accepted,
    responses=_PROBLEMS,
    dependencies=[Authorized],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A JSON array of events, or NDJSON (one event per line). All or nothing: "
            "the 201 comes only after the whole batch is committed.",
            "content": {
                "application/json": {"schema": _EVENTS_SCHEMA | {"minItems": 1}},
                **{t: {"schema": _EVENT_SCHEMA} for t in sorted(NDJSON_TYPES)},
            },
        }
    },
)
async def post_events(request: Request, state: State) -> Response:
    body = await read_limited(
        request.stream(), request.headers.get("content-length"), state.settings.body_limit
    )
    columns = decode_batch(body, request.headers.get("content-type"))
    batch_id = await state.store.call(state.store.insert, columns)
    state.metrics.record_ingest(len(columns))
    # A ready Response: FastAPI would otherwise validate this reply against ``Accepted`` and
    # serialise it again through jsonable_encoder, per batch, for a model built right here.
    reply = Accepted(accepted=len(columns), batch_id=batch_id).model_dump_json()
    return Response(reply, status.HTTP_201_CREATED, media_type="application/json")


@router.get("/events/count", response_model=Count)
async def events_count(state: State) -> Count:
    return Count(count=await state.store.call(state.store.count))


Window = Annotated[float, Query(gt=0, le=MAX_WINDOW_S, description="seconds back from now")]


@router.get("/analytics/summary", response_model=Summary)
async def analytics_summary(state: State, window: Window = 60.0) -> Summary:
    return await state.store.call(state.store.summary, window, time.time())


@router.get("/analytics/sessions", response_model=Sessions, responses={503: {"model": Problem}})
async def analytics_sessions(state: State, window: Window = 6 * 3600.0) -> Sessions:
    columns = await state.store.call(
        state.store.session_columns, window, time.time(), state.settings.sessions_limit
    )
    report, mode, compute_ms = await state.switch.run(columns)
    names = {a["user_id"]: state.store.user_name(a["user_id"]) for a in report["anomalies"]}
    return Sessions(window_s=window, mode=mode, compute_ms=compute_ms, report=report, user_names=names)


def _offload_state(state: State) -> OffloadState:
    return OffloadState(
        mode=state.switch.mode.name,
        modes={name: mode.runs_in for name, mode in available_modes().items()},
        token_required=state.settings.token is not None,
        demo_cycling=state.settings.demo_cycle_s is not None and not state.switch.pinned,
    )


@router.get("/admin/offload", response_model=OffloadState)
async def get_offload(state: State) -> OffloadState:
    return _offload_state(state)


@router.put(
    "/admin/offload",
    response_model=OffloadState,
    responses={401: {"model": Problem}, 422: {"model": Problem}},
    dependencies=[Authorized],
)
async def put_offload(choice: OffloadChoice, state: State) -> OffloadState:
    mode = MODES.get(choice.mode)
    if mode is None:
        raise RequestRejected(
            422,
            f"unknown offload mode {choice.mode!r}; valid choices: {', '.join(available_modes())}",
            field="mode",
        )
    why = unavailable(mode)
    if why is not None:
        raise RequestRejected(422, why, field="mode")
    pool = mode.pool
    if pool is not None:
        try:
            await state.switch.pool(pool)  # warm before the first report runs there
        except UsageError as exc:  # e.g. a Dask scheduler that would re-run a dead worker's task
            detail = f"offload mode {mode.name!r} cannot start: {exc}"
            raise RequestRejected(422, detail, field="mode") from exc
    state.switch.set_mode(mode.name)
    state.switch.pinned = True
    return _offload_state(state)


@router.get("/live", response_class=EventSourceResponse, response_model=Live)
async def live(
    state: State,
    count: Annotated[int | None, Query(ge=1, le=1_000_000, description="stop after N messages")] = None,
) -> AsyncIterator[Live]:
    """Server-Sent Events: one ``Live`` message a second, until the client leaves."""
    sent = 0
    last = state.metrics.latest
    if last is not None:
        yield last
        sent += 1
    while (count is None or sent < count) and not state.stopping.is_set():
        message = await state.metrics.next_message(last, timeout=1.5)
        if message is None:
            continue
        last = message
        yield message
        sent += 1
