"""The top level of the CLI: --version, ``python -m gilwise``, each command's own usage, and a
start that imports only the command being run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gilwise
from gilwise._cli.app import COMMANDS, command_parser
from gilwise.cli import main

COMMAND_NAMES = [command.name for command in COMMANDS]


def test_version_prints_the_version_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"gilwise {gilwise.__version__}\n"


def test_python_dash_m_gilwise_is_the_command(subprocess_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gilwise", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env,
    )
    assert (proc.returncode, proc.stdout) == (0, f"gilwise {gilwise.__version__}\n"), proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "gilwise", "history", "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: gilwise history ")  # not the script's file name


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_a_bad_flag_prints_that_commands_usage_and_exits_2(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([name, "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: gilwise {name} "), err
    # "unrecognized arguments: --bogus", or first a missing positional (report RESULT)
    assert "gilwise: error: " in err


def test_the_top_level_lists_every_command_with_its_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # argparse would break "self-contained" at its hyphen
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for command in COMMANDS:
        assert f"{command.name} {command.summary}" in out


def test_every_command_module_adds_the_parser_of_its_name() -> None:
    for name in COMMAND_NAMES:
        parser = command_parser(name)
        assert parser.prog == f"gilwise {name}"
        assert callable(parser.get_default("handler"))


HEAVY = ("rich", "numpy", "duckdb", "fastapi", "uvicorn", "pydantic", "plotly", "dask", "psutil")


def _modules_loaded_by(code: str, env: dict[str, str]) -> list[str]:
    """The modules a fresh interpreter holds after ``code`` (which may exit through argparse)."""
    script = (
        "import json, sys\n"
        f"try:\n    {code}\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.__stderr__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    return list(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_help_and_version_import_no_command_and_no_third_party_package(
    subprocess_env: dict[str, str],
) -> None:
    for argv in (["--help"], ["--version"]):
        loaded = _modules_loaded_by(f"from gilwise.cli import main; main({argv!r})", subprocess_env)
        commands = [m for m in loaded if m.removeprefix("gilwise._cli.") in COMMAND_NAMES]
        heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
        assert (commands, heavy) == ([], []), argv


def test_only_serve_loads_the_serve_stack(subprocess_env: dict[str, str]) -> None:
    # Each core command's parser (its module and what that imports at the top), all in one
    # interpreter: if none of them loads the serve extra's packages, no one of them does.
    core = [command.name for command in COMMANDS if command.extra is None]  # serve, serving: extras
    code = f"from gilwise._cli.app import command_parser; [command_parser(n) for n in {core!r}]"
    loaded = _modules_loaded_by(code, subprocess_env)
    serve_stack = ("numpy", "duckdb", "fastapi", "uvicorn", "pydantic", "plotly", "starlette")
    assert [m for m in loaded if m.split(".")[0] in serve_stack] == []
    load_generator = {"gilwise._service.loadgen", "gilwise._service.load_client"}  # stdlib only
    assert [m for m in loaded if m.startswith("gilwise._service.") and m not in load_generator] == []
