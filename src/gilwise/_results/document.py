"""The result document: its schema string (``SCHEMA``), its types, loading and labels.

Defined once here and used by everything that writes or reads a run: the harness builds rows of
these types, report / compare / history / the service read them. Fields are only ever added to
the schema ``SCHEMA`` names; a file written by an older gilwise still loads (``NotRequired`` fields).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, cast

from .._exceptions import UsageError
from .validate import FieldTypeError, MeasuredRowRule, check_fields, check_measured_row

SCHEMA = "gilwise.bench/1"
"""The one spelling of the schema: every writer, reader and help text uses this name."""
GILWISE_VERSION = "0.1.0"
"""The version stamped on every document written (``gilwise_version``), and ``gilwise.__version__``
(the package root reads it from here: the harness, which writes documents, sits below the root).
Kept equal to pyproject.toml's ``version``."""

RowStatus = Literal["ok", "unavailable", "failed"]
GroupStatus = Literal["pending", "running", "done", "failed", "unavailable", "interrupted"]
WorkloadKind = Literal["cpu", "io", "mixed"]


class Summary(TypedDict):
    """Repeats of one quantity: median, extremes and every value (in round order)."""

    median: float | None
    min: float | None
    max: float | None
    values: list[float]


class ConfidenceInterval(TypedDict):
    """Where the median of a quantity lies, with the confidence the repeats allow."""

    low: float
    high: float
    level: float
    """The coverage these repeats reach (below ``target_level`` for fewer than 6 of them)."""
    target_level: float
    rounds: int
    half_width: float
    """max(median - low, high - median) / median: 0.1 = known to within ±10 %."""
    method: str


class MemoryFigures(TypedDict):
    """One memory quantity in the three ways a process tree can be counted, in bytes.

    ``rss`` counts every resident page in every process (a page shared after fork once per
    process); ``pss`` divides each page among the processes mapping it (the tree's true share);
    ``uss`` counts only pages one process alone holds (what ending it would free).
    """

    rss_bytes: float | None
    pss_bytes: float | None
    uss_bytes: float | None


class InterpreterRef(TypedDict):
    """The interpreter a row ran under; ``gil_enabled`` is what its workers saw at run time."""

    path: str
    version: str
    gil_enabled: bool
    free_threaded: bool


JitState = Literal["on", "off", "not built"]
"""CPython's JIT at start-up: enabled, compiled in but off (PYTHON_JIT=1 turns it on), absent."""


class InterpreterEntry(TypedDict):
    """A CPython build as it described itself when probed (``InterpreterInfo.to_json``)."""

    path: str
    version: str
    version_info: list[int]
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    soabi: str
    start_methods: list[str]
    default_start_method: str
    subinterpreters_module: str | None
    jit: NotRequired[JitState]
    jit_source: NotRequired[str]
    build_flags: NotRequired[str]
    """Digest of the configure flags less --disable-gil and --prefix (twins share it)."""


class CpuPerCore(TypedDict):
    """Busy fraction (0..1) of each core per sample interval, for the median round."""

    interval_s: float | None
    samples: list[list[float]]
    round: NotRequired[int]


