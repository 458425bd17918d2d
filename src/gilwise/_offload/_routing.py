"""Which runner a call goes to: worker processes (``cpu``) or threads (``io``, ``native``).

``auto`` decides per function from what it measured: CPU time over wall time of earlier calls.
A call that keeps a core busy (ratio >= ``CPU_RATIO``) goes to processes, where it cannot hold
the GIL against the event loop; one that mostly waits goes to threads, which cost microseconds.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
import weakref
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from .._exceptions import UsageError

Route = Literal["auto", "cpu", "io", "native"]
ROUTES: tuple[str, ...] = ("auto", "cpu", "io", "native")
CPU_RATIO = 0.25  # measured CPU-bound calls sit near 1.0; waiting calls far below 0.1
_ATTR = "__gilwise_route__"
F = TypeVar("F", bound=Callable[..., Any])


def cpu_bound(fn: F) -> F:
    """Mark ``fn`` as CPU-bound Python: ``route="auto"`` sends it to worker processes."""
    setattr(_target(fn), _ATTR, "cpu")
    return fn


def io_bound(fn: F) -> F:
    """Mark ``fn`` as waiting-bound (network, disk, sleep): ``route="auto"`` runs it in a thread."""
    setattr(_target(fn), _ATTR, "io")
    return fn


def _target(fn: Any) -> Any:
    return getattr(fn, "__func__", fn)


def check_route(route: str) -> None:
    if route not in ROUTES:
        raise UsageError(
            f"route={route!r} is not a route; valid routes: {', '.join(ROUTES)} "
            "(cpu = worker processes, io and native = threads, auto = measured per function)"
        )


class Profile:
    __slots__ = ("cpu", "samples", "wall")

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0
        self.samples = 0

    def add(self, cpu: float, wall: float) -> None:
        # Exponential decay so a function whose behaviour changes is re-routed.
        keep = 0.8 if self.samples else 0.0
        self.cpu, self.wall = self.cpu * keep + cpu, self.wall * keep + wall
        self.samples += 1

    @property
    def ratio(self) -> float:
        return self.cpu / self.wall if self.wall > 0 else 1.0


class AutoRouter:
    """Per-function measurements and the route they imply."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._weak: weakref.WeakKeyDictionary[Any, Profile] = weakref.WeakKeyDictionary()
        self._strong: dict[Any, Profile] = {}
        self._picklable: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()

    def resolve(self, fn: Callable[..., Any], route: str) -> str:
        check_route(route)
        if route != "auto":
            return route
        marked = getattr(_target(fn), _ATTR, None)
        if marked is not None:
            return str(marked)
        profile = self._profile(fn, create=False)
        if profile is None or profile.samples == 0:
            # First call: measure it in a process, where the GIL cannot distort the ratio.
            # A function that cannot be pickled can only ever run in a thread.
            return "cpu" if self._can_pickle(fn) else "io"
        if profile.ratio >= CPU_RATIO and self._can_pickle(fn):
            return "cpu"
        return "io"

    def observe(self, fn: Callable[..., Any], cpu: float, wall: float) -> None:
        profile = self._profile(fn, create=True)
        assert profile is not None
        with self._lock:
            profile.add(cpu, wall)

    def ratio(self, fn: Callable[..., Any]) -> float | None:
        profile = self._profile(fn, create=False)
        return None if profile is None or not profile.samples else profile.ratio

    def _profile(self, fn: Callable[..., Any], *, create: bool) -> Profile | None:
        key = _target(fn)
        with self._lock:
            try:
                table: Any = self._weak
                profile = table.get(key)
            except TypeError:  # not weak-referenceable (a builtin, say)
                table = self._strong
                profile = table.get(key)
            if profile is None and create:
                profile = table[key] = Profile()
            return profile  # type: ignore[no-any-return]

    def _can_pickle(self, fn: Callable[..., Any]) -> bool:
        try:
            known = self._picklable.get(fn)
        except TypeError:
            known = None
        if known is not None:
            return known
        try:
            pickle.dumps(fn, protocol=5)
            ok = True
        except Exception:
            ok = False
        with contextlib.suppress(TypeError):
            self._picklable[fn] = ok
        return ok
