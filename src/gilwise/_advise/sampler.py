"""Sample a running Python process's stacks with py-spy: who holds the GIL, in which function.

Two ``py-spy record --nonblocking --threads`` runs at once on the same PID: one with ``--gil``
(only the thread holding the GIL, at each tick) and one with ``--idle`` (every thread at each
tick, which also counts the ticks). py-spy reads the target's memory (ptrace rights needed);
when it is missing or refused, the reason is returned and advise falls back to ``/proc``.
CPython 3.15's ``profiling.sampling`` is the stdlib alternative once that version is here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field

from .._extras import install_command

RATE_HZ = 50
"""Per recorder: two recorders at 50 Hz cost the target little (they do not pause it)."""
_THREAD = re.compile(r"^thread \((\w+)\)(?::\s?(.*))?$")


@dataclass
class ThreadStacks:
    tid: int
    name: str
    gil_samples: int = 0
    samples: int = 0
    gil_leaves: Counter[str] = field(default_factory=Counter)
    leaves: Counter[str] = field(default_factory=Counter)


@dataclass
class Sampled:
    ticks: int
    threads: dict[int, ThreadStacks]
    tool: str


def py_spy_path() -> str | None:
    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return here if os.access(here, os.X_OK) else shutil.which("py-spy")


def _parse(path: str, threads: dict[int, ThreadStacks], gil: bool) -> None:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not stack or not count_text.isdigit():
                continue
            frames = stack.split(";")
            match = _THREAD.match(frames[0])
            if match is None:
                continue
            tid = int(match.group(1), 0) if match.group(1).startswith("0x") else int(match.group(1))
            entry = threads.setdefault(tid, ThreadStacks(tid, (match.group(2) or "").strip()))
            count = int(count_text)
            leaf = frames[-1] if len(frames) > 1 else "(no Python frame)"
            if gil:
                entry.gil_samples += count
                entry.gil_leaves[leaf] += count
            else:
                entry.samples += count
                entry.leaves[leaf] += count


def sample(pid: int, duration_s: float) -> Sampled | str:
    """The samples, or the reason there are none (said to the user, never silently dropped)."""
    tool = py_spy_path()
    if tool is None:
        return f"py-spy is not installed ({install_command('profile')}): no GIL samples, /proc only"
    version = subprocess.run(
        [tool, "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="gilwise-advise-spy-") as folder:
        outputs = {"gil": os.path.join(folder, "gil.txt"), "all": os.path.join(folder, "all.txt")}
        procs = {
            kind: subprocess.Popen(
                [
                    tool,
                    "record",
                    "--pid",
                    str(pid),
                    "--threads",
                    "--nonblocking",
                    "--rate",
                    str(RATE_HZ),
                    "--duration",
                    f"{max(1, round(duration_s))}",
                    "--format",
                    "raw",
                    "--output",
                    out,
                    "--gil" if kind == "gil" else "--idle",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for kind, out in outputs.items()
        }
        logs = {}
        for kind, proc in procs.items():
            try:
                logs[kind] = proc.communicate(timeout=duration_s + 30)[0]
            except subprocess.TimeoutExpired:
                proc.kill()
                logs[kind] = proc.communicate()[0]
        failed = [k for k, p in procs.items() if p.returncode != 0 or not os.path.exists(outputs[k])]
        if failed:
            text = logs[failed[0]].strip().splitlines()
            why = next((ln for ln in text if "rror" in ln or "ermission" in ln), text[-1] if text else "")
            return f"py-spy could not sample PID {pid} ({why.strip()}): no GIL samples, /proc only"
        threads: dict[int, ThreadStacks] = {}
        _parse(outputs["gil"], threads, gil=True)
        _parse(outputs["all"], threads, gil=False)
    ticks = max((t.samples for t in threads.values()), default=0)
    return Sampled(ticks=ticks, threads=threads, tool=version or "py-spy")
