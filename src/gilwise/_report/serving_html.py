"""``gilwise serving --html``: one self-contained page (inline SVG, no script, works offline)
with the table, the latency-percentile curve of each model (HdrHistogram's plot: the tail
spread out on a log axis) and each model's busy cores over time."""

from __future__ import annotations

from .._serving.document import ModelResult, ServingDocument
from .fmt import MIB
from .html import CSS
from .plots import model_color
from .svg import LineChart, Point, Series, esc, line_chart

TAIL_X_LABEL = "1 / (1 − percentile): 2 = p50, 10 = p90, 100 = p99, 1000 = p99.9"


def _tail_x(percentile: float) -> float | None:
    """HdrHistogram's x axis: 1 / (1 - p), so p99 and p99.9 get room; the max has no place."""
    return None if percentile >= 100.0 else 1.0 / (1.0 - percentile / 100.0)


def _curve(result: ModelResult, route: str) -> Series:
    figures = result["routes"].get(route)
    points = []
    for percentile, ms in figures["curve_ms"] if figures else []:
        x = _tail_x(percentile)
        if x is not None:
            points.append(Point(x, ms, tooltip=f"{result['model']}: p{percentile:g} {ms:.2f} ms"))
    return Series(result["model"], model_color(result["model"]), points)


def _row(result: ModelResult, routes: list[str]) -> str:
    if result["status"] != "ok":
        why = f"{result['status']}: {result['reason']}"
        return f"<tr><td>{esc(result['model'])}</td><td colspan='{6 + len(routes)}'>{esc(why)}</td></tr>"
    p99s = [result["routes"][r]["p99_ms"] for r in routes]
    throughput, busy = result["throughput_rps"], result["busy_cores"]
    cells = [
        result["model"],
        str(result["workers"]),
        "—" if throughput is None else f"{throughput:.1f}",
        *("—" if p is None else f"{p:.2f}" for p in p99s),
        "—" if busy is None else f"{busy:.2f}",
        "—"
        if result["uss_bytes"] is None or result["pss_bytes"] is None
        else f"{result['uss_bytes'] / MIB:.0f} / {result['pss_bytes'] / MIB:.0f}",
        "—" if result["ingest"] is None else f"{result['ingest']['events_per_s']:,.0f}",
    ]
    gil = result["gil_wait_s_per_s"]
    gil_cell = f"<td title='{esc(result['gil_wait_source'])}'>{'—' if gil is None else f'{gil:.3f}'}</td>"
    return "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + gil_cell + "</tr>"


def render_serving_html(document: ServingDocument) -> str:
    routes = list(document["mix"])
    measured = [r for r in document["results"] if r["status"] == "ok"]
    head = "".join(f"<th>{esc(r)} p99 ms</th>" for r in routes)
    table = (
        "<table><tr><th>model</th><th>workers</th><th>req/s</th>"
        f"{head}<th>busy cores</th><th>USS / PSS MiB</th><th>ingest events/s</th>"
        "<th>GIL wait s/s</th></tr>" + "".join(_row(r, routes) for r in document["results"]) + "</table>"
    )
    curves = "".join(
        "<figure>"
        + line_chart(
            LineChart(
                title=f"{route}: latency by percentile, from the scheduled send time",
                x_label=TAIL_X_LABEL,
                y_label="ms",
                series=[_curve(r, route) for r in measured],
                log_x=True,
            )
        )
        + "</figure>"
        for route in routes
    )
    busy = line_chart(
        LineChart(
            title="busy cores of each server's process tree while loaded",
            x_label="seconds into the measurement",
            y_label="cores",
            series=[
                Series(
                    r["model"], model_color(r["model"]), [Point(t, b) for t, b in r["busy_cores_over_time"]]
                )
                for r in measured
            ],
            x_marker=(float(document["machine"]["usable_cores"]), "usable cores"),
            shade_beyond_marker=False,
        )
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>gilwise serving — {esc(document['app'])}</title><style>{CSS}</style></head><body>"
        f"<h1>gilwise serving: {esc(document['app'])}</h1>"
        f"<p><strong>Verdict:</strong> {esc(document['verdict'])}</p>"
        f"<p>Mix {esc(', '.join(f'{p}={w:g}' for p, w in document['mix'].items()))}; "
        f"{esc(document['client'])}; GIL wait: {esc(document['gil_wait'])}.</p>"
        f"{table}<h2>Latency percentiles</h2>{curves}<h2>Busy cores</h2><figure>{busy}</figure>"
        + "".join(f"<p class='warning'>{esc(w)}</p>" for w in document["warnings"])
        + "</body></html>"
    )
