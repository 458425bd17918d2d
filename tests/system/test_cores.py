"""``usable_cores()``: the affinity set capped by the cgroup CPU quota, under a fake file root."""

from __future__ import annotations

from pathlib import Path

import pytest

from gilwise._system import cpu_limit, usable_cores
from gilwise._system import root as system_root

EIGHT = range(8)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_no_cgroup_files_means_no_quota(tmp_path: Path) -> None:
    assert cpu_limit(tmp_path) is None
    assert usable_cores(tmp_path, EIGHT) == 8


def test_v2_cpu_max_caps_the_affinity_set_rounded_up(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "150000 100000\n"})
    assert cpu_limit(root) == pytest.approx(1.5)
    assert usable_cores(root, EIGHT) == 2
    assert usable_cores(root, range(1)) == 1  # the quota only lowers the count


def test_v2_max_is_no_quota(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n"})
    assert cpu_limit(root) is None
    assert usable_cores(root, EIGHT) == 8


def test_v2_the_tightest_level_of_a_nested_cgroup_path_wins(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/system.slice/app.service/worker\n",
            "sys/fs/cgroup/system.slice/cpu.max": "300000 100000\n",  # 3 CPUs for the slice
            "sys/fs/cgroup/system.slice/app.service/cpu.max": "max 100000\n",
            "sys/fs/cgroup/system.slice/app.service/worker/cpu.max": "250000 50000\n",  # 5 CPUs
        },
    )
    assert cpu_limit(root) == pytest.approx(3.0)
    assert usable_cores(root, EIGHT) == 3


def test_v2_a_path_the_mount_does_not_show_falls_back_to_the_mount_root(tmp_path: Path) -> None:
    # A container that mounts only its own cgroup while /proc/self/cgroup shows the host's path.
    root = _tree(
        tmp_path, {"proc/self/cgroup": "0::/docker/0123abcd\n", "sys/fs/cgroup/cpu.max": "200000 100000\n"}
    )
    assert usable_cores(root, EIGHT) == 2


def test_a_path_outside_the_cgroup_namespace_never_leaves_the_mount(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "proc/self/cgroup": "0::/../../escaped\n",
            "sys/fs/cgroup/cpu.max": "400000 100000\n",
            "sys/escaped/cpu.max": "100000 100000\n",  # what "/sys/fs/cgroup/../../escaped" names
        },
    )
    assert cpu_limit(root) == pytest.approx(4.0)


def test_a_small_quota_still_leaves_one_core(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"sys/fs/cgroup/cpu.max": "10000 100000\n"})
    assert cpu_limit(root) == pytest.approx(0.1)
    assert usable_cores(root, EIGHT) == 1


def _v1(root: Path, cgroup: str, mount: str, quota_us: dict[str, int]) -> Path:
    """A cgroup v1 cpu controller mounted at ``mount``: ``quota_us`` per level (period 0.1 s)."""
    files = {"proc/self/cgroup": cgroup}
    for level, quota in quota_us.items():
        files[f"{mount}/{level}/cpu.cfs_quota_us".replace("//", "/")] = f"{quota}\n"
        files[f"{mount}/{level}/cpu.cfs_period_us".replace("//", "/")] = "100000\n"
    return _tree(root, files)


def test_v1_cfs_quota_along_the_cpu_controller_path(tmp_path: Path) -> None:
    cgroup = "5:memory:/other\n4:cpu,cpuacct:/kubepods/pod1\n0::/\n"
    root = _v1(tmp_path, cgroup, "sys/fs/cgroup/cpu,cpuacct", {"": -1, "kubepods/pod1": 350000})
    assert cpu_limit(root) == pytest.approx(3.5)
    assert usable_cores(root, EIGHT) == 4


def test_v1_minus_one_is_no_quota(tmp_path: Path) -> None:
    root = _v1(tmp_path, "1:cpu:/\n", "sys/fs/cgroup/cpu", {"": -1})
    assert cpu_limit(root) is None
    assert usable_cores(root, EIGHT) == 8


def test_unreadable_or_malformed_files_are_no_quota(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"proc/self/cgroup": "garbage\n", "sys/fs/cgroup/cpu.max": "lots 0\n"})
    assert cpu_limit(root) is None


def test_the_host_root_is_read_at_each_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path, {"sys/fs/cgroup/cpu.max": "100000 100000\n"})
    monkeypatch.setattr(system_root, "HOST_ROOT", root)
    assert cpu_limit() == pytest.approx(1.0)
    assert usable_cores() == 1
