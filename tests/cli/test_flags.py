"""The library names parameters, the CLI names flags: one table between them (``_cli/flags``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import gilwise
from gilwise._cli.flags import FLAG_OF_PARAMETER, usage_message
from gilwise._exceptions import UsageError
from gilwise.cli import main

SRC = Path(gilwise.__file__).resolve().parent


def test_a_parameter_becomes_its_flag_with_the_value() -> None:
    error = UsageError("must be a positive number of seconds", parameter="budget_s", value=-1.0)
    assert str(error) == "budget_s=-1.0: must be a positive number of seconds"
    assert usage_message(error) == "--budget -1: must be a positive number of seconds"


def test_a_parameter_named_in_the_fix_becomes_its_flag_too() -> None:
    error = UsageError("pass `token` T, or use `gilwise doctor`", parameter="host", value="0.0.0.0")
    assert usage_message(error) == "--host 0.0.0.0: pass --token T, or use `gilwise doctor`"


def test_an_error_without_a_known_parameter_keeps_its_words() -> None:
    assert usage_message(UsageError("no such run")) == "no such run"
    assert usage_message(UsageError("must be at least 1", parameter="io_threads", value=0)) == (
        "io_threads=0: must be at least 1"
    )


def test_the_cli_prints_the_flag_of_a_library_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--url", "http://127.0.0.1:1/", "--mix", "/health=x"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--mix /health=x: the weight in '/health=x' is not a number" in err


def _named_parameters() -> set[tuple[str, str]]:
    """(module, parameter) of every ``UsageError(..., parameter="...")`` outside the offload
    library, whose parameters are keywords of its public API rather than of a command."""
    found = set()
    for path in SRC.rglob("*.py"):
        if "_offload" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "parameter" and isinstance(keyword.value, ast.Constant):
                        found.add((str(path.relative_to(SRC)), str(keyword.value.value)))
    return found


def test_every_parameter_the_library_names_has_a_flag() -> None:
    named = _named_parameters()
    assert named, "the scan found no UsageError(parameter=...) at all: it is broken"
    missing = {(module, name) for module, name in named if name not in FLAG_OF_PARAMETER}
    assert not missing, f"add these to FLAG_OF_PARAMETER in _cli/flags.py: {sorted(missing)}"


_FLAG = re.compile(r"(?<![\w`-])--[a-z][\w-]*")
"""A flag in running text; one inside a quoted command (`uv sync --extra dask`) is a command
the user types, not the name of a setting."""


def test_no_library_usage_error_spells_a_flag() -> None:
    # Outside _cli/, a UsageError's message names parameters; the CLI adds the flag.
    offenders = set()
    for path in SRC.rglob("*.py"):
        if "_cli" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (
                isinstance(node, ast.Call) and getattr(node.func, "id", None) == "UsageError" and node.args
            ):
                continue
            text = "".join(
                str(part.value)
                for part in ast.walk(node.args[0])
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
            )
            for flag in _FLAG.findall(re.sub(r"`[^`]*`", "", text)):
                offenders.add((path.relative_to(SRC).as_posix(), flag))
    assert offenders == set()
