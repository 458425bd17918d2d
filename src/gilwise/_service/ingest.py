"""``POST /events``: read the body within its limit, parse a JSON array or NDJSON, validate every
event, and turn the batch into columns. Any problem rejects the whole batch, naming the first bad
item and field; nothing is stored unless everything is valid.

Two decoders, one meaning. ``EventIn`` (pydantic) is the contract: it keeps extra properties and
words every rejection. A JSON array of events with exactly the four core fields, the usual batch,
goes through ``_CoreEvent`` (msgspec) first, which decodes and checks it about four times faster;
whatever it refuses (an extra field, a bad value, a lax form pydantic accepts) is decoded again by
``EventIn``, which then accepts it or names the first bad item and field.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from operator import attrgetter
from typing import Annotated, Any

import msgspec
import numpy as np
from pydantic import TypeAdapter, ValidationError

from .errors import RequestRejected
from .models import EventIn
from .store import MAX_BATCH_EVENTS, EventColumns

NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
_CORE_FIELDS = frozenset(EventIn.__annotations__)
_BATCH = TypeAdapter(list[EventIn])
_ONE = TypeAdapter(EventIn)
_PROPS = TypeAdapter(dict[str, Any])


class _CoreEvent(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """``EventIn`` without extra properties, in msgspec's terms: never looser than ``EventIn``
    (strict types, the same bounds; a non-finite value is refused after decoding)."""

    ts: Annotated[float, msgspec.Meta(ge=0, le=1e11)]
    user: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    value: float


_CORE_BATCH = msgspec.json.Decoder(list[_CoreEvent])
_TS, _USER, _EVENT, _VALUE = (attrgetter(name) for name in ("ts", "user", "event", "value"))


async def read_limited(chunks: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes:
    """The whole body, or ``RequestRejected(413)`` as soon as it is known to exceed ``limit``."""
    too_big = (
        f"the batch is larger than the body limit of {limit:,} bytes; split it into smaller "
        "batches (or start the server with a larger --body-limit)"
    )
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRejected(413, too_big)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise RequestRejected(413, too_big)
        parts.append(chunk)
    return b"".join(parts)


def decode_batch(body: bytes, content_type: str | None) -> EventColumns:
    """The body's events as columns: the fast decoder where it accepts, else ``EventIn``."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media == "application/json":
        columns = _core_columns(body)
        if columns is not None:
            return columns
    return to_columns(parse_batch(body, content_type))


def _core_columns(body: bytes) -> EventColumns | None:
    """A batch of core-only events straight into columns, or None to leave it to ``EventIn``."""
    try:
        events = _CORE_BATCH.decode(body)
    except msgspec.DecodeError:
        return None
    n = len(events)
    if not n or n > MAX_BATCH_EVENTS:
        return None  # the reasons are worded by the general path
    value = np.fromiter(map(_VALUE, events), np.float64, n)
    if not np.isfinite(value).all():
        return None
    return EventColumns(
        ts=np.fromiter(map(_TS, events), np.float64, n),
        user=np.array(list(map(_USER, events)), dtype=object),
        event=np.array(list(map(_EVENT, events)), dtype=object),
        value=value,
        props=None,
    )


def parse_batch(body: bytes, content_type: str | None) -> list[EventIn]:
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media in NDJSON_TYPES:
        return _parse_ndjson(body)
    if media != "application/json":
        raise RequestRejected(
            415,
            f"content type {media!r} is not accepted; send application/json (an array of events) "
            f"or one of {', '.join(sorted(NDJSON_TYPES))} (one event per line)",
        )
    try:
        events = _BATCH.validate_json(body)
    except ValidationError as exc:
        raise _rejection(exc, item=None) from None
    if not events:
        raise RequestRejected(422, "the batch is empty; send at least one event")
    return events


def _parse_ndjson(body: bytes) -> list[EventIn]:
    events: list[EventIn] = []
    for number, line in enumerate(body.split(b"\n")):
        if not line.strip():
            continue
        try:
            events.append(_ONE.validate_json(line))
        except ValidationError as exc:
            raise _rejection(exc, item=len(events), line=number + 1) from None
    if not events:
        raise RequestRejected(422, "the batch is empty; send at least one event, one JSON object per line")
    return events


def _rejection(exc: ValidationError, item: int | None, line: int | None = None) -> RequestRejected:
    """The first error of the batch, as a message a person can act on."""
    error = exc.errors(include_url=False)[0]
    loc = list(error["loc"])
    if error["type"] in ("json_invalid", "json_type"):
        where = f" (line {line})" if line else ""
        return RequestRejected(400, f"the body is not valid JSON{where}: {error['msg']}")
    if item is None and loc and isinstance(loc[0], int):
        item = int(loc.pop(0))
    field = ".".join(str(part) for part in loc) or None
    if item is None and not loc:
        return RequestRejected(422, f"the body must be a JSON array of events: {error['msg']}")
    subject = f"item {item}" + (f" (line {line})" if line else "")
    detail = f"{subject}, field {field!r}: {error['msg']}" if field else f"{subject}: {error['msg']}"
    return RequestRejected(422, detail + "; nothing of this batch was stored", item=item, field=field)


def to_columns(events: list[EventIn]) -> EventColumns:
    if len(events) > MAX_BATCH_EVENTS:
        raise RequestRejected(413, f"{len(events):,} events in one batch; send at most {MAX_BATCH_EVENTS:,}")
    core = len(_CORE_FIELDS)
    props = None
    if any(len(e) > core for e in events):
        props = np.array(
            [
                _PROPS.dump_json({k: v for k, v in e.items() if k not in _CORE_FIELDS}).decode()
                if len(e) > core
                else None
                for e in events
            ],
            dtype=object,
        )
    return EventColumns(
        ts=np.fromiter((e["ts"] for e in events), np.float64, len(events)),
        user=np.array([e["user"] for e in events], dtype=object),
        event=np.array([e["event"] for e in events], dtype=object),
        value=np.fromiter((e["value"] for e in events), np.float64, len(events)),
        props=props,
    )