class ResultRow(TypedDict):
    """One cell: a workload under one model, worker count, implementation and interpreter.

    Rows that were not measured (unavailable, failed before a round) carry the first block only.
    """

    workload: str
    kind: WorkloadKind
    impl: str
    model: str
    interpreter: InterpreterRef
    workers: int
    tasks: int
    size: int
    size_unit: NotRequired[str]
    status: RowStatus
    reason: str | None
    rounds: NotRequired[int]
    wall_s: Summary
    round_ids: NotRequired[list[int]]
    anchor_s: NotRequired[Summary]
    """Serial rows of a ``bench --anchor`` run: the wall times of the pinned anchor loop
    (``_harness.anchor``) measured in the same rounds as this group, ``anchor_round_ids`` their
    rounds; compare judges the serial row relative to them (the machine's speed that round)."""
    anchor_round_ids: NotRequired[list[int]]
    speedup: float | None
    """The headline: the median of the per-round paired ratios (serial ÷ this cell, same round),
    ``speedup_ci`` its interval. Files without ``speedup_of_medians`` stored the ratio of medians
    here: read it through ``_results.headline.headline_speedup``, never directly."""
    efficiency: float | None
    """``speedup`` / workers (older files: the ratio of medians / workers; see ``headline``)."""
    cpu_busy_cores_mean: float | None
    cpu_per_core: CpuPerCore
    peak_rss_bytes: int | None
    # Measured rows only:
    speedup_paired: NotRequired[Summary]
    speedup_of_medians: NotRequired[float | None]
    """Serial median ÷ this median, over rounds that need not match (added with the paired
    headline; its presence marks ``speedup`` as the paired median). Never rendered as the speedup."""
    cpu_s: NotRequired[Summary]
    worker_cpu_cores_mean: NotRequired[float]
    memory_per_worker_bytes: NotRequired[float | None]
    startup_s: NotRequired[Summary]
    compute_s: NotRequired[Summary]
    shutdown_s: NotRequired[Summary]
    dispatch_s: NotRequired[Summary]
    overhead_per_task_s: NotRequired[Summary]
    """``dispatch_s`` per task of the busiest worker: what each task on the critical path paid
    beyond its own run (submit, scheduling, (de)serialising, returning the result)."""
    wall_excludes_startup: NotRequired[bool]
    """True for a pool that outlives a batch (a Dask cluster): wall and speedup are the work on
    the running pool; its start-up is ``startup_s``, outside ``wall_s``."""
    task_s_total: NotRequired[Summary]
    critical_path_s: NotRequired[Summary]
    """Per round: the summed task time of the busiest worker (added; older files: compute_s − dispatch_s)."""
    distinct_workers: NotRequired[int]
    ns_per_iteration: NotRequired[float | None]
    other_cpu_cores: NotRequired[Summary]
    other_cpu_note: NotRequired[str]
    steal_cores: NotRequired[Summary]
    resource_cpu_s: NotRequired[Summary]
    notes: NotRequired[list[str]]
    # Added for measurement fidelity (older files lack them):
    speedup_ci: NotRequired[ConfidenceInterval | None]
    """The sign-test interval of the median paired speedup (``_results.stats.median_interval``)."""
    speedup_uncertain: NotRequired[bool]
    """The interval stayed wider than ±10 % (``stats.PRECISION``) after every round the run added."""
    orchestrator_cpu_cores: NotRequired[Summary]
    """gilwise's own orchestrator CPU per round over the cell's window, in cores (≤ 0.01 expected)."""
    peak_memory: NotRequired[MemoryFigures]
    """The worker tree's peak, each measure on its own, over the memory reads in the cell's window."""
    memory_per_worker: NotRequired[MemoryFigures | None]
    """Memory per worker, the way ``memory_basis`` says: for models that start processes, the
    peak of those processes' own RSS, PSS and USS, per worker; for one-process models, the peak
    growth over the serial cell, per worker. None for serial. ``memory_per_worker_bytes`` keeps
    the older meaning (tree RSS growth over serial, per worker)."""
    memory_basis: NotRequired[str]
    memory_reads: NotRequired[int]


class GroupEntry(TypedDict):
    """One comparison (workload, impl, interpreter) and how far it got."""

    workload: str
    impl: str
    interpreter: str
    status: GroupStatus
    reason: str | None
    resource: str
    rounds_done: int
    extra_rounds: NotRequired[int]
    """Rounds added after ``settings.repeats`` to narrow uncertain speedups (``--budget``)."""


class RunWarning(TypedDict):
    """A stability or planning warning, with the cells it concerns and the remedy in ``message``."""

    kind: str
    cells: list[str]
    message: str


class Machine(TypedDict):
    usable_cores: int
    logical_cores: int | None
    physical_cores: int | None
    cgroup_cpu_limit: float | None
    cpu_model: str
    platform: str
    memory_bytes: int
    load_average: list[float]


