"""Bench history: every run's whole result document in one SQLite file.

Where: ``--history PATH``, else ``$GILWISE_HISTORY``, else ``$XDG_DATA_HOME/gilwise/history.sqlite``
(``~/.local/share/gilwise/history.sqlite`` when XDG_DATA_HOME is unset). The summary columns
(workloads, models, status, ...) are derived from the document when the run is recorded, so
listing never parses the documents.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import UsageError
from .document import ResultDocument, check_document, interpreter_label, read_document

ENV_VAR = "GILWISE_HISTORY"
SCHEMA_VERSION = 1

_CREATE = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    started TEXT,
    finished TEXT,
    status TEXT NOT NULL,
    workloads TEXT NOT NULL,
    models TEXT NOT NULL,
    interpreters TEXT NOT NULL,
    cells_total INTEGER NOT NULL,
    cells_measured INTEGER NOT NULL,
    document TEXT NOT NULL
)
"""


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """gilwise's folder in the user's data directory: ``$XDG_DATA_HOME/gilwise``."""
    env = os.environ if environ is None else environ
    data_home = env.get("XDG_DATA_HOME") or ""
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    base = Path(data_home) if os.path.isabs(data_home) else Path.home() / ".local" / "share"
    return base / "gilwise"


def default_history_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser()
    return data_dir(env) / "history.sqlite"


def resolve_history_path(option: str | None) -> Path:
    return Path(option).expanduser() if option else default_history_path()


@dataclass(frozen=True)
class RunSummary:
    id: int
    started: str | None
    status: str
    workloads: list[str]
    models: list[str]
    interpreters: list[str]
    cells_total: int
    cells_measured: int


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def run_status(document: ResultDocument) -> str:
    """complete | interrupted | failed (some cell failed) | partial (still being written)."""
    if document.get("interrupted"):
        return "interrupted"
    if any(r.get("status") == "failed" for r in document.get("results", [])):
        return "failed"
    return "complete" if document.get("complete") else "partial"


INTEGRITY_CHECK_S = 2.0
"""How long the start-up ``PRAGMA quick_check`` may take: it reads every page (milliseconds for
a history of hundreds of runs); a check that runs out of time is skipped, not failed."""

_COLUMNS = {
    "id", "recorded_at", "started", "finished", "status", "workloads", "models", "interpreters",
    "cells_total", "cells_measured", "document",
}  # fmt: skip


