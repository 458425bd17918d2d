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
``(tid, status, value, cpu_s, wall_s)``.
"""

from __future__ import annotations

import contextlib
import faulthandler
import mmap
import os
import pickle
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


def read_exact(fd: int, n: int) -> bytearray | None:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if k == 0:
            return None
        got += k
    return buf


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


def _read_frame(fd: int) -> memoryview | None:
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    meta_len, body_len, _ = HEADER.unpack(header)
    header.extend(bytes(meta_len + body_len))
    view = memoryview(header)
    got, n = HEADER.size, len(header)
    while got < n:
        k = os.readv(fd, [view[got:]])
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

    ``progress`` names an 8-byte shared counter of the requests this worker has read: if the
    worker dies, the parent knows whether the task it was sent had reached it at all.
    """
    hold_group_stop_signals()
    fault_file = open(fault_path, "w")  # noqa: SIM115 - lives as long as the process
    faulthandler.enable(file=fault_file)
    encoder = Encoder(f"{prefix}-{os.getpid()}", threshold)
    if initializer is not None:
        initializer(*initargs)
    counter = Segment(progress, 8, create=False, writable=True).view().cast("Q")
    write_all(rep_fd, encoder.encode((READY, os.getpid(), sys.version))[0])
    serve(req_fd, rep_fd, encoder, counter)


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


def serve(req_fd: int, rep_fd: int, encoder: Encoder, counter: memoryview) -> None:
    while True:
        frame = _read_frame(req_fd)
        if frame is None:
            return  # the parent went away: exit instead of lingering as an orphan
        counter[0] += 1
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
