"""The zygote: a single-threaded process that forks the pool's workers on request.

Why: a fresh interpreter per worker costs ~50-100 ms of CPU (start-up, re-importing the
caller's ``__main__``); ``ProcessPoolExecutor``'s default on Linux before 3.14 forks the
parent instead, which is fast but unsafe once the parent runs threads. The zygote gets both:
it is made once per pool, either forked from the parent while the parent has a single thread
(so every worker sees the parent as it was when the pool was created) or started as a fresh
interpreter that imports ``__main__`` once; then each worker, first ones and replacements
alike, is a fork of the zygote, which has no other thread: a few milliseconds and no
fork-with-threads hazard.

Protocol (stdlib-only: it may run under any CPython). Control socket: the parent sends a
request (``<H`` length + fault-log path, NUL, progress-counter segment name); the zygote
forks and answers with the child's pid and the parent ends of its two pipes (``SCM_RIGHTS``).
An empty request is the goodbye of a pool closing in order; the socket ending without one
means the pool's process died, and the zygote removes the pool's segments and fault logs.
Exit socket: the zygote reaps its children and reports ``<ii`` (pid, exit status as
``Popen.returncode`` spells it).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import sys
import traceback
from typing import Any, NoReturn

try:
    from . import _worker
except ImportError:  # loaded by file path in a fresh interpreter: no package around it
    _worker = sys.modules["_gilwise_offload_worker"]

REQUEST = struct.Struct("<H")
GOODBYE = REQUEST.pack(0)
"""The pool closes in order (a request is never empty)."""
EXIT = struct.Struct("<ii")
PID = struct.Struct("<i")

# Started as a fresh interpreter: load the worker module, then this one, both by path.
BOOTSTRAP = (
    "import importlib.util as u,sys\n"
    "def load(name,path):\n"
    " s=u.spec_from_file_location(name,path);m=u.module_from_spec(s);sys.modules[name]=m\n"
    " s.loader.exec_module(m);return m\n"
    "load('_gilwise_offload_worker',sys.argv[1])\n"
    "load('_gilwise_offload_zygote',sys.argv[2]).main(sys.argv[3:])\n"
)


def main(argv: list[str]) -> None:
    """Entry point of a zygote started as a fresh interpreter: ``argv`` = the two socket fds."""
    ctl = socket.socket(fileno=int(argv[0]))
    exits = socket.socket(fileno=int(argv[1]))
    _worker.hold_group_stop_signals()
    header = _recv_exact(ctl, _worker.HEADER.size)
    if header is None:
        os._exit(0)
    meta_len, body_len, _ = _worker.HEADER.unpack(header)
    rest = _recv_exact(ctl, meta_len + body_len) or b""
    init: Any = _worker.decode(memoryview(header + rest), writable=False, unlink=False)
    prep, prefix, threshold, initializer, initargs = init
    _worker.prepare(prep)
    serve(ctl, exits, (prefix, threshold, initializer, initargs))


def serve(ctl: socket.socket, exits: socket.socket, init: tuple[Any, ...]) -> NoReturn:
    """Fork a worker per request, report every child's exit; return never (``os._exit``)."""
    # A zygote forked from the caller inherits its Python signal handlers (an event loop's,
    # a web server's); they belong to objects that do not run here.
    for sig in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, TypeError):
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_DFL)
    # The pool stops the zygote (its goodbye, or the end of the control socket), not a stop
    # signal sent to the whole group: dead, it could fork no replacement nor report an exit.
    _worker.hold_group_stop_signals()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    orderly = False
    fault_dirs: set[str] = set()
    try:
        while True:
            ready, _, _ = select.select([ctl.fileno(), wake_r], [], [])
            if wake_r in ready:
                while True:
                    try:
                        if not os.read(wake_r, 512):
                            break
                    except BlockingIOError:
                        break
                _reap(children, exits, block=False)
            if ctl.fileno() in ready:
                head = _recv_exact(ctl, REQUEST.size)
                if head is None or head == GOODBYE:
                    orderly = head is not None
                    break  # the pool closed (or its process died): wait for the workers, go
                request = (_recv_exact(ctl, REQUEST.unpack(head)[0]) or b"").decode()
                fault_dirs.add(os.path.dirname(request.split("\0")[0]))
                pid = _fork_worker(ctl, exits, (wake_r, wake_w), request, init)
                children.add(pid)
        _reap(children, exits, block=True)
        if not orderly:  # the pool's process died (SIGKILL, OOM): nobody else will clean up
            _remove_leftovers(init[0], fault_dirs)
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(0)


def _fork_worker(
    ctl: socket.socket,
    exits: socket.socket,
    wake: tuple[int, int],
    request: str,
    init: tuple[Any, ...],
) -> int:
    fault_path, progress = request.split("\0")
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (req_w, rep_r, *wake):
                os.close(fd)
            ctl.close()
            exits.close()
            prefix, threshold, initializer, initargs = init
            _worker.child(
                req_r,
                rep_w,
                fault_path,
                progress=progress,
                prefix=prefix,
                threshold=threshold,
                initializer=initializer,
                initargs=initargs,
            )
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)
    try:
        socket.send_fds(ctl, [PID.pack(pid)], [req_w, rep_r])
    finally:
        for fd in (req_r, req_w, rep_r, rep_w):
            os.close(fd)
    return pid


def _remove_leftovers(prefix: str, fault_dirs: set[str]) -> None:
    """The shared-memory segments and fault logs of a pool whose process died without closing
    it (SIGKILL, OOM kill): every worker has exited by now, so none of them is in use."""
    for name in os.listdir(_worker.SHM_DIR):
        if name.startswith(prefix + "-"):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(_worker.SHM_DIR, name))
    for folder in fault_dirs:
        with contextlib.suppress(OSError):
            for name in os.listdir(folder):
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)


def _reap(children: set[int], exits: socket.socket, *, block: bool) -> None:
    # Not `while children`: a worker can exit before its pid is added to the set.
    while children or not block:
        try:
            pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        with contextlib.suppress(OSError):  # the pool is gone: nobody is listening
            exits.sendall(EXIT.pack(pid, os.waitstatus_to_exitcode(status)))


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except InterruptedError:
            continue
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)
