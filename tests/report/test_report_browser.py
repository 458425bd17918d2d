"""The default bench's HTML report in a real headless Chromium: it renders, offline, readably.

Needs Debian's chromium (`apt-get install -y chromium`, done by .ci/run); Playwright never
downloads a browser here. The screenshot lands in artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from chromium import chromium_page, needs_chromium
from gilwise._report.html import write_html
from sample_documents import default_document

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with chromium_page() as page:
        yield page


def test_default_bench_report_renders_offline_with_tables_and_plots(
    browser_page: Page, tmp_path: Path
) -> None:
    doc = default_document()
    report = tmp_path / "report.html"
    write_html(report, doc)
    page = browser_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(report.as_uri(), wait_until="load")

    assert requests == [report.as_uri()], f"the page fetched more than itself: {requests}"
    assert errors == []
    assert page.title().startswith("gilwise bench report")
    assert page.locator("h1").inner_text() == "gilwise bench report"

    classic = page.locator("table.classic")
    assert classic.is_visible()
    assert "Python threads" in classic.inner_text()
    assert page.locator("table.full tbody tr").count() == len(doc["results"])
    assert page.locator("table.group").count() == 7

    charts = page.locator("svg.chart")
    measured = sum(1 for r in doc["results"] if r["status"] == "ok" and r["rounds"])
    assert charts.count() == 7 * 3 + measured
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 60, i
    speedup = page.locator("svg[aria-label='Speedup vs workers, sqrt_log [python]']")
    speedup.scroll_into_view_if_needed()
    assert speedup.is_visible()
    assert speedup.locator("circle").count() == 4  # serial + threads, processes, asyncio at 2 workers

    # The document embedded for machines is the document itself.
    embedded = page.locator("#gilwise-result").text_content()
    assert json.loads(embedded) == doc

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-default-bench.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    top = ARTIFACTS / "report-default-bench-top.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(top))
    assert top.stat().st_size > 20_000
