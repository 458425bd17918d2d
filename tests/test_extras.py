"""A lean install: the core runs without any extra, and a missing extra is named with the exact
command that installs it (``gilwise._extras``)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gilwise._exceptions import UsageError
from gilwise._extras import EXTRAS, install_command, missing_modules, require_extra
from gilwise.cli import main

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _name(requirement: str) -> str:
    """``dask[distributed]>=2026.8`` -> ``dask`` (PEP 503 normalised)."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found[0]).lower()


def test_the_table_of_extras_is_pyprojects() -> None:
    optional = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    assert set(optional) == {*EXTRAS, "all"}
    assert optional["all"] == [f"gilwise[{','.join(EXTRAS)}]"]
    providers = importlib.metadata.packages_distributions()
    for extra, modules in EXTRAS.items():
        listed = {_name(r) for r in optional[extra]}
        # what the listed distributions bring along (dask[distributed] brings distributed)
        brought = {_name(r) for d in listed for r in importlib.metadata.requires(d) or []}
        for module in modules:
            distribution = _name(providers[module][0])
            assert distribution in listed | brought, f"{module} ({distribution}) is not in [{extra}]"


def test_a_missing_module_names_the_extra_and_its_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # what the import system says of a missing one
    assert missing_modules("serve") == ["duckdb"]
    with pytest.raises(UsageError) as refused:
        require_extra("serve", "gilwise serve")
    assert str(refused.value) == (
        "gilwise serve needs the optional dependencies of the 'serve' extra, and duckdb is not "
        "installed. Fix: pip install 'gilwise[serve]'"
    )
    require_extra("numpy", "the numpy impl")  # installed: no error
    with pytest.raises(ValueError, match="unknown extra 'webservers'"):
        install_command("webservers")


def test_serve_without_its_extra_exits_2_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)
    assert main(["serve", "--port", "0"]) == 2
    assert "Fix: pip install 'gilwise[serve]'" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("command", ["serve", "serving"])
def test_help_of_a_command_needs_no_extra(
    command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reading what a command does comes before installing what it needs."""
    for module in EXTRAS["serve"]:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert f"usage: gilwise {command}" in capsys.readouterr().out


LEAN = sorted(
    {module for modules in EXTRAS.values() for module in modules}
    # what the extras bring along and the core must not lean on either
    | {"starlette", "pydantic_core", "typing_extensions", "anyio", "httpx", "h11", "pandas", "toolz"}
)


@pytest.fixture
def lean_env(tmp_path: Path, subprocess_env: dict[str, str]) -> dict[str, str]:
    """The environment of a core install: a sitecustomize on PYTHONPATH (imported at start-up by
    every interpreter started with it, harness workers included) makes each module of an extra
    missing, as it is where ``pip install gilwise`` brought only the core."""
    (tmp_path / "sitecustomize.py").write_text(
        f"import sys\nfor _name in {LEAN!r}:\n    sys.modules[_name] = None\n"
    )
    env = dict(subprocess_env)
    env["PYTHONPATH"] = f"{tmp_path}:{env['PYTHONPATH']}"
    return env


def _gilwise(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gilwise", *argv],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        cwd=cwd,
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_core_commands_run_without_any_extra(lean_env: dict[str, str], tmp_path: Path) -> None:
    blocked = _gilwise(lean_env, tmp_path, "serve", "--port", "0")
    assert blocked.returncode == 2 and "pip install 'gilwise[serve]'" in " ".join(blocked.stderr.split())
    assert _gilwise(lean_env, tmp_path, "--help").returncode == 0
    doctor = _gilwise(lean_env, tmp_path, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stderr
    bench = _gilwise(
        lean_env, tmp_path, "bench", "--quick", "--workload", "sqrt_log", "--model", "serial,threads",
        "--impl", "python,numpy", "--workers", "2", "--size", "20000", "--no-history",
        "--json", "run.json", "--html", "run.html",
    )  # fmt: skip
    assert bench.returncode == 0, bench.stderr
    rows = json.loads((tmp_path / "run.json").read_text())["results"]
    assert {r["status"] for r in rows if r["impl"] == "python"} == {"ok"}
    numpy_rows = [r for r in rows if r["impl"] == "numpy"]
    assert numpy_rows and all(r["status"] == "unavailable" for r in numpy_rows)
    assert all("pip install 'gilwise[numpy]'" in r["reason"] for r in numpy_rows)
    report = _gilwise(lean_env, tmp_path, "report", "run.json", "--html", "again.html")
    assert report.returncode == 0, report.stderr
    compared = _gilwise(lean_env, tmp_path, "compare", "run.json", "run.json")
    assert compared.returncode in (0, 3), compared.stderr
    offload = subprocess.run(
        [sys.executable, "-c", OFFLOAD_SCRIPT], capture_output=True, text=True, timeout=120, env=lean_env
    )
    assert (offload.returncode, offload.stdout) == (0, "6\n"), offload.stderr


OFFLOAD_SCRIPT = """
import asyncio, gilwise

async def main():
    async with gilwise.Offloader(workers=1) as off:
        print(await off.run(sum, [1, 2, 3]))

asyncio.run(main())
"""
