"""CPython's generic executor tests, run against ``gilwise.Executor``.

Builds the test classes from CPython's own mixins, as ``create_executor_tests`` does for
ThreadPoolExecutor and ProcessPoolExecutor: ExecutorTest, WaitTests, AsCompletedTests,
ExecutorShutdownTest, plus FutureTests (the Future class the executor hands out).
"""

from __future__ import annotations

import logging
import unittest
from typing import Any

import pytest

import gilwise

try:
    from cpython_cf_tests import executor as cf_executor
    from cpython_cf_tests import test_as_completed, test_future, test_shutdown, test_wait, util
except ImportError as exc:  # pragma: no cover - depends on the machine
    pytest.skip(f"CPython's executor tests are not available: {exc}", allow_module_level=True)

pytestmark = pytest.mark.timeout(120)

# Each test excluded, and why. None is excluded for how gilwise behaves (no generic test
# asserts BrokenProcessPool-forever); all three start a child
# interpreter with `-I` that runs `from concurrent.futures import {executor_type.__name__}`
# and imports `test.test_concurrent_futures`, so they can only ever test an executor that
# lives in concurrent.futures on a CPython that ships the package. tests/offload/
# test_offload_executor.py checks the same three behaviours with gilwise.Executor.
EXCLUDED = {
    "test_interpreter_shutdown": (
        "script imports the executor by name from concurrent.futures; see "
        "test_offload_executor.py::test_interpreter_exit_drains_pending_work"
    ),
    "test_submit_after_interpreter_shutdown": (
        "script imports the executor by name from concurrent.futures; see "
        "test_offload_executor.py::test_submit_after_interpreter_shutdown_raises"
    ),
    "test_hang_gh83386": (
        "script imports the executor by name from concurrent.futures; see "
        "test_offload_executor.py::test_shutdown_without_wait_does_not_hang_at_exit"
    ),
}


class GilwiseExecutorMixin(util.ExecutorMixin):
    executor_type = gilwise.Executor


def _build(mixin: type, name: str) -> type:
    namespace: dict[str, Any] = {"__module__": __name__, "__qualname__": name}
    for test, reason in EXCLUDED.items():
        if hasattr(mixin, test):
            namespace[test] = unittest.skip(reason)(lambda self: None)
    return type(name, (mixin, GilwiseExecutorMixin, util.BaseTestCase), namespace)


GilwiseExecutorTest = _build(cf_executor.ExecutorTest, "GilwiseExecutorTest")
GilwiseWaitTest = _build(test_wait.WaitTests, "GilwiseWaitTest")
GilwiseAsCompletedTest = _build(test_as_completed.AsCompletedTests, "GilwiseAsCompletedTest")
GilwiseShutdownTest = _build(test_shutdown.ExecutorShutdownTest, "GilwiseShutdownTest")


class FutureTests(test_future.FutureTests):
    """Run as under plain unittest: with pytest's log handlers on the root logger, the
    logging module's last-resort handler stays silent, yet test_done_callback_raises* read
    the callback's error from stderr. The handlers are put back after each test."""

    def setUp(self) -> None:
        self._handlers = logging.root.handlers[:]
        logging.root.handlers.clear()
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        logging.root.handlers[:] = self._handlers
