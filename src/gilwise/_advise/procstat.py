"""Per-thread CPU time of another process, from ``/proc/PID/task/*`` (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .._exceptions import UsageError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ThreadTimes:
    tid: int
    comm: str
    cpu_s: float


def check_pid(pid: int) -> None:
    """A clear usage error when the process does not exist or cannot be read."""
    if pid <= 0:
        raise UsageError("not a process id (a positive whole number)", parameter="pid", value=pid)
    try:
        with open(f"/proc/{pid}/stat") as f:
            f.read()
        os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        raise UsageError(f"no process with PID {pid} (it may have exited); list them with `ps -e`") from None
    except PermissionError:
        raise UsageError(
            f"cannot read /proc/{pid}: permission denied; run advise as the process's user (or root)"
        ) from None


def _fields(text: str) -> list[str]:
    # comm (field 2) is in parentheses and may hold spaces: split after its closing one.
    return text[text.rindex(")") + 2 :].split()


def thread_times(pid: int) -> dict[int, ThreadTimes]:
    """utime + stime of each live thread of ``pid`` (threads that exit meanwhile are skipped)."""
    out: dict[int, ThreadTimes] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for name in tids:
        base = f"/proc/{pid}/task/{name}"
        try:
            with open(f"{base}/stat") as f:
                fields = _fields(f.read())
            with open(f"{base}/comm") as f:
                comm = f.read().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # Fields 14 and 15 (utime, stime) are at 11 and 12 once pid and comm are cut off.
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        out[int(name)] = ThreadTimes(int(name), comm, cpu)
    return out


def process_children_cpu(pid: int) -> float:
    """CPU of the process's waited-for children (cutime + cstime), for a tree total."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = _fields(f.read())
    except FileNotFoundError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return " ".join(p.decode(errors="replace") for p in f.read().split(b"\0") if p)
    except OSError:
        return ""
