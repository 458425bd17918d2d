"""What to do about a finding: ask the index, through the installer the user has, for the newest
release with a wheel that loads on the target build, and say what each way out means.

``uv pip compile --only-binary NAME --python TARGET`` resolves for the target's own tags (a
``cp313t`` wheel on 3.13t; ``abi3t`` from 3.15); without uv, the target's ``pip install
--dry-run --only-binary=:all: --report -`` answers the same from the wheels' metadata alone.
Nothing is downloaded beyond metadata and nothing is installed. ``--offline`` asks nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from .document import AuditTarget, Kind, Status

Installer = Literal["uv", "pip", "offline"]

PYTHON_GIL_0_RISK = (
    "PYTHON_GIL=0 (or -X gil=0) keeps the GIL off at your own risk: the module never said it is "
    "safe without the GIL, so threads may race on its internal state (wrong results, crashes)"
)


@dataclass(frozen=True)
class IndexAnswer:
    version: str | None
    """The newest release with a wheel for the target, or None when the index has none."""
    problem: str | None = None
    """Why the index could not be asked (the answer is then unknown)."""


def choose_installer(python: str, offline: bool) -> Installer:
    """``uv`` when on PATH, else the target's own pip, else nothing to ask (offline)."""
    if offline:
        return "offline"
    if shutil.which("uv"):
        return "uv"
    probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, timeout=60, check=False)
    return "pip" if probe.returncode == 0 else "offline"


def newest_wheel(python: str, name: str, installer: Installer, timeout: float = 60.0) -> IndexAnswer:
    if installer == "offline":
        return IndexAnswer(None, "offline")
    if installer == "uv":
        command = ["uv", "pip", "compile", "-", "--python", python, "--no-deps", "--no-header"]
        command += ["--no-annotate", "--quiet", "--only-binary", name]
    else:
        command = [python, "-m", "pip", "install", "--dry-run", "--quiet", "--report", "-", "--no-deps"]
        command += ["--only-binary=:all:", "--ignore-installed", name]
    try:
        proc = subprocess.run(
            command, input=name + "\n", capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return IndexAnswer(None, f"{installer} did not answer ({exc})")
    if proc.returncode != 0:
        text = proc.stderr.lower()
        if "no solution" in text or "no matching distribution" in text or "unsatisfiable" in text:
            return IndexAnswer(None)
        return IndexAnswer(None, f"{installer} failed: {proc.stderr.strip()[-200:]}")
    if installer == "uv":
        for line in proc.stdout.splitlines():
            if "==" in line:
                return IndexAnswer(line.split("==", 1)[1].split(";")[0].strip())
        return IndexAnswer(None)
    installs = json.loads(proc.stdout).get("install", [])
    return IndexAnswer(installs[0]["metadata"]["version"] if installs else None)


def fix_for(
    status: Status,
    kind: Kind,
    name: str,
    version: str,
    gil_modules: tuple[str, ...],
    answer: IndexAnswer,
    target: AuditTarget,
) -> str:
    """One actionable sentence (or a few) for a finding; empty for a ready distribution."""
    # A pure wheel (py3-none-any) serves every build: only an extension needs the build's tag.
    tags = "/".join(target["wheel_tags"]) if kind == "extension" else "usable"
    if status in ("ok", "pure", "not-checked"):
        return ""
    if answer.version is not None and answer.version != version:
        index = (
            f"{name} {answer.version} has a {tags} wheel on the index: "
            f"`pip install -U '{name}=={answer.version}'`, then audit again"
        )
    elif answer.problem is not None:
        index = f"the index was not asked ({answer.problem})"
    elif answer.version == version:
        index = f"no newer release with a {tags} wheel than {version}"
    else:
        index = f"no release of {name} has a {tags} wheel"
    if status == "gil-enabled":
        modules = ", ".join(gil_modules) or "one of its extensions"
        return f"{index}. Else ask upstream to declare Py_mod_gil in {modules}. {PYTHON_GIL_0_RISK}."
    if status == "crash":
        return f"{index}. Do not import it on this build; it ends the process."
    if status == "timeout":
        return f"{index}. Its import did not finish: run `python -X importtime -c 'import ...'` to see where."
    return f"{index}. The error above says what is missing."
