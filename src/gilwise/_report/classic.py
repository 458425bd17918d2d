"""The classic "C/C++ threads vs Python threads vs multiprocessing" table, filled with evidence.

Every cell quotes figures from the run's own records; a column with no records says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .._results.document import ResultDocument, ResultRow
from .._results.headline import headline_speedup
from .._results.stats import OTHER_LOAD_WARN_CORES
from . import fmt
from .interpreters import build_text, interpreters_in, label

PREFERRED_CPU = ("sqrt_log", "json")
PREFERRED_IO = ("http", "sleep")


@dataclass(frozen=True)
class Column:
    title: str
    matches: Callable[[ResultRow], bool]
    model_names: tuple[str, ...]
    sharing: str


COLUMNS = (
    Column(
        "C/C++ threads",
        lambda r: r["model"] == "cpp-threads",
        ("cpp-threads",),
        "one address space: shared memory, synchronised by hand",
    ),
    Column(
        "Python threads",
        lambda r: r["model"] == "threads" and r["impl"] == "python",
        ("threads",),
        "one address space: objects shared directly",
    ),
    Column(
        "Python processes",
        lambda r: r["model"].startswith("processes") and r["impl"] == "python",
        ("processes", "processes-fork", "processes-forkserver", "processes-spawn"),
        "arguments and results pickled over pipes",
    ),
)

# Shown only when the run has such rows: most runs never start a JVM.
OPTIONAL_COLUMNS = (
    Column(
        "JVM threads",
        lambda r: r["model"] == "jvm-threads",
        ("jvm-threads",),
        "one address space (the JVM heap): objects shared directly, synchronised by hand",
    ),
)

ROWS = (
    "True parallelism for CPU-bound work",
    "Best use (CPU vs I/O)",
    "Start-up overhead",
    "Data-sharing cost",
    "Memory per worker",
)


def _ok(records: list[ResultRow]) -> list[ResultRow]:
    return [r for r in records if r["status"] == "ok" and r.get("rounds")]


def _pick(
    records: list[ResultRow], kinds: tuple[str, ...], preferred: tuple[str, ...], cores: int
) -> ResultRow | None:
    """The most telling record: preferred workload, workers closest to the usable cores."""
    candidates = [r for r in _ok(records) if r["kind"] in kinds]
    if not candidates:
        return None

    def rank(r: ResultRow) -> tuple[int, int, float]:
        workload_rank = preferred.index(r["workload"]) if r["workload"] in preferred else len(preferred)
        return (workload_rank, abs(r["workers"] - cores), -(headline_speedup(r) or 0.0))

    return min(candidates, key=rank)


def _best_io(records: list[ResultRow]) -> ResultRow | None:
    """The preferred I/O workload's row with the most workers (how far waiting scales)."""
    io = [r for r in _ok(records) if r["kind"] == "io" and headline_speedup(r)]
    if not io:
        return None

    def rank(r: ResultRow) -> tuple[int, int]:
        workload_rank = PREFERRED_IO.index(r["workload"]) if r["workload"] in PREFERRED_IO else 99
        return (workload_rank, -r["workers"])

    return min(io, key=rank)


def _evidence(rec: ResultRow) -> str:
    text = f"{rec['workload']} {fmt.ratio(headline_speedup(rec))} on {rec['workers']} workers"
    load = rec.get("other_cpu_cores")
    other = (load["max"] if load else None) or 0.0
    if other > OTHER_LOAD_WARN_CORES:
        text += f" (⚠ other load up to {other:.1f} cores: see warnings)"
    return text


