"""The worker process of the offload engine, and the wire format both sides share.

This module runs inside worker processes that may be any CPython (3.11-3.14, GIL or
free-threaded) with nothing but the standard library, so it imports nothing from gilwise.
The parent imports it normally; a worker loads it by file path (see ``BOOTSTRAP``).

Wire format: one frame per message, ``<IIq`` (meta length, body length, task id), then ``meta`` (a
pickled tuple of shared-memory segment descriptors, empty when there are none), then ``body``
(pickle protocol 5). Buffers of at least ``threshold`` bytes that pickle hands out of band
(NumPy arrays, ``PickleBuffer``) travel through a ``/dev/shm`` segment instead of the pipe.

Messages, parent -> worker: ``(CALL, tid, fn, args, kwargs, bytes_at)``,
``(CHUNK, tid, fn, [args, ...])`` (``fn(*args)`` each), ``(CHUNK1, tid, fn, [item, ...])``
(``fn(item)`` each), ``(STOP,)``. Worker -> parent: ``(READY, pid, version)``,
``(tid, status, value, cpu_s, wall_s)``. A frame crosses in one ``os.write`` and, below
``READ_AHEAD`` bytes, one ``os.read`` on each side.

The worker's board (``BOARD_SLOTS`` unsigned 64-bit integers in a ``/dev/shm`` segment the
parent creates): slot ``READ_SLOT`` counts the requests the worker has read (the parent knows
whether a dead worker had its task), slot ``SPIN_SLOT`` is the worker's spin budget in
microseconds, written by the parent (see ``serve``).
"""

from __future__ import annotations

import contextlib
import faulthandler
import mmap
import os
import pickle
import select
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

CALL, CHUNK, STOP, CHUNK1 = 0, 1, 2, 4
READY = "ready"  # a string, so it never equals a task id
OK, RAISED, BAD_RESULT, BAD_TASK = 0, 1, 2, 3
HEADER = struct.Struct("<IIq")
SHM_DIR = "/dev/shm"
DEFAULT_THRESHOLD = 256 * 1024
BOOTSTRAPPING = False
READ_AHEAD = 64 * 1024
"""Bytes one read asks for: a small frame arrives whole in one system call."""
BOARD_SLOTS, READ_SLOT, SPIN_SLOT = 2, 0, 1
BOARD_BYTES = 8 * BOARD_SLOTS

