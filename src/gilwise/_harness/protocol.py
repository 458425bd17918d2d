"""The harness worker protocol: one JSON spec on stdin, one JSON result line on stdout.

Both sides import this module; it is stdlib only (workers may run another CPython).
"""

from __future__ import annotations

import json
from typing import Any

RESULT_PREFIX = "GILWISE-RESULT "
"""Marks the result line, so output a workload prints cannot be mistaken for it."""


def encode_result(data: dict[str, Any]) -> str:
    return RESULT_PREFIX + json.dumps(data, separators=(",", ":"))


def decode_result(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            data: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return data
    return None


def normalize(value: Any) -> Any:
    """A result as it looks after a JSON round trip (tuples become lists)."""
    return json.loads(json.dumps(value))
