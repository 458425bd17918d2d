"""One worker process seen from the parent: start, frame reading, death diagnosis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from . import _worker

if TYPE_CHECKING:
    from ._task import Task

_WORKER_FILE = _worker.__file__


def preparation_data() -> dict[str, object]:
    """What a worker needs to import the caller's functions: sys.path, cwd and ``__main__``.

    Built by hand rather than by ``multiprocessing.spawn.get_preparation_data``, which would
    fix the caller's multiprocessing start method as a side effect and carry the authkey.
    """
    data: dict[str, object] = {"sys_path": [p or os.getcwd() for p in sys.path]}
    data.update(sys_argv=list(sys.argv), dir=os.getcwd())
    main = sys.modules.get("__main__")
    main_name = getattr(getattr(main, "__spec__", None), "name", None)
    if main_name is not None:
        data["init_main_from_name"] = main_name
    elif isinstance(path := getattr(main, "__file__", None), str):
        data["init_main_from_path"] = os.path.abspath(path)
    return data


class WorkerProcess:
    """A warm worker: a child interpreter plus the two pipes that talk to it.

    The parent writes requests on ``req_fd`` and reads replies from ``rep_fd``; the child
    holds the only write end of the reply pipe, so end-of-file there means the child died.
    """

    def __init__(self, wid: int, python: str, fault_path: str, init_frame: bytes) -> None:
        self.wid, self.fault_path = wid, fault_path
        self.task: Task | None = None
        self.tasks_done = 0
        self.ready = False
        self.killed_for: str | None = None  # why the pool killed it on purpose
        self.retiring = False
        self._buf = bytearray()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        try:
            self.popen = subprocess.Popen(
                [python, "-c", _worker.BOOTSTRAP, _WORKER_FILE, str(req_r), str(rep_w), fault_path],
                pass_fds=(req_r, rep_w),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            for fd in (req_r, req_w, rep_r, rep_w):
                os.close(fd)
            raise
        os.close(req_r)
        os.close(rep_w)
        self.req_fd, self.rep_fd = req_w, rep_r
        self.pid = self.popen.pid
        os.set_blocking(rep_r, False)
        # The init frame fits the pipe buffer unless sys.path is huge; write it blocking.
        with contextlib.suppress(OSError):  # died at start: the reply pipe reports it
            _worker.write_all(req_w, init_frame)

    def send(self, frame: bytes) -> bool:
        """Write a request; False when the worker is already gone (nothing was delivered)."""
        try:
            _worker.write_all(self.req_fd, frame)
        except (BrokenPipeError, OSError):
            return False
        return True

    def read_frames(self) -> list[memoryview] | None:
        """Drain what the reply pipe holds; None at end-of-file (the worker exited)."""
        while True:
            try:
                chunk = os.read(self.rep_fd, 1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                return None
            self._buf += chunk
            if len(chunk) < 1 << 20:
                break
        frames: list[memoryview] = []
        buf, pos, size = self._buf, 0, _worker.HEADER.size
        while len(buf) - pos >= size:
            meta_len, body_len, _ = _worker.HEADER.unpack_from(buf, pos)
            end = pos + size + meta_len + body_len
            if len(buf) < end:
                break
            frames.append(memoryview(bytes(buf[pos:end])))
            pos = end
        if pos:
            del buf[:pos]
        return frames

    def kill(self, reason: str) -> None:
        self.killed_for = self.killed_for or reason
        with contextlib.suppress(ProcessLookupError):
            self.popen.send_signal(signal.SIGKILL)

    def reap(self, timeout: float = 10.0) -> int:
        """Wait for the exit (after EOF it is immediate) and close the pipes."""
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait()
        for fd in (self.req_fd, self.rep_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        return code

    def fault_log(self) -> str:
        try:
            with open(self.fault_path) as f:
                return f.read().strip()
        except OSError:
            return ""


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


def describe_exit(code: int) -> tuple[str | None, str]:
    """(signal name or None, likely cause) of a worker's exit status."""
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
