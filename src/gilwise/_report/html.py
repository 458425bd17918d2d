"""One self-contained HTML page for a result document: inline CSS and SVG, no network at view time.

The page is written for a reader who never saw the terminal: it says what each figure shows,
keeps every JSON row in a full table, and embeds the document itself as ``application/json``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path

from .._exceptions import UsageError
from .._results.document import GroupEntry, ResultDocument, ResultRow
from .._results.files import write_text_atomic
from .._results.headline import headline_speedup
from . import fmt, html_tables, plots
from .svg import esc

GroupKey = tuple[str, str, str]

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2933;
margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:21px;margin:36px 0 8px;border-bottom:2px solid #e3e6ea;
padding-bottom:4px}h3{font-size:16px;margin:20px 0 6px}
.sub{color:#52606d;margin:0 0 14px}nav a{margin-right:14px}
.box{background:#f1f5fb;border-left:4px solid #1c7ed6;padding:10px 16px;margin:14px 0}
.warn{background:#fff8e6;border-left-color:#f59f00}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#f1f3f5}
table.group td:nth-child(n+2),table.full td{white-space:nowrap}
table.classic td{max-width:330px}
tr.not-measured td,tr.status-unavailable td,tr.status-failed td{color:#868e96}
tr.status-failed td{color:#c92a2a}
.scroll{overflow-x:auto;border:1px solid #e3e6ea}
.scroll table{margin:0}
.figs{display:flex;flex-wrap:wrap;gap:14px 26px;align-items:flex-start}
figure{margin:6px 0}figcaption{font-size:13px;color:#52606d;max-width:640px}
svg.chart{max-width:100%;height:auto;font-family:inherit}svg text{fill:#1f2933}
.timelines{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:6px 18px}
.timelines figure{margin:0}.tl-head{font-size:13px;font-weight:600}
ul.glance li{margin:3px 0}code{background:#f1f3f5;padding:0 4px;border-radius:3px}
"""


def _groups(document: ResultDocument) -> dict[GroupKey, list[ResultRow]]:
    groups: dict[GroupKey, list[ResultRow]] = defaultdict(list)
    for rec in document["results"]:
        groups[(rec["workload"], rec["impl"], rec["interpreter"]["path"])].append(rec)
    return groups


def _anchor(key: GroupKey, index: int) -> str:
    return f"group-{index}-{key[0]}-{key[1]}".replace(" ", "-")


def _group_title(first: ResultRow) -> str:
    interp = first["interpreter"]
    build = "free-threaded build" if interp["free_threaded"] else "GIL build"
    gil = "GIL enabled" if interp["gil_enabled"] else "GIL disabled"
    return (
        f"{first['workload']} [{first['impl']}] ({first['kind']}-bound) — Python {interp['version']} "
        f"({build}, {gil})"
    )


def _cores_used(rec: ResultRow) -> str:
    own = rec.get("worker_cpu_cores_mean")
    return "" if own is None else f" on {own:.2f} cores"


def _glance(records: list[ResultRow]) -> str:
    """One sentence per group, only from its own figures."""
    ranked = sorted(
        (r for r in plots.measured(records) if r["model"] != "serial" and headline_speedup(r)),
        key=lambda r: -(headline_speedup(r) or 0.0),
    )
    if not ranked:
        return "no parallel cell was measured."
    best = ranked[0]
    text = (
        f"best parallel cell {plots.cell_label(best)} at {fmt.speedup_ci(best)} the serial speed "
        f"(median of the paired rounds){_cores_used(best)}"
    )
    others = "; ".join(
        f"{plots.cell_label(r)} {fmt.ratio(headline_speedup(r))}{_cores_used(r)}" for r in ranked[1:]
    )
    if (headline_speedup(best) or 0.0) < 1.1:
        text += " — no model beat serial by 10 % or more here"
    return text + (f"; {others}." if others else ".")


