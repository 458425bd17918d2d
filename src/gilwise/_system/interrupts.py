"""Ctrl-C that cannot be lost: SIGINT sets a latch as well as raising KeyboardInterrupt.

CPython raises KeyboardInterrupt at whatever bytecode the main thread runs next, and a few places
swallow it with only an "Exception ignored in" line: a ``__del__`` (``subprocess.Popen``'s runs
as each finished worker is dropped), a weakref or ``atexit`` callback. A bench interrupted there
went on measuring as if nothing had happened. The latch outlives the exception: the orchestrator
calls :func:`raise_if_interrupted` between cells and while it waits for a worker, so a swallowed
Ctrl-C still stops the run within one poll (:data:`INTERRUPT_POLL_S`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

INTERRUPT_POLL_S = 0.2
"""How often a wait for a worker looks at the latch: a few wake-ups a second, nothing a cell
running beside it can measure, and well inside the 2 s a Ctrl-C is promised to take."""

_requested = threading.Event()


def _latch_and_raise(signum: int, frame: FrameType | None) -> None:
    _requested.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_latched() -> Iterator[None]:
    """SIGINT latches for the block (main thread only). A SIGINT the caller's shell set to be
    ignored (a background job of a script) stays ignored, as every program does."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    _requested.clear()
    previous = signal.signal(signal.SIGINT, _latch_and_raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def raise_if_interrupted() -> None:
    """KeyboardInterrupt if a SIGINT came since the latch was set, even one swallowed."""
    if _requested.is_set():
        raise KeyboardInterrupt
