"""Send times, computed before the clock starts, so that a slow answer cannot delay a send."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Literal

Arrivals = Literal["constant", "poisson"]
ARRIVALS: tuple[Arrivals, ...] = ("constant", "poisson")
DEFAULT_RATE_RPS = 20.0
"""``gilwise load``'s and ``gilwise serving``'s offered rate when none is given: on 2 cores,
gilwise's own app answers it in every serving model with the default mix (4 probes to 1
sessions report), so a table compares latency, not which model falls over first."""


def send_times(
    rate: float, duration_s: float, arrivals: Arrivals, *, seed: int, phase_s: float = 0.0
) -> list[float]:
    """Offsets in seconds from the start, at ``rate`` per second for ``duration_s``.

    ``constant``: evenly spaced, first at ``phase_s`` (client k of K starts k/K of an interval
    late, so that K clients together send evenly); ``poisson``: exponential gaps, as independent
    users arrive."""
    if rate <= 0:
        return []
    times: list[float] = []
    if arrivals == "constant":
        gap = 1.0 / rate
        first = phase_s % gap
        # i * gap, not a running sum: summed gaps drift and add a send at the very end
        return [first + i * gap for i in range(math.ceil((duration_s - first) * rate - 1e-9))]
    rng = random.Random(seed)
    t = rng.expovariate(rate)
    while t < duration_s:
        times.append(t)
        t += rng.expovariate(rate)
    return times


def route_sequence(weights: Sequence[float], count: int, *, seed: int) -> list[int]:
    """Which route (an index into ``weights``) each of ``count`` sends goes to."""
    rng = random.Random(seed ^ 0x5EED)
    return rng.choices(range(len(weights)), weights=weights, k=count)
