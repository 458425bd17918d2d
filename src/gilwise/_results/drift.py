"""The machine's between-run drift: a row of B judged against the spread of earlier runs.

Within-run repeats cannot see how this machine's speed moves between runs minutes apart (10–20 %
here, DESIGN.md "Measuring on a noisy machine"); the runs' own medians can. Given the last N
comparable runs of a row, the log of their medians is treated as a normal sample (mean m, sd s)
and B's median is tested against its prediction interval, as hosted benchmark trackers set a
threshold per measure from a window of past results (Bencher's t-test boundary): B is slower by
the threshold, with confidence, when

    log(B / (1 + threshold)) > m + t(1 - a, N - 1) · s · sqrt(1 + 1/N).

Logs, because speed scales times: +10 % and -9 % are one step each way. No scipy: the Student t
tail comes from the regularised incomplete beta function (continued fraction, Numerical
Recipes' ``betacf``), exact to ~1e-12 for the few degrees of freedom a history gives.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

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
class DriftTest:
    """B's value against the spread of earlier runs' values (one value per run)."""

    runs: int
    """How many earlier runs the spread comes from."""
    centre: float
    """exp(mean of their logs): the baseline's typical value."""
    log_sd: float
    """The between-run standard deviation of the logs (0.1 ≈ runs spread ±10 %)."""
    value: float
    """B's value on the same basis."""

    @property
    def change(self) -> float:
        return self.value / self.centre - 1

    def _scale(self) -> float:
        return self.log_sd * math.sqrt(1 + 1 / self.runs)

    def p_slower_by(self, threshold: float) -> float:
        """One-sided p for "B is more than 1 + threshold times the baseline", beyond the drift."""
        excess = math.log(self.value / (1 + threshold)) - math.log(self.centre)
        if self._scale() == 0:
            return 0.0 if excess > 0 else 1.0
        return student_t_upper_tail(excess / self._scale(), self.runs - 1)

    def lower_bound(self, alpha: float) -> float:
        """The change's lower prediction bound at level 1 - ``alpha``."""
        t = student_t_quantile(alpha, self.runs - 1)
        return self.value / self.centre / math.exp(t * self._scale()) - 1

    def detectable(self, threshold: float, alpha: float) -> float:
        """The smallest slowdown of B (from the baseline's centre) that would test slower by
        ``threshold`` at ``alpha``: the drift's prediction margin on top of the threshold."""
        t = student_t_quantile(alpha, self.runs - 1)
        return (1 + threshold) * math.exp(t * self._scale()) - 1


def drift_test(earlier: Sequence[float], value: float) -> DriftTest | None:
    """B's ``value`` against the ``earlier`` runs' values (positive), or None with fewer than
    ``MIN_RUNS`` of them."""
    usable = [v for v in earlier if v > 0]
    if len(usable) < MIN_RUNS or value <= 0:
        return None
    logs = [math.log(v) for v in usable]
    return DriftTest(len(usable), math.exp(statistics.fmean(logs)), statistics.stdev(logs), value)
