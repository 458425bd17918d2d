"""Fixtures: a real Dask cluster (scheduler + 2 workers, separate processes) per module or per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dask_test_cluster import RunningCluster, start_cluster


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCluster]:
    """One scheduler + 2 workers shared by a module's tests; stopped and reaped at its end."""
    cluster = start_cluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")  # set up before the per-test leftover check takes its snapshot
def resource_tracker() -> None:
    """A LocalCluster spawns its workers with multiprocessing, which starts this process's
    resource tracker once and keeps it to the end: start it before the leftover check looks."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


@pytest.fixture
def fresh_dask_cluster(tmp_path: Path) -> Iterator[RunningCluster]:
    """A cluster of its own for a test that kills a worker: the nanny starts a replacement,
    a new child process, which must be gone before the per-test leftover check runs."""
    cluster = start_cluster(tmp_path)
    try:
        yield cluster
    finally:
        cluster.stop()
