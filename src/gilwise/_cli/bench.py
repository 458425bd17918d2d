"""``gilwise bench``: run workloads under concurrency models and report measured evidence."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import _models, _workloads
from .._exceptions import UsageError
from .._harness import BenchRun, BenchSettings, run_bench
from .._pythons.discovery import InterpreterInfo, current, probe
from .._report import (
    render_classic,
    render_group_tables,
    render_interpreter_comparison,
    render_iteration_costs,
    render_warnings,
)
from .._results.document import SCHEMA, ResultDocument
from .._results.files import check_output_target, write_output_json
from .._results.history import ENV_VAR, History, default_history_path, resolve_history_path
from .._system import interrupts_latched, usable_cores
from .console import add_wide_flag, stderr_console, stdout_console
from .exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from .flags import usage_message
from .options import (
    choose,
    parse_workers,
    positive_float,
    positive_int,
    scheduler_address,
    split_values,
)

IO_WORKERS_HIGH = 32
"""The I/O rows add a 32-worker column: waiting scales far past the core count."""

QUICK = {"repeats": 3, "target_cell_s": 0.25, "budget_s": 0.0}
NORMAL = {"repeats": 5, "target_cell_s": 0.5, "budget_s": 30.0}
"""``budget_s``: seconds for rounds added to speedups still uncertain after the repeats; the
default suite stays within 3 minutes on 2 cores with it (README, "How it measures")."""
DEFAULT_IMPLS = ("python", "native")
"""Pure Python everywhere, plus the C kernel (GIL released) where a workload has one."""
DEFAULT_WORKLOADS = ("sqrt_log", "json", "sha256", "zlib", "http", "sleep", "sqlite")


def add_bench_parser(sub: Any) -> None:
    p = sub.add_parser(
        "bench",
        description="Run one or more workloads under each concurrency model, in fresh worker "
        "processes, round-robin, and print speedup, efficiency, per-core CPU, start-up, "
        "dispatch and memory, then the classic comparison table with this run's evidence.",
    )
    # Plain functions rather than argparse groups: a group would add a heading to --help.
    _add_what_to_run(p)
    _add_how_long_to_measure(p)
    _add_outputs(p)
    p.set_defaults(handler=run_bench_command)


def _add_what_to_run(p: argparse.ArgumentParser) -> None:
    """The cells of the run: workloads × models × implementations × worker counts × interpreters."""
    p.add_argument(
        "--workload",
        action="append",
        metavar="NAME",
        help=f"workload(s), repeatable or comma-separated: {', '.join(_workloads.WORKLOADS)}",
    )
    p.add_argument(
        "--model",
        action="append",
        metavar="NAME",
        help=f"model(s): {', '.join(_models.MODELS)} (default: {','.join(_models.DEFAULT_MODELS)})",
    )
    p.add_argument(
        "--impl",
        action="append",
        metavar="NAME",
        help=f"implementation(s): {', '.join(_workloads.impl_names())} (default: python,native)",
    )
    p.add_argument(
        "--workers",
        action="append",
        metavar="N[,N...]|sweep",
        help="worker counts (default: usable cores; I/O workloads also 32); 'sweep' = 1 .. 2 × usable cores",
    )
    p.add_argument(
        "--python",
        action="append",
        metavar="PATH",
        help="interpreter(s) to run workers under (default: this one)",
    )
    p.add_argument(
        "--dask-scheduler",
        metavar="ADDR",
        help="run the dask model on the running cluster at ADDR (tcp://HOST:PORT) instead of a LocalCluster",
    )


def _add_how_long_to_measure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="3 repeats, 0.25 s cells")
    p.add_argument("--repeats", type=int, metavar="N", help="rounds per cell (default 5, quick 3)")
    p.add_argument("--size", type=int, metavar="N", help="fixed task size (skips calibration)")
    p.add_argument(
        "--anchor",
        action="store_true",
        help="also run a fixed pure-Python loop in every round, so `gilwise compare` can judge "
        "serial rows against the machine's speed in the same round (not across interpreters)",
    )
    p.add_argument(
        "--budget",
        type=float,
        metavar="S",
        help="seconds to spend, after the repeats, on rounds that narrow speedups still uncertain "
        "(95 %% interval wider than ±10 %%); default 30, but 0 with --quick or --repeats (exactly "
        "that many rounds unless --budget is given)",
    )
    p.add_argument(
        "--cell-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="kill a cell that runs longer (default 300 s)",
    )


def _add_outputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", metavar="PATH", help=f"write results ({SCHEMA}), updated after every round")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML report with plots")
    add_wide_flag(p)
    history = p.add_mutually_exclusive_group()
    history.add_argument(
        "--history",
        metavar="PATH",
        help=f"record the run in this SQLite file (default: ${ENV_VAR}, else the XDG data folder)",
    )
    history.add_argument("--no-history", action="store_true", help="do not record this run")


class _RichProgress:
    """Redraws only between cells (the Progress runs with auto_refresh off): a redraw while a
    cell runs would cost the orchestrator CPU that, on 2 cores, the parallel cells pay for."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=None)

    def begin(self, total: int) -> None:
        self.progress.update(self.task, total=total, refresh=True)

    def step(self, description: str) -> None:
        self.progress.update(self.task, advance=1, description=description, refresh=True)


