"""Where does hashlib let go of the GIL? sha256 over buffers of growing size, 2 threads vs serial.

Each task hashes the same total bytes in calls of `size` bytes; the speedup of 2 threads over
serial is paired per round, sizes and modes run round-robin. CPython releases the GIL in hashlib
only for data above HASHLIB_GIL_MINSIZE (2048 bytes): the speedup should jump there.

    uv run python benchmarks/bench_sha256_gil_threshold.py [--rounds 5] [--mib 256]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import threading
import time

from _common import save, stats, table

SIZES = (256, 1024, 2048, 2049, 4096, 16384, 65536, 1 << 20)


def task(buf: bytes, calls: int) -> None:
    sha = hashlib.sha256
    for _ in range(calls):
        sha(buf).digest()


def serial(buf: bytes, calls: int) -> float:
    t0 = time.perf_counter()
    task(buf, calls)
    task(buf, calls)
    return time.perf_counter() - t0


def threaded(buf: bytes, calls: int) -> float:
    threads = [threading.Thread(target=task, args=(buf, calls)) for _ in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=256, help="MiB hashed per task")
    args = parser.parse_args()
    total = args.mib << 20
    buffers = {s: os.urandom(s) for s in SIZES}
    ratios: dict[int, list[float]] = {s: [] for s in SIZES}
    for _ in range(args.rounds):
        for size in SIZES:
            calls = max(1, total // size)
            ratios[size].append(serial(buffers[size], calls) / threaded(buffers[size], calls))
    rows = []
    threshold = None
    for size in SIZES:
        med = statistics.median(ratios[size])
        if threshold is None and med >= 1.5:
            threshold = size
        rows.append((size, f"{med:.2f}×", f"{min(ratios[size]):.2f}–{max(ratios[size]):.2f}"))
    print(table(["buffer bytes", "2 threads / serial (median)", "range"], rows))
    print(f"smallest buffer with ≥ 1.5× on 2 threads: {threshold} bytes")
    path = save(
        "sha256_gil_threshold",
        {
            "mib_per_task": args.mib,
            "speedup": {str(s): stats(v) for s, v in ratios.items()},
            "threshold_bytes": threshold,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
