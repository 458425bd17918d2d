"""Cumulative busy seconds per core, from ``/proc/stat`` (psutil where there is none).

The harness sampler reads this at 10 Hz while cells run, on the orchestrator's CPU budget
(≤ 1 % of a core): the file stays open and is re-read with one ``pread`` (11 µs of CPU here,
``benchmarks/bench_harness_overhead.py --sampler``), and only the wanted cores' lines are split.
"""

from __future__ import annotations

import os

from .proc import CLOCK_TICK_S


class CoreBusyCounters:
    """Cumulative busy and steal seconds of the given cores: /proc/stat, else psutil."""

    def __init__(self, cores: list[int], path: str = "/proc/stat") -> None:
        self.cores = cores
        self._names = {f"cpu{c}".encode(): i for i, c in enumerate(cores)}
        self._tick = CLOCK_TICK_S
        try:
            self._fd: int | None = os.open(path, os.O_RDONLY)
        except OSError:
            self._fd = None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self) -> tuple[tuple[float, ...], float]:
        """(busy seconds per core, in the order given; steal seconds summed over them)."""
        if self._fd is None:
            return self._read_psutil()
        busy = [0.0] * len(self.cores)
        steal = 0
        for line in os.pread(self._fd, 1 << 16, 0).split(b"\n"):
            index = self._names.get(line.split(b" ", 1)[0])
            if index is None:
                continue
            # cpuN user nice system idle iowait irq softirq steal ...
            v = line.split()
            busy[index] = (int(v[1]) + int(v[2]) + int(v[3]) + int(v[6]) + int(v[7])) * self._tick
            steal += int(v[8]) if len(v) > 8 else 0
        return tuple(busy), steal * self._tick

    def _read_psutil(self) -> tuple[tuple[float, ...], float]:
        import psutil  # the orchestrator only: harness workers import this package with the stdlib

        per_core = psutil.cpu_times(percpu=True)
        chosen = [per_core[c] for c in self.cores if c < len(per_core)]
        fields = ("user", "nice", "system", "irq", "softirq")
        busy = tuple(float(sum(getattr(t, name, 0.0) for name in fields)) for t in chosen)
        return busy, float(sum(getattr(t, "steal", 0.0) for t in chosen))
