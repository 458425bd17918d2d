"""The sqrt_log kernel on the JVM (the ``jvm`` impl and the ``jvm-threads`` model).

``jvm/SqrtLog.java`` (beside this module) is compiled with ``javac`` on first use into gilwise's
cache (``$GILWISE_CACHE`` or ``~/.cache/gilwise``), in a folder named by the source's SHA-256:
an edited source is recompiled, an unchanged one never is, and concurrent first uses cannot see
a half-written build. A :class:`JvmSession` is one JVM process speaking the line protocol that
SqrtLog.java documents; its start-up (process start → its "ready" line) is timed apart from
compute, which Java times itself with ``System.nanoTime``.

Stdlib only: harness workers import this under any CPython.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import itertools
import os
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .._exceptions import NativeKernelError, NativeKernelUnavailable
from .._pythons.builds import default_cache_dir

SOURCE = Path(__file__).with_name("jvm") / "SqrtLog.java"
MAIN_CLASS = "SqrtLog"
INSTALL_HINT = "apt-get install default-jdk-headless"
# Class files for Java 11: ProcessHandle and String.isBlank need it, and a class compiled by a
# newer javac for its own release would not load in an older java found first on PATH.
JAVA_RELEASE = "11"
COMPILE_TIMEOUT_S = 300.0
READY_TIMEOUT_S = 120.0
CLOSE_TIMEOUT_S = 10.0


def _tool(name: str) -> str | None:
    """``$JAVA_HOME/bin/NAME`` when JAVA_HOME names a JDK that has it, else NAME on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        candidate = Path(home, "bin", name)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def unavailable_reason() -> str | None:
    """None when the source and a JDK (java and javac) are here, else what is missing and the fix."""
    if not SOURCE.is_file():
        return f"the Java kernel's source {SOURCE} is missing: this gilwise install is incomplete; reinstall"
    missing = [name for name in ("java", "javac") if _tool(name) is None]
    if not missing:
        return None
    return (
        f"the JVM kernel needs a JDK: {' and '.join(missing)} not found in $JAVA_HOME/bin or on "
        f"PATH. Install OpenJDK (`{INSTALL_HINT}` on Debian/Ubuntu) or set JAVA_HOME to a JDK."
    )


def _tool_or_raise(name: str) -> str:
    path = _tool(name)
    if path is None:
        raise NativeKernelUnavailable(unavailable_reason() or f"{name} not found")
    return path


def cache_dir() -> Path:
    """Where the compiled classes of this exact source live."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    return Path(default_cache_dir(), "jvm", f"sqrtlog-{digest}")


def compiled_classes() -> Path:
    """The class folder for SqrtLog.java, compiled now when the cache does not have it."""
    target = cache_dir()
    if (target / f"{MAIN_CLASS}.class").is_file():
        return target
    javac = _tool_or_raise("javac")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        done = subprocess.run(
            [javac, "--release", JAVA_RELEASE, "-d", str(staging), str(SOURCE)],
            capture_output=True,
            text=True,
            timeout=COMPILE_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            raise NativeKernelError(
                f"javac ({javac}) could not compile {SOURCE} (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}. A JDK older than {JAVA_RELEASE} "
                f"cannot; install a current one (`{INSTALL_HINT}`)."
            )
        try:
            staging.rename(target)
        except OSError:
            # Another process compiled the same source first: its build is as good as ours.
            if not (target / f"{MAIN_CLASS}.class").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@dataclass(frozen=True)
class JvmAnswer:
    result: float
    compute_s: float
    """Time inside Java (System.nanoTime) from the first thread's start to the last join."""


