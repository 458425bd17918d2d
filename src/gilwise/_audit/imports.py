"""Import one distribution's top-level modules in a fresh child of the target and read what
happened to the GIL.

One child per distribution, because CPython warns only once per process (for the first
module that turns the GIL back on) and a crash must end one check, not the audit. The child
runs isolated (``-I``: no PYTHONPATH, no user site, no ``PYTHON_GIL``) with ``PYTHON_GIL`` and
``PYTHONWARNINGS`` also removed from its environment: with ``PYTHON_GIL=1`` everything would
look fine, and with warnings turned into errors the import raises while the GIL still comes
back on. ``-v`` makes CPython print ``# loading module 'X', which requires the GIL`` for every
such module, where the RuntimeWarning names only the first; the line names the extension
actually loaded, often a private module of the distribution (``greenlet._greenlet``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from .._harness.launch import kill_group

# Runs inside the target interpreter: stdlib only. argv: the top-level modules to import, then
# "--", then the distribution's extension modules, imported after them: an extension that its
# package loads only on first use (``numpy.random._pcg64``, a namespace package's) is loaded too.
_IMPORT_SCRIPT = r"""
import json, sys, traceback, warnings
check = getattr(sys, "_is_gil_enabled", None)
split = sys.argv.index("--")
errors, later, caught = {}, {}, []
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", RuntimeWarning)
    for group, names in ((errors, sys.argv[1:split]), (later, sys.argv[split + 1:])):
        for name in names:
            try:
                __import__(name)
            except BaseException as exc:
                group[name] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
print("\n@@gilwise-audit@@" + json.dumps({
    "gil_enabled": True if check is None else bool(check()),
    "errors": errors,
    "extension_errors": later,
    "warnings": [str(w.message) for w in caught if "GIL" in str(w.message)],
}))
"""
_MARK = "@@gilwise-audit@@"
_GIL_LINE = re.compile(r"^# loading module '([^']+)', which requires the GIL", re.MULTILINE)
_REMOVED = ("PYTHON_GIL", "PYTHONWARNINGS", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONDEVMODE")
"""What the child must not inherit: each would change or hide what the import does."""


@dataclass(frozen=True)
class ImportOutcome:
    """What importing one distribution's modules did in a fresh interpreter."""

    gil_enabled: bool | None
    """After the imports; None when the child gave no answer (crash, hang)."""
    gil_modules: tuple[str, ...]
    errors: dict[str, str]
    """Top-level module → its exception, one line."""
    extension_errors: dict[str, str]
    """Extension module imported on its own → its exception (a private module may need its
    package to load it first: a note, not a failure)."""
    warning: str | None
    signal: int | None
    timed_out: bool
    exit_code: int
    stderr_tail: str
    duration_s: float


_running: set[int] = set()
"""Process groups of the import children now running (several threads start them)."""
_running_lock = threading.Lock()


def stop_running_children() -> None:
    """Kill every import child still running: the audit was interrupted (Ctrl-C) in the main
    thread while other threads wait on theirs."""
    with _running_lock:
        for pid in list(_running):
            kill_group(pid)


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _REMOVED}


def import_in_child(
    python: str, modules: tuple[str, ...], timeout: float, extensions: tuple[str, ...] = ()
) -> ImportOutcome:
    """Import ``modules``, then ``extensions``, under ``python`` in one fresh, isolated child,
    killed after ``timeout``."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [python, "-I", "-v", "-c", _IMPORT_SCRIPT, *modules, "--", *extensions],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env=clean_environment(),
        start_new_session=True,  # a hung import's own children die with it (kill_group)
    )
    with _running_lock:
        _running.add(proc.pid)
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(proc.pid)
        stdout, stderr = proc.communicate()
    except BaseException:
        kill_group(proc.pid)
        proc.communicate()
        raise
    finally:
        kill_group(proc.pid)
        with _running_lock:
            _running.discard(proc.pid)
    duration = time.monotonic() - started
    gil_modules = tuple(dict.fromkeys(_GIL_LINE.findall(stderr)))
    report = stdout.rpartition(_MARK)[2] if _MARK in stdout else ""
    data = json.loads(report.strip().splitlines()[0]) if report.strip() else None
    return ImportOutcome(
        gil_enabled=None if data is None else bool(data["gil_enabled"]),
        gil_modules=gil_modules,
        errors=dict(data["errors"]) if data else {},
        extension_errors=dict(data["extension_errors"]) if data else {},
        warning=data["warnings"][0] if data and data["warnings"] else None,
        signal=-proc.returncode if proc.returncode < 0 and not timed_out else None,
        timed_out=timed_out,
        exit_code=proc.returncode,
        stderr_tail=_not_verbose(stderr)[-400:],
        duration_s=duration,
    )


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _not_verbose(stderr: str) -> str:
    """stderr less ``-v``'s own lines (``# ...``, ``import ...``), for a crash's last words."""
    kept = [
        line
        for line in stderr.splitlines()
        if not line.startswith(("#", "import ", "Python ", "Type ", "[GCC", "[Clang"))
    ]
    return "\n".join(kept).strip()
