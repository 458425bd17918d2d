"""Numbers in the verdict's sentences (advise writes its reason itself; it never imports the
report package, whose ``fmt`` formats table cells)."""

from __future__ import annotations

import math

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def bytes_text(n: float) -> str:
    power = 0 if n < 1024 else min(len(_BYTE_UNITS) - 1, int(math.log(n, 1024)))
    value = n / 1024**power
    return f"{value:.0f} B" if power == 0 else f"{value:.1f} {_BYTE_UNITS[power]}"


def seconds_text(s: float) -> str:
    scale, unit = next(((f, u) for f, u in ((1.0, "s"), (1e-3, "ms")) if s >= f), (1e-6, "µs"))
    digits = {"s": 2, "ms": 1, "µs": 0}[unit]
    return f"{s / scale:.{digits}f} {unit}"


def model_label(model: str, workers: int) -> str:
    """``threads×2``; serial has no worker count."""
    return model if model == "serial" else f"{model}×{workers}"