class History:
    """One SQLite file; each call opens its own short connection (safe across processes).

    ``History(path)`` is the writer (``bench``): it creates the file, or migrates one that is
    empty or already gilwise's. ``History.for_reading(path)`` (``history``, ``report``,
    ``compare``, the dashboard) opens it read-only (``mode=ro``): it never changes a byte and
    works on read-only media. Both refuse, before anything runs, a file that is not a gilwise
    history or fails SQLite's integrity check.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        if not read_only:
            self._create_folder()
        with self._connect() as conn:
            self._check(conn)
            if not read_only:
                self._migrate(conn)

    @classmethod
    def for_reading(cls, path: Path) -> History:
        return cls(path, read_only=True)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if self.read_only:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                connection = sqlite3.connect(uri, uri=True, timeout=30)
            else:
                connection = sqlite3.connect(self.path, timeout=30)
            with closing(connection) as conn, conn:
                yield conn
        except sqlite3.Error as exc:
            raise self._unusable(str(exc)) from exc

    def _unusable(self, why: str) -> UsageError:
        return UsageError(
            f"cannot use it as the bench history: {why}. It may be another kind of file or "
            f"damaged; point `history_path` or ${ENV_VAR} at another file, or run without a "
            "history (`no_history`).",
            parameter="history_path",
            value=self.path,
        )

    def _create_folder(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot create the folder of the bench history: {exc.strerror}. Point `history_path` "
                f"or ${ENV_VAR} at a writable place, or run without a history (`no_history`).",
                parameter="history_path",
                value=self.path,
            ) from exc

    def _check(self, conn: sqlite3.Connection) -> None:
        """A file that is gilwise's (or empty) and whole, else a UsageError saying which."""
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UsageError(
                f"this bench history was written by a newer gilwise (format {version}, this one "
                f"reads {SCHEMA_VERSION}); upgrade gilwise or point `history_path` at another file.",
                parameter="history_path",
                value=self.path,
            )
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        tables.discard("sqlite_sequence")
        if tables and "runs" not in tables:
            raise self._unusable(f"it is another program's database (tables: {', '.join(sorted(tables))})")
        if "runs" in tables:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            if not columns >= _COLUMNS:
                raise self._unusable("its 'runs' table is another program's (other columns)")
        damage = _quick_check(conn)
        if damage is not None:
            raise self._unusable(f"SQLite's integrity check failed: {damage}")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        conn.execute(_CREATE)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def record(self, document: ResultDocument) -> int:
        """Store the whole result document; returns the new run id."""
        results = document.get("results", [])
        row = (
            _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            document.get("started"),
            document.get("finished"),
            run_status(document),
            json.dumps(_distinct([r["workload"] for r in results])),
            json.dumps(_distinct([r["model"] for r in results])),
            json.dumps(_distinct([interpreter_label(r["interpreter"]) for r in results])),
            len(results),
            sum(1 for r in results if r.get("status") == "ok" and r.get("rounds")),
            json.dumps(document),
        )
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO runs (recorded_at, started, finished, status, workloads, models, "
                "interpreters, cells_total, cells_measured, document) VALUES (?,?,?,?,?,?,?,?,?,?)",
                row,
            )
            run_id = cursor.lastrowid
        assert run_id is not None
        return run_id

    def runs(self, limit: int | None = None) -> list[RunSummary]:
        """Newest first; a run whose stored row is damaged is listed with status ``damaged``."""
        query = (
            "SELECT id, started, status, workloads, models, interpreters, cells_total, cells_measured, "
            "json_valid(document) FROM runs ORDER BY id DESC"
        )
        with self._connect() as conn:
            rows = conn.execute(query + (" LIMIT ?" if limit else ""), (limit,) if limit else ()).fetchall()
        return [_summary(row) for row in rows]

    def latest_id(self) -> int | None:
        with self._connect() as conn:
            row = conn.execute("SELECT MAX(id) FROM runs").fetchone()
        return None if row[0] is None else int(row[0])

    def documents(self, before_id: int | None = None) -> Iterator[tuple[int, ResultDocument]]:
        """``(id, document)`` of every run (only those before ``before_id``, if given), newest
        first, parsed one at a time so a caller that stops early reads no more. A damaged run
        is passed over: ``runs()`` lists it as damaged."""
        with self._connect() as conn:
            ids = conn.execute(
                "SELECT id FROM runs WHERE id < ? ORDER BY id DESC",
                (before_id if before_id is not None else 2**62,),
            ).fetchall()
        for (run_id,) in ids:
            try:
                yield run_id, self.load(run_id)
            except DamagedRun:
                continue

    def load(self, run_id: int) -> ResultDocument:
        with self._connect() as conn:
            row = conn.execute("SELECT document FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            known = [r.id for r in self.runs(limit=10)]
            hint = f"recent ids: {', '.join(map(str, known))}" if known else "the history is empty"
            raise UsageError(
                f"no run #{run_id} in the bench history {self.path} ({hint}); `gilwise history` lists them."
            )
        where = f"run #{run_id} of the bench history {self.path}"
        try:
            document = json.loads(row[0])
        except (TypeError, ValueError) as exc:
            raise DamagedRun(
                f"{where} is damaged: its stored document does not parse ({exc}); the other runs "
                "still load (`gilwise history` marks this one damaged)."
            ) from exc
        return check_document(document, where)


class DamagedRun(UsageError):
    """A run whose stored row cannot be read back; the history's other runs still load."""


def _summary(row: tuple[Any, ...]) -> RunSummary:
    run_id, started, status, workloads, models, interpreters, cells_total, cells_measured, valid = row
    try:
        lists = [json.loads(value) for value in (workloads, models, interpreters)]
    except (TypeError, ValueError):
        lists, valid = [[], [], []], 0
    damaged = valid != 1
    return RunSummary(
        id=run_id,
        started=started,
        status="damaged" if damaged else status,
        workloads=lists[0],
        models=lists[1],
        interpreters=lists[2],
        cells_total=0 if damaged else cells_total,
        cells_measured=0 if damaged else cells_measured,
    )


def load_result(reference: str, history_path: Path) -> tuple[str, ResultDocument]:
    """A JSON file path, a history id (``12``), or ``latest``; returns (label, document).

    An existing file wins over an id of the same spelling.
    """
    path = Path(reference).expanduser()
    if path.is_file():
        return str(path), read_document(path)
    run_id = history_run_id(reference, history_path)
    assert run_id is not None  # not a file, so an id or an error
    return f"run #{run_id}", History.for_reading(history_path).load(run_id)


def history_run_id(reference: str, history_path: Path) -> int | None:
    """The history id ``reference`` names (``12``, ``#12``, ``latest``), or None when it is a file."""
    if Path(reference).expanduser().is_file():
        return None
    if reference == "latest" or reference.lstrip("#").isdigit():
        if not history_path.exists():
            raise UsageError(
                f"{reference!r} is not a file, and there is no bench history there to look it up in; "
                f"run `gilwise bench` first or point `history_path` / ${ENV_VAR} at the history.",
                parameter="history_path",
                value=history_path,
            )
        if reference != "latest":
            return int(reference.lstrip("#"))
        latest = History.for_reading(history_path).latest_id()
        if latest is None:
            raise UsageError(f"the bench history {history_path} is empty; run `gilwise bench` first.")
        return latest
    raise UsageError(
        f"{reference!r} is neither a result file nor a history id; give a path written by "
        "`gilwise bench --json PATH`, a run id from `gilwise history`, or 'latest'."
    )


def _quick_check(conn: sqlite3.Connection) -> str | None:
    """The first problem ``PRAGMA quick_check`` finds, None when the file is whole (or the check
    ran past :data:`INTEGRITY_CHECK_S`: a very large history opens unchecked, not refused)."""
    deadline = time.monotonic() + INTEGRITY_CHECK_S
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc):
            return None
        raise
    finally:
        conn.set_progress_handler(None, 0)
    first = rows[0][0] if rows else "ok"
    return None if first == "ok" else str(first)
