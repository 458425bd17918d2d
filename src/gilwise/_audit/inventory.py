"""What is installed for the target interpreter, as its own ``importlib.metadata`` reads it.

Asked in a child of the target (the orchestrator may be another Python, or a GIL build): the
distributions with their versions, requirements, wheel tags, top-level modules and extension
modules. An extension module is a ``RECORD`` entry ending in one of the target's
``EXTENSION_SUFFIXES`` whose every path part is an identifier: vendored shared libraries
(``numpy.libs/libscipy_openblas64_.so``) end in ``.so`` too, but no import can reach them.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass

from .._exceptions import UsageError
from .document import AuditTarget

# Runs inside the target interpreter: stdlib only. Prints one JSON object.
_INVENTORY_SCRIPT = r"""
import importlib.machinery, importlib.metadata as md, json, sys, sysconfig
suffixes = sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True)
ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
major, minor = sys.version_info[:2]
tags = [f"cp{major}{minor}" + ("t" if ft else "")] + (["abi3t"] if ft and (major, minor) >= (3, 15) else [])
check = getattr(sys, "_is_gil_enabled", None)

def module_of(path):
    parts = path.split("/")
    if parts[-1].endswith(".py"):
        parts[-1] = parts[-1][:-3]
        kind = "py"
    else:
        for suffix in suffixes:
            if parts[-1].endswith(suffix):
                parts[-1] = parts[-1][: -len(suffix)]
                kind = "ext"
                break
        else:
            return None, None
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None, None
    return ".".join(parts), kind

dists, seen = [], set()
for dist in md.distributions():
    name = dist.metadata["Name"]
    if not name or name.lower() in seen:
        continue
    seen.add(name.lower())
    files = [str(f) for f in (dist.files or [])]
    modules, extensions, abi3 = set(), [], []
    for path in files:
        if path.startswith(".."):
            continue
        module, kind = module_of(path)
        if module is None:
            continue
        modules.add(module.split(".")[0])
        if kind == "ext":
            extensions.append(module)
            if ft and path.endswith(".abi3.so"):
                abi3.append(path)
    top = (dist.read_text("top_level.txt") or "").split()
    top = [t.replace("/", ".") for t in top if t and all(p.isidentifier() for p in t.split("/"))]
    wheel = dist.read_text("WHEEL") or ""
    dists.append({
        "name": name,
        "version": dist.version,
        "requires": list(dist.requires or []),
        "modules": sorted(set(top) & modules or modules or set(top)),
        "extension_modules": sorted(extensions),
        "abi3_files": abi3,
        "wheel_tags": [l.split(":", 1)[1].strip() for l in wheel.splitlines() if l.startswith("Tag:")],
    })
print(json.dumps({"target": {
    "path": sys.executable,
    "version": ".".join(map(str, sys.version_info[:3])),
    "free_threaded": ft,
    "gil_enabled": True if check is None else bool(check()),
    "soabi": sysconfig.get_config_var("SOABI") or "",
    "extension_suffixes": list(importlib.machinery.EXTENSION_SUFFIXES),
    "wheel_tags": tags,
}, "distributions": dists}))
"""


@dataclass(frozen=True)
class InstalledDistribution:
    name: str
    version: str
    requires: tuple[str, ...]
    modules: tuple[str, ...]
    """Top-level modules (``top_level.txt`` where it agrees with ``RECORD``)."""
    extension_modules: tuple[str, ...]
    abi3_files: tuple[str, ...]
    """``.abi3.so`` files in a free-threaded target: built for GIL builds, yet still searched."""
    wheel_tags: tuple[str, ...]

    @property
    def key(self) -> str:
        return canonical_name(self.name)


@dataclass(frozen=True)
class Inventory:
    target: AuditTarget
    distributions: tuple[InstalledDistribution, ...]


def canonical_name(name: str) -> str:
    """PEP 503's normalised name: the one spelling requirements and metadata agree on."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str | None:
    """The distribution a requirement line names, or None for an extra-only one (``; extra ==``)."""
    if re.search(r";.*\bextra\s*==", requirement):
        return None
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return canonical_name(found.group(1)) if found else None


def read_inventory(python: str, timeout: float = 60.0) -> Inventory:
    """Ask ``python`` (isolated mode: no PYTHONPATH, no user site) what it has installed."""
    command = [python, "-I", "-c", _INVENTORY_SCRIPT]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        failure = f"exit {proc.returncode}: {proc.stderr.strip()[-400:]}" if proc.returncode else None
    except (OSError, subprocess.TimeoutExpired) as exc:
        failure = str(exc)
    if failure is not None:
        raise UsageError(
            f"{python} could not list its distributions ({failure}). Give the path of a working "
            "CPython (3.13t or newer for a free-threaded audit)."
        )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    distributions = tuple(
        InstalledDistribution(
            name=d["name"],
            version=d["version"],
            requires=tuple(d["requires"]),
            modules=tuple(d["modules"]),
            extension_modules=tuple(d["extension_modules"]),
            abi3_files=tuple(d["abi3_files"]),
            wheel_tags=tuple(d["wheel_tags"]),
        )
        for d in data["distributions"]
    )
    return Inventory(target=data["target"], distributions=distributions)


def dependents(distributions: tuple[InstalledDistribution, ...]) -> dict[str, list[str]]:
    """Each distribution's key → the names of the installed distributions that require it."""
    installed = {d.key for d in distributions}
    required_by: dict[str, list[str]] = {d.key: [] for d in distributions}
    for dist in distributions:
        for requirement in dist.requires:
            needed = requirement_name(requirement)
            if needed in installed and needed != dist.key:
                required_by[needed].append(dist.name)
    return required_by


def closure(roots: set[str], distributions: tuple[InstalledDistribution, ...]) -> set[str]:
    """The keys of ``roots`` and everything they require, transitively (installed ones only)."""
    by_key = {d.key: d for d in distributions}
    found: set[str] = set()
    pending = [r for r in roots if r in by_key]
    while pending:
        key = pending.pop()
        if key in found:
            continue
        found.add(key)
        pending.extend(n for r in by_key[key].requires if (n := requirement_name(r)) in by_key)
    return found