def make_progress(console: Console) -> Progress:
    """The bar on stderr, redrawn by :class:`_RichProgress` between cells only."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        auto_refresh=False,
    )


def _budget(value: float | None, default: float) -> float:
    if value is None:
        return default
    if not 0 <= value < 24 * 3600:
        raise UsageError(f"--budget {value:g} is out of range: give seconds, 0 or more (0 = no added rounds)")
    return value


def _interpreters(paths: list[str]) -> list[InterpreterInfo]:
    return [probe(p) for p in paths] if paths else [current()]


@dataclass(frozen=True)
class BenchRequest:
    """What the command line asks to measure, checked before anything runs."""

    workloads: list[_workloads.Workload]
    impls: list[str]
    models: list[str]
    workers: list[int] | None
    """``--workers``; None: the usable cores (and ``IO_WORKERS_HIGH`` for I/O workloads)."""
    cores: int
    interpreters: list[InterpreterInfo]
    settings: BenchSettings

    def workers_for(self, workload: _workloads.Workload) -> list[int]:
        if self.workers is not None:
            return self.workers
        return [self.cores, IO_WORKERS_HIGH] if workload.kind == "io" else [self.cores]


def read_bench_request(args: argparse.Namespace) -> BenchRequest:
    cores = usable_cores()
    workloads = [
        _workloads.get_workload(n)
        for n in choose("workload", args.workload, _workloads.WORKLOADS, DEFAULT_WORKLOADS)
    ]
    models = choose("model", args.model, _models.MODELS, _models.DEFAULT_MODELS)
    impls = choose("impl", args.impl, _workloads.impl_names(), DEFAULT_IMPLS)
    workers = parse_workers(args.workers, cores)
    preset = QUICK if args.quick else NORMAL
    settings = BenchSettings(
        repeats=positive_int("--repeats", args.repeats, 1000) or int(preset["repeats"]),
        target_cell_s=float(preset["target_cell_s"]),
        cell_timeout_s=positive_float("--cell-timeout", args.cell_timeout) or 300.0,
        size=positive_int("--size", args.size),
        dask_scheduler=_scheduler_address(args.dask_scheduler, models),
        budget_s=_budget(args.budget, 0.0 if args.repeats else float(preset["budget_s"])),
        anchor=args.anchor,
    )
    if not any(impl in w.impls for w in workloads for impl in impls):
        raise _no_impl(workloads, impls)
    interpreters = _interpreters(split_values(args.python))
    return BenchRequest(workloads, impls, models, workers, cores, interpreters, settings)


def open_outputs(args: argparse.Namespace) -> History | None:
    """Check every output before measuring, so a broken path fails in a second, not after the
    run; the history (None with ``--no-history``) is opened here for the same reason."""
    from .._report.html import check_html_target  # the page code loads only when asked

    history = None if args.no_history else History(resolve_history_path(args.history))
    if args.html:
        check_html_target(args.html)
    if args.json:
        check_output_target("--json", args.json)
    return history


def measure(request: BenchRequest, json_path: str | None, err: Console) -> tuple[BenchRun | None, bool]:
    """Run the bench under a progress bar, writing ``json_path`` after every round.

    Returns the run (None when Ctrl-C came before any cell finished) and whether it was
    interrupted: an interrupted run still has every cell that finished. A round whose JSON
    cannot be written (a full disk) does not stop the run: it is said once, and the file is
    tried again with the outputs at the end, after the run is recorded.
    """
    captured: list[BenchRun] = []
    unwritable: list[UsageError] = []

    def on_update(run: BenchRun) -> None:
        if not captured:
            captured.append(run)
        if json_path and not unwritable:
            try:
                write_output_json("--json", json_path, run.to_json())
            except UsageError as exc:
                unwritable.append(exc)
                err.print(f"[yellow]warning: {escape(str(exc))} Measuring goes on.[/yellow]", highlight=False)

    progress = make_progress(err)
    try:
        with interrupts_latched(), progress:
            run = run_bench(
                request.workloads,
                request.impls,
                request.models,
                request.workers_for,
                request.interpreters,
                request.settings,
                progress=_RichProgress(progress),
                on_update=on_update,
            )
    except KeyboardInterrupt:
        return (captured[0] if captured else None), True
    return run, False


def render_bench(document: ResultDocument, out: Console, err: Console) -> None:
    render_group_tables(out, document)
    render_iteration_costs(out, document)
    render_interpreter_comparison(out, document)
    render_classic(out, document)
    render_warnings(err, document)


def write_outputs(
    args: argparse.Namespace, document: ResultDocument, history: History | None, err: Console
) -> bool:
    """Record the run first, then write the files (each atomically, beside its target): a file
    that cannot be written (a full disk) loses nothing, since the history already holds the run
    and says how to get it back. Returns whether everything was written."""
    from .._report.html import write_html

    run_id = record_run(history, document, err)
    outputs: list[tuple[str, str, str, Callable[[], None]]] = []
    if args.json:
        outputs.append(
            ("--json", "results", args.json, lambda: write_output_json("--json", args.json, document))
        )
    if args.html:
        outputs.append(("--html", "HTML report", args.html, lambda: write_html(args.html, document)))
    written = True
    for option, what, path, write in outputs:
        try:
            write()
        except UsageError as exc:
            written = False
            err.print(f"[red]gilwise: {escape(usage_message(exc))}[/red]", highlight=False)
            err.print(escape(_where_the_run_is(run_id, history, option)), highlight=False)
        else:
            err.print(f"{what} written to {path}", highlight=False)
    return written and (history is None or run_id is not None)


def record_run(history: History | None, document: ResultDocument, err: Console) -> int | None:
    """The run's id in the history, or None (no history, or it could not be written: said)."""
    if history is None:
        return None
    try:
        run_id = history.record(document)
    except UsageError as exc:
        why = escape(usage_message(exc))
        err.print(
            f"[yellow]warning: this run was not recorded in the history: {why}[/yellow]", highlight=False
        )
        return None
    err.print(f"recorded as run #{run_id} in {history.path} (`gilwise history` lists runs)", highlight=False)
    return run_id