GROUP_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Ctrl-C in a terminal and a service manager's stop (``kill -TERM -PGID``, systemd's
control-group kill): signals that reach the workers and the zygote together with the pool's
process."""

# A worker loads this file by path, so the module never depends on gilwise being importable.
BOOTSTRAP = (
    "import importlib.util as u,sys;"
    "s=u.spec_from_file_location('_gilwise_offload_worker',sys.argv[1]);"
    "m=u.module_from_spec(s);sys.modules[s.name]=m;s.loader.exec_module(m);m.main(sys.argv[2:])"
)


class Segment:
    """A named ``/dev/shm`` segment mapped into this process (the creator unlinks it).

    ``nbytes`` is the payload; a recycled segment may be larger (``capacity``). ``home``, when
    set, takes the segment back for reuse instead of unlinking it (see ``_shm.SegmentCache``).
    """

    __slots__ = ("buf", "capacity", "home", "name", "nbytes")

    def __init__(self, name: str, nbytes: int, *, create: bool, writable: bool = True) -> None:
        self.home: Any = None
        path = os.path.join(SHM_DIR, name)
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL if create else os.O_RDONLY
        if writable and not create:
            flags = os.O_RDWR
        fd = os.open(path, flags, 0o600)
        try:
            if create:
                os.ftruncate(fd, nbytes)
            access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
            self.buf: mmap.mmap | None = mmap.mmap(fd, nbytes, access=access) if nbytes else None
        except BaseException:
            os.close(fd)
            if create:
                os.unlink(path)
            raise
        os.close(fd)
        self.name, self.nbytes, self.capacity = name, nbytes, nbytes

    def view(self) -> memoryview:
        return memoryview(self.buf)[: self.nbytes] if self.buf is not None else memoryview(b"")

    def unlink(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(SHM_DIR, self.name))

    def close(self) -> None:
        """Unmap when nothing borrows the memory any more; a live view keeps it mapped."""
        if self.buf is not None:
            # A returned array may still point into it; the mapping then dies with the array.
            with contextlib.suppress(BufferError):
                self.buf.close()


class Encoder:
    """Pickles messages, moving big out-of-band buffers into fresh shared-memory segments."""

    def __init__(
        self,
        prefix: str,
        threshold: int = DEFAULT_THRESHOLD,
        alloc: Callable[[int], Segment] | None = None,
    ) -> None:
        self.prefix, self.threshold, self._n = prefix, threshold, 0
        self.alloc = alloc or self._fresh

    def _fresh(self, nbytes: int) -> Segment:
        self._n += 1
        return Segment(f"{self.prefix}-{self._n}", nbytes, create=True)

    def encode(self, obj: object, tid: int = -1) -> tuple[bytes, list[Segment]]:
        big: list[pickle.PickleBuffer] = []

        def keep_in_band(pb: pickle.PickleBuffer) -> bool:
            with pb.raw() as raw:
                if raw.nbytes < self.threshold:
                    return True
            big.append(pb)
            return False

        body = pickle.dumps(obj, protocol=5, buffer_callback=keep_in_band)
        segments: list[Segment] = []
        try:
            for pb in big:
                with pb.raw() as raw:
                    seg = self.alloc(raw.nbytes)
                    segments.append(seg)
                    if raw.nbytes:
                        seg.view()[:] = raw
        except BaseException:
            release(segments)
            raise
        meta = pickle.dumps(tuple((s.name, s.nbytes) for s in segments)) if segments else b""
        return HEADER.pack(len(meta), len(body), tid) + meta + body, segments


def release(segments: list[Segment]) -> None:
    for seg in segments:
        if seg.home is not None:
            seg.home.put(seg)
            continue
        seg.unlink()
        seg.close()


def decode(frame: memoryview, *, writable: bool, unlink: bool) -> object:
    """Unpickle one whole frame; out-of-band buffers are mapped, not copied."""
    meta_len, body_len, _ = HEADER.unpack_from(frame)
    start = HEADER.size
    if not meta_len:
        return pickle.loads(frame[start : start + body_len])
    descriptors = pickle.loads(frame[start : start + meta_len])
    segments = [Segment(n, size, create=False, writable=writable) for n, size in descriptors]
    if unlink:
        for seg in segments:
            seg.unlink()
    views = [seg.view() if writable else seg.view().toreadonly() for seg in segments]
    return pickle.loads(frame[start + meta_len : start + meta_len + body_len], buffers=views)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _describe(obj: object) -> str:
    try:
        text = repr(obj)
    except Exception:
        text = object.__repr__(obj)
    return text if len(text) <= 120 else text[:117] + "..."


def _reply_for_exception(tid: int, exc: BaseException, cpu: float, wall: float) -> tuple[Any, ...]:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        blob = pickle.dumps(exc, protocol=5)
        pickle.loads(blob)  # an exception that pickles but cannot be rebuilt is as bad
    except Exception:
        exc = RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
    exc.__traceback__ = None
    exc.__context__ = exc.__cause__ = None
    return (tid, RAISED, (exc, tb), cpu, wall)


def _run(msg: tuple[Any, ...]) -> tuple[Any, ...]:
    kind, tid, fn = msg[0], msg[1], msg[2]
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    try:
        if kind == CALL:
            args, kwargs, bytes_at = msg[3], msg[4], msg[5]
            if bytes_at:
                args = list(args)
                for i in bytes_at:
                    args[i] = bytes(args[i])
            value: object = fn(*args, **kwargs)
        elif kind == CHUNK:
            value = [fn(*args) for args in msg[3]]
        else:
            value = [fn(item) for item in msg[3]]
    except BaseException as exc:  # SystemExit from a task fails the task, not the worker
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
        return _reply_for_exception(tid, exc, cpu, wall)
    return (tid, OK, value, time.thread_time() - cpu0, time.perf_counter() - wall0)


def _send(fd: int, reply: tuple[Any, ...], encoder: Encoder) -> None:
    try:
        frame, segments = encoder.encode(reply, reply[0])
    except Exception as exc:
        if reply[1] == OK:
            what = f"the result {_describe(reply[2])} of type {type(reply[2]).__qualname__}"
        else:
            what = "the exception it raised"
        text = f"{what} cannot be pickled ({type(exc).__name__}: {exc})"
        frame, segments = encoder.encode((reply[0], BAD_RESULT, text, reply[3], reply[4]), reply[0])
    write_all(fd, frame)
    # The parent maps and unlinks result segments; this side only drops its own mapping.
    for seg in segments:
        seg.close()


def is_one_frame(data: bytes) -> bool:
    """Whether ``data`` is exactly one whole frame."""
    if len(data) < HEADER.size:
        return False
    meta_len: int
    body_len: int
    meta_len, body_len, _ = HEADER.unpack_from(data)
    return len(data) == HEADER.size + meta_len + body_len


class FrameReader:
    """Reads whole frames from a pipe: one ``os.read`` of up to ``READ_AHEAD`` bytes holds a
    small frame entire (reading the header, then the body, costs a second system call per
    message); bytes past a frame's end stay for the next one."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buf = bytearray()

    def has_header(self) -> bool:
        """Whether the next frame has begun to arrive (then nothing is to be waited for)."""
        return len(self._buf) >= HEADER.size

    def read(self) -> memoryview | None:
        """The next whole frame; None at end-of-file (the parent went away)."""
        buf = self._buf
        while len(buf) < HEADER.size:
            chunk = os.read(self.fd, READ_AHEAD)
            if not chunk:
                return None
            buf += chunk
        meta_len, body_len, _ = HEADER.unpack_from(buf)
        end = HEADER.size + meta_len + body_len
        if len(buf) == end:
            frame = memoryview(bytes(buf))
            buf.clear()
            return frame
        if len(buf) > end:
            frame = memoryview(bytes(buf[:end]))
            del buf[:end]
            return frame
        # A big frame: read the rest straight into its final place, no growing copies.
        whole = bytearray(end)
        whole[: len(buf)] = buf
        view, got = memoryview(whole), len(buf)
        buf.clear()
        while got < end:
            k = os.readv(self.fd, [view[got:]])
            if k == 0:
                return None
            got += k
        return view