def _head(document: ResultDocument) -> str:
    machine = document["machine"]
    pythons = ", ".join(
        f"{i['version']}{'t' if i.get('free_threaded') else ''} ({i['path']})"
        for i in document.get("interpreters", [])
    )
    state = (
        "complete"
        if document.get("complete")
        else "interrupted"
        if document.get("interrupted")
        else "partial"
    )
    return (
        "<h1>gilwise bench report</h1>"
        f"<p class='sub'>Run started {esc(document.get('started'))}, "
        f"finished {esc(document.get('finished'))} "
        f"({esc(state)}) on {esc(machine.get('usable_cores'))} usable cores of "
        f"{esc(machine.get('cpu_model', 'an unknown CPU'))}; Python {esc(pythons)}; "
        f"{len(document['results'])} result rows.</p>"
        "<nav><a href='#glance'>At a glance</a><a href='#warnings'>Warnings</a>"
        "<a href='#classic'>Classic comparison</a><a href='#workloads'>Per workload</a>"
        "<a href='#rows'>All rows</a><a href='#machine'>Machine</a></nav>"
        "<div class='box'><b>How to read this.</b> Each workload ran once serially and under each "
        "concurrency model, every cell in a fresh process, the cells interleaved round by round. "
        "<b>Speedup</b> = serial time ÷ this time within each round, the median over the rounds "
        "(2.00× means twice as fast); the dashed diagonal is the ideal (speedup = workers), the "
        "shaded area is beyond the usable cores. The whiskers and the tables' [low–high] are the "
        "confidence interval of that median (sign test: 95 % from 6 rounds, less below), ? where it "
        "stayed wider than ±10 %. <b>USS / worker</b> is memory each worker alone holds. "
        "<b>Busy cores</b> is CPU use of the whole machine (1.00 = one core fully busy); “on N cores” "
        "is the CPU the cell's own processes used per second of wall time. Python threads running "
        "Python code stay near one core because of the GIL.</div>"
    )


def _warnings(document: ResultDocument) -> str:
    warnings = document.get("warnings", [])
    if not warnings:
        return "<h2 id='warnings'>Warnings</h2><p>None: the repeats agreed and the machine was quiet.</p>"
    items = []
    for w in warnings:
        cells = w.get("cells") or []
        detail = f"<details><summary>{len(cells)} cell(s)</summary>{esc(', '.join(cells))}</details>"
        items.append(f"<li><b>{esc(w.get('kind', 'warning'))}</b>: {esc(w['message'])}{detail}</li>")
    return f"<h2 id='warnings'>Warnings</h2><div class='box warn'><ul>{''.join(items)}</ul></div>"


def _busy(rec: ResultRow) -> str:
    """Machine-wide busy cores, split into this cell's own processes and everything else."""
    busy = rec.get("cpu_busy_cores_mean")
    if busy is None:
        return "busy cores not sampled"
    text = f"machine {busy:.2f} busy cores"
    own = rec.get("worker_cpu_cores_mean")
    if own is not None:
        text += f", of which this cell {own:.2f}"
    return text


def _figure(svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return f"<figure>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def _group_section(
    key: GroupKey, index: int, records: list[ResultRow], meta: GroupEntry | None, cores: int
) -> str:
    first = records[0]
    title = _group_title(first)
    parts = [f"<section class='workload' id='{esc(_anchor(key, index))}'><h2>{esc(title)}</h2>"]
    sub = f"{first['tasks']} independent tasks × {first['size']:,} {first.get('size_unit', '')} per repeat."
    if meta and meta["resource"]:
        sub += f" Served by: {meta['resource']}."
    parts.append(f"<p class='sub'>{esc(sub)}</p>")
    if meta and meta["status"] == "failed":
        parts.append(f"<div class='box warn'>This group failed: {esc(meta['reason'])}</div>")
    name = f"{first['workload']} [{first['impl']}]"
    figs = [
        _figure(
            plots.speedup_chart(records, cores, f"Speedup vs workers, {name}"),
            "Speedup over the serial run per model and worker count. Dashed diagonal: ideal scaling. "
            "Whiskers: range of the per-round paired ratios.",
        ),
        _figure(
            plots.phase_chart(records, f"Where the time went, {name}"),
            "Median wall time split into start-up (creating the pool), dispatch/IPC (time beyond the "
            "slowest worker's own task time: handing out work, pickling, waiting), the work itself "
            "and shutdown.",
        ),
        _figure(
            plots.memory_chart(records, f"Memory per worker, {name}"),
            "Peak resident memory of the whole process tree above the serial run's, divided by the "
            "worker count: threads share one process, each process carries its own interpreter.",
        ),
    ]
    parts.append(f"<div class='figs'>{''.join(figs)}</div>")
    tl = plots.timelines(records)
    if tl:
        parts.append(
            "<h3>Per-core CPU over time</h3><p class='sub'>For each cell's median round: the area on "
            "top is the total busy cores (dashed line = one full core), each row below is one core, "
            "white = idle, deep blue = fully busy. The whole machine is sampled, so other programs' "
            "load shows too; the heading says how much of it was this cell's own processes.</p>"
        )
        items = [
            f"<figure><div class='tl-head'>{esc(html_tables.model_text(rec))} × {rec['workers']} — "
            f"{esc(_busy(rec))}</div>{svg}</figure>"
            for rec, svg in tl
        ]
        parts.append(f"<div class='timelines'>{''.join(items)}</div>")
    parts.append("<h3>The numbers</h3>" + html_tables.group_table(records))
    parts.append("</section>")
    return "".join(parts)


