"""Whether importing a module turns a free-threaded CPython's GIL back on: the one import probe.

A free-threaded build (3.13t, 3.14t) re-enables the GIL when it loads an extension module that
does not declare ``Py_mod_gil = Py_MOD_GIL_NOT_USED``, and says so with a RuntimeWarning. A
threads benchmark run after such an import measures a GIL build in disguise. ``gilwise doctor``
asks every interpreter this about ``gilwise._native`` (and which kernels load there) through
:func:`gil_after_import`; bench rows report instead what their workers saw at run time.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError

# Runs inside the interpreter under test: stdlib only. argv: module [function [args...]].
_GIL_IMPORT_SCRIPT = r"""
import json, sys, warnings
check = getattr(sys, "_is_gil_enabled", None)
before = True if check is None else bool(check())
returned = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    module = __import__(sys.argv[1], fromlist=["_"])
    if len(sys.argv) > 2:
        returned = getattr(module, sys.argv[2])(*sys.argv[3:])
after = True if check is None else bool(check())
print(json.dumps({"before": before, "after": after, "returned": returned, "warnings": [
    str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]}))
"""


@dataclass(frozen=True)
class GilAfterImport:
    """Whether importing ``module`` under ``python`` turned the GIL back on."""

    python: str
    module: str
    gil_before: bool
    gil_after: bool
    warning: str | None  # the interpreter's own RuntimeWarning about it, when it gave one
    returned: Any = None
    """What ``module.call(*args)`` returned (JSON), when a call was asked for."""

    @property
    def reenabled(self) -> bool:
        return self.gil_after and not self.gil_before


def gil_after_import(
    python: str,
    module: str,
    *,
    call: str | None = None,
    args: tuple[str, ...] = (),
    pythonpath: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> GilAfterImport:
    """Import ``module`` in a fresh ``python`` process and report the GIL before and after.

    ``call``: a function of the module to call there with ``args`` (strings) while warnings are
    still recorded; its JSON-able return value comes back in ``returned``. PYTHON_GIL is removed
    from the child's environment so the build's default behaviour is what gets reported.
    ``pythonpath`` is prepended to PYTHONPATH (for modules outside the interpreter's
    site-packages). Raises UsageError when the module cannot be imported (or the call fails).
    """
    child = {k: v for k, v in (os.environ if env is None else env).items() if k != "PYTHON_GIL"}
    if pythonpath:
        child["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, child.get("PYTHONPATH")]))
    command = [python, "-c", _GIL_IMPORT_SCRIPT, module, *([call, *args] if call else [])]
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=child, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{python}: cannot run it to import {module} ({exc}).") from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise UsageError(
            f"{python} could not import {module}: {proc.stderr.strip()[-400:]}. Install the "
            "module for that interpreter or pass its folder as pythonpath."
        )
    data = json.loads(lines[-1])
    warnings = [w for w in data["warnings"] if "GIL" in w]
    return GilAfterImport(
        python=python,
        module=module,
        gil_before=bool(data["before"]),
        gil_after=bool(data["after"]),
        warning=warnings[0] if warnings else None,
        returned=data["returned"],
    )
