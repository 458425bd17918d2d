"""The audit document (``gilwise audit --json``): its schema string, types and exit code.

A finding is about one distribution; ``status`` says what importing it did on the target build,
worst first in :data:`STATUS_ORDER`, and decides the exit code (:func:`exit_code`).
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

from .._results.document import ConfidenceInterval

AUDIT_SCHEMA = "gilwise.audit/1"

Status = Literal["crash", "gil-enabled", "import-error", "timeout", "not-checked", "ok", "pure"]
Kind = Literal["pure", "extension"]

STATUS_ORDER: tuple[Status, ...] = (
    "crash",
    "gil-enabled",
    "import-error",
    "timeout",
    "not-checked",
    "ok",
    "pure",
)
"""Worst first: the order of the table and of the JSON's distributions."""

FAILING: frozenset[Status] = frozenset({"crash", "gil-enabled", "import-error"})
"""Statuses that say no (exit 1): the GIL came back, or the distribution cannot be imported."""
UNKNOWN: frozenset[Status] = frozenset({"timeout", "not-checked"})
"""Statuses that leave the answer open (exit 3)."""


class AuditTarget(TypedDict):
    """The interpreter the distributions were imported under."""

    path: str
    version: str
    free_threaded: bool
    gil_enabled: bool
    soabi: str
    extension_suffixes: list[str]
    wheel_tags: list[str]
    """The free-threaded tags a wheel must carry to load here (``cp313t``, ``abi3t`` from 3.15)."""


class DistributionFinding(TypedDict):
    name: str
    """As the distribution's metadata spells it."""
    version: str
    direct: bool
    """Asked for (a requirement, or required by no other installed distribution)."""
    kind: Kind
    status: Status
    gil_modules: list[str]
    """Every extension module whose loading re-enabled the GIL (from ``python -v``)."""
    detail: str
    fix: str
    modules: list[str]
    """The top-level modules imported."""
    extension_modules: list[str]
    wheel_tags: list[str]
    required_by: list[str]
    duration_s: float
    signal: NotRequired[int]
    """The signal that ended the child, for a crash."""


class MeasuredBuild(TypedDict):
    label: str
    """``3.13.5``, ``3.13.5t``, ``3.13.5t PYTHON_GIL=1``."""
    path: str
    environment: dict[str, str]
    speedup: float | None
    """Median of the per-round paired ratios serial ÷ threads×N on this build."""
    interval: ConfidenceInterval | None
    """The sign-test interval of that median (``_results.stats.median_interval``)."""
    ratios: list[float]
    serial_s: list[float]
    threads_s: list[float]


class Measurement(TypedDict):
    target: str
    threads: int
    calls: int
    builds: list[MeasuredBuild]
    notes: list[str]


class AuditDocument(TypedDict):
    schema: str
    target: AuditTarget
    distributions: list[DistributionFinding]
    index: str
    """How fixes were looked up: ``uv``, ``pip``, or ``offline``."""
    measure: NotRequired[Measurement]
    notes: list[str]


def worst_first(findings: list[DistributionFinding]) -> list[DistributionFinding]:
    rank = {status: i for i, status in enumerate(STATUS_ORDER)}
    return sorted(findings, key=lambda f: (rank[f["status"]], not f["direct"], f["name"].lower()))


def exit_code(document: AuditDocument) -> int:
    """0 every distribution ready, 1 one re-enables the GIL or fails to import, 3 unknown (a GIL
    build as the target: nothing could be checked, however few distributions it has)."""
    statuses = {f["status"] for f in document["distributions"]}
    if statuses & FAILING:
        return 1
    if statuses & UNKNOWN or not document["target"]["free_threaded"]:
        return 3
    return 0
