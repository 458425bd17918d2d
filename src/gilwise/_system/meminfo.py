"""The machine's memory as the kernel counts it (``/proc/meminfo``) and this cgroup's limit.

``MemAvailable`` is the kernel's own estimate of what can be allocated without swapping
(free pages plus reclaimable caches): "how many copies of this call fit at once" asks it.
Inside a container whose cgroup caps memory below it, the cap's headroom is the answer.
"""

from __future__ import annotations

from pathlib import Path

from .root import chosen

# cgroup v2 (the container's own root), then v1: the limit and what is charged against it.
_CGROUP_LIMITS = (
    ("sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory.current"),
    ("sys/fs/cgroup/memory/memory.limit_in_bytes", "sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


def _number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None  # "max" (v2) means no limit


def mem_available(root: Path | None = None) -> int | None:
    """Bytes that can be allocated now without swapping: MemAvailable, capped by the cgroup's
    limit less its usage; None where the kernel does not say (non-Linux)."""
    base = chosen(root)
    available = None
    try:
        for line in (base / "proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        return None
    for limit_file, usage_file in _CGROUP_LIMITS:
        limit, usage = _number(base / limit_file), _number(base / usage_file)
        if limit is not None and usage is not None and available is not None:
            available = min(available, max(0, limit - usage))
            break
    return available
