"""The terminal output reads at any width: 80, 100, 120 and 160 columns, piped and on a terminal.

No figure is cut (no "…" anywhere), no line is wider than the console, every model is named in
full or through the legend printed under its table, and every speedup of the document appears
exactly as the headline accessor gives it (``fmt.speedup_ci`` reads ``_results.headline``).
"""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from gilwise._cli.bench import render_bench
from gilwise._report import fmt
from gilwise._report.terminal import MODEL_ABBREVIATIONS
from gilwise._results.document import ResultDocument
from gilwise.cli import main
from sample_documents import DATA

WIDTHS = (80, 100, 120, 160)
DOCUMENTS = ("bench_headline.json", "bench_default_quick.json", "bench_before_layout.json")
FREE_THREADED = {
    "path": "/opt/cpython-3.13.5t/bin/python3.13t",
    "version": "3.13.5",
    "free_threaded": True,
    "gil_enabled": False,
}
RENAMED = {"processes": "processes-forkserver", "asyncio": "interpreters"}
"""Long model names on the second interpreter, so that a narrow console abbreviates them."""


def _load(name: str) -> ResultDocument:
    document: ResultDocument = json.loads((DATA / name).read_text())
    return document


def _two_interpreters() -> ResultDocument:
    """bench_headline.json's records, again under a free-threaded build with long model names:
    titles that carry paths, the interpreter comparison, and the legend of abbreviations."""
    document = _load("bench_headline.json")
    second = copy.deepcopy(document["results"])
    for rec in second:
        rec["interpreter"].update(FREE_THREADED)  # type: ignore[typeddict-item]
        rec["model"] = RENAMED.get(rec["model"], rec["model"])
    document["results"] = document["results"] + second
    return document


def _render(document: ResultDocument, width: int, terminal: bool) -> str:
    """What ``gilwise bench`` prints, stdout and stderr, as the user sees it (styles dropped)."""
    out = Console(width=width, force_terminal=terminal, record=True, file=io.StringIO())
    err = Console(width=width, force_terminal=terminal, record=True, file=io.StringIO())
    render_bench(document, out, err)
    return out.export_text() + err.export_text()


def _documents() -> list[tuple[str, ResultDocument]]:
    return [(name, _load(name)) for name in DOCUMENTS] + [("two interpreters", _two_interpreters())]


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "pty"])
@pytest.mark.parametrize("width", WIDTHS)
def test_every_figure_whole_and_every_line_within_the_width(width: int, terminal: bool) -> None:
    for name, document in _documents():
        text = _render(document, width, terminal)
        assert "…" not in text, f"{name} at {width}: a cut cell"
        for line in text.splitlines():
            assert cell_len(line) <= width, f"{name} at {width}: {line!r}"
        measured = [r for r in document["results"] if r["status"] == "ok" and r.get("rounds")]
        for rec in measured:
            speedup = fmt.speedup_ci(rec)
            # On one line, as the accessor formats it: never wrapped, never cut.
            assert speedup in text, f"{name} at {width}: {rec['model']}×{rec['workers']} {speedup}"
        for model in {r["model"] for r in document["results"]}:
            named = re.search(rf"(?<![\w-]){re.escape(model)}(?![\w-])", text)
            short = MODEL_ABBREVIATIONS.get(model)
            legend = short is not None and f"{short} = {model}" in text
            assert named or legend, f"{name} at {width}: model {model} is neither named nor in a legend"


def test_a_narrow_console_abbreviates_long_model_names_and_explains_them_once() -> None:
    text = _render(_two_interpreters(), 80, terminal=False)
    for long in RENAMED.values():
        assert text.count(f"{MODEL_ABBREVIATIONS[long]} = {long}") == 1
    assert "Not shown at this width:" in text and "--wide" in text
    wide = _render(_two_interpreters(), 10_000, terminal=False)
    assert "Not shown at this width" not in wide and " = processes-forkserver" not in wide
    for header in ("start-up", "dispatch (/task)", "USS/worker", "ns/iter", "other load", "CPU-s", "effic."):
        assert header in wide


def _no_cut_number(text: str) -> None:
    assert not re.search(r"\d…|…\d", text) and "…" not in text


def _report_piped(cmd: list[str], env: dict[str, str]) -> str:
    argv = [*cmd, "report", str(DATA / "bench_headline.json")]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_report_piped_honours_columns_80(
    gilwise_cmd: list[str], subprocess_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = _report_piped(gilwise_cmd, {**subprocess_env, "COLUMNS": "80"})
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    _no_cut_number(out)
    # COLUMNS unset: 80, as git and pip do when piped.
    out = _report_piped(gilwise_cmd, {k: v for k, v in subprocess_env.items() if k != "COLUMNS"})
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    # --wide: every column at its natural width, whatever COLUMNS says.
    assert main(["report", str(DATA / "bench_headline.json"), "--wide"]) == 0
    wide = capsys.readouterr().out
    assert "USS/worker" in wide and max(cell_len(line) for line in wide.splitlines()) > 80
    _no_cut_number(wide)


@pytest.mark.timeout(240)
def test_doctor_at_80_prints_every_path_whole(gilwise_cmd: list[str], subprocess_env: dict[str, str]) -> None:
    env = {**subprocess_env, "COLUMNS": "80"}
    found = subprocess.run(
        [*gilwise_cmd, "doctor", "--json"], capture_output=True, text=True, timeout=110, env=env
    )
    assert found.returncode == 0, found.stderr
    paths = [i["path"] for i in json.loads(found.stdout)["interpreters"]]
    proc = subprocess.run([*gilwise_cmd, "doctor"], capture_output=True, text=True, timeout=110, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for line in lines:
        assert cell_len(line) <= 80, line
    assert "…" not in proc.stdout
    # A path longer than the line folds onto the next one; joined again, each is whole.
    joined = "".join(line.strip() for line in lines)
    for path in paths:
        assert path in joined, path
    assert all(Path(path).name in proc.stdout for path in paths)
