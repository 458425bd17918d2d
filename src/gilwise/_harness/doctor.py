"""What this machine offers gilwise: cores, CPython builds, native kernels, usable models.

``diagnose()`` returns the ``gilwise.doctor/1`` document that ``gilwise doctor --json`` writes.
Every interpreter is asked about itself in a fresh process of its own (never guessed from a
path): the discovery probe, then the import probe of ``gilstate`` on ``gilwise._native``, which
reports which kernels load there and whether that import turned a free-threaded build's GIL on.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .. import _models
from .._exceptions import UsageError
from .._native._install import capi_build_command, capi_file_for
from .._pythons.builds import cached_builds, free_threaded_hint
from .._pythons.discovery import InterpreterInfo, InterpreterSurvey, survey
from .._pythons.gilstate import gil_after_import
from .._system.install import running_from_checkout
from .launch import worker_env
from .machine import describe_machine

SCHEMA = "gilwise.doctor/1"
NATIVE_IMPLS = ("native", "ctypes", "numpy")


def native_status(info: InterpreterInfo, timeout: float = 60.0) -> dict[str, Any]:
    """Which native kernels load in ``info`` and what loading them does to its GIL."""
    capi = capi_file_for(info.soabi, info.free_threaded)
    status: dict[str, Any] = {
        "capi_file": str(capi),
        "capi_built": capi.exists(),
        "capi_build_command": capi_build_command(info.path, info.free_threaded),
    }
    try:
        probed = gil_after_import(
            info.path,
            "gilwise._native",
            call="unavailable_reasons",
            args=NATIVE_IMPLS,
            env=worker_env(),
            timeout=timeout,
        )
    except UsageError as exc:
        return {**status, "error": f"the native probe failed: {exc}"}
    return {
        **status,
        "impls": probed.returned,
        "gil_reenabled_by_import": probed.reenabled,
        "gil_warning": probed.warning,
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
        "jit": info.jit,
        "jit_source": info.jit_source,
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


def _cached_builds_entry() -> list[dict[str, Any]]:
    """The builds the checkout's script makes, present or not (a missing one says how to get
    it); outside a checkout nothing makes them, so only those present are listed."""
    in_checkout = running_from_checkout()
    return [
        {
            "label": build.label,
            "free_threaded": build.free_threaded,
            "path": build.path(),
            "present": present,
            "build_command": build.build_command,
        }
        for build in cached_builds()
        if (present := os.path.exists(build.path())) or in_checkout
    ]


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
        "cached_builds": _cached_builds_entry(),
        # None when one was found; else how to get one where gilwise runs (uv, pyenv, the script).
        "free_threaded_hint": None if any(i.free_threaded for i in interpreters) else free_threaded_hint(),
        "models": _models_entry(interpreters),
    }
