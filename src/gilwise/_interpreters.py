"""CPython builds gilwise can run workers under: what they are and how they were built.

A probe runs a tiny stdlib-only script *in the interpreter itself* (never guesses from a path
name), so the metadata is what that build reports: version, free-threaded build flag, GIL state
at run time, start methods, extension ABI tag.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any

from ._exceptions import UsageError

# Runs inside the probed interpreter: stdlib only, valid on 3.8+.
PROBE_SCRIPT = r"""
import json, multiprocessing, platform, sys, sysconfig
def _subinterpreters():
    for name in ("concurrent.interpreters", "interpreters", "_interpreters", "_xxsubinterpreters"):
        try:
            __import__(name)
        except ImportError:
            continue
        return name
    return None
is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
print(json.dumps({
    "path": sys.executable,
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "gil_enabled": True if is_gil_enabled is None else bool(is_gil_enabled()),
    "soabi": sysconfig.get_config_var("SOABI") or "",
    "start_methods": multiprocessing.get_all_start_methods(),
    "default_start_method": multiprocessing.get_start_method(),
    "subinterpreters_module": _subinterpreters(),
}))
"""


@dataclass(frozen=True)
class InterpreterInfo:
    """What one CPython build is, as it reports itself."""

    path: str
    version: str
    version_info: tuple[int, int, int]
    implementation: str
    free_threaded: bool
    gil_enabled: bool
    soabi: str
    start_methods: tuple[str, ...]
    default_start_method: str
    subinterpreters_module: str | None

    @property
    def label(self) -> str:
        """Short human name: ``3.13.0``, ``3.13.5t`` for a free-threaded build."""
        return self.version + ("t" if self.free_threaded else "")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["version_info"] = list(self.version_info)
        data["start_methods"] = list(self.start_methods)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InterpreterInfo:
        vi = data["version_info"]
        return cls(
            path=str(data["path"]),
            version=str(data["version"]),
            version_info=(int(vi[0]), int(vi[1]), int(vi[2])),
            implementation=str(data["implementation"]),
            free_threaded=bool(data["free_threaded"]),
            gil_enabled=bool(data["gil_enabled"]),
            soabi=str(data.get("soabi", "")),
            start_methods=tuple(data["start_methods"]),
            default_start_method=str(data["default_start_method"]),
            subinterpreters_module=data.get("subinterpreters_module"),
        )


_cache: dict[str, InterpreterInfo] = {}


def probe(path: str, timeout: float = 30.0) -> InterpreterInfo:
    """Ask the interpreter at ``path`` what it is. Raises UsageError if it is not a Python."""
    resolved = os.path.realpath(path) if os.path.exists(path) else path
    if resolved in _cache:
        return _cache[resolved]
    try:
        proc = subprocess.run(
            [path, "-I", "-c", PROBE_SCRIPT],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(
            f"--python {path}: cannot run it ({exc}). Give the path of a CPython executable, "
            "e.g. --python /usr/bin/python3.13."
        ) from exc
    if proc.returncode != 0:
        raise UsageError(
            f"--python {path}: it exited with {proc.returncode} when probed: "
            f"{proc.stderr.strip()[-300:]}. Give the path of a CPython 3.8+ executable."
        )
    try:
        info = InterpreterInfo.from_json(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, KeyError, IndexError) as exc:
        raise UsageError(f"--python {path}: its probe output was not understood: {exc}") from exc
    _cache[resolved] = info
    return info


def current() -> InterpreterInfo:
    """The interpreter running gilwise (probed in a child so GIL state is a fresh process's)."""
    return probe(sys.executable)
