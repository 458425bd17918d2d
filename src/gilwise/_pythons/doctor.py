"""What this machine offers gilwise: cores, CPython builds, native kernels, usable models.

``diagnose()`` returns the ``gilwise.doctor/1`` document that ``gilwise doctor --json`` writes.
Every interpreter is asked about itself in a fresh process of its own (never guessed from a
path): the discovery probe, then a native probe that imports ``gilwise._native`` there and
reports which kernels load and whether that import turned a free-threaded build's GIL back on.
"""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .. import _models
from .._harness.launch import worker_env
from .._harness.machine import describe_machine
from .discovery import InterpreterInfo, InterpreterSurvey, survey

SCHEMA = "gilwise.doctor/1"
NATIVE_IMPLS = ("native", "ctypes", "numpy")

# Runs inside the interpreter under test with gilwise on PYTHONPATH: stdlib only.
_NATIVE_PROBE = r"""
import json, sys, warnings
check = getattr(sys, "_is_gil_enabled", None)
out = {"gil_enabled_before": True if check is None else bool(check())}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        from gilwise import _native
        out["impls"] = {impl: _native.unavailable_reason(impl) for impl in sys.argv[1:]}
    except Exception as exc:
        out["error"] = "%s: %s" % (type(exc).__name__, exc)
out["gil_enabled_after"] = True if check is None else bool(check())
out["warnings"] = [str(w.message) for w in caught if "GIL" in str(w.message)]
print(json.dumps(out))
"""


def _native_dir() -> Path:
    return Path(_models.__file__).resolve().parent.parent / "_native"


def native_status(info: InterpreterInfo, timeout: float = 60.0) -> dict[str, Any]:
    """Which native kernels load in ``info`` and what loading them does to its GIL."""
    capi = _native_dir() / f"_capi.{info.soabi}.so"
    status: dict[str, Any] = {
        "capi_file": str(capi),
        "capi_built": capi.exists(),
        "capi_build_command": f"uv run python -m gilwise._native._build {info.path}",
    }
    env = {k: v for k, v in worker_env().items() if k != "PYTHON_GIL"}
    try:
        proc = subprocess.run(
            [info.path, "-c", _NATIVE_PROBE, *NATIVE_IMPLS],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {**status, "error": f"the native probe could not run: {exc}"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip()[-400:]
        return {**status, "error": f"the native probe exited with {proc.returncode}: {tail}"}
    data = json.loads(lines[-1])
    if "error" in data:
        return {**status, "error": f"importing gilwise._native failed: {data['error']}"}
    reenabled = bool(data["gil_enabled_after"]) and not data["gil_enabled_before"]
    return {
        **status,
        "impls": data["impls"],
        "gil_reenabled_by_import": reenabled,
        "gil_warning": data["warnings"][0] if data["warnings"] else None,
    }


def _interpreter_entry(info: InterpreterInfo, found: InterpreterSurvey) -> dict[str, Any]:
    return {
        "path": info.path,
        "version": info.version,
        "label": info.label,
        "free_threaded": info.free_threaded,
        "gil_enabled": info.gil_enabled,
        "source": found.sources.get(info.path, "?"),
        "soabi": info.soabi,
        "start_methods": list(info.start_methods),
        "subinterpreters_module": info.subinterpreters_module,
        "models": {name: model.available(info) for name, model in _models.MODELS.items()},
    }


def _models_entry(interpreters: list[InterpreterInfo]) -> list[dict[str, Any]]:
    rows = []
    for name, model in _models.MODELS.items():
        reasons = {info.path: model.available(info) for info in interpreters}
        rows.append(
            {
                "name": name,
                "summary": model.summary,
                "needs": model.needs,
                "available_on": [path for path, reason in reasons.items() if reason is None],
                "unavailable": {path: reason for path, reason in reasons.items() if reason is not None},
            }
        )
    return rows


def diagnose(extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """The doctor document: machine, interpreters (with native status), skipped ones, models."""
    found = survey(extra)
    interpreters = list(found.interpreters)
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(interpreters)))) as pool:
        natives = list(pool.map(native_status, interpreters))
    entries = []
    for info, native in zip(interpreters, natives, strict=True):
        entries.append({**_interpreter_entry(info, found), "native": native})
    described = describe_machine()
    machine: dict[str, Any] = {
        **described,
        "load_per_usable_core": described["load_average"][0] / described["usable_cores"],
        "cpu_count_os": os.cpu_count(),
    }
    return {
        "schema": SCHEMA,
        "machine": machine,
        "interpreters": entries,
        "skipped": [{"path": s.path, "source": s.source, "reason": s.reason} for s in found.skipped],
        "models": _models_entry(interpreters),
    }
