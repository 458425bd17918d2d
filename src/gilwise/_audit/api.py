"""The whole audit: resolve the target, list what it has installed, import each distribution in
its own child, look up the fixes, and return the typed :class:`.document.AuditDocument`."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .._exceptions import UsageError
from .._pythons.discovery import survey
from .._system.cores import usable_cores
from .._system.lifetime import owned_temp_directory, sweep_stale_temp_dirs
from .document import AUDIT_SCHEMA, AuditDocument, AuditTarget, DistributionFinding, Kind, Status, worst_first
from .fixes import choose_installer, fix_for, newest_wheel
from .imports import ImportOutcome, import_in_child, signal_name, stop_running_children
from .inventory import (
    InstalledDistribution,
    Inventory,
    canonical_name,
    closure,
    dependents,
    read_inventory,
    requirement_name,
)

Progress = Callable[[str], None]

SCRATCH_LEFT_OUT = frozenset({"pip", "setuptools", "wheel"})
"""What a scratch venv brings by itself: not the user's dependencies."""


@dataclass(frozen=True)
class AuditSettings:
    """One audit, whichever front-end asked for it (the CLI builds it from its flags)."""

    python: str | None = None
    """An interpreter, or a venv's folder; None: the running interpreter, or with
    ``requirements``, the newest free-threaded build discovery finds."""
    requirements: tuple[str, ...] = ()
    """Requirement specifiers or requirements files to install into a scratch venv of ``python``."""
    only: tuple[str, ...] = ()
    """Audit these distributions (and what they require) only."""
    timeout_s: float = 30.0
    """Per distribution: an import that runs longer is killed and reported as a hang."""
    offline: bool = False
    jobs: int = 0
    """Import children at once (0: the usable cores, at most 4)."""


def interpreter_of(path: str) -> str:
    """A venv's folder → its interpreter; an interpreter → itself."""
    if os.path.isdir(path):
        for candidate in ("bin/python3", "bin/python", "Scripts/python.exe"):
            if os.path.exists(os.path.join(path, candidate)):
                return os.path.join(path, candidate)
        raise UsageError(
            f"{path} is a folder without bin/python: give a venv or an interpreter", parameter="python"
        )
    if not os.path.exists(path):
        raise UsageError("no such interpreter", parameter="python", value=path)
    return path


def newest_free_threaded() -> str:
    builds = [i for i in survey().interpreters if i.free_threaded]
    if not builds:
        raise UsageError(
            "no free-threaded CPython found on PATH, in pyenv, uv's or gilwise's folders: install "
            "one (`uv python install 3.14t`) and pass it as `python`",
            parameter="python",
        )
    return max(builds, key=lambda i: i.version_info).path


@contextlib.contextmanager
def scratch_venv(python: str, requirements: Sequence[str], say: Progress) -> Iterator[str]:
    """A throw-away venv of ``python`` with ``requirements`` installed; yields its interpreter."""
    sweep_stale_temp_dirs()  # venvs a SIGKILLed earlier audit left behind
    with owned_temp_directory("gilwise-audit-") as folder:
        venv = os.path.join(folder, "venv")
        args = [a for r in requirements for a in (["-r", r] if os.path.isfile(r) else [r])]
        if shutil.which("uv"):
            commands = [
                ["uv", "venv", "--quiet", "--python", python, venv],
                ["uv", "pip", "install", "--quiet", "--python", os.path.join(venv, "bin", "python"), *args],
            ]
        else:
            commands = [
                [python, "-m", "venv", venv],
                [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", *args],
            ]
        say(f"installing {' '.join(args)} into a scratch venv of {python}")
        for command in commands:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
            if proc.returncode != 0:
                raise UsageError(
                    f"could not install {' '.join(args)} for {python}: {proc.stderr.strip()[-600:]}. "
                    "Fix the requirements (or pin versions that have wheels for this build)."
                )
        yield os.path.join(venv, "bin", "python")


def audit(settings: AuditSettings, progress: Progress | None = None) -> AuditDocument:
    """Audit the distributions ``settings`` names; ``progress`` hears what is being done."""
    if settings.timeout_s <= 0:
        raise UsageError(
            "must be a positive number of seconds", parameter="timeout_s", value=settings.timeout_s
        )
    say = progress or (lambda _message: None)
    if settings.requirements:
        base = interpreter_of(settings.python) if settings.python else newest_free_threaded()
        with scratch_venv(base, settings.requirements, say) as python:
            named = [line for r in settings.requirements for line in _requirement_lines(r)]
            roots = {n for line in named if (n := requirement_name(line))}
            roots |= {canonical_name(o) for o in settings.only}
            held = ", ".join(settings.requirements)
            note = f"audited a scratch venv of {base} (deleted since) holding {held}"
            return _audit_python(python, settings, say, roots, scratch=True, notes=[note])
    python = interpreter_of(settings.python) if settings.python else sys.executable
    only = {canonical_name(o) for o in settings.only}
    return _audit_python(python, settings, say, only, scratch=False, notes=[])


def _requirement_lines(requirement: str) -> list[str]:
    """A specifier, or a requirements file's specifier lines (options and comments left out)."""
    if not os.path.isfile(requirement):
        return [requirement]
    with open(requirement, encoding="utf-8") as f:
        lines = [line.split("#", 1)[0].strip() for line in f]
    return [line for line in lines if line and not line.startswith("-")]


def _audit_python(
    python: str, settings: AuditSettings, say: Progress, roots: set[str], *, scratch: bool, notes: list[str]
) -> AuditDocument:
    say(f"listing the distributions of {python}")
    inventory = read_inventory(python)
    target = inventory.target
    chosen = _chosen(inventory, roots, scratch)
    required_by = dependents(inventory.distributions)
    # Direct: what was asked for, else what nothing else installed requires (the graph's roots).
    direct = roots or {d.key for d in chosen if not required_by[d.key]}
    if not target["free_threaded"]:
        notes.append(
            f"{target['path']} is a GIL build ({target['version']}): nothing was imported. Audit a "
            "free-threaded build (3.13t or newer) instead"
        )
    installer = choose_installer(python, settings.offline)
    jobs = settings.jobs or min(4, usable_cores())

    def check(dist: InstalledDistribution) -> DistributionFinding:
        if not target["free_threaded"] or not dist.modules:
            outcome = None
        else:
            say(f"importing {dist.name} {dist.version} ({', '.join(dist.modules)})")
            outcome = import_in_child(
                target["path"], dist.modules, settings.timeout_s, dist.extension_modules
            )
        return _finding(dist, outcome, target, dist.key in direct, required_by[dist.key])

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="gilwise-audit")
    try:
        findings = list(pool.map(check, chosen))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        stop_running_children()
        raise
    pool.shutdown()
    for finding in findings:
        if finding["status"] in ("ok", "pure", "not-checked"):
            continue
        say(f"asking the index about {finding['name']}")
        answer = newest_wheel(python, finding["name"], installer)
        finding["fix"] = fix_for(
            finding["status"],
            finding["kind"],
            finding["name"],
            finding["version"],
            tuple(finding["gil_modules"]),
            answer,
            target,
        )
    return {
        "schema": AUDIT_SCHEMA,
        "target": target,
        "distributions": worst_first(findings),
        "index": installer,
        "notes": notes,
    }


