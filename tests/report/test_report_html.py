"""The HTML report: self-contained, every JSON row present, one set of figures per group."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gilwise._report import svg
from gilwise._report.html import render_html, write_html
from gilwise._report.html_tables import row_key
from gilwise._results.headline import headline_speedup
from gilwise.cli import main
from sample_documents import default_document, parse_page


def _measured(doc: dict) -> list[dict]:
    return [r for r in doc["results"] if r["status"] == "ok" and r["rounds"]]


def test_page_loads_nothing_from_the_network() -> None:
    page = render_html(default_document())
    parsed = parse_page(page)
    for tag, attr, value in parsed.links:
        assert value.startswith("#"), f"<{tag} {attr}={value!r}> points outside the page"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE)
    assert "@import" not in page and "url(" not in page
    assert {"img", "link", "iframe", "object", "embed"}.isdisjoint(parsed.tags)
    assert all(s.get("type") == "application/json" and "src" not in s for s in parsed.scripts)


def test_every_json_row_is_in_the_full_table() -> None:
    doc = default_document()
    parsed = parse_page(render_html(doc))
    full = [r for r in parsed.rows if r.get("class", "").startswith("status-")]
    assert [r["data-row"] for r in full] == [row_key(r) for r in doc["results"]]
    assert len(full) == len(doc["results"]) == 34
    # and every row again in its group's table
    group_rows = [r["data-row"] for r in parsed.rows if not r.get("class", "").startswith("status-")]
    assert sorted(group_rows) == sorted(row_key(r) for r in doc["results"])


def test_each_group_has_its_figures() -> None:
    doc = default_document()
    parsed = parse_page(render_html(doc))
    titles = parsed.svg_titles
    groups = {(r["workload"], r["impl"]) for r in doc["results"]}
    for workload, impl in groups:
        name = f"{workload} [{impl}]"
        assert f"Speedup vs workers, {name}" in titles
        assert f"Where the time went, {name}" in titles
        assert f"Memory per worker, {name}" in titles
    timelines = [t for t in titles if t.startswith("Per-core CPU")]
    assert len(timelines) == len(_measured(doc))
    assert "Per-core CPU, threads × 2 (median round)" in timelines


def test_page_embeds_the_document_and_the_figures_it_shows() -> None:
    doc = default_document()
    page = render_html(doc)
    assert json.loads(parse_page(page).json_text) == doc
    threads = next(r for r in doc["results"] if r["workload"] == "sqrt_log" and r["model"] == "threads")
    assert f"<b>{headline_speedup(threads):.2f}×</b>" in page
    for warning in doc["warnings"]:
        assert warning["message"].replace("`", "") in page.replace("`", "").replace("&#x27;", "'")
    assert "C/C++ threads vs Python threads vs multiprocessing" in page
    assert doc["machine"]["cpu_model"] in page


def test_unmeasured_rows_show_their_reason_escaped() -> None:
    doc = default_document()
    row = doc["results"][2]
    row.update(status="unavailable", reason="needs <CPython 3.12> & more", rounds=0)
    row["wall_s"] = {"median": None, "min": None, "max": None, "values": []}
    page = render_html(doc)
    assert "needs &lt;CPython 3.12&gt; &amp; more" in page
    assert "<CPython" not in page
    parsed = parse_page(page)
    assert row_key(row) in [r["data-row"] for r in parsed.rows]


def test_document_text_cannot_close_the_embedded_script() -> None:
    doc = default_document()
    doc["results"][0]["reason"] = "</script><script>alert(1)</script>"
    page = render_html(doc)
    assert "<script>alert" not in page
    assert json.loads(parse_page(page).json_text)["results"][0]["reason"].startswith("</script>")


def test_sweep_uses_a_log_axis_and_marks_oversubscription() -> None:
    doc = default_document()
    base = next(r for r in doc["results"] if r["workload"] == "sqrt_log" and r["model"] == "threads")
    doc["results"] = [r for r in doc["results"] if r["workload"] in ("sqrt_log", "http")]
    for workers in (4, 8, 32):
        doc["results"].append({**base, "workers": workers})
    page = render_html(doc)
    assert page.count("2 usable cores → oversubscribed") == 1  # sqrt_log only: I/O waits need no core
    assert ">32</text>" in page and ">16</text>" in page  # powers of two on the x axis


def test_report_command_writes_html_and_rejects_bad_input(tmp_path: Path) -> None:
    source = tmp_path / "run.json"
    source.write_text(json.dumps(default_document()))
    out = tmp_path / "nested" / "report.html"
    assert main(["report", str(source), "--html", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["report", str(bad), "--html", str(out)]) == 2
    bad.write_text(json.dumps({"schema": "other/1"}))
    assert main(["report", str(bad)]) == 2


def test_write_html_to_an_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    source = tmp_path / "run.json"
    source.write_text(json.dumps(default_document()))
    assert main(["report", str(source), "--html", str(blocker / "r.html")]) == 2
    with pytest.raises(Exception, match="cannot write the HTML report"):
        write_html(blocker / "r.html", default_document())


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0, 2.16, [0, 0.5, 1, 1.5, 2]), (0, 34.5, [0, 10, 20, 30]), (0, 0.26, [0, 0.1, 0.2])],
)
def test_nice_ticks(low: float, high: float, expected: list[float]) -> None:
    assert svg.nice_ticks(low, high) == pytest.approx(expected)


def test_heat_color_runs_from_white_to_blue() -> None:
    assert svg.heat_color(0) == "#ffffff"
    assert svg.heat_color(1) == "#154ba0"
    assert svg.heat_color(7) == svg.heat_color(1)


def test_a_run_where_nothing_was_measured_still_renders() -> None:
    """The real record builder's rows for cells without rounds (failed group, interrupted run)."""
    from gilwise._harness import BenchRun, BenchSettings
    from gilwise._harness.machine import describe_machine
    from gilwise._harness.runner import plan_groups
    from gilwise._pythons.discovery import current
    from gilwise._workloads import get_workload

    groups = plan_groups(
        [get_workload("sqrt_log")], ["python"], ["serial", "threads"], lambda _: [2], [current()]
    )
    group = groups[0]
    group.status, group.reason = "failed", "calibration failed: boom"
    for cell in group.cells:
        cell.status, cell.reason = "failed", "calibration failed: boom"
    run = BenchRun(BenchSettings(), describe_machine(), [current()], groups, 0.05)
    run.interrupted = True
    doc = run.to_json()
    page = render_html(doc)
    parsed = parse_page(page)
    assert "This group failed: calibration failed: boom" in page
    assert "(interrupted)" in page
    assert [r["data-row"] for r in parsed.rows if r.get("class", "").startswith("status-")] == [
        row_key(r) for r in doc["results"]
    ]
    assert not [t for t in parsed.svg_titles if "sqrt_log" in t]
    assert "no parallel cell was measured" in page
