"""What ``pip install gilwise`` costs a user: install size, distributions, and start-up.

    uv run python benchmarks/bench_install.py [--runs 10] [--baseline REF] [--json PATH]

Builds this checkout's wheel (``uv build --wheel``), installs it into fresh ``uv venv``s outside
the checkout, once with the core dependencies only and once as ``gilwise[all]``, and reports per
install the size of ``site-packages`` (apparent bytes of every file, gilwise included) and the
number of distributions in it (``*.dist-info``; a ``uv venv`` has no pip of its own). Then it
times whole-process starts from the core install: ``gilwise --help`` and ``gilwise bench
--help``, interleaved with a bare ``python -c pass`` of the same interpreter (the floor no
command can go under), run after run, so a slow phase of a shared machine hits every row alike.
``--baseline REF`` also builds and installs the wheel of a git revision (e.g. ``main``) the same
way, without extras, and times it in the same rounds: a before/after measured in the same
minutes.

Figures only: nothing here asserts a size or a time (the issue's target for ``gilwise --help``
is 0.2 s on a quiet machine; the rounds' median and min-max spread say how quiet this one was).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, machine_summary, table

REPO = Path(__file__).resolve().parents[1]
SCHEMA = "gilwise.bench_install/1"
STARTS = {"gilwise --help": ["--help"], "gilwise bench --help": ["bench", "--help"]}


def _run(*argv: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=900, check=False)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def build_wheel(source: Path, out: Path) -> Path:
    _run("uv", "build", "--wheel", "--out-dir", str(out), str(source))
    (wheel,) = out.glob("gilwise-*.whl")
    return wheel


def source_of(ref: str, into: Path) -> Path:
    """The tree of git revision ``ref`` (committed files only), unpacked under ``into``."""
    into.mkdir(parents=True)
    archive = into / "source.tar"
    _run("git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), ref)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "source", filter="data")
    return into / "source"


def install(wheel: Path, venv: Path, extras: str = "") -> Path:
    """A fresh venv of this interpreter holding the wheel (and ``extras``); its site-packages."""
    _run("uv", "venv", "--quiet", "--python", sys.executable, str(venv))
    requirement = f"gilwise[{extras}] @ {wheel.as_uri()}" if extras else str(wheel)
    _run("uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), requirement)
    (site_packages,) = venv.glob("lib/python*/site-packages")
    return site_packages


def footprint(site_packages: Path) -> dict[str, Any]:
    size = sum(
        os.lstat(os.path.join(folder, name)).st_size
        for folder, _, names in os.walk(site_packages)
        for name in names
    )
    distributions = sorted(p.name.split("-")[0] for p in site_packages.glob("*.dist-info"))
    return {"bytes": size, "mib": round(size / 2**20, 1), "distributions": distributions}


def time_starts(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Wall seconds of each command, ``runs`` times, in turn (one warm-up each, not counted)."""
    seconds: dict[str, list[float]] = {label: [] for label in commands}
    for round_number in range(runs + 1):
        for label, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60)
            if round_number:
                seconds[label].append(time.perf_counter() - start)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed starts per command (default 10)")
    parser.add_argument("--baseline", metavar="REF", help="also install and time the wheel of this git ref")
    parser.add_argument("--json", type=Path, default=RESULTS / "bench_install.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gilwise-bench-install-") as scratch:
        root = Path(scratch)
        builds = {"this tree": REPO}
        if args.baseline:
            builds[f"baseline {args.baseline}"] = source_of(args.baseline, root / "baseline")
        installs: dict[str, dict[str, Any]] = {}
        commands: dict[str, list[str]] = {"python -c pass": [sys.executable, "-c", "pass"]}
        for name, source in builds.items():
            wheel = build_wheel(source, root / f"wheel-{len(installs)}")
            # A baseline from before the extras gets what `pip install gilwise` gave its users.
            for extras in ("", "all") if source == REPO else ("",):
                label = f"{name}: {'gilwise[all]' if extras else 'gilwise (core)'}"
                venv = root / f"venv-{len(installs)}"
                installs[label] = footprint(install(wheel, venv, extras))
                if not extras:
                    script = str(venv / "bin" / "gilwise")
                    commands |= {f"{name}: {start}": [script, *argv] for start, argv in STARTS.items()}
                    commands[f"{name}: python -c pass"] = [str(venv / "bin" / "python"), "-c", "pass"]
        del commands["python -c pass"]  # each venv's own interpreter is the floor
        # Run the starts from a folder outside the checkout: the user's situation.
        os.chdir(root)
        load_before = os.getloadavg()
        seconds = time_starts(commands, args.runs)
        load_after = os.getloadavg()

    print("install (wheel of this tree and its dependencies, in a fresh uv venv)")
    print(
        table(
            ["install", "site-packages MiB", "distributions"],
            [(label, f"{i['mib']:.1f}", len(i["distributions"])) for label, i in installs.items()],
        )
    )
    for label, i in installs.items():
        print(f"  {label}: {', '.join(i['distributions'])}")
    print(f"\nstart-up from the core install, wall seconds, {args.runs} runs interleaved")
    rows = [
        (label, f"{statistics.median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}")
        for label, v in seconds.items()
    ]
    print(table(["command", "median s", "min s", "max s"], rows))
    print(f"load average {load_before[0]:.2f} before the starts, {load_after[0]:.2f} after")
    report = {
        "schema": SCHEMA,
        "machine": machine_summary(),
        "uv": _run("uv", "--version").strip(),
        "installs": installs,
        "start_seconds": {
            label: {"median": statistics.median(v), "min": min(v), "max": max(v), "values": v}
            for label, v in seconds.items()
        },
        "runs": args.runs,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "baseline": args.baseline,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    if shutil.which("uv") is None:
        sys.exit("this benchmark needs uv on PATH (python3 -m pip install uv)")
    sys.exit(main())
