"""The dashboard in a real headless Chromium (Debian's package; Playwright never downloads a
browser), against a real server under a real load: it loads offline, its charts follow /live,
the mode switch works, and the screenshots of threads and processes mode land in artifacts/
(copies from a run on this machine are committed in docs/screenshots/, see the README)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response
from service_process import Service, make_events, running_service, service_env

from chromium import chromium_page, needs_chromium
from gilwise._results.history import History
from sample_documents import default_document

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SETTLE_S = 12.0
"""Seconds of each mode on screen before its screenshot: enough for the charts to show it."""

pytestmark = [needs_chromium, pytest.mark.timeout(240)]


@pytest.fixture
def bench_run(isolated_history: Path) -> int:
    """A bench run in the (throw-away) history the server reads: the dashboard shows it."""
    return History(isolated_history).record(default_document())


@pytest.fixture
def loaded_service(tmp_path: Path) -> Iterator[Service]:
    """A server with 150,000 events and `gilwise load` running against it in its own processes."""
    with running_service(tmp_path) as svc:
        for tag in range(30):
            assert svc.client.post("/events", json=make_events(5000, users=1500, tag=tag)).status_code == 201
        load = subprocess.Popen(
            [sys.executable, "-m", "gilwise.cli", "load", "--url", svc.url, "--duration", "120",
             "--mix", "sessions:3,health,summary", "--rate", "8", "--ingest-rate", "4", "--quiet"],
            env=service_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            yield svc
        finally:
            load.terminate()
            load.wait(timeout=30)


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium_page(1280, 1000) as page:
        yield page


def messages(page: Page) -> int:
    return int(page.evaluate("Number(document.body.dataset.messages || 0)"))


def recent(page: Page, field: str, seconds: int = 6) -> list[float]:
    """``field`` of the last messages, all sent after the mode switch (SETTLE_S before)."""
    values = page.evaluate(f"window.gilwise.history.slice(-{seconds}).map(m => m.{field})")
    return [float(v) for v in values]


def hold_mode(page: Page, mode: str) -> None:
    page.click(f"#mode-switch button[data-mode='{mode}']")
    page.wait_for_selector(f"#mode-switch button[data-mode='{mode}'][aria-checked='true']")
    page.wait_for_function(f"window.gilwise.history.at(-1).offload.mode === '{mode}'", timeout=10_000)
    time.sleep(SETTLE_S)


def test_dashboard_follows_live_switches_mode_and_shows_the_story(
    bench_run: int, loaded_service: Service, page: Page
) -> None:
    svc = loaded_service
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(svc.url, wait_until="load")

    page.wait_for_function("Number(document.body.dataset.messages || 0) >= 3", timeout=15_000)
    assert page.locator("#connection").get_attribute("data-state") == "live"
    assert page.locator("#mode-switch button").all_inner_texts() == [
        "inline",
        "threads",
        "processes",
        "auto",
        "dask",
    ]
    cores = int(page.evaluate("window.gilwise.history.at(-1).cpu_per_core.length"))
    assert page.evaluate("document.getElementById('chart-cores').data[0].y.length") == cores
    before = page.evaluate("document.getElementById('chart-cpu').data[0].x.length")
    page.wait_for_function(f"document.getElementById('chart-cpu').data[0].x.length > {before}", timeout=5000)
    for chart in ("cores", "cpu", "lag", "latency", "ingest", "offload"):
        box = page.locator(f"#chart-{chart} .main-svg").first.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 150, chart
    routes = page.evaluate("document.getElementById('chart-latency').data.map(t => t.name)")
    assert {"GET /analytics/sessions", "GET /health", "POST /events"} <= set(routes)
    assert page.locator("#bench-id").inner_text().startswith(f"#{bench_run},")
    assert page.locator("#bench-table tbody tr").count() == len(default_document()["results"])
    assert page.locator("#cluster").is_hidden()  # no Dask cluster in use

    # Where the work runs (not how fast: the machine is shared): in threads mode in the server
    # process while the workers idle, in processes mode in the workers.
    hold_mode(page, "threads")
    assert svc.client.get("/admin/offload").json()["mode"] == "threads"
    threads = recent(page, "worker_cores")
    assert max(threads) < 0.1 and max(recent(page, "server_cores")) > 0.2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-threads.png"), full_page=True)

    hold_mode(page, "processes")
    processes = recent(page, "worker_cores")
    assert sum(processes) / len(processes) > sum(threads) / len(threads) + 0.1
    page.screenshot(path=str(ARTIFACTS / "dashboard-processes.png"), full_page=True)

    assert messages(page) >= 2 * SETTLE_S - 4
    assert errors == []
    foreign = [url for url in requests if not url.startswith(svc.url)]
    assert foreign == [], f"the dashboard fetched from outside the server: {foreign}"
    assert svc.url + "assets/plotly.min.js" in requests
    for name in ("dashboard-threads.png", "dashboard-processes.png"):
        assert (ARTIFACTS / name).stat().st_size > 50_000


def test_with_a_token_the_dashboard_asks_for_it_before_switching(tmp_path: Path, page: Page) -> None:
    """`--token`: the mode switch shows a token box; without the token the server's 401 is shown
    and the mode stays; with it the switch goes through."""
    with running_service(tmp_path, "--offload", "threads", "--token", "s3cret-token-of-16+") as svc:
        page.goto(svc.url)
        page.wait_for_selector("#token-box:not([hidden])")
        page.wait_for_selector("#mode-switch button[data-mode='threads'][aria-checked='true']")

        def is_switch(response: Response) -> bool:
            return response.url.endswith("/admin/offload") and response.request.method == "PUT"

        for token in ("", "wrong-token"):
            page.fill("#token", token)
            with page.expect_response(is_switch) as sent:
                page.click("#mode-switch button[data-mode='processes']")
            assert sent.value.status == 401
            page.wait_for_selector("#switch-error:not([hidden])")
            assert "token" in page.inner_text("#switch-error").lower()
            assert page.get_attribute("#mode-switch button[data-mode='threads']", "aria-checked") == "true"
            assert svc.client.get("/admin/offload").json()["mode"] == "threads"
        page.fill("#token", "s3cret-token-of-16+")
        page.click("#mode-switch button[data-mode='processes']")
        page.wait_for_selector("#mode-switch button[data-mode='processes'][aria-checked='true']")
        page.wait_for_selector("#switch-error", state="hidden")
        assert svc.client.get("/admin/offload").json()["mode"] == "processes"
