"""A route mix: which paths the load sends to, and in what proportion."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from .._exceptions import UsageError

SHORTHANDS: Mapping[str, str] = MappingProxyType(
    {
        "health": "/health",
        "sessions": "/analytics/sessions",
        "summary": "/analytics/summary",
        "count": "/events/count",
    }
)
"""The route names ``gilwise load`` has always taken for ``gilwise serve``'s paths."""
GILWISE_SERVE_MIX = "/health=4,/analytics/sessions=1"
"""The default mix against gilwise's own app: a cheap probe and the CPU-heavy report it
must not wait for."""


def parse_weighted_mix(text: str) -> dict[str, float]:
    """``/health=1,/analytics/sessions=1`` (or ``health=1,sessions=3``, or ``/health``: weight
    1) -> {path: weight}. Weights are relative; only GET routes are sent."""
    mix: dict[str, float] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        route, _, weight_text = item.partition("=")
        path = SHORTHANDS.get(route, route)
        if not path.startswith("/"):
            raise UsageError(
                f"{route!r} is neither a path (/health) nor one of {', '.join(SHORTHANDS)}",
                parameter="mix",
                value=text,
            )
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise UsageError(f"the weight in {item!r} is not a number", parameter="mix", value=text) from None
        if not weight > 0 or math.isinf(weight):
            raise UsageError(f"the weight in {item!r} must be a positive number", parameter="mix", value=text)
        mix[path] = mix.get(path, 0.0) + weight
    if not mix:
        raise UsageError(
            "is empty; give ROUTE=WEIGHT pairs, e.g. /health=1,/analytics/sessions=1", parameter="mix"
        )
    return mix
