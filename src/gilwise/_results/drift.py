"""The gate's one test of a row's change, with the machine's between-run drift in its scale.

Every comparison asks of a row "is B more than ``1 + threshold`` times A?" on the logs of the
row's values (speed scales times: +10 % and -9 % are one step each way), as a Student t test:

    t = (d - log(1 + threshold)) / scale,   d = B's mean log - A's mean log,

whose p is continuous. That matters: the exact Mann–Whitney test used before has a floor
(1/252 for 5 vs 5 repeats) above the level a row faces in a family of 6–10 tests, so only
complete separation could ever be called slower, and 13 of 20 injected 25 % slowdowns were
called inconclusive on this machine (issue 28). ``LogShift`` holds d, its scale and degrees of
freedom; its p, bounds and detectable slowdown all come from them, so the verdict, the interval
and the change figure a row reports can never disagree.

Two ways to get the scale:

- ``rounds_test`` (B against A's repeats): the pooled within-run variance of both runs' rounds,
  plus ``2 · ASSUMED_DRIFT²`` for the drift of each whole run that within-run rounds cannot see,
  degrees of freedom by Welch–Satterthwaite (the assumed part counts as known). Measured here
  (issue 28's same-code runs, rounds without other load): between consecutive runs a row's
  per-run mean moved by 1.2–1.9 % (one sd of the log) beyond its rounds' own spread in the 83
  stored runs, 0–3.0 % in the 43 runs of the gate's benchmark (one run whose native parallel
  rows ran 60 % slower left out: ``compare.machine_reason`` holds such a run inconclusive), on
  wall times per unit of work and on ratios to the serial cell alike; ``ASSUMED_DRIFT`` takes
  2 %. Where the machine drifts more, a same-code pair says slower more often than alpha:
  compare against the history instead, which measures it.
- ``drift_test`` (B against the history, ``--baseline history``): the last N comparable runs'
  values (one per run) as a normal sample, B's value against their prediction interval, as
  hosted benchmark trackers set a threshold per measure from a window of past results
  (Bencher's t-test boundary): scale ``s · sqrt(1 + 1/N)``, N - 1 degrees of freedom.

No scipy: the Student t tail comes from the regularised incomplete beta function (continued
fraction, Numerical Recipes' ``betacf``), exact to ~1e-12 for the few degrees of freedom used.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

ASSUMED_DRIFT = 0.02
"""How far a whole run's speed is assumed to move between two runs, one sd of the log (2 %),
when B is judged against A's repeats alone (measured: see the module docstring)."""
DETECTION_POWER = 0.8
"""The chance with which a row must catch a slowdown for it to count as detectable (the usual
80 % of a power analysis): "clean" promises more than a coin flip."""
MIN_ROUNDS = 2
"""Fewest rounds a side needs for a within-run spread (one round has none)."""
MIN_RUNS = 3
"""Fewest earlier runs whose spread means anything (two give one degree of freedom, and a t
quantile of 1 df at 0.01 is 31.8: nothing could ever be called slower)."""


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1) < 1e-14:
            break
    return result


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _beta_fraction(b, a, 1 - x) / b


def student_t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1 - tail


def student_t_quantile(upper: float, df: float) -> float:
    """The t with P(T > t) = ``upper`` (0 < upper < 0.5), by bisection."""
    low, high = 0.0, 1.0
    while student_t_upper_tail(high, df) > upper:
        high *= 2
    while high - low > 1e-9 * max(1.0, high):
        mid = (low + high) / 2
        low, high = (mid, high) if student_t_upper_tail(mid, df) > upper else (low, mid)
    return high


