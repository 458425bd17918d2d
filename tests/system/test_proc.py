"""``_system``'s readers of ``/proc`` against fixture files, and against this very process."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from gilwise._system import CoreBusyCounters, command_line, process_cpu_s, process_memory, thread_times
from gilwise._system.proc import CLOCK_TICK_S, rollup_pss_uss, stat_fields, status_kib

PROC_STAT = b"""\
cpu  10132153 290696 3084719 46828483 16683 0 25195 175 0 0
cpu0 1393280 32966 572056 13343292 6130 0 17875 100 0 0
cpu1 1335 1 1201 13 5 0 40 75 0 0
cpu2 1000 0 500 100 0 0 0 0 0 0
intr 199292256 36 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0
ctxt 3458763744
btime 1700000000
"""

STATUS = b"""\
Name:\tpython3
Umask:\t0022
State:\tS (sleeping)
Pid:\t4242
VmPeak:\t  812340 kB
VmSize:\t  812300 kB
VmHWM:\t  215040 kB
VmRSS:\t   10240 kB
RssAnon:\t    6144 kB
Threads:\t3
"""

SMAPS_ROLLUP = b"""\
55d0c0a4e000-7ffd5a3f2000 ---p 00000000 00:00 0                          [rollup]
Rss:               10240 kB
Pss:                6000 kB
Pss_Anon:           4000 kB
Pss_File:           2000 kB
Pss_Shmem:             0 kB
Shared_Clean:       4096 kB
Shared_Dirty:          0 kB
Private_Clean:       100 kB
Private_Dirty:      5000 kB
Referenced:        10240 kB
Anonymous:          6144 kB
Swap:                  0 kB
"""

# A comm with a space and a closing parenthesis: the fields start after the last ")".
STAT = b"4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 7 3 20 0 3 0 100 812300 2560\n"


def test_core_busy_counters_sum_user_nice_system_irq_softirq_of_the_chosen_cores(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_bytes(PROC_STAT)
    counters = CoreBusyCounters([2, 1], path=str(stat))
    try:
        busy, steal = counters.read()
    finally:
        counters.close()
    # In the order asked for; iowait and idle are not busy; steal summed over the chosen cores.
    assert busy == pytest.approx(((1000 + 500) * CLOCK_TICK_S, (1335 + 1 + 1201 + 0 + 40) * CLOCK_TICK_S))
    assert steal == pytest.approx((0 + 75) * CLOCK_TICK_S)


def test_core_busy_counters_read_the_file_again_through_the_kept_descriptor(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_bytes(PROC_STAT)
    counters = CoreBusyCounters([0], path=str(stat))
    try:
        first = counters.read()[0][0]
        stat.write_bytes(PROC_STAT.replace(b"cpu0 1393280", b"cpu0 1393380"))  # same inode
        assert counters.read()[0][0] == pytest.approx(first + 100 * CLOCK_TICK_S)
    finally:
        counters.close()


def test_stat_fields_survive_a_comm_with_spaces_and_parentheses() -> None:
    fields = stat_fields(STAT)
    assert fields[0] == b"S" and int(fields[1]) == 1 and int(fields[3]) == 4242  # state ppid .. session
    assert (int(fields[11]), int(fields[12])) == (250, 50)  # utime, stime: fields 14 and 15


def test_status_values_are_bytes_and_a_missing_key_is_none() -> None:
    assert status_kib(STATUS, b"VmHWM:") == 215040 * 1024
    assert status_kib(STATUS, b"VmRSS:") == 10240 * 1024
    assert status_kib(STATUS, b"VmSwap:") is None


def test_rollup_gives_pss_and_private_pages_as_uss() -> None:
    # "Pss:" only (not Pss_Anon / Pss_File); USS = Private_Clean + Private_Dirty.
    assert rollup_pss_uss(SMAPS_ROLLUP) == (6000 * 1024, 5100 * 1024)


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux /proc")
def test_this_process_is_read_whole() -> None:
    memory = process_memory("self")
    assert memory is not None and memory.pss is not None and memory.uss is not None
    assert 0 < memory.uss <= memory.pss <= memory.rss <= memory.peak_rss
    cpu = process_cpu_s(os.getpid())
    assert cpu is not None and cpu > 0
    assert "pytest" in command_line(os.getpid()) or "python" in command_line(os.getpid())


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_thread_times_list_every_live_thread() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="gilwise-test-idle")
    thread.start()
    try:
        times = thread_times(os.getpid())
    finally:
        stop.set()
        thread.join(timeout=10)
    assert os.getpid() in times and thread.native_id in times
    assert all(t.comm and t.cpu_s >= 0 for t in times.values())


def test_a_process_that_has_gone_reads_as_nothing() -> None:
    gone = 2**22 + 1  # above any pid_max
    assert process_memory(gone) is None and thread_times(gone) == {} and command_line(gone) == ""
    if Path("/proc/self").exists():
        assert process_cpu_s(gone) is None
