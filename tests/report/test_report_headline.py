"""One headline speedup: every renderer prints the same figure per row, inside its own interval.

Two checked-in documents: ``bench_headline.json``, a real ``gilwise bench --quick --repeats 6``
run written under the headline contract (``speedup`` = median paired ratio, the ratio of medians
as ``speedup_of_medians``), and ``bench_default_quick.json``, written before it (``speedup`` =
ratio of medians). In both, some rows' two figures differ by more than 10 %, so a renderer that
printed the other one would be caught. Each renderer's output is parsed, not searched.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from gilwise._report import render_group_tables
from gilwise._report.classic import classic_rows, render_classic
from gilwise._report.html import render_html
from gilwise._report.html_tables import row_key
from gilwise._report.interpreters import render_interpreter_comparison
from gilwise._report.plots import speedup_chart
from gilwise._results.compare import compare_documents
from gilwise._results.headline import headline_efficiency, headline_interval, headline_speedup
from gilwise.cli import main
from sample_documents import DATA

HEADLINE_DOC = DATA / "bench_headline.json"
"""A real run (4 workloads × serial, threads, processes, asyncio; 6 rounds) on the shared 2-core VM."""
DOCUMENTS = {"headline contract": HEADLINE_DOC, "before it": DATA / "bench_default_quick.json"}

FIGURE = re.compile(r"(?P<figure>\d+\.\d\d)×(?: \[(?P<low>\d+\.\d\d)–(?P<high>\d+\.\d\d)\])?(?: \?)?")
"""``1.67×``, ``1.67× [1.50–1.80]``, ``1.67× [1.50–1.80] ?``, ``1.67× ?``."""

RowId = tuple[str, str, str, int]
"""(workload, impl, model, workers): one row per document here (one interpreter)."""


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _rid(rec: dict[str, Any]) -> RowId:
    return (rec["workload"], rec["impl"], rec["model"], rec["workers"])


def _headlines(doc: dict[str, Any]) -> dict[RowId, str]:
    """What every renderer must print per row: the headline to two decimals."""
    return {_rid(r): f"{headline_speedup(r):.2f}" for r in doc["results"] if r["status"] == "ok"}


def _parse_speedup(text: str) -> tuple[str, tuple[float, float] | None]:
    """A whole cell ``1.67× [1.50–1.80] ?`` as (figure, interval or None)."""
    match = FIGURE.fullmatch(text.strip())
    assert match, f"not a speedup cell: {text!r}"
    low, high = match["low"], match["high"]
    return match["figure"], (float(low), float(high)) if low and high else None


Intervals = dict[RowId, tuple[float, float] | None]


def _check(renderer: str, seen: dict[RowId, str], intervals: Intervals, expected: dict[RowId, str]) -> None:
    """Each figure ``renderer`` showed is the row's headline, inside the interval shown beside it."""
    for rid, figure in seen.items():
        headline = expected[rid]
        assert figure == headline, f"{renderer}, {rid}: shows {figure}×, the headline is {headline}×"
        interval = intervals.get(rid)
        if interval is not None:
            low, high = interval
            assert low <= float(figure) <= high, f"{renderer}, {rid}: {figure}× outside its [{low}–{high}]"


@pytest.fixture(params=list(DOCUMENTS), ids=list(DOCUMENTS))
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _load(DOCUMENTS[request.param])


def test_the_documents_tell_the_two_figures_apart(document: dict[str, Any]) -> None:
    """Else the test below could not fail for a renderer printing the ratio of medians."""
    differ = []
    for rec in document["results"]:
        if rec["status"] != "ok" or rec["model"] == "serial":
            continue
        of_medians = rec.get("speedup_of_medians", rec["speedup"])
        paired = rec["speedup_paired"]["median"]
        assert headline_speedup(rec) == pytest.approx(paired)
        if abs(of_medians / paired - 1) > 0.10:
            differ.append(_rid(rec))
    assert len(differ) >= 3, differ


def test_the_harness_contract_in_the_new_document() -> None:
    doc = _load(HEADLINE_DOC)
    for rec in doc["results"]:
        assert "speedup_of_medians" in rec
        assert rec["speedup"] == pytest.approx(rec["speedup_paired"]["median"])
        assert rec["efficiency"] == pytest.approx(rec["speedup"] / rec["workers"])
        assert headline_efficiency(rec) == pytest.approx(rec["efficiency"])
        if rec["model"] != "serial":
            assert headline_interval(rec) == rec["speedup_ci"]


