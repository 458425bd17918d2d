"""What a server is started with, checked once, and where its DuckDB file lives by default."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import UsageError
from .._results.history import data_dir

DB_ENV_VAR = "GILWISE_SERVE_DB"
DEFAULT_BODY_LIMIT = 8 << 20
DEFAULT_PORT = 8000


def default_db_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$GILWISE_SERVE_DB``, else ``$XDG_DATA_HOME/gilwise/events.duckdb`` (as the bench history)."""
    env = os.environ if environ is None else environ
    if env.get(DB_ENV_VAR):
        return Path(env[DB_ENV_VAR]).expanduser()
    return data_dir(env) / "events.duckdb"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServiceSettings:
    db_path: Path
    history_path: Path
    """The bench history whose latest run the dashboard shows."""
    offload: str = "processes"
    workers: int | None = None
    """Offload worker processes; None = one per usable core."""
    dask_scheduler: str | None = None
    """The running Dask cluster of the ``dask`` mode (None: a LocalCluster of ``workers``)."""
    worker_nice: int = 10
    """Nice increment of the offload workers (0 = the server's own priority)."""
    token: str | None = None
    """Bearer token required by ingest and admin endpoints when set."""
    protect_reads: bool = False
    """Reads need the token too (every route but ``/health``): the server listens off loopback."""
    body_limit: int = DEFAULT_BODY_LIMIT
    analytics_retries: int = 1
    """Re-runs of a sessions report whose worker died (the report is idempotent)."""
    sessions_limit: int = 200_000
    """At most this many of the most recent events go into one sessions report."""
    demo_cycle_s: float | None = None
    """``--demo``: switch the offload mode every this many seconds until someone picks one."""


MIN_TOKEN_CHARS = 16
"""A shorter bearer token can be guessed by anyone on the network who tries for a while."""


def check_token(token: str | None) -> None:
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise UsageError(
            f"is {len(token)} characters long; use at least {MIN_TOKEN_CHARS} "
            "(for example `python -c 'import secrets; print(secrets.token_urlsafe(24))'`).",
            parameter="token",
            value="…",
        )


def check_exposure(host: str, token: str | None) -> None:
    """A server reachable from other machines must not accept writes from anyone."""
    if not is_loopback(host) and not token:
        raise UsageError(
            "would expose the service beyond this machine without authentication; pass `token` T "
            "(clients then send 'Authorization: Bearer T'), or keep the default `host` 127.0.0.1.",
            parameter="host",
            value=host,
        )
