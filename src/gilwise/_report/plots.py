"""The report's figures, built from result records (one group = workload × impl × interpreter)."""

from __future__ import annotations

from collections import defaultdict

from .._results.document import ResultRow
from .._results.headline import headline_interval, headline_speedup
from . import fmt
from .svg import LineChart, Point, Segment, Series, core_timeline, line_chart, stacked_bars

MODEL_COLORS = {
    "serial": "#6b7280",
    "threads": "#d9480f",
    "processes": "#1c7ed6",
    "processes-fork": "#1864ab",
    "processes-forkserver": "#3bc9db",
    "processes-spawn": "#4dabf7",
    "asyncio": "#2b8a3e",
    "interpreters": "#9c36b5",
    "cpp-threads": "#e67700",
}
FALLBACK_COLORS = ("#c2255c", "#087f5b", "#5c940d", "#364fc7", "#862e9c")

PHASES = (
    Segment("start-up", "#f59f00"),
    Segment("dispatch / IPC", "#e03131"),
    Segment("work", "#1c7ed6"),
    Segment("shutdown", "#adb5bd"),
)


def model_color(model: str) -> str:
    if model in MODEL_COLORS:
        return MODEL_COLORS[model]
    return FALLBACK_COLORS[sum(map(ord, model)) % len(FALLBACK_COLORS)]


def measured(records: list[ResultRow]) -> list[ResultRow]:
    return [r for r in records if r["status"] == "ok" and r.get("rounds")]


def cell_label(rec: ResultRow) -> str:
    return f"{rec['model']} × {rec['workers']}"


def speedup_chart(records: list[ResultRow], usable_cores: int, title: str) -> str | None:
    """Headline speedup vs workers, one line per model, whiskers = the headline's interval."""
    by_model: dict[str, list[ResultRow]] = defaultdict(list)
    for rec in measured(records):
        if rec["model"] != "serial" and headline_speedup(rec) is not None:
            by_model[rec["model"]].append(rec)
    if not by_model:
        return None
    series = []
    serial = [r for r in measured(records) if r["model"] == "serial"]
    if serial:
        series.append(
            Series("serial (baseline)", model_color("serial"), [Point(1, 1.0, tooltip="serial: 1.00×")])
        )
    for model, recs in by_model.items():
        points = []
        for r in sorted(recs, key=lambda r: r["workers"]):
            interval = headline_interval(r)
            points.append(
                Point(
                    r["workers"],
                    headline_speedup(r) or 0.0,
                    interval["low"] if interval else None,
                    interval["high"] if interval else None,
                    tooltip=f"{cell_label(r)}: {fmt.speedup_ci(r)}, {fmt.spread(r['wall_s'])}",
                ),
            )
        # With one worker count the legend carries the value: the markers sit side by side.
        label = f"{model}: {fmt.ratio(points[0].y)}" if len(points) == 1 else model
        series.append(Series(label, model_color(model), points))
    workers = [p.x for s in series for p in s.points]
    # Waiting needs no core: more I/O workers than cores is the point, not oversubscription.
    cpu_bound = records[0]["kind"] != "io"
    beyond = max(workers) > usable_cores and cpu_bound
    marker = f"{usable_cores} usable cores" + (" → oversubscribed" if beyond else "")
    chart = LineChart(
        title=title,
        x_label="workers",
        y_label="speedup over serial",
        series=series,
        ideal=True,
        x_marker=(usable_cores, marker),
        shade_beyond_marker=cpu_bound,
        log_x=max(workers) > 16,
    )
    return line_chart(chart)


def phase_chart(records: list[ResultRow], title: str) -> str | None:
    """Where each cell's wall time went: start-up, dispatch/IPC, work, shutdown (medians)."""
    rows = []
    for rec in measured(records):
        startup = rec["startup_s"]["median"] or 0.0
        dispatch = rec["dispatch_s"]["median"] or 0.0
        work = max(0.0, (rec["compute_s"]["median"] or 0.0) - dispatch)
        shutdown = rec["shutdown_s"]["median"] or 0.0
        note = (
            f"start {fmt.seconds(startup)} · dispatch {fmt.seconds(dispatch)} · work "
            f"{fmt.seconds(work)} · stop {fmt.seconds(shutdown)}"
        )
        rows.append((cell_label(rec), [startup, dispatch, work, shutdown], note))
    if not rows:
        return None
    return stacked_bars(title, PHASES, rows, fmt.seconds, width=760)


def memory_chart(records: list[ResultRow], title: str) -> str | None:
    """Extra resident memory per worker over the serial run's peak (the cost of each worker)."""
    rows = []
    for rec in measured(records):
        per_worker = rec.get("memory_per_worker_bytes")
        if rec["model"] == "serial" or per_worker is None:
            continue
        note = (
            f"{fmt.size_bytes(per_worker)} per worker · peak {fmt.size_bytes(rec['peak_rss_bytes'])} in all"
        )
        rows.append((cell_label(rec), [float(per_worker) / fmt.MIB], note))
    if not rows:
        return None
    segment = Segment("extra resident memory per worker", "#7048e8")
    return stacked_bars(title, [segment], rows, lambda v: f"{v:g} MiB", width=760)


def timelines(records: list[ResultRow]) -> list[tuple[ResultRow, str]]:
    """One per-core CPU picture per measured cell (its median round)."""
    out = []
    for rec in measured(records):
        cpu = rec["cpu_per_core"]
        interval = cpu["interval_s"]
        if not cpu["samples"] or not interval:
            continue
        title = f"Per-core CPU, {cell_label(rec)} (median round)"
        out.append((rec, core_timeline(title, cpu["samples"], interval)))
    return out
