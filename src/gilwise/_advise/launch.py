"""Start one advise worker and talk to it on a channel of its own.

The worker runs the user's function, which owns the process's stdout and stderr: it may print
progress dots without a newline, a library may warn, and none of it may be mistaken for what
advise says. So, as the offload workers do, the spec goes in on one pipe and the reply comes
back on another (file descriptors passed to the worker); stdout and stderr together go to a
third pipe, of which only the last :data:`OUTPUT_KEPT_BYTES` are kept, shown trimmed when a call
fails. ``faulthandler`` in the worker writes to a file of advise's own, so a crash names the
signal and the user's frame. The worker runs in its own session and is killed with its whole
process group on a timeout, a Ctrl-C, or when it is done (pool processes it left behind).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import cast

from .._harness.launch import byte_compile_package, kill_group, worker_env
from .._system import INTERRUPT_POLL_S, describe_exit, raise_if_interrupted
from .protocol import AdviseFailure, AdviseFailureKind, AdviseReply, AdviseSpec

WORKER_MODULE = "gilwise._advise.worker"
OUTPUT_KEPT_BYTES = 64 << 10
"""What is kept of a worker's stdout and stderr: a function printing per call prints for ever."""
OUTPUT_SHOWN_LINES = 12
OUTPUT_LINE_CHARS = 200
READ_BYTES = 1 << 16

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<function>\S+)')
_NOT_USERS = re.compile(
    # gilwise's own frames (through the workers' PYTHONPATH link or the install) and the
    # standard library's (ctypes.string_at is Python calling C): the user's frame is below them.
    r"[/\\]gilwise[/\\]_|[/\\]lib[/\\]python3\.\d+t?[/\\](?!site-packages|dist-packages)"
)