def child(
    req_fd: int,
    rep_fd: int,
    fault_path: str,
    *,
    progress: str,
    prefix: str,
    threshold: int,
    initializer: Callable[..., object] | None,
    initargs: tuple[Any, ...],
) -> None:
    """A worker's life, in a process just forked from the zygote (see ``_zygote``).

    ``progress`` names the worker's board (see the module's docstring): the count of requests
    read tells the parent, if the worker dies, whether the task it was sent had reached it.
    """
    hold_group_stop_signals()
    fault_file = open(fault_path, "w")  # noqa: SIM115 - lives as long as the process
    faulthandler.enable(file=fault_file)
    encoder = Encoder(f"{prefix}-{os.getpid()}", threshold)
    if initializer is not None:
        initializer(*initargs)
    board = Segment(progress, BOARD_BYTES, create=False, writable=True).view().cast("Q")
    write_all(rep_fd, encoder.encode((READY, os.getpid(), sys.version))[0])
    serve(req_fd, rep_fd, encoder, board)


def hold_group_stop_signals() -> None:
    """Leave it to the pool's process to stop this one when a stop signal reaches the group.

    Had the workers died of a group's SIGTERM, the pool would have seen them die before its own
    shutdown began and started replacements (``gilwise serve`` then took ~11 s to stop, its
    replacements waiting on a zygote that had died too). The pool stops them instead: a STOP
    frame, the end of the request pipe when its process dies, SIGKILL for a running task at a
    cancelling shutdown. A SIGTERM sent to the worker alone is held too; SIGKILL still ends it.
    A no-op handler rather than ``SIG_IGN``: ``exec`` keeps an ignored signal ignored, so the
    programs a task runs would inherit it, while it resets a handler to the default.
    """
    for sig in GROUP_STOP_SIGNALS:
        signal.signal(sig, _held)


