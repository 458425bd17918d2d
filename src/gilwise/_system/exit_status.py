"""What a child process's exit status says: the signal that ended it and its likely cause.

One table for every worker gilwise starts (offload workers, advise probes), so a segfault is
named the same way wherever it happens.
"""

from __future__ import annotations

import signal

_CAUSES = {
    signal.SIGKILL: "it was killed with SIGKILL: by the kernel's out-of-memory killer "
    "(see `dmesg`; the task may need more memory than is free) or by another process (kill -9)",
    signal.SIGSEGV: "a segmentation fault in native code (a C extension, ctypes, or Cython)",
    signal.SIGBUS: "a bus error in native code (often a truncated memory-mapped file)",
    signal.SIGABRT: "native code called abort() (a failed C assertion or a corrupted heap)",
    signal.SIGFPE: "an arithmetic fault in native code (integer division by zero)",
    signal.SIGILL: "an illegal instruction in native code (a build for another CPU)",
    signal.SIGTERM: "another process asked it to terminate (SIGTERM)",
}


def describe_exit(code: int | None) -> tuple[str | None, str]:
    """(signal name or None, likely cause) of a worker's exit status (``Popen.returncode``)."""
    if code is None:
        return None, "its exit status is unknown: the zygote process that reaps it died"
    if code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"signal {-code}", "an unknown signal killed it"
        return sig.name, _CAUSES.get(sig, f"it received {sig.name}")
    return None, (
        f"the process exited with status {code} in the middle of the task: the task (or a "
        "library it called) ran os._exit(), or the interpreter aborted during start-up"
    )
