"""The server counts cores the way the rest of gilwise does: ``_system.usable_cores()``."""

from __future__ import annotations

from pathlib import Path

import pytest

from gilwise._service.store import EventStore
from gilwise._system import cores as system_cores
from gilwise._system import root as system_root


def test_duckdb_threads_follow_usable_cores_under_a_cgroup_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An 8-core affinity set under a quota of 3 CPUs: DuckDB gets 3 threads, not 8."""
    fake = tmp_path / "root"
    (fake / "proc/self").mkdir(parents=True)
    (fake / "proc/self/cgroup").write_text("0::/app\n")
    (fake / "sys/fs/cgroup/app").mkdir(parents=True)
    (fake / "sys/fs/cgroup/app/cpu.max").write_text("300000 100000\n")
    monkeypatch.setattr(system_root, "HOST_ROOT", fake)
    monkeypatch.setattr(system_cores, "affinity_cores", lambda: list(range(8)))
    store = EventStore(tmp_path / "events.duckdb")
    try:
        assert store._conn.execute("SELECT current_setting('threads')").fetchone() == (3,)
    finally:
        store.close()
