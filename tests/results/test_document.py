"""The typed result document: files written before the layout change load, render and compare."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from gilwise._exceptions import UsageError
from gilwise._report import (
    render_classic,
    render_group_tables,
    render_interpreter_comparison,
    render_warnings,
)
from gilwise._report.html import write_html
from gilwise._results.document import SCHEMA, build_label, check_document, interpreter_label, read_document
from gilwise._results.history import History
from gilwise.cli import main
from sample_documents import DATA, DEFAULT_QUICK

BEFORE_LAYOUT = DATA / "bench_before_layout.json"
"""`gilwise bench --quick --workload sqrt_log,sha256,http --model serial,threads,processes,cpp-threads`
written by the code of commit 2f9cce0, before the packages moved and the document got its types."""


@pytest.mark.parametrize("path", [BEFORE_LAYOUT, DEFAULT_QUICK], ids=["before-layout", "older-quick"])
def test_an_old_file_loads_renders_and_compares_with_itself(path: Path, tmp_path: Path) -> None:
    document = read_document(path)
    assert document["schema"] == SCHEMA
    out = Console(file=io.StringIO(), width=200, record=True)
    render_group_tables(out, document)
    render_interpreter_comparison(out, document)
    render_classic(out, document)
    render_warnings(out, document)
    text = out.export_text()
    first = document["results"][0]
    assert first["workload"] in text and "speedup [CI]" in text
    assert "C/C++ threads vs Python threads vs multiprocessing" in text
    write_html(tmp_path / "page.html", document)
    assert json.dumps(first["wall_s"]["values"])[:20] in (tmp_path / "page.html").read_text()
    # Old files load and compare: never slower against themselves (3 repeats: inconclusive
    # where a row's spread hides a 5 % slowdown).
    assert main(["compare", str(path), str(path)]) in (0, 3)
    history = History(tmp_path / "h.sqlite")
    run = history.record(document)
    assert history.load(run) == document


def test_a_file_of_another_schema_or_a_broken_row_is_refused_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a gilwise result document"):
        check_document({"schema": "gilwise.doctor/1", "results": []}, "x.json")
    document = json.loads(BEFORE_LAYOUT.read_text())
    del document["results"][2]["wall_s"]
    with pytest.raises(UsageError, match="result row 2 lacks wall_s"):
        check_document(document, "x.json")


def test_one_label_for_a_build() -> None:
    assert build_label("3.14.0", True) == "3.14.0t"
    ref = {"path": "/p", "version": "3.13.5", "gil_enabled": True, "free_threaded": False}
    assert interpreter_label(ref) == "3.13.5"  # type: ignore[arg-type]
