"""``GET /bench/latest`` reads the bench history (SQLite, blocking) off the event loop.

The dashboard router alone, in-process: no server, offload pool or DuckDB is needed to see
where the handler's database calls run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from gilwise._results.history import History
from gilwise._service import dashboard
from sample_documents import default_document

pytestmark = pytest.mark.timeout(60)


def _event_loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_bench_latest_reads_the_history_off_the_event_loop(
    isolated_history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = History(isolated_history).record(default_document())
    opened_on_loop: list[bool] = []

    class WatchedHistory(History):
        def __init__(self, path: Path, *, read_only: bool = False) -> None:
            opened_on_loop.append(_event_loop_running_here())
            super().__init__(path, read_only=read_only)

    monkeypatch.setattr(dashboard, "History", WatchedHistory)
    app = FastAPI()
    app.include_router(dashboard.router)
    app.state.service = SimpleNamespace(settings=SimpleNamespace(history_path=isolated_history))

    async def get_latest() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
            return await client.get("/bench/latest")

    reply = asyncio.run(get_latest())
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["run_id"] == run_id
    assert len(body["rows"]) == len(default_document()["results"])
    assert opened_on_loop == [False], "the history was opened inside the event loop's thread"
