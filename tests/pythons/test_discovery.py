"""Interpreter discovery, the GIL state after importing an extension, and the build script."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from _pythons import (
    PYENV,
    ROOT,
    build_gil_test_extension,
    free_threaded_python,
    gil_python,
    gil_twin_python,
)
from gilwise import UsageError
from gilwise._pythons.builds import (
    BUILD_VERSIONS,
    CachedBuild,
    cached_builds,
    default_cache_dir,
    free_threaded_build_path,
    gil_twin_build_path,
)
from gilwise._pythons.discovery import probe, survey, uv_python_dir
from gilwise._pythons.gilstate import gil_after_import

BUILD_SCRIPT = ROOT / "scripts" / "build-free-threaded-python.sh"


def _identity(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def test_discover_lists_the_current_interpreter_once_sorted_by_version() -> None:
    found = survey().interpreters
    assert os.path.realpath(sys.executable) in {os.path.realpath(i.path) for i in found}
    keys = [(i.version_info, i.free_threaded) for i in found]
    assert keys == sorted(keys)
    identities = [_identity(i.path) for i in found]
    assert len(identities) == len(set(identities)), [i.path for i in found]
    for info in found:
        assert info.implementation == "cpython"
        assert info.version_info >= (3, 11, 0)


def test_discover_finds_the_free_threaded_build_with_the_gil_off() -> None:
    ft = free_threaded_python()
    matches = [i for i in survey().interpreters if os.path.samefile(i.path, ft.path)]
    assert len(matches) == 1, "python3, python3.13 and python3.13t of one build are one entry"
    info = matches[0]
    assert info.free_threaded
    assert not info.gil_enabled
    assert info.label.endswith("t")
    # The hard-linked names of one build are reported under the most specific one.
    if ft.path.startswith(os.path.dirname(free_threaded_build_path())):
        assert os.path.basename(info.path) == "python3.13t"


def test_discover_tells_the_free_threaded_build_from_its_gil_twin() -> None:
    ft, twin = free_threaded_python(), gil_twin_python()
    found = {os.path.realpath(i.path): i for i in survey().interpreters}
    ft_info, twin_info = found[os.path.realpath(ft.path)], found[os.path.realpath(twin.path)]
    assert ft_info.version == twin_info.version == "3.13.5"
    assert (ft_info.free_threaded, ft_info.gil_enabled) == (True, False)
    assert (twin_info.free_threaded, twin_info.gil_enabled) == (False, True)
    assert ft_info.soabi != twin_info.soabi, "their extension ABIs differ (cp313t vs cp313)"
    assert (ft_info.label, twin_info.label) == ("3.13.5t", "3.13.5")


def test_discover_finds_pyenv_versions_and_keeps_the_reason_for_old_ones() -> None:
    if not PYENV.is_dir():
        pytest.skip(f"no pyenv versions folder at {PYENV}")
    result = survey()
    found = {os.path.realpath(i.path) for i in result.interpreters}
    for bin_dir in sorted(PYENV.glob("3.1[1-9]*/bin")):
        python = bin_dir / "python3"
        if python.exists():
            assert os.path.realpath(python) in found, python
    old_ones = [*PYENV.glob("3.[0-9].*/bin/python3"), *PYENV.glob("3.10.*/bin/python3")]
    for old in sorted(old_ones):
        skipped = [s for s in result.skipped if os.path.samefile(s.path, old)]
        assert skipped, f"{old} is older than 3.11 and must be listed as skipped"
        assert "older than 3.11" in skipped[0].reason
        assert skipped[0].source == "pyenv"


def _fake_python(directory: Path, name: str, prints: str) -> Path:
    """An executable that answers the version question like a non-CPython or an old one."""
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{prints}'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """Point every discovery source at folders of tmp_path (and nothing else)."""
    dirs = {name: tmp_path / name for name in ("path", "pyenv", "uv", "home", "cache")}
    for d in dirs.values():
        d.mkdir()
    monkeypatch.setenv("PATH", str(dirs["path"]))
    monkeypatch.setenv("PYENV_ROOT", str(dirs["pyenv"]))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(dirs["uv"]))
    monkeypatch.setenv("HOME", str(dirs["home"]))
    monkeypatch.setenv("GILWISE_CACHE", str(dirs["cache"]))
    monkeypatch.delenv("GILWISE_FREE_THREADED_PYTHON", raising=False)
    return dirs


def _link(target: str, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(target, folder / name)


def test_each_discovery_source_is_searched(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    py312, py313 = gil_python(12), gil_python(13)
    ft = free_threaded_python()
    dirs = _isolated_env(monkeypatch, tmp_path)
    _link(py312.path, dirs["pyenv"] / "versions" / "3.12.x" / "bin", "python3.12")
    _link(py313.path, dirs["uv"] / "cpython-3.13.0-linux-x86_64-gnu" / "bin", "python3.13")
    _link(ft.path, dirs["cache"] / "cpython-3.13.5t" / "bin", "python3.13t")
    _fake_python(dirs["path"], "python3", "PyPy 3.10.14")
    _fake_python(dirs["path"], "python3.9", "CPython 3.9.18")

    result = survey()
    by_real = {os.path.realpath(i.path): i for i in result.interpreters}
    sources = {os.path.realpath(p): s for p, s in result.sources.items()}
    assert sources[os.path.realpath(py312.path)] == "pyenv"
    assert sources[os.path.realpath(ft.path)] == "gilwise cache"
    assert by_real[os.path.realpath(ft.path)].free_threaded
    assert sources[os.path.realpath(py313.path)] == "uv"  # read from the folder: uv is not on PATH
    reasons = {os.path.basename(s.path): s.reason for s in result.skipped}
    assert "is not CPython" in reasons["python3"]
    assert "older than 3.11" in reasons["python3.9"]


def test_the_uv_folder_is_read_from_uvs_environment_as_uv_python_dir_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("UV_PYTHON_INSTALL_DIR", raising=False)
    assert uv_python_dir() == str(tmp_path / "home" / ".local" / "share" / "uv" / "python")
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # not absolute: ignored, as XDG says
    assert uv_python_dir() == str(tmp_path / "home" / ".local" / "share" / "uv" / "python")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert uv_python_dir() == str(tmp_path / "data" / "uv" / "python")
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "pythons"))
    assert uv_python_dir() == str(tmp_path / "pythons")


def test_an_explicit_python_that_is_not_usable_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _isolated_env(monkeypatch, tmp_path)
    old = _fake_python(tmp_path, "python3.8", "CPython 3.8.18")
    with pytest.raises(UsageError, match=r"older than 3\.11"):
        survey(extra=(str(old),))
    with pytest.raises(UsageError, match="no such file"):
        survey(extra=(str(tmp_path / "missing" / "python3"),))


def test_an_explicit_python_is_listed_first_by_its_source(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    py312 = gil_python(12)
    _isolated_env(monkeypatch, tmp_path)
    result = survey(extra=(py312.path,))
    assert result.sources[py312.path] == "--python"


# --- GIL state after importing an extension ------------------------------------------------


def test_free_threaded_build_reenables_the_gil_for_an_extension_without_py_mod_gil(
    tmp_path: Path,
) -> None:
    ft = free_threaded_python()
    build_gil_test_extension(ft.path, "gilstate_plain", tmp_path, declare_nogil=False)
    build_gil_test_extension(ft.path, "gilstate_nogil", tmp_path, declare_nogil=True)

    plain = gil_after_import(ft.path, "gilstate_plain", pythonpath=str(tmp_path))
    assert not plain.gil_before
    assert plain.gil_after
    assert plain.reenabled
    assert plain.warning is not None
    assert "gilstate_plain" in plain.warning

    declared = gil_after_import(ft.path, "gilstate_nogil", pythonpath=str(tmp_path))
    assert not declared.gil_before
    assert not declared.gil_after
    assert not declared.reenabled
    assert declared.warning is None

    stdlib = gil_after_import(ft.path, "_decimal")
    assert not stdlib.reenabled


def test_gil_build_reports_the_gil_on_before_and_after(tmp_path: Path) -> None:
    py313 = gil_python(13)
    build_gil_test_extension(py313.path, "gilstate_plain", tmp_path, declare_nogil=False)
    result = gil_after_import(py313.path, "gilstate_plain", pythonpath=str(tmp_path))
    assert result.gil_before
    assert result.gil_after
    assert not result.reenabled


def test_gil_after_import_of_a_missing_module_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="could not import no_such_module_gilwise"):
        gil_after_import(sys.executable, "no_such_module_gilwise")


# --- the build script ----------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["free-threaded", "gil-twin"])
def test_build_script_with_a_working_build_does_nothing_and_prints_its_path(flavour: str) -> None:
    if flavour == "free-threaded":
        info, args = free_threaded_python(), []
        default = Path(default_cache_dir(), "cpython-3.13.5t", "bin", "python3.13t")
    else:
        info, args = gil_twin_python(), ["--gil"]
        default = Path(default_cache_dir(), "cpython-3.13.5", "bin", "python3.13")
    if not default.exists() or not os.path.samefile(default, info.path):
        pytest.skip(f"the interpreter under test is not the script's default build {default}")
    before = os.stat(info.path).st_mtime_ns
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(default)
    assert os.stat(info.path).st_mtime_ns == before
    assert not list(Path(default_cache_dir()).glob("build-cpython-*")), "no build folder left"


def test_build_script_refuses_to_replace_a_folder_it_did_not_make(tmp_path: Path) -> None:
    foreign = tmp_path / "not-ours"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("user data")
    env = dict(os.environ, GILWISE_CACHE=str(tmp_path / "cache"), GILWISE_FT_PREFIX=str(foreign))
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode != 0
    assert "was not made by this script" in proc.stderr
    assert (foreign / "keep.txt").read_text() == "user data"


def test_build_script_and_builds_module_name_the_same_releases() -> None:
    # The script's table: `3.14) PY_VERSION=3.14.10; DEBIAN_SUITE=sid` lines.
    table = dict(re.findall(r"^\s+(3\.\d+)\) PY_VERSION=(\S+);", BUILD_SCRIPT.read_text(), re.M))
    assert table == BUILD_VERSIONS


def test_each_version_has_its_own_cache_folder_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for build in cached_builds():
        monkeypatch.delenv(build.env_variable, raising=False)
    assert free_threaded_build_path("3.14") == str(
        Path(default_cache_dir(), "cpython-3.14.10t", "bin", "python3.14t")
    )
    assert gil_twin_build_path("3.15") == str(
        Path(default_cache_dir(), "cpython-3.15.2", "bin", "python3.15")
    )
    assert CachedBuild("3.14", True).env_variable == "GILWISE_FREE_THREADED_PYTHON_3_14"
    assert CachedBuild("3.13", False).env_variable == "GILWISE_GIL_TWIN_PYTHON"
    assert CachedBuild("3.14", False).build_command == "scripts/build-free-threaded-python.sh 3.14 --gil"
    monkeypatch.setenv("GILWISE_GIL_TWIN_PYTHON_3_14", "/opt/py314")
    assert gil_twin_build_path("3.14") == "/opt/py314"
    with pytest.raises(ValueError, match=r"known: 3\.13, 3\.14, 3\.15"):
        free_threaded_build_path("3.99")


@pytest.mark.parametrize("args", [["3.12"], ["3.14", "--free"], ["--gil", "x"]])
def test_build_script_rejects_unknown_versions_with_the_choices(args: list[str]) -> None:
    proc = subprocess.run(["bash", str(BUILD_SCRIPT), *args], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "VERSION: 3.13 (default), 3.14 or 3.15" in proc.stderr


def test_build_script_without_a_reachable_source_exits_3_and_builds_nothing(tmp_path: Path) -> None:
    # No Debian (an empty PATH dir hides apt-get) and no python.org (curl refuses at once).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id", "flock", "mktemp", "mkdir", "rm", "ls", "dirname", "cat", "sed", "sort"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    (bin_dir / "curl").write_text("#!/bin/sh\necho 'curl: (6) Could not resolve host' >&2\nexit 6\n")
    (bin_dir / "curl").chmod(0o755)
    cache = tmp_path / "cache"
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "GILWISE_CACHE": str(cache)}
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "3.15"], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 3, proc.stderr
    assert "could not fetch the CPython 3.15.2 source" in proc.stderr
    assert "GILWISE_CPYTHON_TARBALL" in proc.stderr
    assert proc.stdout == ""
    assert not (cache / "cpython-3.15.2t").exists()


def test_probe_reports_the_running_interpreter() -> None:
    info = probe(sys.executable)
    assert info.version_info == tuple(sys.version_info[:3])
    assert info.free_threaded == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def test_build_script_rejects_a_source_tarball_with_the_wrong_checksum(tmp_path: Path) -> None:
    fake = tmp_path / "Python-3.13.5.tar.xz"
    fake.write_bytes(b"not the CPython source")
    cache = tmp_path / "cache"
    env = dict(os.environ, GILWISE_CACHE=str(cache), GILWISE_CPYTHON_TARBALL=str(fake))
    env.pop("GILWISE_FT_PREFIX", None)
    proc = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode != 0
    assert "SHA-256" in proc.stderr
    assert proc.stdout == "", "stdout carries the interpreter path only on success"
    assert not (cache / "cpython-3.13.5t").exists()
    assert not list(cache.glob("build-cpython-*")), "the scratch folder is removed on failure"


def test_the_environment_variables_name_builds_outside_the_usual_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ft, twin = free_threaded_python(), gil_twin_python()
    _isolated_env(monkeypatch, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    _link(ft.path, elsewhere, "my-free-threaded-python")
    _link(twin.path, elsewhere, "my-gil-python")
    monkeypatch.setenv("GILWISE_FREE_THREADED_PYTHON", str(elsewhere / "my-free-threaded-python"))
    monkeypatch.setenv("GILWISE_GIL_TWIN_PYTHON", str(elsewhere / "my-gil-python"))
    assert free_threaded_build_path() == str(elsewhere / "my-free-threaded-python")
    result = survey()
    sources = {os.path.realpath(p): s for p, s in result.sources.items()}
    assert sources[os.path.realpath(ft.path)] == "GILWISE_FREE_THREADED_PYTHON"
    assert sources[os.path.realpath(twin.path)] == "GILWISE_GIL_TWIN_PYTHON"
    flags = {os.path.realpath(i.path): i.free_threaded for i in result.interpreters}
    assert flags[os.path.realpath(ft.path)] is True
    assert flags[os.path.realpath(twin.path)] is False
