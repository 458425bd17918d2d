"""The service's request path never leaves the event loop for its own bookkeeping."""

from __future__ import annotations

import inspect
from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute

from gilwise._service import dashboard, routes
from gilwise._service.app import create_app
from gilwise._service.settings import ServiceSettings


def _calls(dependant: Dependant) -> list[object]:
    found = []
    for sub in dependant.dependencies:
        found.append(sub.call)
        found.extend(_calls(sub))
    return found


def test_every_dependency_runs_on_the_loop(tmp_path: Path) -> None:
    """FastAPI runs a plain ``def`` dependency in a worker thread: a hop out of the loop and
    back on every request, which a busy machine turns into milliseconds of ``/health``."""
    app = create_app(ServiceSettings(tmp_path / "e.duckdb", tmp_path / "h.sqlite"))
    endpoints = [r for router in (routes.router, dashboard.router) for r in router.routes]
    assert all(isinstance(r, APIRoute) for r in endpoints)
    assert {"/health", "/events"} <= {r.path for r in endpoints if isinstance(r, APIRoute)}
    # Endpoints may be plain ``def`` where they block (reading a file); dependencies may not.
    app_level = [get_dependant(path="/", call=d.dependency) for d in app.router.dependencies if d.dependency]
    calls = [d.call for d in app_level]
    calls += [call for r in endpoints if isinstance(r, APIRoute) for call in _calls(r.dependant)]
    calls += [call for d in app_level for call in _calls(d)]
    assert len(calls) >= 3  # the walk reached them: the state, the token, the read guard
    sync = {
        getattr(call, "__qualname__", repr(call))
        for call in calls
        if call is not None and not inspect.iscoroutinefunction(call)
    }
    assert not sync, f"plain def dependencies: {sorted(sync)}"
