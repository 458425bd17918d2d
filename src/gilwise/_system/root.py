"""The file system root the kernel's files are read under.

The cgroup and machine readers take ``root: Path | None``; None means ``HOST_ROOT``, looked up
at each call, so a test that cannot reach the call (the offload pool's default size, DuckDB's
thread count) replaces this one attribute with a folder holding a fake ``proc/self/cgroup`` and
``sys/fs/cgroup``. The per-process readers of ``proc`` and ``cpu_stat`` read the real ``/proc``
(they are on the harness sampler's path, and their tests read fixture files directly).
"""

from __future__ import annotations

from pathlib import Path

HOST_ROOT = Path("/")


def chosen(root: Path | None) -> Path:
    """``root``, or the real one when the caller gave none."""
    return HOST_ROOT if root is None else root