class JvmSession:
    """One JVM running SqrtLog; :meth:`run` may be called from several threads at once.

    A reader thread routes each reply to its caller by request id, so concurrent callers
    compute in parallel inside the JVM. Close it (or use ``with``): the JVM exits when its
    stdin closes.
    """

    def __init__(self) -> None:
        classes = compiled_classes()
        java = _tool_or_raise("java")
        # A file, not a pipe: nobody reads stderr while the JVM runs, and a full pipe would
        # block it; the tail is read back when the JVM fails.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[JvmAnswer]] = {}
        self._ready = threading.Event()
        self._ready_at = 0.0
        self._failure: str | None = None
        self.owner_pid = os.getpid()
        started = time.perf_counter()
        self._process = subprocess.Popen(
            [java, "-cp", str(classes), MAIN_CLASS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read_replies, name="gilwise-jvm-reader", daemon=True)
        self._reader.start()
        if not self._ready.wait(READY_TIMEOUT_S) or self._failure is not None:
            why = self._failure or f"no 'ready' line within {READY_TIMEOUT_S:.0f} s"
            self.close()
            raise NativeKernelError(f"the JVM ({java}) did not start: {why}")
        self.startup_s = self._ready_at - started
        """Process start until the JVM said it is ready (class loading included)."""

    @property
    def pid(self) -> int:
        return self._process.pid

    def _read_replies(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        for line in stdout:
            if not self._ready.is_set():
                self._ready_at = time.perf_counter()
                if not line.startswith("ready "):
                    self._failure = f"expected 'ready <pid>', got {line.strip()!r}"
                self._ready.set()
                continue
            self._deliver(line.rstrip("\n"))
        self._process.wait()
        status = self._process.returncode
        self._failure = self._failure or f"the JVM exited with status {status}: {self._tail()}"
        self._ready.set()
        with self._lock:
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(NativeKernelError(self._failure))

    def _deliver(self, line: str) -> None:
        ident, _, rest = line.partition(" ")
        with self._lock:
            future = self._pending.pop(int(ident), None) if ident.isdigit() else None
        if future is None:
            # The protocol is broken: end the JVM, so the reader fails every pending call
            # instead of leaving one waiting for a reply that will never come.
            self._failure = f"the JVM sent a reply nobody asked for: {line!r}"
            self._process.kill()
            return
        status, _, body = rest.partition(" ")
        if status == "ok":
            value, _, nanoseconds = body.partition(" ")
            future.set_result(JvmAnswer(float(value), int(nanoseconds) / 1e9))
        else:
            future.set_exception(NativeKernelError(f"the JVM kernel failed: {body}"))

    def _tail(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return text[-2000:] or "(nothing on stderr)"

    def run(self, n: int, threads: int) -> JvmAnswer:
        """sum(sqrt(i) * log(i + 1) for i in range(n)), the range split over ``threads``."""
        future: Future[JvmAnswer] = Future()
        with self._lock:
            if self._failure is not None or self._process.poll() is not None:
                raise NativeKernelError(self._failure or "the JVM session is closed")
            ident = next(self._ids)
            self._pending[ident] = future
            stdin = self._process.stdin
            assert stdin is not None
            try:
                stdin.write(f"{ident} {n} {threads}\n")
                stdin.flush()
            except OSError as exc:  # it died between poll() and the write
                self._pending.pop(ident, None)
                raise NativeKernelError(f"the JVM cannot take requests: {exc}") from exc
        return future.result()

    @property
    def usable(self) -> bool:
        return self._failure is None and self._process.poll() is None

    def close(self) -> None:
        """Close stdin (the JVM finishes what is in flight and exits); kill it if it hangs."""
        if os.getpid() != self.owner_pid:
            return  # a forked child's copy: the JVM is its parent's to close
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
        try:
            self._process.wait(CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(CLOSE_TIMEOUT_S)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> JvmSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: JvmSession | None = None
_shared_lock = threading.Lock()


def shared_session() -> JvmSession:
    """This process's JVM for the ``jvm`` impl, started on first use and closed at exit."""
    global _shared
    with _shared_lock:
        # A forked child inherits the parent's object but not its reader thread: never reuse it.
        # A JVM that died (killed, out of memory) is replaced on the next call, not kept.
        if _shared is None or _shared.owner_pid != os.getpid() or not _shared.usable:
            if _shared is not None and _shared.owner_pid == os.getpid():
                _shared.close()
            _shared = JvmSession()
            atexit.register(_shared.close)
        return _shared


def sqrt_log_jvm(n: int, threads: int = 1) -> float:
    return shared_session().run(n, threads).result
