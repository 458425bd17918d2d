"""The app factory: settings in, a FastAPI app out, with its shared state built by the lifespan.

Start-up order matters: the offload pool starts first, while the process has one thread, so its
zygote is forked (milliseconds) rather than started as a fresh interpreter; DuckDB, whose own
threads start with its connection, comes after.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .._exceptions import OffloadError
from . import dashboard, routes
from .errors import RequestRejected
from .metrics import LatencyMiddleware, LiveMetrics
from .models import Problem
from .modes import MODES, OffloadSwitch, PoolOptions
from .settings import ServiceSettings
from .state import ReadAuthorized, ServiceState
from .store import EventStore


def create_app(settings: ServiceSettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        options = PoolOptions(
            workers=settings.workers, nice=settings.worker_nice, dask_scheduler=settings.dask_scheduler
        )
        switch = OffloadSwitch(settings.offload, options, settings.analytics_retries)
        try:
            await switch.start()
            store = await asyncio.to_thread(EventStore, settings.db_path)
        except Exception as exc:
            app.state.startup_error = exc  # re-raised by the server once uvicorn has stopped
            await switch.aclose()
            raise
        metrics = LiveMetrics(switch)
        state = ServiceState(settings=settings, store=store, switch=switch, metrics=metrics)
        metrics.start()
        cycler = asyncio.create_task(_cycle_modes(state)) if settings.demo_cycle_s else None
        app.state.service = state
        try:
            yield
        finally:
            state.stopping.set()
            if cycler is not None:
                cycler.cancel()
                await asyncio.gather(cycler, return_exceptions=True)
            await metrics.stop()
            await switch.aclose()
            await asyncio.to_thread(store.close)
            app.state.service = None

    app = FastAPI(
        title="gilwise serve",
        summary="A real-time analytics backend on gilwise.Offloader, with a live dashboard.",
        version="1",
        lifespan=lifespan,
        dependencies=[ReadAuthorized],
    )
    app.state.service = None
    app.state.startup_error = None
    app.add_middleware(LatencyMiddleware, metrics=lambda: _metrics(app))
    app.include_router(routes.router)
    app.include_router(dashboard.router)

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, exc: RequestRejected) -> JSONResponse:
        body = Problem(detail=exc.detail, item=exc.item, field=exc.field)
        return JSONResponse(body.model_dump(), status_code=exc.status)

    @app.exception_handler(OffloadError)
    async def offload_failed(request: Request, exc: OffloadError) -> JSONResponse:
        # A worker died (and retries ran out), timed out, or the pool is overloaded: the request
        # fails clearly; the pool has already replaced the worker and keeps serving.
        body = Problem(detail=f"the analytics could not run: {exc}")
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": "1"})

    return app


def _metrics(app: FastAPI) -> LiveMetrics | None:
    state: ServiceState | None = app.state.service
    return state.metrics if state is not None else None


async def _cycle_modes(state: ServiceState) -> None:
    """``--demo``: threads → processes → inline → … until someone picks a mode."""
    order = [name for name in ("threads", "processes", "inline") if name in MODES]
    assert state.settings.demo_cycle_s is not None
    index = order.index(state.switch.mode.name) if state.switch.mode.name in order else 0
    while not state.switch.pinned:
        await asyncio.sleep(state.settings.demo_cycle_s)
        if state.switch.pinned:
            return
        index = (index + 1) % len(order)
        state.switch.set_mode(order[index])