def _held(signum: int, frame: object) -> None:
    """The pool's process decides (see ``hold_group_stop_signals``)."""


def prepare(prep: dict[str, Any]) -> None:
    """Make the caller's modules importable here: sys.path, cwd and its ``__main__``."""
    import multiprocessing.spawn

    extra = prep.pop("extra_path", None)
    if extra:  # another interpreter: keep its own stdlib, add the caller's own directories
        sys.path[:0] = [p for p in extra if p not in sys.path]
    global BOOTSTRAPPING
    BOOTSTRAPPING = True  # importing the caller's __main__ must not start pools of its own
    try:
        multiprocessing.spawn.prepare(prep)
    finally:
        BOOTSTRAPPING = False


def serve(req_fd: int, rep_fd: int, encoder: Encoder, board: memoryview) -> None:
    """Answer requests until the parent stops this worker or goes away."""
    reader = FrameReader(req_fd)
    spin = AdaptiveSpin(req_fd, board)
    while True:
        frame = reader.read()
        if frame is None:
            return  # the parent went away: exit instead of lingering as an orphan
        spin.request_arrived()
        board[READ_SLOT] += 1
        try:
            msg: Any = decode(frame, writable=False, unlink=False)
        except Exception as exc:
            tid = HEADER.unpack_from(frame)[2]
            text = f"the task could not be loaded in the worker ({type(exc).__name__}: {exc})"
            write_all(rep_fd, encoder.encode((tid, BAD_TASK, text, 0.0, 0.0), tid)[0])
            continue
        del frame
        if msg[0] == STOP:
            return
        reply = _run(msg)
        del msg
        _send(rep_fd, reply, encoder)
        if not reader.has_header():
            spin.wait_awake()


class AdaptiveSpin:
    """Stays awake a little after a reply, polling for the next request without sleeping.

    Why: a caller that got its answer often sends the next task within microseconds, and a
    worker blocked in ``read`` has let its CPU halt; waking a halted vCPU costs an
    inter-processor interrupt and, in a VM, an exit to the hypervisor (tens of µs here).

    Bounded twice. The parent writes the budget on the board, and 0 whenever a spinning
    worker would take a core that a busy worker or the parent itself needs (``WorkerPool``'s
    spin gate). And the worker adapts: each time the next request came later than the budget
    (the spin could not have caught it), the next spin is halved, down to nothing; one that
    came in time restores the whole budget. Sparse traffic thus costs no spinning. Polls with
    a zero timeout and ``sched_yield``, never a sleep: a sleep is the halt this avoids, and a
    yield lets the parent run first where the two share a CPU.
    """

    MAX_HALVINGS = 6

    def __init__(self, fd: int, board: memoryview) -> None:
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)
        self._board = board
        self._halvings = 0
        self._idle_since = 0.0
        self._allowed_us = 0

    def wait_awake(self) -> bool:
        """Spin for the next request; whether it arrived (POLLHUP counts: read says EOF)."""
        self._allowed_us = int(self._board[SPIN_SLOT])
        self._idle_since = now = time.perf_counter()
        budget = self.next_budget_us()
        if budget <= 0:
            return False
        deadline = now + budget * 1e-6
        poll = self._poller.poll
        while not poll(0):
            if time.perf_counter() >= deadline:
                return False
            os.sched_yield()
        return True

    def next_budget_us(self) -> int:
        """The budget of the next spin: the board's, halved once per late request."""
        return int(self._board[SPIN_SLOT]) >> self._halvings

    def request_arrived(self) -> None:
        """Learn from the gap since the last reply whether spinning pays."""
        if not self._idle_since:
            return
        gap_us = (time.perf_counter() - self._idle_since) * 1e6
        self._idle_since = 0.0
        if gap_us <= self._allowed_us:
            self._halvings = 0
        elif self._halvings < self.MAX_HALVINGS:
            self._halvings += 1
