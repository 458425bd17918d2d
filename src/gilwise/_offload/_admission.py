"""Backpressure: a bounded number of tasks admitted at once (``Offloader(max_pending=...)``)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable


class Admission:
    """A counting gate whose waiters are callbacks, so an event loop waits without a thread
    (a slot may be released from any thread).

    ``limit=None`` admits everything. A waiter's callback is a hint that a slot freed up; the
    waiter then calls ``try_acquire`` again, so a wake-up lost to a race costs nothing.
    """

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"max_pending={limit} must be >= 1 (or None for no limit)")
        self.limit = limit
        self.in_use = 0
        self.rejected = 0
        self._lock = threading.Lock()
        self._waiters: deque[Callable[[], None]] = deque()

    def try_acquire(self) -> bool:
        with self._lock:
            if self.limit is not None and self.in_use >= self.limit:
                return False
            self.in_use += 1
            return True

    def reject(self) -> None:
        with self._lock:
            self.rejected += 1

    def release(self) -> None:
        with self._lock:
            self.in_use -= 1
            wake = self._waiters.popleft() if self._waiters else None
        if wake is not None:
            wake()

    def add_waiter(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._waiters.append(wake)

    def remove_waiter(self, wake: Callable[[], None]) -> bool:
        """False when the waiter had already been woken (its wake-up is then passed on)."""
        with self._lock:
            try:
                self._waiters.remove(wake)
            except ValueError:
                pass
            else:
                return True
        self.pass_on()
        return False

    def pass_on(self) -> None:
        """A woken waiter gave up (cancelled): hand its wake-up to the next one."""
        with self._lock:
            free = self.limit is None or self.in_use < self.limit
            wake = self._waiters.popleft() if (free and self._waiters) else None
        if wake is not None:
            wake()
