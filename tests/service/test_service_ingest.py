"""POST /events against a real server: all or nothing, clear 4xx, the 201 only after commit."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import httpx
from service_process import Service, make_events, running_service, stop


def count(svc: Service) -> int:
    response = svc.client.get("/events/count")
    assert response.status_code == 200
    return int(response.json()["count"])


def test_json_array_and_ndjson_are_stored_with_their_extra_properties(service: Service) -> None:
    batch = make_events(1000, tag=1)
    response = service.client.post("/events", json=batch)
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 1000
    assert count(service) == 1000

    lines = "\n".join(json.dumps(e) for e in make_events(5, tag=2)) + "\n"
    response = service.client.post("/events", content=lines, headers={"content-type": "application/x-ndjson"})
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 5
    assert count(service) == 1005
    assert service.client.get("/health").json() == {"status": "ok", "offload": "processes"}

    assert stop(service.proc) == 0
    with duckdb.connect(str(service.db), read_only=True) as con:
        rows = con.execute(
            "SELECT props->>'tag', count(*), min((props->>'seq')::INT), max((props->>'seq')::INT) "
            "FROM events GROUP BY 1 ORDER BY 1"
        ).fetchall()
        stored = con.execute(
            "SELECT ts, u.name, event, value FROM events JOIN users u ON u.id = user_id "
            "WHERE seq = 7 AND batch_id = 1"
        ).fetchone()
    assert rows == [("1", 1000, 0, 999), ("2", 5, 0, 4)]
    first = batch[7]
    assert stored == (first["ts"], first["user"], first["event"], first["value"])


def test_partly_invalid_batch_stores_nothing_and_names_the_first_bad_item_and_field(
    service: Service,
) -> None:
    batch = make_events(100)
    batch[41]["value"] = "not a number"
    batch[70]["user"] = ""
    response = service.client.post("/events", json=batch)
    assert response.status_code == 422
    body = response.json()
    assert body["item"] == 41 and body["field"] == "value"
    assert "item 41, field 'value'" in body["detail"] and "nothing of this batch was stored" in body["detail"]

    missing = make_events(3)
    del missing[2]["ts"]
    response = service.client.post("/events", json=missing)
    assert response.status_code == 422
    assert (response.json()["item"], response.json()["field"]) == (2, "ts")

    lines = [json.dumps(e) for e in make_events(4)]
    lines[3] = '{"ts": 1, "user": "u", "event": "view", "value": NaN}'
    response = service.client.post(
        "/events", content="\n".join(lines), headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["item"] == 3 and "line 4" in response.json()["detail"]
    assert count(service) == 0


def test_malformed_empty_and_wrongly_typed_bodies_are_refused(service: Service) -> None:
    cases = [
        (b'[{"ts": 1, "user": "a", "event": "view", "value": 1}', "application/json", 400, "not valid JSON"),
        (b"[]", "application/json", 422, "empty"),
        (b'{"ts": 1}', "application/json", 422, "JSON array"),
        (b"ts=1", "text/plain", 415, "application/json"),
        (
            b'{"ts": 1, "user": "a", "event": "view", "value": 1}\n{oops',
            "application/x-ndjson",
            400,
            "line 2",
        ),
    ]
    for body, media, status, needle in cases:
        response = service.client.post("/events", content=body, headers={"content-type": media})
        assert response.status_code == status, (body, response.text)
        assert needle in response.json()["detail"], (body, response.text)
    assert count(service) == 0


def test_oversized_batch_is_refused_with_413_and_stores_nothing(tmp_path: Path) -> None:
    with running_service(tmp_path, "--body-limit", "20000") as svc:
        big = json.dumps(make_events(400)).encode()
        assert len(big) > 20000
        response = svc.client.post("/events", content=big, headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert "body limit of 20,000 bytes" in response.json()["detail"]

        def chunks() -> object:  # no Content-Length: the limit is enforced while reading
            for i in range(0, len(big), 4096):
                yield big[i : i + 4096]

        response = svc.client.post("/events", content=chunks(), headers={"content-type": "application/json"})  # type: ignore[arg-type]
        assert response.status_code == 413
        assert count(svc) == 0
        small = svc.client.post("/events", json=make_events(10))
        assert small.status_code == 201
        assert count(svc) == 10


def test_token_guards_ingest_and_admin_but_not_reads(tmp_path: Path) -> None:
    with running_service(tmp_path, "--token", "s3cret-token-of-16+") as svc:
        batch = make_events(3)
        assert svc.client.post("/events", json=batch).status_code == 401
        wrong = {"authorization": "Bearer nope"}
        assert svc.client.post("/events", json=batch, headers=wrong).status_code == 401
        assert svc.client.put("/admin/offload", json={"mode": "inline"}).status_code == 401
        good = {"authorization": "Bearer s3cret-token-of-16+"}
        assert svc.client.post("/events", json=batch, headers=good).status_code == 201
        assert svc.client.put("/admin/offload", json={"mode": "inline"}, headers=good).status_code == 200
        assert count(svc) == 3
        assert svc.client.get("/admin/offload").json()["token_required"] is True
        assert httpx.get(svc.url + "health").status_code == 200