def test_terminal_tables(document: dict[str, Any]) -> None:
    console = Console(file=io.StringIO(), width=260, record=True)
    render_group_tables(console, document)
    seen: dict[RowId, str] = {}
    intervals: Intervals = {}
    efficiencies: dict[RowId, str] = {}
    group: tuple[str, str] | None = None
    headers: list[str] = []
    for line in console.export_text().splitlines():
        title = re.match(r"(\S+) \[(\S+)\] \((?:cpu|io|mixed)\) — ", line)
        if title:
            group = (title[1], title[2])
        if line.startswith("┃"):
            headers = [h.strip() for h in line.strip("┃").split("┃")]
        if line.startswith("│") and group and headers:
            cells = [c.strip() for c in line.strip("│").split("│")]
            rid = (*group, cells[0].split(" (")[0], int(cells[1]))
            seen[rid], intervals[rid] = _parse_speedup(cells[headers.index("speedup [CI]")])
            efficiencies[rid] = cells[headers.index("effic.")]
    assert set(seen) == set(_headlines(document))
    _check("terminal", seen, intervals, _headlines(document))
    # Efficiency derives from the headline, not from the ratio of medians.
    by_id = {_rid(r): r for r in document["results"]}
    for rid, shown in efficiencies.items():
        assert shown == f"{headline_speedup(by_id[rid]) / rid[3]:.0%}", (rid, shown)