def _column_cells(column: Column, records: list[ResultRow], cores: int) -> list[str]:
    mine = [r for r in records if column.matches(r)]
    if not _ok(mine):
        if mine:
            why = f"not measured: {mine[0]['status']} — {mine[0].get('reason')}"
        else:
            why = f"not measured in this run (add --model {column.model_names[0]})"
        return [why] + ["—"] * (len(ROWS) - 1)
    cpu = _pick(mine, ("cpu",), PREFERRED_CPU, cores)
    io = _best_io(mine)
    cells: list[str] = []
    if cpu is not None:
        speedup = headline_speedup(cpu) or 0.0
        parallel = speedup >= 1.3 and cpu["workers"] >= 2
        cells.append(
            f"{'Yes' if parallel else 'No'}: {_evidence(cpu)}, {cpu['cpu_busy_cores_mean']:.2f} busy cores"
        )
    else:
        cells.append("no CPU-bound row measured")
    cpu_text = f"CPU {fmt.ratio(headline_speedup(cpu))}" if cpu else "CPU —"
    io_text = "I/O —"
    if io is not None:
        io_text = f"I/O {fmt.ratio(headline_speedup(io))} ({io['workload']}, {io['workers']} workers)"
    if cpu is not None and (headline_speedup(cpu) or 0) >= 1.3:
        verdict = "CPU-bound work" + (" and I/O" if io and (headline_speedup(io) or 0) >= 1.3 else "")
    elif io is not None and (headline_speedup(io) or 0) >= 1.3:
        verdict = "I/O-bound work only"
    else:
        verdict = "neither, here"
    cells.append(f"{verdict}: {cpu_text}, {io_text}")
    ref = cpu or io
    assert ref is not None
    if ref["model"] == "cpp-threads":
        cells.append("threads start inside each native call: not separable from compute")
    elif ref["model"] == "jvm-threads":
        cells.append(
            f"{fmt.seconds(ref['startup_s']['median'])} to start the JVM and warm its JIT; "
            "threads start inside each task"
        )
    else:
        cells.append(f"{fmt.seconds(ref['startup_s']['median'])} to start {ref['workers']} workers")
    per_task = (ref["dispatch_s"]["median"] or 0.0) / max(ref["tasks"], 1)
    cells.append(f"{fmt.seconds(per_task)} dispatch per task; {column.sharing}")
    figures = ref.get("memory_per_worker")
    if figures is not None and figures["uss_bytes"] is not None:
        # USS is what a worker alone holds; RSS also counts the pages it shares (after fork).
        rss = fmt.size_bytes(figures["rss_bytes"])
        cells.append(f"{fmt.size_bytes(figures['uss_bytes'])} USS per worker ({rss} RSS)")
    else:
        cells.append(f"{fmt.size_bytes(ref.get('memory_per_worker_bytes'))} RSS per worker")
    return cells


def columns_for(records: list[ResultRow]) -> tuple[Column, ...]:
    """The fixed columns, then each optional one that has rows in ``records``."""
    return COLUMNS + tuple(c for c in OPTIONAL_COLUMNS if any(c.matches(r) for r in records))


def classic_rows(document: ResultDocument, interpreter: str | None = None) -> list[tuple[str, list[str]]]:
    """The table's rows, from the records of one interpreter (by path) or of all of them."""
    cores = int(document["machine"]["usable_cores"])
    records = [r for r in document["results"] if interpreter in (None, r["interpreter"]["path"])]
    columns = [_column_cells(c, records, cores) for c in columns_for(records)]
    return [(row, [col[i] for col in columns]) for i, row in enumerate(ROWS)]


def render_classic(console: Console, document: ResultDocument) -> None:
    """One table per interpreter: evidence from different builds is never mixed in a cell."""
    cores = document["machine"]["usable_cores"]
    interps = interpreters_in(document)
    several = len(interps) > 1
    for interp in interps if several else [None]:
        where = f" — Python {label(interp)} ({build_text(interp)}), {interp['path']}" if interp else ""
        table = Table(
            title=escape(
                f"C/C++ threads vs Python threads vs multiprocessing — measured on this machine "
                f"({cores} usable cores){where}"
            ),
            title_justify="left",
            show_lines=True,
            header_style="bold",
        )
        # fold: a word wider than its column breaks onto the next line, never ends in "…".
        table.add_column("", overflow="fold")
        path = interp["path"] if interp else None
        records = [r for r in document["results"] if path in (None, r["interpreter"]["path"])]
        for column in columns_for(records):
            table.add_column(column.title, ratio=1, overflow="fold")
        for row, cells in classic_rows(document, path):
            table.add_row(row, *(escape(cell) for cell in cells))
        console.print(table)
