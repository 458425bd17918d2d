"""The two decoders of ``POST /events`` mean the same: the fast one (msgspec) never accepts what
``EventIn`` (pydantic) refuses, and yields the same columns for what both accept."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from gilwise._service.errors import RequestRejected
from gilwise._service.ingest import _core_columns, decode_batch, parse_batch, to_columns
from gilwise._service.load_client import ingest_bodies

GOOD = {"ts": 1.7e9, "user": "u", "event": "view", "value": 1}


def _general(body: bytes) -> object:
    return to_columns(parse_batch(body, "application/json"))


def test_a_generated_batch_takes_the_fast_path_and_matches_the_general_one() -> None:
    body = ingest_bodies(1000, 0, time.time())[0]
    fast = _core_columns(body)
    assert fast is not None
    general = to_columns(parse_batch(body, "application/json"))
    for name in ("ts", "user", "event", "value"):
        assert np.array_equal(getattr(fast, name), getattr(general, name)), name
    assert fast.props is None and general.props is None


@pytest.mark.parametrize(
    "event",
    [
        {**GOOD, "ts": True},
        {**GOOD, "ts": "1.7e9"},
        {**GOOD, "ts": -1},
        {**GOOD, "ts": 2e11},
        {**GOOD, "user": ""},
        {**GOOD, "user": "x" * 257},
        {**GOOD, "event": "e" * 65},
        {**GOOD, "value": None},
        {k: v for k, v in GOOD.items() if k != "value"},
    ],
)
def test_what_eventin_refuses_is_refused_with_its_words(event: dict[str, object]) -> None:
    body = json.dumps([GOOD, event]).encode()
    assert _core_columns(body) is None
    with pytest.raises(RequestRejected) as caught:
        decode_batch(body, "application/json")
    assert caught.value.item == 1


@pytest.mark.parametrize("body", [b"[]", b"{}", b"[1]", b"not json", b'[{"ts": 1e999}]'])
def test_malformed_batches_go_to_the_general_path(body: bytes) -> None:
    assert _core_columns(body) is None
    with pytest.raises(RequestRejected):
        decode_batch(body, "application/json")


def test_lax_forms_that_eventin_accepts_are_still_accepted() -> None:
    body = json.dumps([{**GOOD, "value": False}, {**GOOD, "value": "2.5"}]).encode()
    assert _core_columns(body) is None  # msgspec is strict: the general path decides
    assert decode_batch(body, "application/json").value.tolist() == [0.0, 2.5]


def test_a_non_finite_value_and_extra_properties_are_left_to_eventin() -> None:
    huge = b'[{"ts": 1, "user": "u", "event": "e", "value": 1e999}]'
    assert _core_columns(huge) is None
    with pytest.raises(RequestRejected, match="value"):
        decode_batch(huge, "application/json")
    extra = json.dumps([{**GOOD, "page": "/"}]).encode()
    assert _core_columns(extra) is None
    columns = decode_batch(extra, "application/json")
    assert columns.props is not None and json.loads(columns.props[0]) == {"page": "/"}