@dataclass(frozen=True)
class LogShift:
    """How far B's values sit above A's, on logs: the estimate, its scale, its t distribution."""

    estimate: float
    """B's mean log less A's (``log(1.25)`` ≈ 0.223 is 25 % slower)."""
    scale: float
    """The standard error of ``estimate``, drift included."""
    df: float
    """Degrees of freedom of the t distribution the estimate is judged with."""
    name: str
    """Which test this is, for the reader (``RowChange.test``)."""

    @property
    def change(self) -> float:
        """B over A, less one: +0.25 means 25 % slower (the ratio of geometric means)."""
        return math.exp(self.estimate) - 1

    def _t(self, ratio: float) -> float:
        """The t statistic of "B is more than ``ratio`` times A" (infinite without any spread)."""
        excess = self.estimate - math.log(ratio)
        if self.scale > 0:
            return excess / self.scale
        return math.inf if excess > 0 else -math.inf

    def p_slower_by(self, threshold: float) -> float:
        """One-sided p for "B is more than 1 + threshold times A"."""
        t = self._t(1 + threshold)
        return 0.0 if t == math.inf else 1.0 if t == -math.inf else student_t_upper_tail(t, self.df)

    def p_faster_by(self, threshold: float) -> float:
        """One-sided p for "B is less than 1 - threshold times A"."""
        t = self._t(1 - threshold)
        return 0.0 if t == -math.inf else 1.0 if t == math.inf else student_t_upper_tail(-t, self.df)

    def lower_bound(self, alpha: float) -> float:
        """The change's lower confidence bound at level 1 - ``alpha``."""
        return math.exp(self.estimate - student_t_quantile(alpha, self.df) * self.scale) - 1

    def upper_bound(self, alpha: float) -> float:
        """The change's upper confidence bound at level 1 - ``alpha``."""
        return math.exp(self.estimate + student_t_quantile(alpha, self.df) * self.scale) - 1

    def detectable(self, threshold: float, alpha: float) -> float:
        """The smallest slowdown this scale catches ``DETECTION_POWER`` of the time when testing
        slower by ``threshold`` at ``alpha``: the threshold plus the test's margin plus the
        power's. Without the power term this is the slowdown caught only half the time, and a
        "clean" gate (every row could detect ``--must-detect``) let a real 25 % slowdown pass
        as clean in 5 of 40 injected comparisons of issue 28's benchmark."""
        margin = student_t_quantile(alpha, self.df) + student_t_quantile(1 - DETECTION_POWER, self.df)
        return (1 + threshold) * math.exp(margin * self.scale) - 1


def rounds_test(
    before: Sequence[float], after: Sequence[float], drift: float = ASSUMED_DRIFT
) -> LogShift | None:
    """B's rounds against A's (positive values, e.g. ratios to the same round's serial cell),
    with ``drift`` per run on top of their pooled spread; None with fewer than ``MIN_ROUNDS``
    a side."""
    if len(before) < MIN_ROUNDS or len(after) < MIN_ROUNDS or min(*before, *after) <= 0:
        return None
    logs_a, logs_b = [math.log(v) for v in before], [math.log(v) for v in after]
    mean_a, mean_b = statistics.fmean(logs_a), statistics.fmean(logs_b)
    within_df = len(logs_a) + len(logs_b) - 2
    squares = sum((v - mean_a) ** 2 for v in logs_a) + sum((v - mean_b) ** 2 for v in logs_b)
    sampling = squares / within_df * (1 / len(logs_a) + 1 / len(logs_b))
    variance = sampling + 2 * drift**2
    # Welch–Satterthwaite: only the estimated part of the variance costs degrees of freedom.
    df = variance**2 / (sampling**2 / within_df) if sampling > 0 else math.inf
    # The rounds each side kept are the row's n_a / n_b; the name is the same for every row.
    name = f"t on the logs of the quiet rounds, drift ±{drift:.0%} assumed"
    return LogShift(mean_b - mean_a, math.sqrt(variance), min(df, 1e6), name)


def drift_test(earlier: Sequence[float], value: float, rounds: Sequence[float] = ()) -> LogShift | None:
    """B's ``value`` against the ``earlier`` runs' values (positive, one per run), or None with
    fewer than ``MIN_RUNS`` of them.

    ``rounds``, B's own per-round values behind ``value``, add its sampling variance: each
    earlier run's value is the median of up to 5 quiet rounds, B's may be of 2, and three
    earlier runs can agree to 0.2 % by chance. Seen in issue 28's stored runs: B's 2 quiet
    rounds at 0.522 and 0.618 of the serial cell, against runs at 0.516–0.518, made a same-code
    row "slower" by 10 %."""
    usable = [v for v in earlier if v > 0]
    if len(usable) < MIN_RUNS or value <= 0:
        return None
    logs = [math.log(v) for v in usable]
    between = statistics.variance(logs) * (1 + 1 / len(logs))
    own = [math.log(v) for v in rounds if v > 0]
    sampling = statistics.variance(own) / len(own) if len(own) >= MIN_ROUNDS else 0.0
    parts = [(between, len(logs) - 1), (sampling, len(own) - 1)]
    variance = between + sampling
    # Welch–Satterthwaite over the two estimated parts.
    spent = sum(v**2 / df for v, df in parts if v > 0)
    df = variance**2 / spent if spent > 0 else float(len(logs) - 1)
    name = f"t on {len(logs)} earlier runs' medians"
    return LogShift(math.log(value) - statistics.fmean(logs), math.sqrt(variance), df, name)
