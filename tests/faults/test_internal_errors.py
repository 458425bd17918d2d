"""A bug of gilwise's own ends in one line naming the file its traceback was written to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gilwise._cli import history as history_command
from gilwise.cli import main


def test_an_internal_error_is_one_line_and_a_trace_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"")

    class Broken:
        @classmethod
        def for_reading(cls, path: Path) -> None:
            raise RuntimeError("a bug planted by the test")

    monkeypatch.setattr(history_command, "History", Broken)
    assert main(["history", "--history", str(path)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "Traceback" not in err
    found = re.search(
        r"internal error \(RuntimeError: a bug planted by the test\); the full trace is in (\S+):", err
    )
    assert found, err
    trace = Path(found.group(1))
    try:
        assert "Traceback" in trace.read_text() and "a bug planted by the test" in trace.read_text()
    finally:
        trace.unlink()
