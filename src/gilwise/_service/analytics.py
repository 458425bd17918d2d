"""The CPU-heavy analytics of ``/analytics/sessions``, in pure Python on purpose.

Sessionisation (a new session after 30 minutes without an event), a per-session funnel
view → click → add_to_cart → checkout, and a robust anomaly score per user. This is the story's
"data processing": it holds the GIL for tens to hundreds of milliseconds per call, which is what
makes ``inline`` and ``threads`` hurt and ``processes`` help.

It runs in the event loop, in a thread or in an offload worker process, so it imports only the
standard library and NumPy (workers import this module by name) and is a deterministic function
of its inputs: the answer is identical, bit for bit, in every offload mode.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

# pydantic validates responses against these TypedDicts; before Python 3.12 it needs the
# typing_extensions flavour (a dependency of pydantic, cheap to import in a worker).
from typing_extensions import TypedDict

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FUNNEL = ("view", "click", "add_to_cart", "checkout")
"""Funnel steps in order; their index is the event code the store hands over."""
OTHER_EVENT = len(FUNNEL)
"""Code of every event type that is not a funnel step."""
SESSION_GAP_S = 30 * 60.0
TOP_ANOMALIES = 10
_MAD_TO_SIGMA = 1.4826
"""Scales a median absolute deviation to a standard deviation for normally distributed data."""
_FEATURES = ("events_per_session", "mean_value", "mean_gap_s")


class FunnelStep(TypedDict):
    step: str
    sessions: int
    """Sessions that reached this step, in order."""
    conversion: float
    """Share of the sessions that reached the previous step (1.0 for the first step)."""


class UserAnomaly(TypedDict):
    user_id: int
    score: float
    """Largest robust z-score (|x - median| / (1.4826 · MAD)) over the user's features."""
    feature: str
    """The feature that gave the score."""
    events: int
    sessions: int
    events_per_session: float
    mean_value: float
    mean_gap_s: float


class SessionsReport(TypedDict):
    events: int
    users: int
    sessions: int
    mean_session_s: float
    mean_events_per_session: float
    funnel: list[FunnelStep]
    anomalies: list[UserAnomaly]


class _UserFeatures(TypedDict):
    events: int
    sessions: int
    events_per_session: float
    mean_value: float
    mean_gap_s: float


def sessions_report(
    user: npt.NDArray[np.int64],
    ts: npt.NDArray[np.float64],
    event: npt.NDArray[np.int8],
    value: npt.NDArray[np.float64],
    received: npt.NDArray[np.int64],
) -> SessionsReport:
    """The report over events in any order; ``received`` breaks ties between equal timestamps
    (so the answer never depends on the order the rows came in)."""
    import numpy as np  # only where the report runs: importing this module stays cheap

    order = np.lexsort((received, ts, user))
    users, stamps = user[order].tolist(), ts[order].tolist()
    events, values = event[order].tolist(), value[order].tolist()
    n = len(users)
    reached = [0] * len(FUNNEL)
    total_sessions = 0
    total_session_s = 0.0
    per_user: list[tuple[int, _UserFeatures]] = []
    start = 0
    while start < n:
        code = users[start]
        end = start
        while end < n and users[end] == code:
            end += 1
        features, sessions, session_s = _one_user(stamps, events, values, start, end, reached)
        per_user.append((code, features))
        total_sessions += sessions
        total_session_s += session_s
        start = end
    funnel: list[FunnelStep] = []
    previous = total_sessions
    for step, count in zip(FUNNEL, reached, strict=True):
        funnel.append({"step": step, "sessions": count, "conversion": count / previous if previous else 0.0})
        previous = count
    return {
        "events": n,
        "users": len(per_user),
        "sessions": total_sessions,
        "mean_session_s": total_session_s / total_sessions if total_sessions else 0.0,
        "mean_events_per_session": n / total_sessions if total_sessions else 0.0,
        "funnel": funnel,
        "anomalies": _anomalies(per_user),
    }


def _one_user(
    stamps: list[float],
    events: list[int],
    values: list[float],
    start: int,
    end: int,
    reached: list[int],
) -> tuple[_UserFeatures, int, float]:
    """One user's events [start, end): features, session count and summed session length.
    Adds to ``reached`` the furthest funnel step of each of the user's sessions."""
    sessions = 0
    session_s = 0.0
    gap_sum = 0.0
    value_sum = 0.0
    step = 0  # next funnel step this session can reach
    first = previous = stamps[start]
    for i in range(start, end):
        t = stamps[i]
        if i > start:
            gap = t - previous
            if gap > SESSION_GAP_S:
                sessions += 1
                session_s += previous - first
                for s in range(step):
                    reached[s] += 1
                step = 0
                first = t
            else:
                gap_sum += gap
        if step < OTHER_EVENT and events[i] == step:
            step += 1
        value_sum += values[i]
        previous = t
    sessions += 1
    session_s += previous - first
    for s in range(step):
        reached[s] += 1
    count = end - start
    in_session_gaps = count - sessions
    features: _UserFeatures = {
        "events": count,
        "sessions": sessions,
        "events_per_session": count / sessions,
        "mean_value": value_sum / count,
        "mean_gap_s": gap_sum / in_session_gaps if in_session_gaps else 0.0,
    }
    return features, sessions, session_s


def _median(sorted_values: list[float]) -> float:
    n = len(sorted_values)
    mid = n // 2
    return sorted_values[mid] if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2


def _anomalies(per_user: list[tuple[int, _UserFeatures]]) -> list[UserAnomaly]:
    if not per_user:
        return []
    centre: dict[str, tuple[float, float]] = {}
    for feature in _FEATURES:
        column = sorted(float(f[feature]) for _, f in per_user)  # type: ignore[literal-required]
        med = _median(column)
        mad = _median(sorted(abs(x - med) for x in column))
        centre[feature] = (med, mad * _MAD_TO_SIGMA)
    scored: list[UserAnomaly] = []
    for code, f in per_user:
        best, best_feature = 0.0, _FEATURES[0]
        for feature in _FEATURES:
            med, sigma = centre[feature]
            x = float(f[feature])  # type: ignore[literal-required]
            z = abs(x - med) / sigma if sigma > 0 else (0.0 if x == med else math.inf)
            if z > best:
                best, best_feature = z, feature
        scored.append({"user_id": code, "score": best, "feature": best_feature, **f})
    scored.sort(key=lambda a: (-a["score"], a["user_id"]))
    return scored[:TOP_ANOMALIES]
