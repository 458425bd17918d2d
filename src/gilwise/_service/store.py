"""The embedded DuckDB store: one connection per process, a cursor per thread, one transaction
per batch.

Every call runs on the store's own threads (``await store.call(...)`` from the event loop):
DuckDB executes SQL in its own thread pool with the GIL released, so ingest and aggregates do not
stall the loop. A batch is one transaction: it is in the file (the write-ahead log) before
``insert`` returns, or nothing of it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import numpy.typing as npt

from .._exceptions import UsageError
from .._system import usable_cores
from .analytics import FUNNEL, OTHER_EVENT
from .models import EventTypeCount, Summary, TimelinePoint

T = TypeVar("T")

SCHEMA_VERSION = 1
_SCHEMA = (
    "CREATE SEQUENCE batch_ids START 1",
    "CREATE TABLE batches (id BIGINT PRIMARY KEY, received_at DOUBLE NOT NULL, events INTEGER NOT NULL)",
    # Users are dictionary-encoded: the sessions report reads integer ids (a join on the name
    # strings cost 26 ms of the server's CPU per report here; a scan of integers costs 6).
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL)",
    # (batch_id, seq) is unique: the order in which events were received.
    "CREATE TABLE events (batch_id BIGINT NOT NULL, seq INTEGER NOT NULL, ts DOUBLE NOT NULL, "
    "user_id INTEGER NOT NULL, event VARCHAR NOT NULL, value DOUBLE NOT NULL, props JSON)",
    f"CREATE TABLE meta (version INTEGER NOT NULL); INSERT INTO meta VALUES ({SCHEMA_VERSION})",
)
_EVENT_CODE = (
    "CASE event "
    + " ".join(f"WHEN '{name}' THEN {code}" for code, name in enumerate(FUNNEL))
    + f" ELSE {OTHER_EVENT} END"
)
# The newest events: whole batches, newest first, up to $limit events, within the window. A
# cumulative count over the batches table finds the oldest batch to include, so the events
# table is only filtered, never sorted (a top-N sort of 200,000 rows cost 150 ms of CPU here).
# At least the newest batch is included, even when it alone holds more than $limit events.
_CUTOFF = (
    "SELECT coalesce(min(id), (SELECT max(id) FROM batches), 0) FROM ("
    "SELECT id, sum(events) OVER (ORDER BY id DESC) AS newer FROM batches "
    "WHERE id > (SELECT coalesce(max(id), 0) FROM batches) - $limit"
    ") WHERE newer <= $limit"
)
_SESSION_COLUMNS = (
    f"SELECT user_id::BIGINT AS u, ts, ({_EVENT_CODE})::TINYINT AS e, value, "
    "(batch_id << 20 | seq)::BIGINT AS received FROM events "
    "WHERE batch_id >= $first AND batch_id < $stop AND ts >= $since"
)
_SESSION_CHUNKS = (
    "SELECT min(id) FROM (SELECT id, sum(events) OVER (ORDER BY id) AS upto FROM batches "
    "WHERE id >= $first) GROUP BY (upto - 1) // $rows ORDER BY 1"
)
SESSION_CHUNK_ROWS = 16_384
"""Rows per ``fetchnumpy`` of the sessions input. DuckDB holds the GIL while it converts a
result to NumPy (measured here: ~12 ms for 200,000 rows, the event loop's thread stalled up to
11 ms behind it); chunks of whole batches of about this many rows keep each hold near 1 ms."""
_NO_BATCH_AFTER = 1 << 62
MAX_BATCH_EVENTS = 1 << 20
"""``seq`` fits in 20 bits, so ``batch_id << 20 | seq`` orders events as they were received."""
STORE_THREADS = 4


@dataclass(frozen=True)
class EventColumns:
    """A validated batch, column by column."""

    ts: npt.NDArray[np.float64]
    user: npt.NDArray[np.object_]
    event: npt.NDArray[np.object_]
    value: npt.NDArray[np.float64]
    props: npt.NDArray[np.object_] | None
    """Each event's extra properties as JSON text (None where it has none); None for a batch
    without any, which is then stored without a props column to convert."""

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class SessionColumns:
    """The inputs of one sessions report, in no particular order (the report sorts them); NumPy
    arrays so that they travel to a worker process through shared memory."""

    user: npt.NDArray[np.int64]
    """User ids (``EventStore.user_name`` gives the name)."""
    ts: npt.NDArray[np.float64]
    event: npt.NDArray[np.int8]
    value: npt.NDArray[np.float64]
    received: npt.NDArray[np.int64]
    """Order of arrival (``batch_id << 20 | seq``): breaks ties between equal timestamps."""


class EventStore:
    def __init__(self, path: Path, threads: int = STORE_THREADS) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One count of cores for the whole server: DuckDB's own may see the host's, not the quota.
            self._conn = duckdb.connect(str(path), config={"threads": usable_cores()})
        except (OSError, duckdb.Error) as exc:
            raise UsageError(
                f"cannot open the event database: {exc}. If another `gilwise serve` uses it, stop "
                "that one or pass `db_path` with another file.",
                parameter="db_path",
                value=path,
            ) from exc
        self._prepare()
        rows = self._conn.execute("SELECT id, name FROM users ORDER BY id").fetchall()
        self._names: list[str] = [name for _, name in rows]
        self._ids = {name: i for i, name in enumerate(self._names)}
        self._ids_lock = threading.Lock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="gilwise-duckdb")

    def _prepare(self) -> None:
        tables = {r[0] for r in self._conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if not tables:
            for statement in _SCHEMA:
                self._conn.execute(statement)
            return
        row = self._conn.execute("SELECT max(version) FROM meta").fetchone() if "meta" in tables else None
        if row is None or row[0] != SCHEMA_VERSION:
            found = "an older layout" if row is None else f"layout {row[0]}"
            raise UsageError(
                f"the event database has {found}, this gilwise reads layout {SCHEMA_VERSION}; "
                "pass `db_path` with a new file (or remove that one).",
                parameter="db_path",
                value=self.path,
            )

    def user_name(self, user_id: int) -> str:
        return self._names[user_id]

    def _user_ids(
        self, cursor: duckdb.DuckDBPyConnection, names: npt.NDArray[np.object_]
    ) -> npt.NDArray[np.int32]:
        """Ids of these user names; new names are committed to ``users`` first, in their own
        transaction (a user row without events is harmless; an event without its user is not)."""
        ids, listed = self._ids, names.tolist()
        with self._ids_lock:
            try:  # the usual batch: every user seen before, one lookup each
                return np.fromiter(map(ids.__getitem__, listed), np.int32, len(listed))
            except KeyError:
                pass
            new = [n for n in dict.fromkeys(listed) if n not in ids]
            if new:
                first = len(self._names)
                fresh = {
                    "id": np.arange(first, first + len(new), dtype=np.int32),
                    "name": np.array(new, dtype=object),
                }
                cursor.register("new_users", fresh)
                try:
                    cursor.execute("INSERT INTO users SELECT id, name FROM new_users")
                finally:
                    cursor.unregister("new_users")
                self._names.extend(new)
                ids.update(zip(new, fresh["id"].tolist(), strict=True))
        return np.fromiter(map(ids.__getitem__, listed), np.int32, len(listed))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        with self._cursors_lock:
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
        self._conn.close()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(cursor, *args)`` on a store thread, with that thread's own cursor."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(self._with_cursor, fn, *args))

    def _with_cursor(self, fn: Callable[..., T], *args: Any) -> T:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._conn.cursor()
            with self._cursors_lock:
                self._cursors.append(cursor)
        try:
            return fn(cursor, *args)
        finally:
            # DuckDB 2 refuses register() while a result is unread (a fetchone() leaves one):
            # every call leaves its cursor clean for the next.
            cursor.abort()

    # -- the queries, each run on a store thread through ``call`` ------------------------------
    def insert(self, cursor: duckdb.DuckDBPyConnection, batch: EventColumns) -> int:
        """Store the whole batch in one transaction; returns its id once it is committed."""
        n = len(batch)
        incoming = {  # noqa: F841 - DuckDB scans it from this frame (a replacement scan)
            "seq": np.arange(n, dtype=np.int32),
            "ts": batch.ts,
            "user_id": self._user_ids(cursor, batch.user),
            "event": batch.event,
            "value": batch.value,
            **({"props": batch.props} if batch.props is not None else {}),
        }
        props = "NULL" if batch.props is None else "props::JSON"
        # One call for the whole transaction: each execute() costs ~0.1-0.5 ms here, and
        # register()/unregister() of the columns as much again (measured: 3.4 -> 2.6 ms per
        # 1,000-event batch). Only numbers this code made are written into the text.
        try:
            row = cursor.execute(
                "BEGIN TRANSACTION; "
                f"INSERT INTO batches VALUES (nextval('batch_ids'), {time.time()!r}, {n}); "
                "INSERT INTO events SELECT currval('batch_ids'), seq, ts, user_id, event, value, "
                f"{props} FROM incoming; "
                "COMMIT; SELECT currval('batch_ids')"
            ).fetchone()
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # nothing to roll back if BEGIN failed
                cursor.execute("ROLLBACK")
            raise
        assert row is not None
        return int(row[0])

    @staticmethod
    def count(cursor: duckdb.DuckDBPyConnection) -> int:
        row = cursor.execute("SELECT count(*) FROM events").fetchone()
        assert row is not None
        return int(row[0])

    @staticmethod
    def summary(cursor: duckdb.DuckDBPyConnection, window_s: float, now: float) -> Summary:
        since = now - window_s
        bucket = max(1.0, window_s / 60)
        cursor.execute("BEGIN TRANSACTION")  # one snapshot for the three aggregates
        try:
            totals = cursor.execute(
                "SELECT count(*), count(DISTINCT user_id), quantile_cont(value, 0.5), "
                "quantile_cont(value, 0.95) FROM events WHERE ts >= ?",
                [since],
            ).fetchone()
            by_type = cursor.execute(
                "SELECT event, count(*) AS n FROM events WHERE ts >= ? GROUP BY event ORDER BY n DESC, event",
                [since],
            ).fetchall()
            timeline = cursor.execute(
                "SELECT floor((ts - $since) / $bucket) AS b, count(*) FROM events "
                "WHERE ts >= $since GROUP BY b ORDER BY b",
                {"since": since, "bucket": bucket},
            ).fetchall()
        finally:
            cursor.execute("COMMIT")
        assert totals is not None
        events = int(totals[0])
        return Summary(
            window_s=window_s,
            events=events,
            events_per_s=events / window_s,
            unique_users=int(totals[1]),
            value_p50=totals[2],
            value_p95=totals[3],
            by_type=[EventTypeCount(event=e, count=int(c), per_s=int(c) / window_s) for e, c in by_type],
            timeline=[TimelinePoint(t=since + int(b) * bucket, count=int(c)) for b, c in timeline],
            bucket_s=bucket,
        )

    @staticmethod
    def session_columns(
        cursor: duckdb.DuckDBPyConnection, window_s: float, now: float, limit: int
    ) -> SessionColumns:
        cursor.execute("BEGIN TRANSACTION")  # the cut-off and the events from one snapshot
        try:
            row = cursor.execute(_CUTOFF, {"limit": limit}).fetchone()
            assert row is not None
            first = int(row[0])
            starts = [int(r[0]) for r in cursor.execute(
                _SESSION_CHUNKS, {"first": first, "rows": SESSION_CHUNK_ROWS}
            ).fetchall()] or [first]  # fmt: skip
            stops = [*starts[1:], _NO_BATCH_AFTER]
            since = now - window_s
            chunks = [
                cursor.execute(_SESSION_COLUMNS, {"first": a, "stop": b, "since": since}).fetchnumpy()
                for a, b in zip(starts, stops, strict=True)
            ]
        finally:
            cursor.execute("COMMIT")

        def column(name: str, dtype: type[np.generic]) -> Any:
            return np.concatenate([np.asarray(c[name], dtype=dtype) for c in chunks])

        return SessionColumns(
            user=column("u", np.int64),
            ts=column("ts", np.float64),
            event=column("e", np.int8),
            value=column("value", np.float64),
            received=column("received", np.int64),
        )
