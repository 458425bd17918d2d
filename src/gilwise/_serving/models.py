"""The serving models: each one server kind with a worker model, one registry table.

Adding a model = one line in ``MODELS``. A model whose server is not installed is still a row:
``available`` returns the reason and the command that installs it."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .._extras import install_command

Server = Literal["uvicorn", "gunicorn", "granian", "hypercorn"]
Offload = Literal["inline", "threads", "processes"]
GILWISE_APP = "gilwise._service.asgi:app"
"""gilwise's own analytics app (``gilwise serve``'s), the default app."""
GUNICORN_ASGI_SINCE = 23
"""Gunicorn's own ``--worker-class asgi``; before it, the ``uvicorn-worker`` package's."""


@dataclass(frozen=True)
class ServingModel:
    """One way to serve an app: which server, how many processes, and (gilwise's own app) how
    it offloads its CPU-heavy report."""

    name: str
    server: Server
    multi_process: bool
    """N worker processes (``--workers``); else one process."""
    offload: Offload | None = None
    """gilwise's own app only: how it runs its CPU-heavy report (None: the app as it is)."""
    runtime_threads: bool = False
    """Granian's threaded runtime: one worker process, N runtime threads."""

    def workers(self, n: int) -> int:
        return n if self.multi_process else 1

    def processes(self, n: int) -> int:
        """The server's processes once every worker is up: a master and its workers (Granian
        always runs its worker apart from its master)."""
        master = 1 if self.multi_process or self.server == "granian" else 0
        return master + self.workers(n)

    def available(self, app: str) -> str | None:
        """None when this model can run ``app`` here, else the human reason it cannot."""
        if self.offload is not None and app != GILWISE_APP:
            return "an offload mode of gilwise's own app; your app offloads its own way"
        if importlib.util.find_spec(self.server) is None:
            extra = "serve" if self.server == "uvicorn" else "servers"
            return f"{self.server} is not installed: {install_command(extra)}"
        old_gunicorn = self.server == "gunicorn" and _gunicorn_major() < GUNICORN_ASGI_SINCE
        if old_gunicorn and importlib.util.find_spec("uvicorn_worker") is None:
            return f"gunicorn < {GUNICORN_ASGI_SINCE} needs uvicorn-worker: {install_command('servers')}"
        return None

    @property
    def reports_gil_wait(self) -> bool:
        """Granian exports its threads' GIL wait (``--metrics``); the others report none."""
        return self.server == "granian"

    def argv(
        self, app: str, host: str, port: int, workers: int, scratch: Path, metrics_port: int | None = None
    ) -> list[str]:
        """The server's command line; ``scratch`` is a folder removed after the run;
        ``metrics_port``: where Granian exports its metrics (its GIL wait among them)."""
        py = [sys.executable, "-m"]
        n = str(self.workers(workers))
        if self.server == "uvicorn":
            extra = ["--workers", n] if self.multi_process else []
            return [*py, "uvicorn", app, "--host", host, "--port", str(port), "--log-level", "warning",
                    "--no-access-log", *extra]  # fmt: skip
        if self.server == "gunicorn":
            worker = "asgi" if _gunicorn_major() >= GUNICORN_ASGI_SINCE else "uvicorn_worker.UvicornWorker"
            bind = f"{host}:{port}"
            # its workers' heartbeat files go to /dev/shm by default, and a killed master leaves them
            return [*py, "gunicorn", app, "--bind", bind, "--workers", n, "--worker-class", worker,
                    "--log-level", "warning", "--worker-tmp-dir", str(scratch)]  # fmt: skip
        if self.server == "granian":
            runtime = (
                ["--runtime-mode", "mt", "--runtime-threads", str(workers)] if self.runtime_threads else []
            )
            metrics = (
                ["--metrics", "--metrics-address", host, "--metrics-port", str(metrics_port),
                 "--metrics-scrape-interval", "1s"]
                if metrics_port is not None
                else []
            )  # fmt: skip
            return [*py, "granian", "--interface", "asgi", "--host", host, "--port", str(port),
                    "--workers", n, "--log-level", "warning", *runtime, *metrics, app]  # fmt: skip
        return [*py, "hypercorn", app, "--bind", f"{host}:{port}", "--workers", n, "--log-level", "warning"]


def _gunicorn_major() -> int:
    try:
        return int(importlib.metadata.version("gunicorn").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return 0


MODELS: tuple[ServingModel, ...] = (
    ServingModel("uvicorn", "uvicorn", False),
    ServingModel("uvicorn-workers", "uvicorn", True),
    ServingModel("gunicorn", "gunicorn", True),
    ServingModel("granian", "granian", True),
    ServingModel("granian-threads", "granian", False, runtime_threads=True),
    ServingModel("hypercorn", "hypercorn", True),
    ServingModel("offload-threads", "uvicorn", False, offload="threads"),
    ServingModel("offload-processes", "uvicorn", False, offload="processes"),
)
BASELINE = "uvicorn"
"""The model every other is compared with, round by round."""
MODEL_NAMED = {m.name: m for m in MODELS}