class _Exchange:
    """The three pipes of one worker, pumped by one selector until the worker exits."""

    def __init__(self, payload: bytes, spec_w: int, reply_r: int, output_r: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.pending = memoryview(payload)
        self.reply = bytearray()
        self.output = bytearray()
        self.open = 0
        for fd, events in ((spec_w, selectors.EVENT_WRITE), (reply_r, selectors.EVENT_READ)):
            self._register(fd, events)
        self._register(output_r, selectors.EVENT_READ)
        self.spec_w, self.reply_r = spec_w, reply_r

    def _register(self, fd: int, events: int) -> None:
        os.set_blocking(fd, False)
        self.selector.register(fd, events)
        self.open += 1

    def _close(self, fd: int) -> None:
        self.selector.unregister(fd)
        os.close(fd)
        self.open -= 1

    def pump(self, timeout_s: float) -> None:
        for key, _ in self.selector.select(timeout_s):
            fd = key.fd
            if fd == self.spec_w:
                try:
                    self.pending = self.pending[os.write(fd, self.pending) :]
                except BrokenPipeError:
                    self.pending = self.pending[:0]  # the worker died before reading it all
                if not self.pending:
                    self._close(fd)
                continue
            self._drain(fd)

    def _drain(self, fd: int) -> None:
        while True:
            try:
                chunk = os.read(fd, READ_BYTES)
            except BlockingIOError:
                return
            if not chunk:
                self._close(fd)
                return
            if fd == self.reply_r:
                self.reply += chunk
            else:
                self.output += chunk
                del self.output[:-OUTPUT_KEPT_BYTES]

    def finish(self) -> None:
        """After the worker exited: what its pipes still hold (a pool child it left behind may
        keep them open, so end-of-file is not awaited), then close them all."""
        for key in list(self.selector.get_map().values()):
            fd = key.fd
            if fd != self.spec_w:
                self._drain(fd)
            if fd in self.selector.get_map():
                self._close(fd)
        self.selector.close()


def run_advise_worker(
    python: str,
    spec: AdviseSpec,
    timeout_s: float,
    scratch: str,
    on_start: Callable[[int], None] | None = None,
    environment: Mapping[str, str | None] | None = None,
) -> AdviseReply:
    """Run one advise worker to completion; a failure comes back as an :class:`AdviseFailure`
    (``timeout``, ``crash`` with the signal, the user's frame and the output's tail).
    ``scratch``: a folder of this run's own for the worker's fault log.
    ``environment``: variables set in the worker's environment (None: removed)."""
    env = worker_env()
    for name, value in (environment or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    byte_compile_package(python)
    spec_r, spec_w = os.pipe()
    reply_r, reply_w = os.pipe()
    output_r, output_w = os.pipe()
    fault_fd, fault_path = tempfile.mkstemp(prefix="fault-", suffix=".log", dir=scratch)
    os.close(fault_fd)
    try:
        proc = subprocess.Popen(
            [python, "-m", WORKER_MODULE, str(spec_r), str(reply_w), fault_path],
            stdin=subprocess.DEVNULL,
            stdout=output_w,
            stderr=output_w,
            pass_fds=(spec_r, reply_w),
            env=env,
            start_new_session=True,
        )
    except BaseException:
        for fd in (spec_r, spec_w, reply_r, reply_w, output_r, output_w):
            os.close(fd)
        raise
    for fd in (spec_r, reply_w, output_w):  # the worker's ends: its exit is end-of-file here
        os.close(fd)
    exchange = _Exchange(json.dumps(spec).encode(), spec_w, reply_r, output_r)
    try:
        # Inside the try: a Ctrl-C while the watch starts must still kill the worker's group.
        if on_start is not None:
            on_start(proc.pid)
        if not _run_until_exit(proc, exchange, timeout_s):
            return _failure(
                "timeout",
                f"the worker did not finish within {timeout_s:g} s and was killed",
                exchange.output,
            )
    finally:
        kill_group(proc.pid)  # also the pool processes a worker left behind
        proc.wait()
        exchange.finish()
        fault = _read_and_remove(fault_path)
    try:
        reply = cast(AdviseReply, json.loads(exchange.reply)) if exchange.reply else None
    except ValueError:
        reply = None
    if reply is None:
        return _crash(proc.returncode, fault, exchange.output)
    if not reply["ok"]:
        reply["output"] = trimmed_output(exchange.output)
    return reply


def _run_until_exit(proc: subprocess.Popen[bytes], exchange: _Exchange, timeout_s: float) -> bool:
    """Pump the pipes until the worker exits (False: ``timeout_s`` passed first). Stops on a
    latched Ctrl-C (``_system.interrupts``) within :data:`INTERRUPT_POLL_S`."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        raise_if_interrupted()
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if exchange.open == 0:  # every pipe at end-of-file: only the exit is left to see
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(min(INTERRUPT_POLL_S, left))
            continue
        exchange.pump(min(INTERRUPT_POLL_S, left))
    return True


def _read_and_remove(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def trimmed_output(output: bytes | bytearray) -> str:
    """The last :data:`OUTPUT_SHOWN_LINES` lines of what the function printed, each cut short."""
    lines = bytes(output).decode(errors="replace").rstrip().splitlines()[-OUTPUT_SHOWN_LINES:]
    return "\n".join(
        line if len(line) <= OUTPUT_LINE_CHARS else line[: OUTPUT_LINE_CHARS - 1] + "…" for line in lines
    )


def user_frame(fault_log: str) -> str | None:
    """``file:line in function`` of the innermost frame of the user's code in a faulthandler
    dump (most recent call first), past gilwise's frames and the standard library's."""
    for match in _FRAME.finditer(fault_log):
        if not _NOT_USERS.search(match["file"]):
            return f"{match['file']}:{match['line']} in {match['function']}"
    return None


def _crash(code: int | None, fault: str, output: bytes | bytearray) -> AdviseFailure:
    signal_name, cause = describe_exit(code)
    frame = user_frame(fault)
    where = f" in {frame}" if frame else ""
    how = f"the worker died of {signal_name}" if signal_name else "the worker ended without a reply"
    failed = _failure("crash", f"{how}{where}: {cause}", output)
    if fault:
        failed["fault"] = fault
    return failed


def _failure(kind: AdviseFailureKind, error: str, output: bytes | bytearray) -> AdviseFailure:
    return {"ok": False, "kind": kind, "error": error, "output": trimmed_output(output)}
