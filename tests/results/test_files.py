"""Output files are written atomically and get the permissions the user's umask asks for (a
report shared with others or kept as a CI artifact must be readable by them)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gilwise._results.files import write_json_atomic, write_text_atomic
from gilwise.cli import main
from sample_documents import DEFAULT_QUICK


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_written_file_has_0666_less_the_umask(tmp_path: Path, umask: int) -> None:
    json_path, text_path = tmp_path / "run.json", tmp_path / "page.html"
    write_json_atomic(json_path, {"a": 1})
    write_text_atomic(text_path, "<p>é</p>\n")
    assert _mode(json_path) == _mode(text_path) == 0o666 & ~umask
    assert json.loads(json_path.read_text()) == {"a": 1}
    assert text_path.read_text(encoding="utf-8") == "<p>é</p>\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html", "run.json"]  # no staging file


def test_the_commands_output_files_follow_the_umask(tmp_path: Path, umask: int) -> None:
    html, compared = tmp_path / "report.html", tmp_path / "compare.json"
    assert main(["report", str(DEFAULT_QUICK), "--html", str(html)]) == 0
    assert main(["compare", str(DEFAULT_QUICK), str(DEFAULT_QUICK), "--json", str(compared)]) in (0, 3)
    assert _mode(html) == _mode(compared) == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_leaves_no_staging_file(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    target.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(target, "half written, then a lone surrogate: \ud800")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]
