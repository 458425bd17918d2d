"""What ``gilwise._service.asgi`` builds its app from: the environment, since a server's command
line carries only the import string. Free of FastAPI, so ``gilwise serving`` reads these names
without loading the app.

Each worker process of a multi-process server opens its own DuckDB file (``events-PID.duckdb``
under ``$GILWISE_SERVING_DIR``): a DuckDB file takes one writing process. So that every worker's
sessions report reads as much as one process's would, each starts from a copy of the same
seeded database (``$GILWISE_SERVING_SEED``) when one is given."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .settings import ServiceSettings

DIR_ENV_VAR = "GILWISE_SERVING_DIR"
OFFLOAD_ENV_VAR = "GILWISE_SERVING_OFFLOAD"
WORKERS_ENV_VAR = "GILWISE_SERVING_OFFLOAD_WORKERS"
SEED_ENV_VAR = "GILWISE_SERVING_SEED"


def settings_from_environment() -> ServiceSettings:
    folder = Path(os.environ.get(DIR_ENV_VAR) or tempfile.gettempdir())
    workers = os.environ.get(WORKERS_ENV_VAR)
    db_path = folder / f"events-{os.getpid()}.duckdb"
    seed = os.environ.get(SEED_ENV_VAR)
    if seed and not db_path.exists():
        shutil.copyfile(seed, db_path)
    return ServiceSettings(
        db_path=db_path,
        history_path=folder / "history.sqlite3",
        offload=os.environ.get(OFFLOAD_ENV_VAR) or "inline",
        workers=int(workers) if workers else None,
    )