def _where_the_run_is(run_id: int | None, history: History | None, option: str) -> str:
    if run_id is not None and history is not None:
        elsewhere = "" if history.path == default_history_path() else f" --history {history.path}"
        return (
            f"The run is kept as run #{run_id} in the history: `gilwise report {run_id} {option} PATH"
            f"{elsewhere}` writes it once there is room."
        )
    return "The run was not recorded in a history: the tables above are all that is left of it."


def run_bench_command(args: argparse.Namespace) -> int:
    request = read_bench_request(args)
    history = open_outputs(args)
    err = stderr_console()
    run, interrupted = measure(request, args.json, err)
    if run is None:
        err.print("[yellow]interrupted before any cell finished; nothing to report[/yellow]")
        return EXIT_INTERRUPTED
    document = run.to_json()
    render_bench(document, stdout_console(args.wide), err)
    written = write_outputs(args, document, history, err)
    if interrupted:
        err.print("[yellow]interrupted: the results above are the cells that finished[/yellow]")
        return EXIT_INTERRUPTED
    if not written:
        return EXIT_USAGE
    failed = any(r["status"] == "failed" for r in document["results"])
    return EXIT_FAILED if failed else EXIT_OK


def _scheduler_address(address: str | None, models: list[str]) -> str | None:
    if address is None:
        return None
    if "dask" not in models:
        raise UsageError(
            f"--dask-scheduler {address} is only used by the dask model; add --model dask "
            f"(models chosen: {', '.join(models)})"
        )
    return scheduler_address(address)


def _no_impl(workloads: list[_workloads.Workload], impls: list[str]) -> Exception:
    offered = sorted({i for w in workloads for i in w.impls})
    return UsageError(
        f"no selected workload has implementation(s) {', '.join(impls)}; "
        f"these workloads offer: {', '.join(offered)}"
    )
