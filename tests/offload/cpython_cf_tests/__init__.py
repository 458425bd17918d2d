"""CPython's own ``test.test_concurrent_futures`` package, borrowed from a CPython >= 3.12.

The project venv is 3.11, whose installation ships ``test.support`` but not these tests (3.11
had a single ``test_concurrent_futures.py``); 3.12 split them into this package of mixins.
This shim makes that directory importable as ``cpython_cf_tests`` in the test process and in
gilwise's worker processes (they import the tests' helper functions by name). Set
``GILWISE_CPYTHON_CF_TESTS`` to the directory to choose one; otherwise the newest found wins.
"""

from __future__ import annotations

import glob
import os
import re
import sysconfig

from test import support

_PYENV_ROOT = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
_PATTERNS = (
    os.path.join(_PYENV_ROOT, "versions/3.1[2-9]*/lib/python3.1[2-9]*/test/test_concurrent_futures"),
    "/usr/lib/python3.1[2-9]*/test/test_concurrent_futures",
    "/usr/local/lib/python3.1[2-9]*/test/test_concurrent_futures",
    os.path.join(sysconfig.get_path("stdlib"), "test", "test_concurrent_futures"),
)


def _version(path: str) -> tuple[int, ...]:
    match = re.search(r"python3\.(\d+)", path)
    return (3, int(match.group(1))) if match else (0,)


def find() -> str | None:
    chosen = os.environ.get("GILWISE_CPYTHON_CF_TESTS")
    if chosen:
        return chosen if os.path.isfile(os.path.join(chosen, "util.py")) else None
    found = {p for pattern in _PATTERNS for p in glob.glob(pattern)}
    found = {p for p in found if os.path.isfile(os.path.join(p, "util.py"))}
    return max(found, key=_version) if found else None


LOCATION = find()
if LOCATION is None:
    raise ImportError(
        "no CPython >= 3.12 test.test_concurrent_futures package found; install one "
        "(e.g. pyenv install 3.13, or Debian's libpython3.13-testsuite) or point "
        "GILWISE_CPYTHON_CF_TESTS at its directory"
    )
__path__ = [LOCATION]

# Names the 3.13 tests import from test.support that 3.11's test.support does not have yet.
if not hasattr(support, "Py_GIL_DISABLED"):
    support.Py_GIL_DISABLED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
