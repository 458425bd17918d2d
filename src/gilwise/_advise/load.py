"""The other load on the machine while advise verified, and whether its verdict can stand.

Each verification round runs every cell once; the harness's noise guard
(:meth:`gilwise._harness.sampler.CpuWindow.other_cpu_cores`) says how many cores other
processes used during each cell. A round during which they used more than
:data:`BUSY_ROUND_CORES` is retried while the budget allows and left out of the paired ratios.
When too few quiet rounds remain, a verdict that a parallel model wins still stands (it won
despite the load), but "serial" does not: two busy programs on two cores make processes look
no faster than serial, and that is the machine's doing, not the function's. advise then says
"inconclusive" (exit 3) and reports the load.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TypedDict

BUSY_ROUND_CORES = 0.5
"""Other processes' CPU (cores) beyond which a round is busy. The bench warns from 0.2 cores
(``OTHER_LOAD_WARN_CORES``); a verdict compares 1 worker with all cores, and on 2 cores half a
core taken moves a two-worker speedup by about 25 %, beyond the 15 % a model must win by."""
MIN_QUIET_ROUNDS = 2
"""Quiet rounds a "serial" verdict needs: one ratio alone has no spread to judge."""


def is_busy(other_cpu_cores: float) -> bool:
    """Whether a round during which other processes used ``other_cpu_cores`` is retried."""
    return other_cpu_cores > BUSY_ROUND_CORES


@dataclass(frozen=True)
class LoadSeen:
    """Per verification round, the most cores other processes used during one of its cells."""

    per_round: tuple[float, ...]

    @property
    def busy_rounds(self) -> int:
        return sum(1 for cores in self.per_round if is_busy(cores))

    @property
    def quiet_rounds(self) -> int:
        return len(self.per_round) - self.busy_rounds

    @property
    def typical_cores(self) -> float:
        return statistics.median(self.per_round) if self.per_round else 0.0

    def settles(self, parallel_verdict: bool) -> bool:
        """Whether a verdict can stand: enough quiet rounds, or a parallel model won anyway."""
        return parallel_verdict or self.quiet_rounds >= MIN_QUIET_ROUNDS or not self.per_round

    def inconclusive_text(self) -> str:
        return (
            f"inconclusive: the machine is busy ({self.typical_cores:.1f} cores used by other "
            f"processes in {self.busy_rounds} of {len(self.per_round)} verification rounds); "
            "quiet it (or raise --budget to wait longer) and run again"
        )

    def to_json(self, conclusive: bool) -> LoadEntry:
        return {
            "other_cpu_cores": self.typical_cores,
            "other_cpu_cores_max": max(self.per_round, default=0.0),
            "busy_rounds": self.busy_rounds,
            "quiet_rounds": self.quiet_rounds,
            "threshold_cores": BUSY_ROUND_CORES,
            "conclusive": conclusive,
            "note": "" if conclusive else self.inconclusive_text(),
        }


class LoadEntry(TypedDict):
    """The ``load`` field of a ``gilwise.advise/1`` document."""

    other_cpu_cores: float
    """Median over the verification rounds of the most cores other processes used in a cell."""
    other_cpu_cores_max: float
    busy_rounds: int
    """Rounds retried and left out of the ratios: other processes used > ``threshold_cores``."""
    quiet_rounds: int
    threshold_cores: float
    conclusive: bool
    """False: the verdict would blame the function for what the machine did (see ``note``)."""
    note: str