class Settings(TypedDict):
    repeats: int
    target_cell_s: float
    cell_timeout_s: float
    size: int | None
    budget_s: NotRequired[float]
    precision: NotRequired[float]


class ResultDocument(TypedDict):
    """What ``gilwise bench --json PATH`` writes, and what history stores per run."""

    schema: str
    gilwise_version: NotRequired[str]
    started: NotRequired[str]
    finished: NotRequired[str | None]
    complete: NotRequired[bool]
    interrupted: NotRequired[bool]
    machine: Machine
    interpreters: NotRequired[list[InterpreterEntry]]
    settings: NotRequired[Settings]
    groups: NotRequired[list[GroupEntry]]
    results: list[ResultRow]
    warnings: list[RunWarning]


ROW_FIELDS = frozenset({"workload", "kind", "impl", "model", "workers", "interpreter", "status", "wall_s"})
"""What a row must carry to be rendered or compared at all (checked on load)."""


def interpreter_label(interpreter: InterpreterRef | InterpreterEntry) -> str:
    """The short name of a CPython build in tables and titles: ``3.13.0``, ``3.13.5t``."""
    return build_label(interpreter["version"], interpreter["free_threaded"])


def build_label(version: str, free_threaded: bool) -> str:
    """``3.13.5`` + free-threaded -> ``3.13.5t`` (CPython's own suffix for the build)."""
    return version + ("t" if free_threaded else "")


def check_document(document: object, where: str) -> ResultDocument:
    """``document`` as a ResultDocument, or a UsageError naming what is wrong with it."""
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        found = document.get("schema") if isinstance(document, dict) else type(document).__name__
        raise UsageError(
            f"{where} is not a gilwise result document (schema {found!r}, expected {SCHEMA!r}); "
            "give a file written by `gilwise bench --json PATH` or a history id."
        )
    if not isinstance(document.get("results"), list):
        raise UsageError(f"{where} has no 'results' list; it was cut short or edited by hand.")
    for index, row in enumerate(document["results"]):
        missing = sorted(ROW_FIELDS - set(row)) if isinstance(row, dict) else ["(not an object)"]
        if not missing and "version" not in (
            row["interpreter"] if isinstance(row["interpreter"], dict) else {}
        ):
            missing = ["interpreter.version"]
        if missing:
            raise UsageError(
                f"{where}: result row {index} lacks {', '.join(missing)}; the file was edited by hand or "
                "written by another tool. Rerun `gilwise bench --json PATH`."
            )
    _check_types(document, where)
    document.setdefault("warnings", [])
    document.setdefault("machine", {})
    return cast(ResultDocument, document)


def read_document(path: Path) -> ResultDocument:
    """Load and check a result file."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(
            f"cannot read the result file {path}: {exc}; give a file written by `gilwise bench --json PATH`."
        ) from exc
    return check_document(data, str(path))


MEASURED_ROW = MeasuredRowRule(
    summaries=("wall_s", "cpu_s"), numbers=("cpu_busy_cores_mean",), positive=("wall_s",)
)
"""What a measured row (status ok, rounds done) must hold beyond its types: the figures every
renderer reads as numbers, and wall times above zero (a speedup divides by them)."""


def _check_types(document: dict[str, Any], where: str) -> None:
    """Every field present has its declared type (``validate``), else a UsageError naming the
    document, the row and the field."""
    try:
        check_fields(document, ResultDocument)
        for index, row in enumerate(document["results"]):
            check_measured_row(row, MEASURED_ROW, f"results[{index}].")
    except FieldTypeError as exc:
        place = exc.field
        if place.startswith("results["):
            row, _, rest = place.removeprefix("results[").partition("].")
            place = f"result row {row}, field {rest}"
        else:
            place = f"field {place}"
        raise UsageError(
            f"{where}: {place}: expected {exc.expected}, found {exc.found}; the "
            "file was edited by hand or written by another tool. Rerun `gilwise bench --json PATH`."
        ) from exc
