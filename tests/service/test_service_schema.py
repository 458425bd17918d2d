"""Schemathesis against the service's own OpenAPI schema, on a real server: no input it can
generate (valid or broken on purpose) makes the service answer 5xx, and the answers to valid
requests match the documented shapes.

Driven from a plain test rather than ``schemathesis.pytest.from_fixture``: that loader sets a
private attribute pytest 9 no longer has. Each operation gets its own Hypothesis run.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
from service_process import Service

pytestmark = pytest.mark.timeout(300)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@schemathesis.serializer("application/x-ndjson", "application/ndjson", "application/jsonl")
def ndjson(ctx: schemathesis.SerializationContext, value: Any) -> dict[str, Any]:
    """The schema of an NDJSON body is one event: send it as one line."""
    return {"data": (json.dumps(value) + "\n").encode()}


def test_no_generated_request_gets_a_server_error(service: Service) -> None:
    schema = schemathesis.openapi.from_url(service.url + "openapi.json")
    # /live streams until the client leaves: a fuzzer's request would never finish.
    operations = [result.ok() for result in schema.exclude(path="/live").get_all_operations()]  # type: ignore[union-attr]
    paths = {f"{op.method.upper()} {op.path}" for op in operations}
    assert {"POST /events", "GET /analytics/sessions", "PUT /admin/offload", "GET /health"} <= paths
    tried: set[tuple[str, str]] = set()
    for operation, mode in itertools.product(operations, GenerationMode):
        checks = CHECKS if mode.is_positive else CHECKS[:1]

        @hypothesis.settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            database=None,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=operation.as_strategy(mode))
        def check(case: schemathesis.Case) -> None:
            # Negative cases break the schema on purpose: only "never a 5xx" applies to them.
            case.call_and_validate(checks=checks, timeout=30)  # noqa: B023 - called at once

        try:
            check()
        except hypothesis.errors.Unsatisfiable:
            # No input to break: an operation without parameters or body (GET /health).
            assert not mode.is_positive, operation.path
        else:
            tried.add((f"{operation.method.upper()} {operation.path}", mode.value))
    for path in ("POST /events", "GET /analytics/summary", "GET /analytics/sessions", "PUT /admin/offload"):
        assert (path, "negative") in tried and (path, "positive") in tried
