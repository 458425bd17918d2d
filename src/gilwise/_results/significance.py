"""The family-wise decision of the regression gate: Holm–Bonferroni over every row tested.

Each row of a comparison is one hypothesis, "B is slower by at least the threshold", with its
own one-sided p (``drift.LogShift``). Testing each at alpha lets *some* row of a same-code pair
say slower far more often than alpha (eight of twelve pairs, issue 28); ``decide_family`` holds
that chance at alpha whatever the number of rows. Both ways of comparing (B against A's repeats,
B against the history) decide through it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TOLERANCE = 1e-9
"""Float slack at the boundaries: a change of exactly the threshold, or a p-value of exactly
alpha, counts (5 % computed as 0.04999999 must not pass a 5 % gate)."""


def significant(p: float, alpha: float) -> bool:
    """``p`` reaches the significance level ``alpha``."""
    return p <= alpha + TOLERANCE


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


@dataclass(frozen=True)
class FamilyDecision:
    """Holm's answer for one hypothesis: its p, adjusted p, and the level it was judged at."""

    p: float
    adjusted: float
    level: float

    def rejected(self, alpha: float) -> bool:
        """The hypothesis "not slower" falls at family-wise level ``alpha``."""
        return significant(self.adjusted, alpha)


def decide_family(p_values: Sequence[float], alpha: float) -> list[FamilyDecision]:
    """Every hypothesis of a comparison decided at once, in the order given: a same-code pair
    says "slower" somewhere at most ``alpha`` of the time, however many rows it has."""
    adjusted, levels = holm_adjusted(p_values), holm_levels(p_values, alpha)
    return [FamilyDecision(*d) for d in zip(p_values, adjusted, levels, strict=True)]
