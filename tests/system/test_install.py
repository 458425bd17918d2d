"""Whether gilwise runs from a checkout or an install, and the hints that depend on it.

A hint names a command the user has where they run it: ``uv sync`` and ``scripts/`` exist only
in a checkout; an installed gilwise says ``uv python install 3.14t`` or ``pip install``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gilwise._pythons.builds import CachedBuild, free_threaded_hint
from gilwise._system import install
from gilwise._system.install import checkout_hint, checkout_root, running_from_checkout

ROOT = Path(__file__).resolve().parents[2]


def _package(tmp_path: Path, *parts: str, project: str | None = None) -> Path:
    package = tmp_path.joinpath(*parts, "gilwise")
    package.mkdir(parents=True)
    if project is not None:
        (package.parent.parent / "pyproject.toml").write_text(f'[project]\nname = "{project}"\n')
    return package


def test_the_tests_run_from_this_checkout() -> None:
    assert checkout_root() == ROOT
    assert running_from_checkout()


def test_a_package_in_site_packages_is_an_install(tmp_path: Path) -> None:
    site = _package(tmp_path, "venv", "lib", "python3.13", "site-packages")
    assert checkout_root(site) is None


def test_src_layout_counts_only_under_a_pyproject_naming_gilwise(tmp_path: Path) -> None:
    assert checkout_root(_package(tmp_path / "ours", "src", project="gilwise")) == tmp_path / "ours"
    assert checkout_root(_package(tmp_path / "other", "src", project="someone-else")) is None
    assert checkout_root(_package(tmp_path / "bare", "src")) is None
    broken = _package(tmp_path / "broken", "src")
    (broken.parent.parent / "pyproject.toml").write_text("[project\n")
    assert checkout_root(broken) is None


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """This process's gilwise as if it ran from site-packages."""
    monkeypatch.setattr(install, "PACKAGE_DIR", _package(tmp_path, "site-packages"))


@pytest.mark.usefixtures("installed")
def test_an_install_names_no_checkout_command() -> None:
    assert not running_from_checkout()
    assert checkout_hint("uv sync --extra dask") == ""
    hint = free_threaded_hint()
    assert "`uv python install 3.14t` (or `pyenv install 3.14t`)" in hint
    assert "scripts/" not in hint and "checkout" not in hint
    assert CachedBuild("3.14", True).build_command == "uv python install 3.14t"
    assert CachedBuild("3.13", False).build_command == "uv python install 3.13"


def test_a_checkout_adds_its_own_commands() -> None:
    assert checkout_hint("uv sync --extra dask") == " (in this gilwise checkout: `uv sync --extra dask`)"
    hint = free_threaded_hint()
    assert hint.startswith("`uv python install 3.14t`")
    assert "(in this gilwise checkout: `scripts/build-free-threaded-python.sh 3.14`)" in hint
    assert CachedBuild("3.14", True).build_command == "scripts/build-free-threaded-python.sh 3.14"
