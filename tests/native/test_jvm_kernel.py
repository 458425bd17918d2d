"""The JVM kernel: compiled on first use and cached by source hash, answers checked, clear errors."""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import pytest

from gilwise import _native
from gilwise._exceptions import NativeKernelError, NativeKernelUnavailable
from gilwise._native import _jvm

needs_jdk = pytest.mark.skipif(_jvm.unavailable_reason() is not None, reason=str(_jvm.unavailable_reason()))


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GILWISE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@needs_jdk
@pytest.mark.timeout(120)
def test_compiled_once_into_the_cache_keyed_by_the_source_hash(
    fresh_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    classes = _jvm.compiled_classes()
    assert classes.parent == fresh_cache / "jvm"
    built = (classes / "SqrtLog.class").stat().st_mtime_ns
    assert _jvm.compiled_classes() == classes
    assert (classes / "SqrtLog.class").stat().st_mtime_ns == built  # reused, not recompiled
    assert not [p for p in classes.parent.iterdir() if p.name.startswith(".build-")]
    edited = tmp_path / "SqrtLog.java"
    edited.write_text(_jvm.SOURCE.read_text() + "\n// edited\n")
    monkeypatch.setattr(_jvm, "SOURCE", edited)
    assert _jvm.compiled_classes() != classes  # another source, another build


@needs_jdk
@pytest.mark.timeout(120)
def test_a_source_javac_rejects_names_the_compiler_error(
    fresh_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "SqrtLog.java"
    broken.write_text("public final class SqrtLog { oops }\n")
    monkeypatch.setattr(_jvm, "SOURCE", broken)
    with pytest.raises(NativeKernelError, match=r"could not compile .*error"):
        _jvm.compiled_classes()
    assert not list((fresh_cache / "jvm").iterdir())  # no half-built folder left


@needs_jdk
@pytest.mark.timeout(120)
def test_answers_match_the_python_reference_and_java_times_its_compute() -> None:
    with _jvm.JvmSession() as session:
        assert session.startup_s > 0
        for n in (0, 1, 2, 10, 100_003):
            expected = _native.sqrt_log_python(n)
            # One thread: the same operations in the same order as Python's loop.
            assert session.run(n, 1).result == expected
            for threads in (2, 3, 8):
                answer = session.run(n, threads)
                assert math.isclose(answer.result, expected, rel_tol=1e-9), (n, threads)
                assert answer.compute_s >= 0
        assert session.run(2_000_000, 2).compute_s > 0


@needs_jdk
@pytest.mark.timeout(120)
def test_concurrent_callers_share_one_jvm() -> None:
    n = 300_000
    expected = _native.sqrt_log_python(n)
    results: list[float] = []
    with _jvm.JvmSession() as session:
        callers = [
            threading.Thread(target=lambda: results.append(session.run(n, 1).result)) for _ in range(4)
        ]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(60)
    assert results == [expected] * 4


@needs_jdk
@pytest.mark.timeout(60)
def test_bad_requests_and_a_dead_jvm_are_errors_not_hangs() -> None:
    with _jvm.JvmSession() as session:
        with pytest.raises(NativeKernelError, match=r"threads must be in \[1, 1024\]"):
            session.run(10, 0)
        with pytest.raises(NativeKernelError, match=r"n must be in"):
            session.run(2**60, 1)
        assert session.run(10, 1).result == _native.sqrt_log_python(10)  # still usable
        os.kill(session.pid, 9)
        with pytest.raises(NativeKernelError, match=r"exited with status -9|session is closed"):
            session.run(10**9, 1)


def test_without_a_jdk_every_entry_point_says_how_to_install_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    reason = _jvm.unavailable_reason()
    assert reason is not None and "java and javac" in reason
    assert "apt-get install default-jdk-headless" in reason
    assert _native.unavailable_reason("jvm") == reason
    with pytest.raises(NativeKernelUnavailable, match="default-jdk-headless"):
        _jvm.JvmSession()


@needs_jdk
def test_java_home_is_preferred_to_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    for name in ("java", "javac"):
        tool = home / "bin" / name
        tool.write_text("#!/bin/sh\nexit 1\n")
        tool.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(home))
    assert _jvm._tool("javac") == str(home / "bin" / "javac")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "missing"))
    assert _jvm._tool("javac") not in (None, str(home / "bin" / "javac"))


def test_a_missing_source_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_jvm, "SOURCE", tmp_path / "SqrtLog.java")
    reason = _jvm.unavailable_reason()
    assert reason is not None and "SqrtLog.java is missing" in reason and "reinstall" in reason


@needs_jdk
@pytest.mark.timeout(60)
def test_the_shared_jvm_is_replaced_after_it_died() -> None:
    first = _jvm.shared_session()
    try:
        assert _jvm.sqrt_log_jvm(1000) == _native.sqrt_log_python(1000)
        os.kill(first.pid, 9)
        first._process.wait(10)
        assert _jvm.sqrt_log_jvm(1000) == _native.sqrt_log_python(1000)  # a new JVM answered
        assert _jvm.shared_session() is not first
    finally:
        _jvm.shared_session().close()  # this test process must not keep a JVM child
