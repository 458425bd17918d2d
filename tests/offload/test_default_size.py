"""The pool's default size is ``usable_cores()``: a container's CPU quota caps the affinity set.

In a container limited to 1.5 CPUs on an 8-core host, ``Offloader()`` and ``Executor()`` with no
``workers=`` start 2 worker processes, not 8 that would take turns on 1.5 CPUs. The cgroup
files come from a fake root (``_system.root.HOST_ROOT``) and the 8 cores from ``_system``'s
affinity reader, so the test means the same on any machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gilwise import Executor, Offloader
from gilwise._system import cores as system_cores
from gilwise._system import root as system_root

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaks")]


def _container(root: Path, cpu_max: str) -> Path:
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text("0::/\n")
    (root / "sys/fs/cgroup").mkdir(parents=True)
    (root / "sys/fs/cgroup/cpu.max").write_text(cpu_max + "\n")
    return root


@pytest.fixture(params=[("150000 100000", 2), ("300000 100000", 3), ("max 100000", 8)], ids=str)
def expected_workers(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """An 8-core affinity set under a cgroup quota of 1.5 CPUs, 3 CPUs, or none."""
    cpu_max, workers = request.param
    monkeypatch.setattr(system_root, "HOST_ROOT", _container(tmp_path, cpu_max))
    monkeypatch.setattr(system_cores, "affinity_cores", lambda: list(range(8)))
    return int(workers)


def test_executor_without_workers_starts_one_per_usable_core(expected_workers: int) -> None:
    with Executor(route="cpu") as ex:
        assert ex.submit(sum, [1, 2, 3]).result(timeout=30) == 6
        stats = ex.statistics()
    assert stats.workers == expected_workers


def test_offloader_without_workers_starts_one_per_usable_core(expected_workers: int) -> None:
    async def main() -> int:
        async with Offloader() as off:
            assert await off.run(sum, [1, 2, 3]) == 6
            return off.statistics().workers

    assert asyncio.run(main()) == expected_workers