class _Tables(HTMLParser):
    """Every <table>: its header cells and, per body row, its attributes and cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[list[str], list[tuple[dict[str, str], list[str]]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append(({k: v or "" for k, v in attrs}, []))
        elif tag in ("th", "td") and self.tables:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self.tables:
            headers, rows = self.tables[-1]
            text = "".join(self._cell).strip()
            if tag == "th" and rows and not rows[-1][1] and not rows[-1][0]:
                headers.append(text)
            else:
                rows[-1][1].append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_tables_and_glance(document: dict[str, Any]) -> None:
    page = render_html(document)
    parser = _Tables()
    parser.feed(page)
    by_key = {row_key(r): _rid(r) for r in document["results"]}
    checked = 0
    for headers, rows in parser.tables:
        if "speedup [CI]" not in headers:
            continue
        column = headers.index("speedup [CI]")
        seen: dict[RowId, str] = {}
        intervals: Intervals = {}
        for attrs, cells in rows:
            if "data-row" in attrs:
                rid = by_key[attrs["data-row"]]
                seen[rid], intervals[rid] = _parse_speedup(cells[column])
        _check("HTML table", seen, intervals, _headlines(document))
        checked += len(seen)
    # Each row twice: in its group's table and in the table of every row.
    assert checked == 2 * len(_headlines(document))
    item = r"<li><a href='#[^']*'>(\S+) \[(\S+)\]</a> [^<]*?best parallel cell ([^<]*)</li>"
    glance = re.findall(item, page)
    assert len(glance) == len({(r["workload"], r["impl"]) for r in document["results"]})
    seen, intervals = {}, {}
    for workload, impl, text in glance:
        best = re.match(rf"(\S+) × (\d+) at ({FIGURE.pattern}) the serial speed", text)
        assert best, text
        rid = (workload, impl, best[1], int(best[2]))
        seen[rid], intervals[rid] = _parse_speedup(best[3])
        for model, workers, figure in re.findall(r"; (\S+) × (\d+) (\d+\.\d\d)×", text):
            seen[(workload, impl, model, int(workers))] = figure
    _check("HTML glance", seen, intervals, _headlines(document))


def _plot_points(svg: str) -> dict[tuple[str, int], tuple[float, tuple[float, float] | None]]:
    """Each marker's value read back from its position on the y axis, and its whisker's span."""
    root = ET.fromstring(svg)
    ticks = [
        (float(t.text.rstrip("×")), float(t.get("y", "0")) - 4)
        for t in root.iter("text")
        if t.text and re.fullmatch(r"\d+(\.\d+)?×", t.text)
    ]
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]

    def value(y: float) -> float:
        return v0 + (y - y0) * (v1 - v0) / (y1 - y0)

    whiskers = {
        float(line.get("x1", "0")): (float(line.get("y1", "0")), float(line.get("y2", "0")))
        for line in root.iter("line")
        if line.get("x1") == line.get("x2") and line.get("stroke-width") == "1.5"
    }
    points = {}
    for circle in root.iter("circle"):
        label = circle.findtext("title") or ""
        match = re.match(r"(\S+) × (\d+): ", label)
        if not match:
            continue  # the serial baseline
        span = whiskers.get(float(circle.get("cx", "0")))
        interval = None if span is None else (min(map(value, span)), max(map(value, span)))
        points[(match[1], int(match[2]))] = (value(float(circle.get("cy", "0"))), interval)
    return points


def test_plot_markers_and_whiskers(document: dict[str, Any]) -> None:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for rec in document["results"]:
        groups[(rec["workload"], rec["impl"])].append(rec)
    checked = 0
    for (workload, impl), records in groups.items():
        svg = speedup_chart(records, 2, f"{workload} [{impl}]")  # type: ignore[arg-type]
        assert svg is not None
        points = _plot_points(svg)
        for rec in records:
            if rec["model"] == "serial":
                continue
            y, interval = points[(rec["model"], rec["workers"])]
            headline = headline_speedup(rec)
            # Positions are written to 0.1 px: a few thousandths of a speedup on this axis.
            assert y == pytest.approx(headline, abs=0.02), (workload, rec["model"], y, headline)
            assert interval is not None and interval[0] - 0.02 <= y <= interval[1] + 0.02
            checked += 1
    assert checked == sum(1 for r in document["results"] if r["model"] != "serial")


def test_classic_table_terminal_and_cells(document: dict[str, Any]) -> None:
    expected = _headlines(document)
    models = {"Python threads": "threads", "Python processes": "processes", "C/C++ threads": "cpp-threads"}
    titles = ["C/C++ threads", "Python threads", "Python processes"]
    rows = dict(classic_rows(document))
    seen: dict[RowId, str] = {}
    for title, cell in zip(titles, rows["True parallelism for CPU-bound work"], strict=True):
        match = re.match(r"(?:Yes|No): (\S+) (\d+\.\d\d)× on (\d+) workers", cell)
        if match:
            seen[(match[1], "python", models[title], int(match[3]))] = match[2]
    for title, cell in zip(titles, rows["Best use (CPU vs I/O)"], strict=True):
        io_match = re.search(r"I/O (\d+\.\d\d)× \((\S+), (\d+) workers\)", cell)
        if io_match:
            seen[(io_match[2], "python", models[title], int(io_match[3]))] = io_match[1]
    assert len(seen) >= 4, rows
    _check("classic table", seen, {}, expected)
    # The terminal prints the same cells (escaped), not figures of its own.
    console = Console(file=io.StringIO(), width=400, record=True)
    render_classic(console, document)
    text = console.export_text()
    for rid, figure in seen.items():
        assert f"{rid[0]} {figure}× on {rid[3]} workers" in text or f"I/O {figure}× ({rid[0]}" in text


def test_compare_json_and_table(
    document: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    expected = _headlines(document)
    comparison = compare_documents(document, json.loads(json.dumps(document)))  # type: ignore[arg-type]
    for row in comparison.rows:
        rid = (row.key.workload, row.key.impl, row.key.model, row.key.workers)
        assert f"{row.a_speedup:.2f}" == f"{row.b_speedup:.2f}" == expected[rid]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(document))
    b.write_text(json.dumps(document))
    monkeypatch.setenv("COLUMNS", "400")
    main(["compare", str(a), str(b), "--json", str(tmp_path / "c.json")])
    seen: dict[RowId, str] = {}
    column = None
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("┃"):
            column = [h.strip() for h in line.strip("┃").split("┃")].index("speedup A → B")
        elif line.startswith("│") and column is not None:
            cells = [c.strip() for c in line.strip("│").split("│")]
            workload, impl = re.fullmatch(r"(\S+)\[(\S+)\]", cells[0]).groups()  # type: ignore[union-attr]
            before, after = cells[column].split(" → ")
            rid = (workload, impl, cells[1], int(cells[2]))
            assert _parse_speedup(before)[0] == _parse_speedup(after)[0]
            seen[rid] = _parse_speedup(before)[0]
    assert set(seen) == set(expected)
    _check("compare table", seen, {}, expected)
    for row in json.loads((tmp_path / "c.json").read_text())["rows"]:
        rid = (row["workload"], row["impl"], row["model"], row["workers"])
        assert f"{row['a_speedup']:.2f}" == expected[rid]


def test_interpreter_scaling_table(document: dict[str, Any]) -> None:
    """The per-build scaling table (printed for free-threaded builds) shows the same headline."""
    for rec in document["results"]:
        rec["interpreter"].update(free_threaded=True, gil_enabled=False)
    console = Console(file=io.StringIO(), width=300, record=True)
    render_interpreter_comparison(console, document)  # type: ignore[arg-type]
    seen: dict[RowId, str] = {}
    intervals: Intervals = {}
    group: tuple[str, str] | None = None
    headers: list[str] = []
    for line in console.export_text().splitlines():
        title = re.match(r"(\S+) \[(\S+)\]: paired speedup over each build's own serial", line)
        if title:
            group, headers = (title[1], title[2]), []
        if line.startswith("┃"):
            headers = [h.strip() for h in line.strip("┃").split("┃")]
        if line.startswith("│") and group and headers:
            cells = [c.strip() for c in line.strip("│").split("│")]
            for header, cell in zip(headers[1:], cells[1:], strict=True):
                model, workers = header.split("×")
                rid = (*group, model, int(workers))
                seen[rid], intervals[rid] = _parse_speedup(cell.split(", start-up")[0])
    expected = _headlines(document)
    assert set(seen) == {rid for rid in expected if rid[2] in ("threads", "processes")}
    _check("interpreter scaling", seen, intervals, expected)
