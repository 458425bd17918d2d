"""gilwise's analytics app as an import string (``gilwise._service.asgi:app``), for any ASGI
server: what ``gilwise serving`` runs under uvicorn, Gunicorn, Granian and Hypercorn.

A server with N worker processes imports this module in each of them; each worker then opens
its own DuckDB file (``events-PID.duckdb`` under ``$GILWISE_SERVING_DIR``): a DuckDB file takes
one writing process, and workers of one server share no memory either. The offload mode and its
pool size come from the environment, since a server's command line carries only the import
string. The app is built on first access (``module.__getattr__``), so that reading the
constants here costs no FastAPI import.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .settings import ServiceSettings

DIR_ENV_VAR = "GILWISE_SERVING_DIR"
OFFLOAD_ENV_VAR = "GILWISE_SERVING_OFFLOAD"
WORKERS_ENV_VAR = "GILWISE_SERVING_OFFLOAD_WORKERS"


def settings_from_environment() -> ServiceSettings:
    from .settings import ServiceSettings

    folder = Path(os.environ.get(DIR_ENV_VAR) or tempfile.gettempdir())
    workers = os.environ.get(WORKERS_ENV_VAR)
    return ServiceSettings(
        db_path=folder / f"events-{os.getpid()}.duckdb",
        history_path=folder / "history.sqlite3",
        offload=os.environ.get(OFFLOAD_ENV_VAR) or "inline",
        workers=int(workers) if workers else None,
    )


_built: list[FastAPI] = []


def __getattr__(name: str) -> FastAPI:
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _built:
        from .app import create_app

        _built.append(create_app(settings_from_environment()))
    return _built[0]
