"""Reuse of shared-memory segments for arguments, so big payloads skip page allocation.

Creating a fresh ``/dev/shm`` file and touching 128 MiB of new pages costs more than copying
the data; a segment that held the previous call's array is already backed by memory. Idle
segments are kept up to ``budget`` bytes, unlinked on shutdown. Workers only map them
read-only for the duration of a call.
"""

from __future__ import annotations

import itertools
import threading

from ._worker import Segment

_PAGE = 1 << 20  # capacities are rounded up to whole MiB so near sizes share segments


class SegmentCache:
    def __init__(self, prefix: str, budget: int) -> None:
        self.prefix, self.budget = prefix, budget
        self._ids = itertools.count(1)
        self._idle: list[Segment] = []
        self._idle_bytes = 0
        self._lock = threading.Lock()
        self._closed = False

    def alloc(self, nbytes: int) -> Segment:
        with self._lock:
            fits = [s for s in self._idle if s.capacity >= nbytes]
            if fits:
                seg = min(fits, key=lambda s: s.capacity)
                self._idle.remove(seg)
                self._idle_bytes -= seg.capacity
                seg.nbytes = nbytes
                return seg
        capacity = max(_PAGE, -(-nbytes // _PAGE) * _PAGE)
        seg = Segment(f"{self.prefix}-{next(self._ids)}", capacity, create=True)
        seg.nbytes, seg.home = nbytes, self
        return seg

    def put(self, seg: Segment) -> None:
        with self._lock:
            keep = not self._closed and seg.capacity <= self.budget
            while keep and self._idle_bytes + seg.capacity > self.budget and self._idle:
                self._drop(self._idle.pop(0))
            if keep:
                self._idle.append(seg)
                self._idle_bytes += seg.capacity
                return
        self._drop(seg)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle, self._idle_bytes = self._idle, [], 0
        for seg in idle:
            self._drop(seg)

    @staticmethod
    def _drop(seg: Segment) -> None:
        seg.home = None
        seg.unlink()
        seg.close()