def _chosen(inventory: Inventory, roots: set[str], scratch: bool) -> list[InstalledDistribution]:
    installed = {d.key for d in inventory.distributions}
    missing = sorted(roots - installed)
    if missing:
        raise UsageError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed for "
            f"{inventory.target['path']}: check the spelling, or install it there first"
        )
    keep = closure(roots, inventory.distributions) if roots else installed
    if scratch and not roots:
        keep -= SCRATCH_LEFT_OUT
    return [d for d in inventory.distributions if d.key in keep]


def _finding(
    dist: InstalledDistribution,
    outcome: ImportOutcome | None,
    target: AuditTarget,
    direct: bool,
    required_by: list[str],
) -> DistributionFinding:
    kind: Kind = "extension" if dist.extension_modules else "pure"
    status, detail = _status(dist, outcome, target, kind)
    if dist.abi3_files and target["free_threaded"]:
        detail += (
            f" {len(dist.abi3_files)} .abi3.so file(s) built for GIL builds "
            f"({dist.abi3_files[0]}): a free-threaded build still finds them, and may crash."
        )
    finding: DistributionFinding = {
        "name": dist.name,
        "version": dist.version,
        "direct": direct,
        "kind": kind,
        "status": status,
        "gil_modules": list(outcome.gil_modules) if outcome else [],
        "detail": detail.strip(),
        "fix": "",
        "modules": list(dist.modules),
        "extension_modules": list(dist.extension_modules),
        "wheel_tags": list(dist.wheel_tags),
        "required_by": sorted(required_by),
        "duration_s": round(outcome.duration_s, 3) if outcome else 0.0,
    }
    if outcome is not None and outcome.signal is not None:
        finding["signal"] = outcome.signal
    return finding


def _status(
    dist: InstalledDistribution, outcome: ImportOutcome | None, target: AuditTarget, kind: Kind
) -> tuple[Status, str]:
    if outcome is None:
        if not target["free_threaded"]:
            return "not-checked", "the target is a GIL build"
        return (
            ("pure", "nothing to import") if kind == "pure" else ("not-checked", "no importable module found")
        )
    if outcome.timed_out:
        return "timeout", f"importing {', '.join(dist.modules)} ran past {outcome.duration_s:.0f} s; killed"
    if outcome.signal is not None:
        last = outcome.stderr_tail.splitlines()[-1:] or [""]
        return "crash", f"the interpreter died of {signal_name(outcome.signal)} importing it. {last[0]}"
    if outcome.gil_modules or outcome.gil_enabled:
        modules = ", ".join(outcome.gil_modules) or "an extension"
        own = [m for m in outcome.gil_modules if m in dist.extension_modules]
        via = "" if own or not outcome.gil_modules else " (a dependency's module, not its own)"
        return "gil-enabled", f"the GIL was re-enabled by loading {modules}{via}"
    if outcome.errors:
        errors = [(m, e.splitlines()[-1]) for m, e in outcome.errors.items()]
        if len(dist.modules) == 1:
            return "import-error", errors[0][1]
        return "import-error", "; ".join(f"{m}: {e}" for m, e in errors)
    if outcome.gil_enabled is None:
        return (
            "import-error",
            f"the child exited {outcome.exit_code} without an answer: {outcome.stderr_tail}",
        )
    if kind == "pure":
        return "pure", "pure Python"
    if outcome.extension_errors:
        module, error = next(iter(outcome.extension_errors.items()))
        skipped = len(outcome.extension_errors)
        return "ok", f"GIL stays off; {skipped} extension(s) would not import alone ({module}: {error})"
    return "ok", "GIL stays off"
