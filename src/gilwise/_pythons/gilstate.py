"""Whether importing a module turns a free-threaded CPython's GIL back on.

A free-threaded build (3.13t, 3.14t) re-enables the GIL when it loads an extension module that
does not declare ``Py_mod_gil = Py_MOD_GIL_NOT_USED``, and says so with a RuntimeWarning. A
threads benchmark run after such an import measures a GIL build in disguise: this is what
doctor and the bench rows use to say so.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass

from .._exceptions import UsageError

# Runs inside the interpreter under test: stdlib only.
_GIL_IMPORT_SCRIPT = r"""
import json, sys, warnings
check = getattr(sys, "_is_gil_enabled", None)
before = True if check is None else bool(check())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    __import__(sys.argv[1])
after = True if check is None else bool(check())
print(json.dumps({"before": before, "after": after, "warnings": [
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

    @property
    def reenabled(self) -> bool:
        return self.gil_after and not self.gil_before


def gil_after_import(
    python: str, module: str, *, pythonpath: str | None = None, timeout: float = 60.0
) -> GilAfterImport:
    """Import ``module`` in a fresh ``python`` process and report the GIL before and after.

    PYTHON_GIL is removed from the child's environment so the build's default behaviour is what
    gets reported. ``pythonpath`` is prepended to PYTHONPATH (for modules outside the
    interpreter's site-packages). Raises UsageError when the module cannot be imported there.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [python, "-c", _GIL_IMPORT_SCRIPT, module],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{python}: cannot run it to import {module} ({exc}).") from exc
    if proc.returncode != 0:
        raise UsageError(
            f"{python} could not import {module}: {proc.stderr.strip()[-400:]}. Install the "
            "module for that interpreter or pass its folder as pythonpath."
        )
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    warnings = [w for w in data["warnings"] if "GIL" in w]
    return GilAfterImport(
        python=python,
        module=module,
        gil_before=bool(data["before"]),
        gil_after=bool(data["after"]),
        warning=warnings[0] if warnings else None,
    )
