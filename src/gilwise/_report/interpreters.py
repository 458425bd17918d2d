"""Interpreters side by side: the free-threaded single-thread penalty and thread scaling per build.

Everything is computed from the run's own records. How figures are paired: the harness runs the
groups of one workload and impl under every interpreter in the same rounds, with the same task
size (see ``_harness.runner``), so round *r* of the free-threaded serial cell and round *r* of
the GIL build's serial cell ran seconds apart. The penalty is the median over rounds of
``(free-threaded serial time per iteration) / (GIL serial time per iteration)`` for rounds both
measured; speedups are each interpreter's own paired speedups (same round, same interpreter).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape

from .._results.document import InterpreterRef, ResultDocument, ResultRow, Summary, interpreter_label
from .._results.headline import headline_interval, headline_speedup, headline_uncertain
from .._results.stats import summary
from . import fmt
from .columns import TableColumn, fit_columns, fitted_table

PARALLEL_MODELS = ("threads", "interpreters", "processes")
# Below this, the classic loop's threads scaling is "well below" the hoisted loop's.
CONTENTION_GAP = 0.25
PAIRING = (
    "paired by round: every interpreter ran its cells in the same rounds with the same task size, "
    "so each ratio compares cells measured seconds apart; speedups are medians [confidence "
    "interval], penalties medians [min–max] over rounds"
)


label = interpreter_label


def build_text(interp: InterpreterRef) -> str:
    """``GIL build``, ``free-threaded build, GIL disabled`` or the re-enabled warning."""
    if not interp["free_threaded"]:
        return "GIL build"
    if interp["gil_enabled"]:
        return "free-threaded build, ⚠ GIL re-enabled at run time"
    return "free-threaded build, GIL disabled"


REENABLED_NOTE = (
    "⚠ this free-threaded build ran with its GIL on: an imported extension module does not "
    "declare Py_mod_gil (or PYTHON_GIL=1 is set), so its threads rows measure a GIL build. "
    "`gilwise doctor` shows which kernels re-enable it; use extensions built for free-threading."
)


def interpreters_in(document: ResultDocument) -> list[InterpreterRef]:
    """The interpreters of the results, in the order they were given."""
    seen: dict[str, InterpreterRef] = {}
    for rec in document["results"]:
        seen.setdefault(rec["interpreter"]["path"], rec["interpreter"])
    return list(seen.values())


def _median(values: Summary | None) -> float | None:
    return values["median"] if values else None


def _measured(rec: ResultRow) -> bool:
    return rec["status"] == "ok" and bool(rec.get("rounds"))


def _per_iteration(rec: ResultRow) -> dict[int, float]:
    """Round id -> wall time per unit of work (sizes are shared, but stay exact if not)."""
    units = max(1, rec["tasks"] * rec["size"])
    ids = rec.get("round_ids") or list(range(len(rec["wall_s"]["values"])))
    return {i: v / units for i, v in zip(ids, rec["wall_s"]["values"], strict=True)}


def _baseline(
    free: InterpreterRef, gil_builds: list[InterpreterRef], flags: dict[str, str]
) -> tuple[InterpreterRef, str] | None:
    """The GIL build to compare a free-threaded one with: its same-flags twin first, then the
    same version, the same minor version, any. ``flags``: path -> configure-flags digest."""
    same = [g for g in gil_builds if g["version"] == free["version"]]
    mine = flags.get(free["path"])
    twins = [g for g in same if mine is not None and flags.get(g["path"]) == mine]
    if twins:
        return twins[0], "its same-flags GIL twin"
    if same:
        known = mine is not None and flags.get(same[0]["path"]) is not None
        return same[0], "the same-version GIL build" + (" (other configure flags)" if known else "")
    minor = ".".join(free["version"].split(".")[:2])
    close = [g for g in gil_builds if g["version"].startswith(minor + ".")]
    if close:
        return close[0], f"a GIL build of {minor} (not the same patch release)"
    if gil_builds:
        return gil_builds[0], "a GIL build of another version (a rough baseline only)"
    return None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _by_version(penalties: list[dict[str, Any]], jit: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per workload and impl, each free-threaded build's penalty against its own version's GIL
    build, oldest version first: how the penalty changed from release to release. A build whose
    JIT (or whose baseline's JIT) is on is marked, so JIT-free builds are compared with each other."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in penalties:
        if item["baseline_kind"].startswith(("its same-flags", "the same-version")):
            grouped[(item["workload"], item["impl"])].append(item)
    out = []
    for (workload, impl), items in grouped.items():
        builds = [
            {
                "free_threaded": item["free_threaded"],
                "baseline": item["baseline"],
                "baseline_kind": item["baseline_kind"],
                "ratio": item["ratio"],
                "jit": jit.get(item["free_threaded_path"]),
                "jit_free": "on" not in (jit.get(item["free_threaded_path"]), jit.get(item["baseline_path"])),
            }
            for item in sorted(items, key=lambda i: _version_key(i["free_threaded"].rstrip("t")))
        ]
        out.append({"workload": workload, "impl": impl, "builds": builds})
    return out


def compare(document: ResultDocument) -> dict[str, Any]:
    """Penalties, per-build scaling and the shared-object contention finding, as data."""
    by_group: dict[tuple[str, str], list[ResultRow]] = defaultdict(list)
    for rec in document["results"]:
        by_group[(rec["workload"], rec["impl"])].append(rec)
    entries = {e["path"]: e for e in document.get("interpreters", [])}
    flags = {path: e["build_flags"] for path, e in entries.items() if "build_flags" in e}
    jit = {path: e["jit"] for path, e in entries.items() if "jit" in e}
    penalties, scaling = [], []
    for (workload, impl), records in by_group.items():
        serial = {r["interpreter"]["path"]: r for r in records if r["model"] == "serial" and _measured(r)}
        gil_builds = [r["interpreter"] for r in serial.values() if not r["interpreter"]["free_threaded"]]
        for rec in serial.values():
            interp = rec["interpreter"]
            if not interp["free_threaded"]:
                continue
            chosen = _baseline(interp, gil_builds, flags)
            if chosen is None:
                continue
            base, why = chosen
            mine, theirs = _per_iteration(rec), _per_iteration(serial[base["path"]])
            ratios = [mine[i] / theirs[i] for i in sorted(set(mine) & set(theirs)) if theirs[i]]
            penalties.append(
                {
                    "workload": workload,
                    "impl": impl,
                    "free_threaded": label(interp),
                    "free_threaded_path": interp["path"],
                    "baseline": label(base),
                    "baseline_path": base["path"],
                    "baseline_kind": why,
                    "ratio": summary(ratios),
                }
            )
        for rec in records:
            if rec["model"] in PARALLEL_MODELS:
                scaling.append(
                    {
                        "status": rec["status"] if _measured(rec) or rec["status"] != "ok" else "not run",
                        "reason": rec.get("reason"),
                        "workload": workload,
                        "impl": impl,
                        "interpreter": label(rec["interpreter"]),
                        "path": rec["interpreter"]["path"],
                        "build": build_text(rec["interpreter"]),
                        "model": rec["model"],
                        "workers": rec["workers"],
                        "speedup_paired": rec.get("speedup_paired"),
                        "speedup": headline_speedup(rec),
                        "speedup_ci": headline_interval(rec),
                        "speedup_uncertain": headline_uncertain(rec),
                        "startup_s": _median(rec.get("startup_s")),
                    }
                )
    return {
        "pairing": PAIRING,
        "penalties": penalties,
        "scaling": scaling,
        "contention": _contention(scaling),
        "versions": _by_version(penalties, jit),
    }


def _contention(scaling: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """sqrt_log vs sqrt_log_local under threads on each free-threaded build, same workers."""
    found = []
    threads = {
        (s["path"], s["workers"], s["workload"]): s
        for s in scaling
        if s["model"] == "threads"
        and s["impl"] == "python"
        and s["status"] == "ok"
        and s["speedup"] is not None
    }
    for (path, workers, workload), classic in threads.items():
        local = threads.get((path, workers, "sqrt_log_local"))
        if workload != "sqrt_log" or local is None or not classic["build"].endswith("GIL disabled"):
            continue
        a, b = classic["speedup"], local["speedup"]
        found.append(
            {
                "interpreter": classic["interpreter"],
                "workers": workers,
                "sqrt_log": a,
                "sqrt_log_local": b,
                "contended": b - a >= CONTENTION_GAP,
            }
        )
    return found


def contention_text(item: dict[str, Any]) -> str:
    a, b, n, who = item["sqrt_log"], item["sqrt_log_local"], item["workers"], item["interpreter"]
    if not item["contended"]:
        return (
            f"On {who}, {n} threads scale sqrt_log {a:.2f}× and sqrt_log_local {b:.2f}×: no "
            "contention on shared objects showed up in this run."
        )
    return (
        f"On {who} (no GIL), {n} threads scale sqrt_log_local {b:.2f}× but the classic sqrt_log "
        f"only {a:.2f}×. The two loops do the same arithmetic; the classic one looks up the global "
        "`math` and its attributes `sqrt` and `log` on every iteration, so every thread keeps "
        "incrementing and decrementing the reference counts of the same shared module and "
        "function objects, and those counters' cache lines bounce between the cores. "
        "sqrt_log_local binds `math.sqrt` and `math.log` to locals before the loop and shares "
        "nothing. Free-threading is not automatic parallelism: objects shared in a hot loop "
        "serialise the threads that touch them."
    )


def render_interpreter_comparison(console: Console, document: ResultDocument) -> None:
    """Printed when several interpreters were compared, or a free-threaded one was used."""
    interps = interpreters_in(document)
    if len(interps) < 2 and not any(i["free_threaded"] for i in interps):
        return
    data = compare(document)
    console.print("[bold]Interpreters compared[/bold]")
    for interp in interps:
        console.print(escape(f"  {label(interp):<10} {interp['path']} — {build_text(interp)}"))
    if any(i["free_threaded"] and i["gil_enabled"] for i in interps):
        console.print(escape(REENABLED_NOTE))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in data["scaling"]:
        groups[(item["workload"], item["impl"])].append(item)
    for (workload, impl), items in groups.items():
        console.print(
            escape(f"{workload} [{impl}]: paired speedup over each build's own serial"), highlight=False
        )
        _print_scaling(console, interps, items)
    for item in data["penalties"]:
        ratio = item["ratio"]
        if ratio["median"] is None:
            continue
        console.print(
            escape(
                f"Free-threaded single-thread penalty, {item['workload']} [{item['impl']}]: "
                f"{item['free_threaded']} serial / {item['baseline']} serial ({item['baseline_kind']}) "
                f"= {fmt.paired(ratio)} over {len(ratio['values'])} rounds"
                + f" ({(ratio['median'] - 1) * 100:+.0f} % time per iteration)"
                + _penalty_note(item)
            )
        )
    for item in data["versions"]:
        text = versions_text(item)
        if text:
            console.print(escape(text))
    for item in data["contention"]:
        console.print(escape(contention_text(item)))
    console.print(f"[dim]{escape(data['pairing'])}[/dim]")


def _print_scaling(console: Console, interps: list[InterpreterRef], items: list[dict[str, Any]]) -> None:
    """Interpreters as rows and model×workers as columns; turned the other way round when those
    columns do not fit the width (there are usually fewer interpreters than model×workers)."""
    cells = {(i["path"], i["model"], i["workers"]): _scaling_cell(i) for i in items}
    columns = sorted({(i["model"], i["workers"]) for i in items}, key=lambda k: (k[1], k[0]))
    names = [f"{model}×{workers}" for model, workers in columns]
    wide = [TableColumn("interpreter", 0, wraps=True, justify="left")]
    wide += [TableColumn(name, 0, wraps=True) for name in names]
    rows = [
        [escape(label(interp))] + [cells.get((interp["path"], *column), "—") for column in columns]
        for interp in interps
    ]
    fitted = fit_columns(wide, rows, console.width)
    if not fitted.fits:
        wide = [TableColumn("model×workers", 0, wraps=True, justify="left")]
        wide += [TableColumn(label(interp), 0, wraps=True) for interp in interps]
        rows = [
            [escape(name)] + [cells.get((interp["path"], *column), "—") for interp in interps]
            for name, column in zip(names, columns, strict=True)
        ]
        fitted = fit_columns(wide, rows, console.width)
    console.print(fitted_table(wide, rows, fitted))


def versions_text(item: dict[str, Any]) -> str | None:
    """``3.13.5t +62 % → 3.14.10t +9 %``: the JIT-free builds' penalties, oldest first."""
    builds = [b for b in item["builds"] if b["jit_free"] and b["ratio"]["median"] is not None]
    if len(builds) < 2:
        return None
    steps = [f"{b['free_threaded']} {(b['ratio']['median'] - 1) * 100:+.0f} %" for b in builds]
    first, last = builds[0]["ratio"]["median"], builds[-1]["ratio"]["median"]
    change = (first - last) * 100
    verdict = f"{change:.0f} points less" if change >= 0 else f"{-change:.0f} points more"
    return (
        f"Single-thread penalty by version, {item['workload']} [{item['impl']}], JIT off in every "
        f"build, each against its own version's GIL build: {' → '.join(steps)} "
        f"({verdict} from {builds[0]['free_threaded']} to {builds[-1]['free_threaded']})"
    )


def _penalty_note(item: dict[str, Any]) -> str:
    if item["free_threaded"].startswith("3.13."):
        # The 3.13 free-threading HOWTO: the specialising adaptive interpreter is off in 3.13t.
        return (
            ". CPython 3.13's free-threaded build runs without the specialising adaptive "
            "interpreter (PEP 659), which costs most on global and attribute lookups"
        )
    if _version_key(item["free_threaded"].rstrip("t")) >= (3, 14):
        # The 3.14 free-threading HOWTO: specialisation is back, "about 5-10 %" slower.
        return (
            ". From 3.14 the free-threaded build specialises again (PEP 659, made thread-safe); "
            "CPython's docs put its single-thread cost at about 5–10 %"
        )
    return ""


def _scaling_cell(item: dict[str, Any] | None) -> str:
    if item is None:
        return "—"
    if item["status"] != "ok" or item["speedup"] is None:
        return f"[dim]{escape(item['status'])}[/dim]"
    text = fmt.speedup_text(item["speedup"], item["speedup_ci"], item["speedup_uncertain"])
    if item["model"] != "threads":
        text += f", start-up {fmt.seconds(item['startup_s'])}"
    return text
