"""The one leaf that asks the operating system: ``/proc`` and cgroups.

The rest of gilwise asks questions here (``usable_cores()``, a process's peak RSS, the members
of a worker's tree) and never parses a kernel file itself, so a container's CPU quota, a
kernel without ``smaps_rollup`` or a non-Linux host is handled once.

- ``cores``: the cores this process may use (affinity ∩ cgroup CPU quota), the CPU's model;
- ``cgroup``: the CPU quota of this process's cgroup (v2 and v1), read along its cgroup path;
- ``root``: the file root the cgroup and machine readers read under (tests replace it);
- ``cpu_stat``: cumulative busy seconds per core (``/proc/stat`` through a kept-open
  descriptor: the harness sampler reads it at 10 Hz while cells run);
- ``meminfo``: the memory that can be allocated now (``MemAvailable``, capped by the cgroup);
- ``exit_status``: the signal that ended a child and its likely cause (``describe_exit``);
- ``proc``: one process's files (``stat``, ``status``, ``smaps_rollup``, ``task/*``,
  ``cmdline``): CPU times, peak and current RSS, PSS and USS, per-thread CPU, run-queue wait;
- ``tree``: the members of one worker's process tree (its session and its descendants);
- ``interrupts``: a Ctrl-C latch that a swallowed KeyboardInterrupt cannot lose;
- ``lifetime``: helper processes that die with their parent (``PR_SET_PDEATHSIG``), temp
  folders named after their owner's PID and swept once it is dead;
- ``install``: whether gilwise runs from a source checkout or an install, so that a hint names
  ``uv sync`` or ``scripts/`` only where they exist (``checkout_hint``).

A leaf: imports only the standard library (and psutil, lazily, where there is no ``/proc``),
nothing else of gilwise. Harness and advise workers import it under any CPython.
"""

from __future__ import annotations

from .cgroup import cpu_limit
from .cores import affinity_cores, cpu_model, pin_to_cores, usable_cores
from .cpu_stat import CoreBusyCounters
from .exit_status import describe_exit
from .install import checkout_hint, checkout_root, running_from_checkout
from .interrupts import INTERRUPT_POLL_S, interrupts_latched, raise_if_interrupted
from .meminfo import mem_available
from .proc import (
    CLOCK_TICK_S,
    ProcessMemory,
    ThreadTimes,
    command_line,
    current_rss,
    parent_and_session,
    peak_rss,
    process_cpu_s,
    process_memory,
    pss_uss,
    require_process,
    reset_peak_rss,
    runqueue_wait_s,
    thread_times,
)
from .tree import ProcessTree, tree_rss_without_proc

__all__ = [
    "CLOCK_TICK_S",
    "INTERRUPT_POLL_S",
    "CoreBusyCounters",
    "ProcessMemory",
    "ProcessTree",
    "ThreadTimes",
    "affinity_cores",
    "checkout_hint",
    "checkout_root",
    "command_line",
    "cpu_limit",
    "cpu_model",
    "current_rss",
    "describe_exit",
    "interrupts_latched",
    "mem_available",
    "parent_and_session",
    "peak_rss",
    "pin_to_cores",
    "process_cpu_s",
    "process_memory",
    "pss_uss",
    "raise_if_interrupted",
    "require_process",
    "reset_peak_rss",
    "running_from_checkout",
    "runqueue_wait_s",
    "thread_times",
    "tree_rss_without_proc",
    "usable_cores",
]