def render_html(document: ResultDocument) -> str:
    """The whole report page as one string."""
    groups = _groups(document)
    meta: dict[GroupKey, GroupEntry] = {
        (g["workload"], g["impl"], g["interpreter"]): g for g in document.get("groups", [])
    }
    cores = int(document["machine"]["usable_cores"])
    glance = "".join(
        f"<li><a href='#{esc(_anchor(key, i))}'>{esc(key[0])} [{esc(key[1])}]</a> "
        f"({esc(recs[0]['kind'])}, Python {esc(recs[0]['interpreter']['version'])}): "
        f"{esc(_glance(recs))}</li>"
        for i, (key, recs) in enumerate(groups.items())
    )
    sections = "".join(
        _group_section(key, i, recs, meta.get(key), cores) for i, (key, recs) in enumerate(groups.items())
    )
    settings = document.get("settings", {})
    # \u003c etc. keep "</script>" or "<!--" in any string from ending or confusing the element.
    data = json.dumps(document).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    body = [
        _head(document),
        f"<h2 id='glance'>At a glance</h2><ul class='glance'>{glance}</ul>",
        _warnings(document),
        "<h2 id='classic'>C/C++ threads vs Python threads vs multiprocessing, measured here</h2>",
        html_tables.classic_table(document),
        "<div id='workloads'></div>",
        sections,
        "<h2 id='rows'>All result rows</h2><p class='sub'>Every row of the result document, measured or "
        "not, with the wall time of each repeat.</p>",
        f"<div class='scroll'>{html_tables.full_table(document['results'])}</div>",
        "<h2 id='machine'>Machine, interpreters and settings</h2>",
        html_tables.machine_table(document["machine"]),
        html_tables.interpreters_table(document.get("interpreters", [])),
        html_tables.key_value_table(
            [
                ("schema", document.get("schema")),
                ("gilwise version", document.get("gilwise_version")),
                *((k.replace("_", " "), v) for k, v in settings.items()),
            ]
        ),
        f"<script type='application/json' id='gilwise-result'>{data}</script>",
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>gilwise bench report — {esc(document.get('started'))}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _unwritable(target: Path, exc: OSError) -> UsageError:
    return UsageError(
        f"cannot write the HTML report there: {exc.strerror}; choose a writable path.",
        parameter="html_path",
        value=target,
    )


def check_html_target(path: str | os.PathLike[str]) -> None:
    """Fail before a long bench run, not after it, when the report could not be written."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=f".{target.name}.", dir=target.parent):
            pass
    except OSError as exc:
        raise _unwritable(target, exc) from exc
    if target.is_dir():
        raise UsageError(
            f"is a folder; give a file name such as {target / 'report.html'}.",
            parameter="html_path",
            value=target,
        )


def write_html(path: str | os.PathLike[str], document: ResultDocument) -> None:
    """Render and write atomically (a browser never sees half a page)."""
    text = render_html(document)
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise _unwritable(Path(path), exc) from exc
