"""The ingest API fuzzed with Hypothesis against a real server: any body is answered 2xx or 4xx
(never 5xx), and the stored count moves by exactly what a 2xx acknowledged; a boolean is not a
timestamp."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from service_process import Service, running_service

pytestmark = pytest.mark.slow

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=4)
EVENTS = st.fixed_dictionaries(
    {"ts": VALUES, "user": VALUES, "kind": VALUES},
    optional={"value": VALUES, "session": VALUES, "extra": VALUES},
)
BODIES = st.lists(EVENTS | VALUES, max_size=4) | VALUES


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("fuzz"), "--offload", "inline") as svc:
        yield svc


def _count(server: Service) -> int:
    return int(server.client.get("/events/count").json()["count"])


def test_a_boolean_is_not_a_timestamp(server: Service) -> None:
    before = _count(server)
    reply = server.client.post("/events", json=[{"ts": True, "user": "u", "kind": "k"}])
    assert reply.status_code == 422, reply.text
    assert _count(server) == before


@settings(
    max_examples=int(os.environ.get("GILWISE_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=BODIES)
def test_any_body_is_2xx_or_4xx_and_counted_exactly(server: Service, body: object) -> None:
    before = _count(server)
    reply = server.client.post(
        "/events", content=json.dumps(body, allow_nan=True), headers={"content-type": "application/json"}
    )
    assert reply.status_code < 500, (body, reply.text)
    stored = _count(server) - before
    if reply.is_success:
        assert stored == reply.json()["accepted"], body
    else:
        assert stored == 0, body
