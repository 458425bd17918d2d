"""One worker process seen from the parent: start, frame reading, death diagnosis."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from typing import TYPE_CHECKING, Any

from . import _worker, _zygote

if TYPE_CHECKING:
    from ._task import Task


def preparation_data(python: str) -> dict[str, object]:
    """What a worker needs to import the caller's functions: sys.path, cwd and ``__main__``.

    Built by hand rather than by ``multiprocessing.spawn.get_preparation_data``, which would
    fix the caller's multiprocessing start method as a side effect and carry the authkey.
    For another interpreter, this one's standard library and site-packages are left out of
    the path, and ``__main__`` is not re-imported (it would pull in this interpreter's
    packages): its functions must then live in importable modules.
    """
    path = [p or os.getcwd() for p in sys.path]
    if python != sys.executable:
        keys = ("stdlib", "platstdlib", "purelib", "platlib")
        own: set[str] = {str(sysconfig.get_path(k)) for k in keys}
        own |= {os.path.dirname(p) for p in own}  # lib-dynload's parent, zip paths
        path = [p for p in path if not any(p == o or p.startswith(o + os.sep) for o in own)]
        path = [p for p in path if not p.endswith(".zip")]
        return {"extra_path": path, "sys_argv": list(sys.argv), "dir": os.getcwd()}
    data: dict[str, object] = {"sys_path": path}
    data.update(sys_argv=list(sys.argv), dir=os.getcwd())
    main = sys.modules.get("__main__")
    main_name = getattr(getattr(main, "__spec__", None), "name", None)
    if main_name is not None:
        data["init_main_from_name"] = main_name
    elif isinstance(main_file := getattr(main, "__file__", None), str):
        data["init_main_from_path"] = os.path.abspath(main_file)
    return data


class Zygote:
    """The parent's handle on the pool's zygote (see ``_zygote``): spawns workers, reports
    their exit statuses. Forked from this process when it has a single thread, otherwise
    (or with another ``python``) started as a fresh interpreter."""

    def __init__(self, python: str, init: tuple[Any, ...], init_frame: bytes) -> None:
        self.ctl, ctl_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.exits, exits_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._codes: dict[int, int] = {}
        self._popen: subprocess.Popen[bytes] | None = None
        self.forked = python == sys.executable and threading.active_count() == 1
        try:
            if self.forked:
                self.pid = os.fork()
                if self.pid == 0:  # the zygote; never returns
                    self.ctl.close()
                    self.exits.close()
                    _zygote.serve(ctl_child, exits_child, init[1:])
            else:
                fds = (ctl_child.fileno(), exits_child.fileno())
                self._popen = subprocess.Popen(
                    [python, "-c", _zygote.BOOTSTRAP, _worker.__file__, _zygote.__file__]
                    + [str(fd) for fd in fds],
                    pass_fds=fds,
                    stdin=subprocess.DEVNULL,
                )
                self.pid = self._popen.pid
                self.ctl.sendall(init_frame)
        finally:
            ctl_child.close()
            exits_child.close()

    def spawn(self, fault_path: str, progress: str) -> tuple[int, int, int]:
        """Fork a worker: (pid, request fd to write, reply fd to read)."""
        path = f"{fault_path}\0{progress}".encode()
        try:
            self.ctl.sendall(_zygote.REQUEST.pack(len(path)) + path)
            msg, fds, _, _ = socket.recv_fds(self.ctl, _zygote.PID.size, 2)
        except OSError:  # reset: it died with our request unread
            msg, fds = b"", []
        if len(msg) != _zygote.PID.size or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            raise OSError(
                "the zygote process that forks the workers died, so no worker could start. "
                "Likely cause: importing the main module failed in a fresh interpreter (see "
                "the traceback above) or the zygote was killed. Fix: make the main module "
                "importable, with its entry point under `if __name__ == '__main__':`."
            )
        return _zygote.PID.unpack(msg)[0], fds[0], fds[1]

    def read_exits(self) -> bool:
        """Drain the exit reports that arrived (call when ``exits`` is readable); False at
        end-of-file, when the zygote is gone."""
        self.exits.setblocking(False)
        alive = True
        try:
            data = b""
            while True:
                try:
                    chunk = self.exits.recv(4096)
                except BlockingIOError:
                    break
                if not chunk:
                    alive = False
                    break
                data += chunk
        finally:
            self.exits.setblocking(True)
        self._store(data)
        return alive

    def exit_code(self, pid: int, timeout: float = 10.0) -> int | None:
        """The worker's exit status, waiting for the zygote's report if it is not here yet."""
        self.exits.settimeout(timeout)
        try:
            while pid not in self._codes:
                chunk = self.exits.recv(_zygote.EXIT.size * 16)
                if not chunk:
                    break
                self._store(chunk)
        except TimeoutError:
            pass
        finally:
            self.exits.settimeout(None)
        return self._codes.pop(pid, None)

    def _store(self, data: bytes) -> None:
        self._pending = getattr(self, "_pending", b"") + data
        size = _zygote.EXIT.size
        while len(self._pending) >= size:
            pid, code = _zygote.EXIT.unpack_from(self._pending)
            self._codes[pid] = code
            self._pending = self._pending[size:]

    def stop(self) -> None:
        """Ask for no more workers: the zygote then reaps the ones alive, reports, and exits."""
        with contextlib.suppress(OSError):
            # The empty request says goodbye: without it, the zygote takes the end of the
            # socket for this process's death and removes the pool's leftovers itself.
            self.ctl.sendall(_zygote.GOODBYE)
            self.ctl.shutdown(socket.SHUT_WR)

    def close(self, timeout: float = 10.0) -> None:
        """Closing the control socket makes the zygote reap its workers and exit."""
        self.stop()
        self.ctl.close()
        if self._popen is not None:
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait()
        else:
            _wait_child(self.pid, timeout)
        self.exits.close()


def _wait_child(pid: int, timeout: float) -> None:
    """Reap child ``pid``, SIGKILLing it after ``timeout``; woken by a pidfd, not a poll loop."""
    deadline = time.monotonic() + timeout
    pidfd = -1
    with contextlib.suppress(OSError, AttributeError):
        pidfd = os.pidfd_open(pid)
    try:
        while os.waitpid(pid, os.WNOHANG)[0] == 0:
            left = deadline - time.monotonic()
            if left <= 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            if pidfd >= 0:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(0.005, left))
    finally:
        if pidfd >= 0:
            os.close(pidfd)


class WorkerProcess:
    """A warm worker: a fork of the zygote plus the two pipes that talk to it.

    The parent writes requests on ``req_fd`` and reads replies from ``rep_fd``; the worker
    holds the only write end of the reply pipe, so end-of-file there means it died.
    """

    def __init__(self, wid: int, zygote: Zygote, fault_path: str, progress: str) -> None:
        self.wid, self.fault_path = wid, fault_path
        self.task: Task | None = None
        self.tasks_done = 0
        self.sent = 0  # requests written; the worker counts those it read in ``progress``
        self.ready = False
        self.killed_for: str | None = None  # why the pool killed it on purpose
        self.retiring = False
        self._buf = bytearray()
        self._io = threading.Lock()  # a send never meets a close (fd numbers get reused)
        self._closed = False
        self._progress = _worker.Segment(progress, _worker.BOARD_BYTES, create=True)
        self._board = self._progress.view().cast("Q")
        self.spin_us = 0  # the spin budget on the worker's board (see WorkerPool's spin gate)
        try:
            self.pid, self.req_fd, self.rep_fd = zygote.spawn(fault_path, progress)
        except BaseException:
            self._board.release()
            _worker.release([self._progress])
            raise
        os.set_blocking(self.rep_fd, False)
        self._reply_poll = select.poll()
        self._reply_poll.register(self.rep_fd, select.POLLIN)

    def reply_waiting(self) -> bool:
        """Whether the reply pipe can be read without waiting (a reply, or end-of-file)."""
        return bool(self._reply_poll.poll(0))

    def requests_read(self) -> int:
        """How many requests the worker had read (valid after it died, too)."""
        return int(self._board[_worker.READ_SLOT])

    def set_spin(self, budget_us: int) -> None:
        """How long the worker may poll for its next request after a reply (0: block at once)."""
        if budget_us != self.spin_us and not self._closed:
            self._board[_worker.SPIN_SLOT] = self.spin_us = budget_us

    def send(self, frame: bytes, task: Task | None = None) -> bool:
        """Write a request; False when the worker is already gone (nothing was delivered)."""
        with self._io:
            if self._closed:
                return False
            try:
                _worker.write_all(self.req_fd, frame)
            except OSError:
                return False
            self.sent += 1
            if task is not None:
                task.sent_as = self.sent
            return True

    def read_frames(self) -> list[memoryview] | None:
        """Drain what the reply pipe holds; None at end-of-file (the worker exited)."""
        # READ_AHEAD, not a megabyte: a read allocates its whole size first, and an
        # allocation that large is an mmap + munmap per call (~14 µs measured here).
        while True:
            try:
                chunk = os.read(self.rep_fd, _worker.READ_AHEAD)
            except BlockingIOError:
                break
            if not chunk:
                return None
            if not self._buf and len(chunk) < _worker.READ_AHEAD and _worker.is_one_frame(chunk):
                return [memoryview(chunk)]  # the usual reply: whole, alone, no copy
            self._buf += chunk
            if len(chunk) < _worker.READ_AHEAD:
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
            os.kill(self.pid, signal.SIGKILL)

    def close(self) -> int:
        """Close the pipes; returns how many requests the worker had read."""
        with self._io:
            if self._closed:
                return 0
            self._closed = True
            read = self.requests_read()
            for fd in (self.req_fd, self.rep_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._board.release()
            _worker.release([self._progress])
            return read

    def fault_log(self) -> str:
        try:
            with open(self.fault_path) as f:
                return f.read().strip()
        except OSError:
            return ""


# cgroup v2 (a container's own root) and v1: the kernel counts the OOM kills it performed.
_OOM_FILES = ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")


def oom_kills() -> tuple[str, int] | None:
    """(file, count of out-of-memory kills in this process's cgroup), if the kernel says."""
    for path in _OOM_FILES:
        try:
            with open(path) as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return path, int(value)
        except (OSError, ValueError):
            continue
    return None


def sigkill_cause(before: tuple[str, int] | None, after: tuple[str, int] | None) -> str | None:
    """Tell an out-of-memory kill from a kill -9, from the cgroup's OOM-kill counter."""
    if before is None or after is None or before[0] != after[0]:
        return None
    if after[1] > before[1]:
        return (
            f"the kernel's out-of-memory killer killed it (oom_kill in {after[0]} rose from "
            f"{before[1]} to {after[1]}): the task needed more memory than this machine or "
            "container allows; lower its memory use, raise the limit, or run fewer workers"
        )
    return (
        "another process killed it with SIGKILL (kill -9); it was not the out-of-memory "
        f"killer, whose counter in {after[0]} did not change"
    )
