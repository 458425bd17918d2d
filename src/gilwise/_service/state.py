"""What the endpoints share and the dependencies that hand it to them: the service state,
``State`` (the state of this request's server) and ``Authorized`` (the bearer-token check).

Its own module, below ``app`` and the routers: the app factory builds the state and includes
the routers, and the routers declare their dependencies with these names.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from .metrics import LiveMetrics
from .modes import OffloadSwitch
from .settings import ServiceSettings
from .store import EventStore


@dataclass
class ServiceState:
    """Everything the endpoints share, built once per server by the lifespan."""

    settings: ServiceSettings
    store: EventStore
    switch: OffloadSwitch
    metrics: LiveMetrics
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the server shuts down: ``/live`` streams end so that shutdown does not wait."""


# Every dependency here is ``async def`` though none awaits anything: FastAPI runs a plain
# ``def`` dependency in its worker threads, a hop out of the loop and back per dependency and
# request (three on ``POST /events``). On a machine whose cores are busy each hop waits for a
# thread to be scheduled, and ``/health`` waited behind that, not behind any work.
async def get_state(request: Request) -> ServiceState:
    state: ServiceState | None = getattr(request.app.state, "service", None)
    if state is None:  # only between start-up failure and exit
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is starting or stopping")
    return state


State = Annotated[ServiceState, Depends(get_state)]


async def require_token(request: Request, state: State) -> None:
    """Ingest and admin need ``Authorization: Bearer <token>`` when the server has a token."""
    token = state.settings.token
    # Off loopback a write route meets this check twice (the app's read guard, then its own
    # ``Authorized``): once passed, the request is known.
    if token is None or getattr(request.state, "token_checked", False):
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "this endpoint needs 'Authorization: Bearer <token>' with the server's --token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.token_checked = True


Authorized = Depends(require_token)


async def require_token_for_reads(request: Request, state: State) -> None:
    """Off loopback every route but ``/health`` (what a load balancer probes) needs the token:
    reads show user names, a server path, the offload mode."""
    if state.settings.protect_reads and request.url.path != "/health":
        await require_token(request, state)


ReadAuthorized = Depends(require_token_for_reads)
