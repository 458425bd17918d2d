"""Free-threaded builds and sub-interpreters beside the GIL builds, version by version.

    uv run python benchmarks/bench_interpreters.py [--repeats 5] [--cell-s 1.0] [--builds 3.14,3.15]

One gilwise run (round-robin: every interpreter's cells in the same rounds, same task size) of
sqrt_log_local and sqrt_log under serial, threads, interpreters and processes with 2 workers, on
every build this machine has of gilwise's script (scripts/build-free-threaded-python.sh VERSION
[--gil]: 3.13t, 3.14t, 3.15t and their same-flags GIL twins) and, for a version whose twin is
missing, Debian's own GIL build of it (scripts/debian-python.sh VERSION), which runs the PEP 734
interpreter pool but is no twin. Prints each target beside its paired figure (median [min–max]
over rounds), each free-threaded build's single-thread penalty against its twin, the penalty
version by version (3.13t → 3.14t → 3.15t, all JIT-free), the start-up and per-task dispatch of
sub-interpreters beside processes', the builds that are missing and how to make them, and how
loaded the machine was; writes JSON. Targets are statements about this 2-core machine: a miss is
reported, never adjusted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from _common import fmt_range, load_report, paired_by_round, save, table
from gilwise._harness import BenchSettings, run_bench
from gilwise._pythons.builds import BUILD_VERSIONS, CachedBuild, debian_python_path
from gilwise._pythons.discovery import InterpreterInfo, probe
from gilwise._report import compare_interpreters
from gilwise._report.interpreters import contention_text, versions_text
from gilwise._workloads import Workload, get_workload

SRC = Path(__file__).resolve().parents[1] / "src" / "gilwise"
WORKLOADS = ["sqrt_log_local", "sqrt_log"]
MODELS = ["serial", "threads", "interpreters", "processes"]
WORKERS = 2

# (build key, workload, model, op, bound); None = reported beside, no target. A key is a minor
# version, "t" for its free-threaded build; "3.14" is the twin, else Debian's 3.14.
TARGETS: list[tuple[str, str, str, str | None, float | None]] = [
    ("3.14t", "sqrt_log_local", "threads", ">=", 1.7),
    ("3.14t", "sqrt_log", "threads", None, None),
    ("3.14", "sqrt_log_local", "threads", "<=", 1.15),
    ("3.14", "sqrt_log", "interpreters", ">=", 1.6),
    ("3.14", "sqrt_log_local", "interpreters", ">=", 1.6),
    ("3.14", "sqrt_log", "processes", None, None),
    ("3.14", "sqrt_log_local", "processes", None, None),
    ("3.14t", "sqrt_log_local", "interpreters", None, None),
    ("3.15t", "sqrt_log_local", "threads", None, None),
    ("3.15", "sqrt_log_local", "interpreters", None, None),
    ("3.13t", "sqrt_log_local", "threads", ">=", 1.7),
    ("3.13", "sqrt_log_local", "threads", "<=", 1.15),
    ("3.13", "sqrt_log", "interpreters", ">=", 1.6),
    ("3.13", "sqrt_log", "processes", None, None),
]


def available_builds() -> tuple[dict[str, InterpreterInfo], list[str]]:
    """Build key -> interpreter for what exists, and a line per missing build saying how to make it."""
    found: dict[str, InterpreterInfo] = {}
    missing: list[str] = []
    for minor in BUILD_VERSIONS:
        for build in (CachedBuild(minor, True), CachedBuild(minor, False)):
            key = minor + ("t" if build.free_threaded else "")
            if os.path.exists(build.path()):
                found[key] = probe(build.path())
                continue
            missing.append(f"{build.label} (the script's {key}): not built; `bash {build.build_command}`")
            debian = debian_python_path(minor)
            if not build.free_threaded and os.path.exists(debian):
                found[key] = probe(debian)
                missing[-1] += f" — using Debian's {found[key].label} at {debian} instead (not a twin)"
    return found, missing


def precompile(info: InterpreterInfo) -> None:
    """Byte-compile gilwise's sources for ``info``, as installing the package would.

    Sub-interpreters, spawned and forkserver workers import gilwise afresh; where .pyc files
    cannot be written (PYTHONDONTWRITEBYTECODE=1, a read-only checkout) each of them would
    compile it from source again, and their start-up would measure the compiler (measured here:
    2 sub-interpreters on 3.14 started in 0.13-0.15 s without .pyc files, 0.085 s with them).
    """
    subprocess.run([info.path, "-I", "-m", "compileall", "-q", str(SRC)], check=True, timeout=300)


def _costs(records: list[dict[str, Any]], interp: InterpreterInfo) -> list[tuple[str, ...]]:
    """Start-up and dispatch per task of interpreters and processes on one build."""
    rows = []
    for rec in records:
        if rec["interpreter"]["path"] != interp.path or rec["model"] not in ("interpreters", "processes"):
            continue
        if rec["status"] != "ok" or not rec.get("rounds"):
            rows.append((interp.label, rec["workload"], rec["model"], rec["status"], "—", "—"))
            continue
        startup, dispatch = rec["startup_s"], rec["dispatch_s"]
        per_task = [v / rec["tasks"] * 1e3 for v in dispatch["values"]]
        rows.append(
            (
                interp.label,
                rec["workload"],
                f"{rec['model']} ({', '.join(rec.get('notes') or [])})",
                f"{startup['median'] * 1e3:.1f} ms [{startup['min'] * 1e3:.1f}–{startup['max'] * 1e3:.1f}]",
                fmt_range(per_task, " ms"),
                f"{rec['shutdown_s']['median'] * 1e3:.1f} ms",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cell-s", type=float, default=1.0, help="calibrated serial cell time")
    parser.add_argument(
        "--builds",
        help="comma-separated build keys to run (e.g. 3.14,3.15: Debian's where no twin); the "
        "first is the one the shared task size is calibrated on. Default: every build found, 3.13 first",
    )
    args = parser.parse_args()
    interps, missing = available_builds()
    if args.builds:
        order = args.builds.split(",")
        absent = [k for k in order if k not in interps]
        if absent:
            print(f"not here: {', '.join(absent)}; found: {', '.join(sorted(interps))}", file=sys.stderr)
            print("\n".join(missing), file=sys.stderr)
            return 2
    elif "3.13" in interps:
        # The 3.13 twin first: the shared task size is calibrated on it (cells ≥ cell-s on it).
        order = ["3.13", *sorted(k for k in interps if k != "3.13")]
    else:
        print("\n".join(missing), file=sys.stderr)
        return 2
    found = set(interps)
    interps = {k: interps[k] for k in order}
    for info in interps.values():
        precompile(info)
    load_before = os.getloadavg()

    def workers_for(_: Workload) -> list[int]:
        return [WORKERS]

    run = run_bench(
        [get_workload(w) for w in WORKLOADS],
        ["python"],
        MODELS,
        workers_for,
        [interps[k] for k in order],
        BenchSettings(repeats=args.repeats, target_cell_s=args.cell_s),
    )
    load_after = os.getloadavg()
    document = run.to_json()
    records = document["results"]

    def find(key: str, workload: str, model: str) -> dict[str, Any]:
        path = interps[key].path
        return next(
            r
            for r in records
            if (r["interpreter"]["path"], r["workload"], r["model"]) == (path, workload, model)
        )

    rows, outcome = [], []
    for key, workload, model, op, bound in TARGETS:
        where = f"{key} {workload} {model}×{WORKERS}"
        if key not in interps:
            status = "not in this run (--builds)" if key in found else "not built"
            rows.append((where, "—" if op is None else f"{op} {bound}", status, "—", "—", "—"))
            outcome.append({"cell": where, "status": status, "met": None})
            continue
        rec, serial = find(key, workload, model), find(key, workload, "serial")
        where = f"{interps[key].label} {workload} {model}×{WORKERS}"
        if rec["status"] != "ok" or not rec["speedup_paired"]["values"]:
            rows.append((where, "—", f"{rec['status']}: {rec['reason']}", "—", "—", "NO" if op else ""))
            outcome.append({"cell": where, "status": rec["status"], "reason": rec["reason"], "met": False})
            continue
        paired = rec["speedup_paired"]
        value = paired["median"]
        met = None if op is None else (value >= bound if op == ">=" else value <= bound)
        compute = paired_by_round(rec, serial, "compute_s")
        rows.append(
            (
                where,
                "—" if op is None else f"{op} {bound}",
                fmt_range(paired["values"]),
                fmt_range(compute),
                f"{rec['cpu_busy_cores_mean']:.2f}",
                "" if met is None else ("yes" if met else "NO"),
            )
        )
        outcome.append(
            {
                "cell": where,
                "target": None if op is None else f"{op} {bound}",
                "speedup_paired": paired,
                "compute_speedup_paired": compute,
                "startup_s": rec["startup_s"],
                "busy_cores": rec["cpu_busy_cores_mean"],
                "met": met,
            }
        )
    print(
        table(["cell", "target", "speedup (paired, wall)", "compute phase only", "busy cores", "met"], rows)
    )
    comparison = compare_interpreters(document)
    print()
    for item in comparison["penalties"]:
        r = item["ratio"]
        print(
            f"single-thread penalty {item['workload']}: {item['free_threaded']} / {item['baseline']} "
            f"serial = {fmt_range(r['values'])} ({item['baseline_kind']})"
        )
    for item in comparison["versions"]:
        print(versions_text(item) or f"penalty by version, {item['workload']}: only one JIT-free build here")
    for item in comparison["contention"]:
        print(contention_text(item))
    print("\nstart-up and per-task dispatch, sub-interpreters beside processes (median [min–max]):")
    costs = [row for key in order for row in _costs(records, interps[key])]
    print(table(["build", "workload", "model", "start-up", "dispatch per task", "shutdown"], costs))
    jit = {i["path"]: i.get("jit") for i in document.get("interpreters", [])}
    print("\nbuilds: " + "; ".join(f"{interps[k].label} JIT {jit.get(interps[k].path)}" for k in order))
    for line in missing:
        print(f"missing: {line}")
    load, load_line = load_report(document, load_before, load_after)
    print(f"\n{load_line}")
    written = save(
        "interpreters" + (f"-{'_'.join(order)}" if args.builds else ""),
        {
            "targets": outcome,
            "comparison": comparison,
            "missing_builds": missing,
            "load": load,
            "run": document,
        },
    )
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
