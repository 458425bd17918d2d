"""``gilwise doctor`` as a user of an installed gilwise meets it: uv-managed Pythons found, and
hints that name only commands that exist there.

The install is simulated for real: the package is copied into a ``site-packages`` folder of
tmp_path (no ``pyproject.toml`` above it, as a wheel leaves it) and run from there, with every
discovery source pointed at folders of tmp_path. ``python -S`` with the environment's
site-packages on PYTHONPATH: the dependencies import, the checkout's editable-install hook (a
``.pth`` file, which would import gilwise from ``src/`` whatever the path says) does not run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from _pythons import SRC, free_threaded_python
from gilwise._pythons.builds import cached_builds

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _isolated_env(tmp_path: Path, pythonpath: str) -> dict[str, str]:
    """Discovery sees the current interpreter and tmp_path's folders only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GILWISE_", "XDG_", "UV_", "PYENV"))}
    for name in ("path", "home", "pyenv", "uv", "cache"):
        (tmp_path / name).mkdir(exist_ok=True)
    env.update(
        PATH=str(tmp_path / "path"),
        HOME=str(tmp_path / "home"),
        PYENV_ROOT=str(tmp_path / "pyenv"),
        UV_PYTHON_INSTALL_DIR=str(tmp_path / "uv"),
        GILWISE_CACHE=str(tmp_path / "cache"),
        PYTHONPATH=str(pythonpath),
        COLUMNS="250",
    )
    return env


def _installed_copy(tmp_path: Path) -> str:
    site = tmp_path / "site-packages"
    shutil.copytree(SRC / "gilwise", site / "gilwise", ignore=shutil.ignore_patterns("__pycache__"))
    return os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]])


def _doctor(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", "-m", "gilwise.cli", "doctor", *extra],
        capture_output=True,
        text=True,
        timeout=150,
        env=env,
        cwd=env["HOME"],
    )


def test_an_installed_doctor_without_a_free_threaded_build_says_uv_python_install(tmp_path: Path) -> None:
    env = _isolated_env(tmp_path, _installed_copy(tmp_path))
    proc = _doctor(env, "--json")
    assert proc.returncode == 0, proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    assert not any(i["free_threaded"] for i in document["interpreters"])
    hint = document["free_threaded_hint"]
    assert hint.startswith("`uv python install 3.14t` (or `pyenv install 3.14t`)"), hint
    assert document["cached_builds"] == []  # nothing makes them outside a checkout
    text = _doctor(env)
    assert text.returncode == 0, text.stderr
    assert "no free-threaded CPython found: `uv python install 3.14t`" in text.stdout
    for checkout_only in ("scripts/", "uv sync", "uv run", "checkout"):
        assert checkout_only not in text.stdout


def test_a_checkout_doctor_lists_the_scripts_builds_and_its_command(tmp_path: Path) -> None:
    proc = _doctor(
        _isolated_env(tmp_path, os.pathsep.join([str(SRC), sysconfig.get_paths()["purelib"]])), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    assert len(document["cached_builds"]) == len(cached_builds())
    assert (
        "(in this gilwise checkout: `scripts/build-free-threaded-python.sh 3.14`)"
        in (document["free_threaded_hint"])
    )


def test_a_uv_managed_free_threaded_python_is_found_without_running_uv(tmp_path: Path) -> None:
    # uv's layout (`uv python dir`): one folder per install, named by version and variant.
    real = free_threaded_python()
    major_minor = ".".join(real.version.split(".")[:2])
    bin_dir = tmp_path / "uv" / f"cpython-{real.version}+freethreaded-linux-x86_64-gnu" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / f"python{major_minor}t").symlink_to(real.path)
    env = _isolated_env(tmp_path, _installed_copy(tmp_path))  # PATH holds no uv to ask
    proc = _doctor(env, "--json")
    assert proc.returncode == 0, proc.stderr
    document: dict[str, Any] = json.loads(proc.stdout)
    found = [i for i in document["interpreters"] if i["free_threaded"]]
    assert [(i["source"], i["path"]) for i in found] == [("uv", str(bin_dir / f"python{major_minor}t"))]
    assert document["free_threaded_hint"] is None
    text = _doctor(env)
    row = next(line for line in text.stdout.splitlines() if line.startswith(f"│ {real.label} "))
    assert [cell.strip() for cell in row.split("│")][3] == "uv", row  # the "found in" column
