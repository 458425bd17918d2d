"""Functions of known character for ``gilwise advise`` (benchmarks/bench_advise.py, tests).

Each is a module-level function so worker processes import it by name; the expected verdict
is in its docstring's first line.
"""

from __future__ import annotations

import hashlib
import math
import time
import zlib
from typing import Any


def python_loop(n: int) -> float:
    """processes: a pure-Python loop holds the GIL the whole time."""
    total = 0.0
    for i in range(1, n):
        total += math.sqrt(i) * math.log(i + 1)
    return total


def text_block(size: int) -> bytes:
    """Compressible, text-like bytes (zlib works for its ratio, as on real logs)."""
    words = [b"gilwise", b"thread", b"process", b"latency", b"core", b"queue", b"lock", b"wait"]
    out = bytearray()
    i = 0
    while len(out) < size:
        out += words[(i * 7 + i // 3) % len(words)] + b" " + str(i % 997).encode() + b"\n"
        i += 1
    return bytes(out[:size])


def compress(data: bytes) -> int:
    """threads: zlib releases the GIL while it compresses a large buffer."""
    return len(zlib.compress(data, 6))


def digest(data: bytes, rounds: int = 4) -> str:
    """threads: hashlib releases the GIL on buffers above 2 KiB."""
    h = hashlib.sha256()
    for _ in range(rounds):
        h.update(data)
    return h.hexdigest()


def blocking_wait(seconds: float) -> float:
    """threads (or asyncio): a blocking wait holds no GIL and no core."""
    time.sleep(seconds)
    return seconds


def peek(data: bytes, span: int = 1 << 16) -> int:
    """serial: tens of microseconds of work (holding the GIL) on an argument that costs
    milliseconds to ship to a process."""
    return data.count(b"e", 0, span)


def numpy_kernel(values: Any, block: int = 1 << 15) -> float:
    """threads: NumPy's loops release the GIL on large arrays (sin and cos: compute-bound,
    where an elementwise ``sqrt(x*x + 1)`` is memory-bound and gains little from a 2nd core).

    Processed in blocks of 32 Ki elements (256 KiB temporaries), as NumPy code over large
    arrays is written for speed (numexpr and Dask do the same): temporaries stay in cache and
    are reused. Whole-array temporaries, or 64 Ki blocks, make glibc's main heap hand memory
    back and fault it in again on every call, so a call in the main thread runs 2-4× slower
    than in a worker thread here: an allocator effect, not a concurrency one."""
    import numpy as np

    total = 0.0
    for start in range(0, len(values), block):
        chunk = values[start : start + block]
        total += float(np.sin(chunk).sum()) + float(np.cos(chunk).sum())
    return total
