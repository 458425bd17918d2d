"""uvicorn, run in this process: ``serve`` blocks until a signal, ``--demo`` adds the load."""

from __future__ import annotations

import asyncio
import logging
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI

from .app import create_app
from .settings import ServiceSettings
from .state import ServiceState

SHUTDOWN_GRACE_S = 5


class ServiceServer(uvicorn.Server):
    """uvicorn that ends the service's ``/live`` streams first, so shutdown does not wait on them."""

    def __init__(self, app: FastAPI, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # uvicorn's SIGINT / SIGTERM handler. From here on no offload pool starts: shutdown
        # begins at uvicorn's next tick, and a request in flight until then must not start one.
        state: ServiceState | None = self.app.state.service
        if state is not None:
            state.switch.refuse_new_pools()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state: ServiceState | None = self.app.state.service
        if state is not None:
            state.stopping.set()
        await super().shutdown(sockets)


def make_server(settings: ServiceSettings, host: str, port: int, log_level: str = "warning") -> ServiceServer:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,  # a log line per request would cost the loop more than /health itself
        loop="asyncio",
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    return ServiceServer(app, config)


def serve(settings: ServiceSettings, host: str, port: int) -> None:
    """Run until SIGINT / SIGTERM; a start-up failure (a locked database, ...) is raised here
    as the error it was, instead of as uvicorn's log of its traceback."""
    server = make_server(settings, host, port)
    asyncio.run(run_checked(server))


async def run_checked(server: ServiceServer) -> None:
    app = server.app
    quiet = _DropWhileFailed(app)
    logger = logging.getLogger("uvicorn.error")
    logger.addFilter(quiet)
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits with 3 when the lifespan failed; say why instead
        if app.state.startup_error is None:
            raise
    finally:
        logger.removeFilter(quiet)
    error: Exception | None = app.state.startup_error
    if error is not None:
        raise error


class _DropWhileFailed(logging.Filter):
    def __init__(self, app: FastAPI) -> None:
        super().__init__()
        self.app = app

    def filter(self, record: logging.LogRecord) -> bool:
        return self.app.state.startup_error is None
