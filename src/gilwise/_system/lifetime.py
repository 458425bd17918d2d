"""Nothing outlives its owner: helper processes die with their parent, temp folders name theirs.

- :func:`die_with_parent`: a helper process asks Linux to SIGKILL it when its parent dies
  (``PR_SET_PDEATHSIG`` through ``prctl``), a SIGKILL of the parent included, which no
  ``finally`` or ``atexit`` of the parent survives. The signal follows the parent *thread*
  that started the helper, so it is for helpers started from a thread that lives as long as
  the process (the bench's main thread); a helper's own checks cover the rest.
- :func:`owned_temp_dir` / :func:`sweep_stale_temp_dirs`: a temp folder's name carries its
  owner's PID (``gilwise-path-1234-x8f2``); the next run removes the folders whose owner is
  gone, the ones a SIGKILL left behind (with the user's pickled arguments, for advise).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

PR_SET_PDEATHSIG = 1
OWNER_ENV = "GILWISE_OWNER_PID"
"""Set by the process that starts a helper: the helper compares it with its parent after
:func:`die_with_parent`, to catch an owner that died before the request took effect."""

OWNED_PREFIXES = ("gilwise-path-", "gilwise-sqlite-", "gilwise-advise-", "gilwise-demo-", "gilwise-audit-")
"""The temp folders gilwise makes with :func:`owned_temp_dir`, swept by :func:`sweep_stale_temp_dirs`."""

_OWNED = re.compile(r"^(?P<prefix>gilwise-[a-z-]+?-)(?P<pid>\d+)-")


def die_with_parent(owner_pid: int | None = None) -> bool:
    """SIGKILL this process when its parent dies (Linux); exit now if the parent (``owner_pid``,
    else ``$GILWISE_OWNER_PID`` when set) is already gone. Returns whether the kernel took it."""
    taken = False
    if sys.platform == "linux":
        # The process's own symbols (libc among them), not ctypes.util.find_library("c"): that
        # runs ldconfig as a child process, tens of ms in every harness worker, and a child
        # makes a one-process cell look like a pool whose memory must be read mid-compute.
        libc = ctypes.CDLL(None, use_errno=True)
        taken = bool(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    expected = owner_pid if owner_pid is not None else int(os.environ.get(OWNER_ENV, "0") or 0)
    if expected and os.getppid() != expected:
        os._exit(0)  # the owner died before the request above: nobody is left to serve
    return taken


def owner_environment() -> dict[str, str]:
    """What a helper's environment adds so that :func:`die_with_parent` knows its owner."""
    return {OWNER_ENV: str(os.getpid())}


def owned_temp_dir(prefix: str) -> str:
    """``tempfile.mkdtemp`` whose name carries this process's PID (``prefix`` from
    :data:`OWNED_PREFIXES`), so a later run can tell whether its owner still lives."""
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


@contextlib.contextmanager
def owned_temp_directory(prefix: str) -> Iterator[str]:
    """:func:`owned_temp_dir`, removed at the end of the block (``TemporaryDirectory``'s role)."""
    folder = owned_temp_dir(prefix)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_stale_temp_dirs(folder: str | None = None) -> list[Path]:
    """Remove gilwise's temp folders whose owner process is dead; returns what was removed."""
    removed = []
    base = Path(folder or tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            found = _OWNED.match(entry.name)
            if found is None or found["prefix"] not in OWNED_PREFIXES or not entry.is_dir():
                continue
            if _alive(int(found["pid"])):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    with contextlib.suppress(PermissionError):  # another user's process: alive, not ours to judge
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
    return True
