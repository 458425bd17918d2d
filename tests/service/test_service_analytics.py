"""The two analytics: DuckDB aggregates, and the pure-Python sessions report, which must give
the identical answer whichever offload mode runs it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from service_process import Service, make_events, running_service

from gilwise._service.analytics import SESSION_GAP_S, sessions_report
from gilwise._service.modes import MODES


def test_sessions_report_splits_on_30_minute_gaps_and_follows_the_funnel_in_order() -> None:
    # user 0: view, click (session 1) | 31 min gap | view, add_to_cart, click, checkout (session 2)
    # user 1: click, view (order matters: the funnel starts at view) — one session
    t0 = 1_000_000.0
    rows = [
        (0, t0, 0, 1.0),
        (0, t0 + 60, 1, 2.0),
        (0, t0 + 60 + SESSION_GAP_S + 60, 0, 3.0),
        (0, t0 + 60 + SESSION_GAP_S + 120, 2, 4.0),
        (0, t0 + 60 + SESSION_GAP_S + 180, 1, 5.0),
        (0, t0 + 60 + SESSION_GAP_S + 240, 3, 6.0),
        (1, t0, 1, 10.0),
        (1, t0 + 30, 0, 20.0),
    ]
    rows.append((0, t0 + 60 + SESSION_GAP_S + 240, 4, 7.0))  # same time as the checkout, later
    rows = rows[::-1]  # the report sorts by user, time, then arrival
    user, ts, event, value = (np.array(c) for c in zip(*rows, strict=True))
    received = np.arange(len(rows), 0, -1, dtype=np.int64)
    report = sessions_report(
        user.astype(np.int64), ts.astype(np.float64), event.astype(np.int8), value, received
    )
    assert report["events"] == 9 and report["users"] == 2 and report["sessions"] == 3
    assert [s["sessions"] for s in report["funnel"]] == [3, 2, 0, 0]
    # ann's session 2: view, add_to_cart (too early: no click yet), click, checkout (too early:
    # no add_to_cart after the click) -> it reaches click, like session 1; bob only reaches view.
    assert report["funnel"][1]["conversion"] == pytest.approx(2 / 3)
    assert report["mean_session_s"] == pytest.approx((60 + 180 + 30) / 3)
    ann = next(a for a in report["anomalies"] if a["user_id"] == 0)
    assert ann["sessions"] == 2 and ann["events"] == 7 and ann["mean_value"] == pytest.approx(4.0)


def test_empty_window_gives_an_empty_report(service: Service) -> None:
    body = service.client.get("/analytics/sessions").json()["report"]
    assert body["events"] == 0 and body["sessions"] == 0 and body["anomalies"] == []
    summary = service.client.get("/analytics/summary").json()
    assert summary["events"] == 0 and summary["value_p50"] is None


def test_summary_aggregates_the_window(service: Service) -> None:
    now = time.time()
    old = [{"ts": now - 7200, "user": "old", "event": "view", "value": 1000.0}]
    recent = [
        {"ts": now - 10 - i, "user": f"u{i % 3}", "event": ("view", "click")[i % 2], "value": float(i)}
        for i in range(10)
    ]
    assert service.client.post("/events", json=old + recent).status_code == 201
    body = service.client.get("/analytics/summary", params={"window": 60}).json()
    assert body["events"] == 10 and body["unique_users"] == 3
    assert body["events_per_s"] == pytest.approx(10 / 60)
    assert body["value_p50"] == pytest.approx(4.5)
    assert body["value_p95"] == pytest.approx(np.quantile(np.arange(10.0), 0.95))
    assert {t["event"]: t["count"] for t in body["by_type"]} == {"view": 5, "click": 5}
    assert sum(p["count"] for p in body["timeline"]) == 10
    wide = service.client.get("/analytics/summary", params={"window": 3 * 3600}).json()
    assert wide["events"] == 11 and wide["value_p95"] > 9
    for bad in ("0", "-5", "nan", "1e12", "soon"):
        assert service.client.get("/analytics/summary", params={"window": bad}).status_code == 422, bad


@pytest.mark.timeout(180)
def test_sessions_answer_is_identical_in_every_offload_mode(tmp_path: Path) -> None:
    # 40,000 events: the columns (≈ 1 MiB) cross to the workers through shared memory.
    with running_service(tmp_path) as svc:
        for tag in range(8):
            assert svc.client.post("/events", json=make_events(5000, users=300, tag=tag)).status_code == 201
        answers = {}
        for mode in MODES:
            put = svc.client.put("/admin/offload", json={"mode": mode})
            assert put.status_code == 200 and put.json()["mode"] == mode
            body = svc.client.get("/analytics/sessions").json()
            assert body["mode"] == mode and body["compute_ms"] > 0
            answers[mode] = body["report"]
            names = body["user_names"]
            assert sorted(names.values()) == sorted(
                f"user-{a['user_id']}" for a in body["report"]["anomalies"]
            )
        reference = answers["inline"]
        assert reference["events"] == 40_000 and reference["users"] == 300
        assert reference["sessions"] >= 300 and len(reference["anomalies"]) == 10
        for mode, body in answers.items():
            assert body == reference, mode
        bad = svc.client.put("/admin/offload", json={"mode": "gpu"})
        assert bad.status_code == 422
        assert "valid choices: inline, threads, processes, auto" in bad.json()["detail"]


def test_sessions_input_fetched_in_chunks_is_the_whole_window_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sessions input is fetched chunk by chunk (DuckDB holds the GIL while it converts a
    # result to NumPy): with tiny chunks, batches of uneven size and a row limit, the rows must
    # be exactly those one query over the same snapshot gives.
    import json

    from gilwise._service import store as store_module
    from gilwise._service.ingest import parse_batch, to_columns

    store = store_module.EventStore(tmp_path / "chunks.duckdb")
    try:
        start = time.time()
        for i, size in enumerate((7, 1, 30, 2, 11, 5, 40, 3)):
            body = json.dumps(make_events(size, start=start + i, users=6, tag=i)).encode()
            store._with_cursor(store.insert, to_columns(parse_batch(body, "application/json")))

        def fetch(chunk_rows: int, window_s: float, limit: int) -> set[tuple[object, ...]]:
            monkeypatch.setattr(store_module, "SESSION_CHUNK_ROWS", chunk_rows)
            cols = store._with_cursor(store.session_columns, window_s, time.time(), limit)
            rows = list(zip(cols.user, cols.ts, cols.event, cols.value, cols.received, strict=True))
            assert len(set(rows)) == len(rows)  # no row twice
            return set(rows)

        whole = fetch(10**9, 7200.0, 10**6)
        assert len(whole) == 99
        for chunk_rows in (1, 4, 16):
            assert fetch(chunk_rows, 7200.0, 10**6) == whole
            # the newest batches up to the limit (40 + 3 = 43 rows), and the window's cut
            assert fetch(chunk_rows, 7200.0, 45) == fetch(10**9, 7200.0, 45)
            assert len(fetch(chunk_rows, 7200.0, 45)) == 43
            assert fetch(chunk_rows, 1800.0, 10**6) == fetch(10**9, 1800.0, 10**6)
    finally:
        store.close()
