"""Whether ``advise --pid`` can look at a process: the kernel's answer, as a usage error."""

from __future__ import annotations

from .._exceptions import UsageError
from .._system import require_process


def check_pid(pid: int) -> None:
    """A clear usage error when the process does not exist or cannot be read."""
    if pid <= 0:
        raise UsageError("not a process id (a positive whole number)", parameter="pid", value=pid)
    try:
        require_process(pid)
    except FileNotFoundError:
        raise UsageError(f"no process with PID {pid} (it may have exited); list them with `ps -e`") from None
    except PermissionError:
        raise UsageError(
            f"cannot read /proc/{pid}: permission denied; run advise as the process's user (or root)"
        ) from None
