"""The Mann–Whitney U test, exact for the handful of repeats a bench cell has.

Wall times of repeated runs are skewed and have outliers (a phase of slower CPU, another
program waking up), so a rank test fits better than a t-test, and it needs no scipy. With ties,
the exact null distribution is that of the rank sum of midranks over all equally likely
splits of the pooled values; it is counted by dynamic programming over doubled (integral)
midranks. Above ``EXACT_LIMIT`` pooled values the normal approximation with tie correction
is used.

``shift`` is the one place where a change is judged: ``Shift.slower`` / ``Shift.faster`` say
whether the medians moved by at least a threshold *and* the rank test puts it beyond noise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

EXACT_LIMIT = 60
TOLERANCE = 1e-9
"""Float slack at the boundaries: a change of exactly the threshold, or a p-value of exactly
alpha, counts (5 % computed as 0.04999999 must not pass a 5 % gate)."""


def midranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _exact_upper_tail(doubled: list[int], size: int, observed: int) -> float:
    """P(sum of ``size`` values drawn without replacement from ``doubled`` ≥ observed)."""
    # counts[k][s]: number of k-subsets of the values seen so far whose sum is s.
    counts: list[dict[int, int]] = [{} for _ in range(size + 1)]
    counts[0][0] = 1
    for value in doubled:
        for k in range(min(size, len(doubled)) - 1, -1, -1):
            here, above = counts[k], counts[k + 1]
            for total, ways in here.items():
                above[total + value] = above.get(total + value, 0) + ways
    tail = sum(ways for total, ways in counts[size].items() if total >= observed)
    return tail / math.comb(len(doubled), size)


def _normal_upper_tail(ranks: list[float], size: int, observed: float) -> float:
    n = len(ranks)
    m = n - size
    mean = size * (n + 1) / 2
    # Variance of the rank sum with midranks (tie-corrected), from the finite population.
    mean_rank = (n + 1) / 2
    population_var = sum((r - mean_rank) ** 2 for r in ranks) / n
    var = size * m / (n - 1) * population_var if n > 1 else 0.0
    if var == 0:
        return 1.0 if observed <= mean else 0.0
    z = (observed - mean - 0.5) / math.sqrt(var)  # continuity correction
    return 0.5 * math.erfc(z / math.sqrt(2))


def p_greater(before: Sequence[float], after: Sequence[float]) -> float:
    """One-sided p-value for "``after`` tends to be larger than ``before``".

    The probability, if both samples came from one distribution, of a rank sum for ``after``
    at least as large as the one observed. 1.0 when either side is empty.
    """
    if not before or not after:
        return 1.0
    pooled = [*before, *after]
    ranks = midranks(pooled)
    mine = ranks[len(before) :]
    if len(pooled) <= EXACT_LIMIT:
        doubled = [round(2 * r) for r in ranks]
        return _exact_upper_tail(doubled, len(after), round(2 * sum(mine)))
    return _normal_upper_tail(ranks, len(after), sum(mine))


def smallest_p(n_before: int, n_after: int) -> float:
    """The smallest one-sided p-value these sample sizes can give (complete separation)."""
    if not n_before or not n_after:
        return 1.0
    return 1 / math.comb(n_before + n_after, n_after)


def significant(p: float, alpha: float) -> bool:
    """``p`` reaches the significance level ``alpha``."""
    return p <= alpha + TOLERANCE


@dataclass(frozen=True)
class Shift:
    """How ``after`` moved against ``before``: the change of the medians and the rank test."""

    change: float
    """median(after) / median(before) - 1: +0.25 means 25 % larger (slower, for times)."""
    p_slower: float
    """One-sided p-value for "after tends to be larger"."""
    p_faster: float
    """One-sided p-value for "after tends to be smaller"."""

    def slower(self, threshold: float, alpha: float) -> bool:
        """At least ``threshold`` larger, and beyond noise at level ``alpha``."""
        return self.change >= threshold - TOLERANCE and significant(self.p_slower, alpha)

    def faster(self, threshold: float, alpha: float) -> bool:
        """At least ``threshold`` smaller, and beyond noise at level ``alpha``."""
        return self.change <= -threshold + TOLERANCE and significant(self.p_faster, alpha)


def shift(before: Sequence[float], after: Sequence[float]) -> Shift:
    """The change between two non-empty samples of positive values, with both one-sided tests."""
    base = statistics.median(before)
    change = statistics.median(after) / base - 1 if base > 0 else 0.0
    return Shift(change, p_greater(before, after), p_greater(after, before))


def p_slower_by(before: Sequence[float], after: Sequence[float], threshold: float) -> float:
    """One-sided p-value for "``after`` is more than ``1 + threshold`` times ``before``".

    The rank test on ``after`` scaled down by the threshold: rejecting it at level a is the
    same as the Mann–Whitney lower confidence bound of the ratio (at 1 - a) lying above
    ``1 + threshold``, so "slower by the threshold, with confidence" needs no interval walk."""
    return p_greater(before, [v / (1 + threshold) for v in after])


def hodges_lehmann_change(before: Sequence[float], after: Sequence[float]) -> float:
    """The Hodges–Lehmann estimate of the change: the median of all pairwise ratios
    after[j] / before[i], less one (taken on logarithms, so a ratio and its inverse balance)."""
    logs = [math.log(b / a) for a in before for b in after if a > 0 and b > 0]
    return math.exp(statistics.median(logs)) - 1 if logs else 0.0


def change_lower_bound(before: Sequence[float], after: Sequence[float], alpha: float) -> float | None:
    """The Mann–Whitney lower confidence bound (level 1 - ``alpha``) of the change after/before.

    The largest f whose test "more than 1 + f times" still rejects at ``alpha`` (the test
    inverted, found by bisection to 0.01 %); None when even complete separation cannot reject
    with this many repeats."""
    if not before or not after or min(before) <= 0 or min(after) <= 0:
        return None
    low = min(after) / max(before) * (1 - 1e-9) - 1  # every scaled B value still above A's
    if low <= -1:  # the ratio underflowed (times of 1e-300 s next to seconds): nothing to test
        return None
    if not significant(p_slower_by(before, after, low), alpha):
        return None
    high = max(after) / min(before) - 1  # from here on no B value is above any of A's
    while high - low > 1e-4:
        mid = (low + high) / 2
        low, high = (mid, high) if significant(p_slower_by(before, after, mid), alpha) else (low, mid)
    return low


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given.

    A hypothesis is rejected at family-wise level alpha exactly when its adjusted p is ≤ alpha:
    the i-th smallest p is multiplied by the number of hypotheses not yet rejected (m - i + 1),
    and an adjusted p never falls below an earlier one (the step-down stops at the first
    failure). So the chance that *any* of m true nulls is rejected stays ≤ alpha, whatever m and
    however the tests depend on one another."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def holm_levels(p_values: Sequence[float], alpha: float) -> list[float]:
    """The level each hypothesis faces in Holm's step-down: alpha / (m - i + 1) for the i-th
    smallest p. A confidence bound drawn at that level agrees with the adjusted p's verdict."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    levels = [alpha] * m
    for rank, index in enumerate(order):
        levels[index] = alpha / (m - rank)
    return levels
