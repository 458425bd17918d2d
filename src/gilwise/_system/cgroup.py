"""This process's cgroup CPU quota (v2 and v1).

A limit may sit on any level of the process's cgroup path (a container's own cgroup, a systemd
slice above it), so every level from the process's cgroup up to the mount is read and the
tightest quota wins. The path comes from ``/proc/self/cgroup``; where the mount shows a
different view (a cgroup namespace: the path reads ``/``; or a container that mounts only its
own cgroup), the levels that do not exist are skipped and the mount's root is still read.

``cpu_limit`` takes ``root``, the file system root the kernel's files are read under, so tests
lay out a fake ``proc/self/cgroup`` and ``sys/fs/cgroup`` in a temporary folder (None: the
real root, ``root.HOST_ROOT``).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from .root import chosen

_V2_MOUNT = "sys/fs/cgroup"
_V1_CPU_MOUNTS = ("sys/fs/cgroup/cpu", "sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpuacct,cpu")


def cpu_limit(root: Path | None = None) -> float | None:
    """CPUs the cgroup quota allows this process (1.5 = one and a half cores); None: no quota.

    cgroup v2 ``cpu.max`` ("QUOTA PERIOD", or "max PERIOD" for none) and v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1 for none), the tightest along the path."""
    root = chosen(root)
    paths = _cgroup_paths(root)
    limits = [
        limit
        for level in _levels(root / _V2_MOUNT, paths.get("", "/"))
        if (limit := _v2_cpu_max(level / "cpu.max")) is not None
    ]
    v1_path = paths.get("cpu", "/")
    for mount in _V1_CPU_MOUNTS:
        for level in _levels(root / mount, v1_path):
            limit = _v1_cfs_quota(level)
            if limit is not None:
                limits.append(limit)
    return min(limits) if limits else None


def _cgroup_paths(root: Path) -> dict[str, str]:
    """This process's cgroup path per v1 controller, and under "" its v2 (unified) path."""
    try:
        text = (root / "proc/self/cgroup").read_text()
    except OSError:
        return {}
    paths: dict[str, str] = {}
    for line in text.splitlines():
        # "0::/user.slice/app.scope" (v2), "4:cpu,cpuacct:/docker/abc" (v1)
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _levels(mount: Path, cgroup_path: str) -> list[Path]:
    """The directories of a cgroup path under its mount, deepest first, the mount's root last."""
    parts = PurePosixPath("/", cgroup_path.strip()).parts[1:]
    if ".." in parts:  # a cgroup outside this namespace's root: only the mount's root is ours
        parts = ()
    return [mount.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _v2_cpu_max(path: Path) -> float | None:
    try:
        quota, period = path.read_text().split()[:2]
        return None if quota == "max" or int(period) <= 0 else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_cfs_quota(level: Path) -> float | None:
    try:
        quota_us = int((level / "cpu.cfs_quota_us").read_text())
        period_us = int((level / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us
