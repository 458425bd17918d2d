"""Documents are validated at load by one validator: a wrong-typed field is exit 2 naming the
file, the row and the field, never a traceback from a renderer; fuzzed (Hypothesis)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fault_injection import run_gilwise
from gilwise.cli import main
from sample_documents import default_document

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(-1e12, 1e12)
    | st.sampled_from([float("inf"), float("nan")])
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("wall_s", None, "field wall_s: expected an object, found null"),
        ("speedup", "fast", "field speedup: expected a finite number or null, found a string 'fast'"),
        ("workers", True, "field workers: expected an integer, found a boolean True"),
    ],
)
def test_a_wrong_typed_field_is_exit_2_naming_file_row_and_field(
    tmp_path: Path, fault_env: dict[str, str], field: str, value: object, expected: str
) -> None:
    document = default_document()
    document["results"][3][field] = value
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(document))
    for argv in (["report", str(path)], ["compare", str(path), str(path)]):
        done = run_gilwise(fault_env, *argv)
        message = " ".join(done.stderr.split())
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert f"{path}: result row 3, {expected}" in message


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a key path."""
    places = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            places += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            places += _paths(item, (*prefix, index))
    return places


DOCUMENT = default_document()
PLACES = [p for p in _paths(DOCUMENT) if p]


@settings(
    max_examples=int(os.environ.get("GILWISE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(place=st.sampled_from(PLACES), value=JSON_VALUES)
def test_any_edit_of_a_document_loads_or_is_exit_2(
    tmp_path: Path, place: tuple[Any, ...], value: object, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(json.dumps(DOCUMENT))
    target = document
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    path = tmp_path / "fuzzed.json"
    path.write_text(json.dumps(document))
    for argv in (["report", str(path)], ["compare", str(path), str(path)]):
        code = main(argv)  # any exception but the CLI's own ends the test: that is the bug
        assert code in (0, 1, 2, 3), (place, value)
    capsys.readouterr()
