"""One process's files under ``/proc``: CPU times, memory, threads, command line (Linux).

Bytes are parsed, not text: the harness sampler reads ``status`` and ``smaps_rollup`` of a
worker's tree while cells run, paced to spend at most 0.2 % of a core, and a decode per read
is work nobody needs. Every reader answers None (or nothing) for a process that has exited or
a kernel without the file; ``require_process`` is the one that raises, for a caller that must
say why it cannot look.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

CLOCK_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
"""Seconds per clock tick, the unit of the CPU times in ``/proc/PID/stat``."""

Pid = int | str
"""A process id, or "self"."""


@dataclass(frozen=True)
class ProcessMemory:
    """One process's memory in bytes."""

    peak_rss: int
    """The kernel's high-water mark (VmHWM): a peak freed before the read is still in it."""
    rss: int
    pss: int | None
    """None where the kernel has no smaps_rollup (non-Linux, very old kernels)."""
    uss: int | None


def stat_fields(data: bytes) -> list[bytes]:
    """The fields of a ``stat`` file after pid and comm: field N of proc(5) is at N - 3.

    comm (field 2) is in parentheses and may hold spaces and parentheses: split after the last
    closing one."""
    return data[data.rindex(b")") + 2 :].split()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def parent_and_session(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a process; None once it has gone."""
    data = _read(f"/proc/{pid}/stat")
    if data is None:
        return None
    fields = stat_fields(data)  # state ppid pgrp session ...
    return int(fields[1]), int(fields[3])


def process_cpu_s(pid: Pid = "self") -> float | None:
    """User + system CPU seconds of a process (all its threads); None once it has gone."""
    data = _read(f"/proc/{pid}/stat")
    if data is None:
        return _cpu_without_proc(pid)
    fields = stat_fields(data)  # utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) * CLOCK_TICK_S


def _cpu_without_proc(pid: Pid) -> float | None:
    if os.path.isdir("/proc/self"):
        return None  # a /proc without this pid: the process has gone
    import psutil  # no /proc (macOS): the orchestrator and the service have psutil

    try:
        times = psutil.Process(None if pid == "self" else int(pid)).cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def status_kib(data: bytes, key: bytes) -> int | None:
    """A ``status`` line's value in bytes (``key`` with its colon, e.g. b"VmHWM:")."""
    at = data.find(key)
    if at < 0:
        return None
    return int(data[at + len(key) : data.index(b"\n", at)].split()[0]) * 1024


def peak_rss(pid: Pid) -> int | None:
    """The kernel's high-water mark of one process's RSS (VmHWM): no peak falls between reads."""
    data = _read(f"/proc/{pid}/status")
    return None if data is None else status_kib(data, b"VmHWM:")


_ROLLUP_FIELDS = {b"Pss:": "pss", b"Private_Clean:": "uss", b"Private_Dirty:": "uss"}


def rollup_pss_uss(data: bytes) -> tuple[int, int]:
    """(PSS, USS) in bytes from the text of ``smaps_rollup``: PSS shares a page among the
    processes mapping it (fork's copy-on-write pages count once), USS is what a process alone
    holds (its private pages, clean and dirty)."""
    found = {"pss": 0, "uss": 0}
    for line in data.split(b"\n")[1:]:
        key = _ROLLUP_FIELDS.get(line.split(b" ", 1)[0])
        if key is not None:
            found[key] += int(line.split()[1]) * 1024
    return found["pss"], found["uss"]


def pss_uss(pid: Pid) -> tuple[int, int] | None:
    """(PSS, USS) of one process in bytes (the read's cost grows with the memory it walks)."""
    data = _read(f"/proc/{pid}/smaps_rollup")
    return None if data is None else rollup_pss_uss(data)


def process_memory(pid: Pid = "self") -> ProcessMemory | None:
    """Peak and current RSS, PSS and USS of one process; None without ``/proc``."""
    status = _read(f"/proc/{pid}/status")
    if status is None:
        return None
    peak, rss = status_kib(status, b"VmHWM:"), status_kib(status, b"VmRSS:")
    if peak is None or rss is None:
        return None
    shares = pss_uss(pid)
    return ProcessMemory(peak, rss, *(shares if shares is not None else (None, None)))


def require_process(pid: int) -> None:
    """Raise what the kernel says (FileNotFoundError: no such process; PermissionError: not
    ours to read) when ``pid``'s stat and threads cannot be read."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        f.read()
    os.listdir(f"/proc/{pid}/task")


@dataclass(frozen=True)
class ThreadTimes:
    """One thread's CPU time so far (user + system, in seconds)."""

    tid: int
    comm: str
    """Its name as the kernel keeps it (15 bytes at most)."""
    cpu_s: float


def thread_times(pid: Pid) -> dict[int, ThreadTimes]:
    """utime + stime of each live thread of ``pid`` (threads that exit meanwhile are skipped)."""
    out: dict[int, ThreadTimes] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for name in tids:
        stat = _read(f"/proc/{pid}/task/{name}/stat")
        comm = _read(f"/proc/{pid}/task/{name}/comm")
        if stat is None or comm is None:
            continue
        fields = stat_fields(stat)
        cpu = (int(fields[11]) + int(fields[12])) * CLOCK_TICK_S
        out[int(name)] = ThreadTimes(int(name), comm.decode(errors="replace").strip(), cpu)
    return out


def runqueue_wait_s(pid: Pid = "self") -> float:
    """Seconds a process's threads have waited for a core (``task/*/schedstat``; 0 elsewhere).

    On a busy machine a CPU-bound call's wall time exceeds its CPU time by this wait: it
    wanted a core, it was not waiting on I/O, and more threads would not overlap it."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return total / 1e9


def command_line(pid: Pid) -> str:
    """The process's arguments joined by spaces ("" once it has gone or where it is hidden)."""
    data = _read(f"/proc/{pid}/cmdline")
    if data is None:
        return ""
    return " ".join(p.decode(errors="replace") for p in data.split(b"\0") if p)


def reset_peak_rss() -> bool:
    """Set this process's high-water mark (VmHWM) back to its current RSS, so the next read of
    :func:`peak_rss` is the peak since now (``/proc/self/clear_refs``, value 5, Linux ≥ 4.0).
    False where the kernel refuses: a peak then includes everything before."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def current_rss(pid: Pid = "self") -> int | None:
    """VmRSS: the resident memory of one process now."""
    data = _read(f"/proc/{pid}/status")
    return None if data is None else status_kib(data, b"VmRSS:")
