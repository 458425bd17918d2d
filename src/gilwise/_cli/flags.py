"""The one table from a library parameter to the command-line flag that sets it.

The library speaks library: ``UsageError("must be positive", parameter="budget_s", value=-1)``
reads ``budget_s=-1: must be positive`` to a caller of ``gilwise.advise``. A user of the
command line never typed ``budget_s``; here it becomes ``--budget -1: must be positive``. A
fix that names another parameter writes it in backticks (``pass `token` T``), so that it
becomes that parameter's flag here too (``pass --token T``). A parameter missing from the
table keeps its library wording; tests/cli/test_flags.py checks that each one the library
names has a row.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from .._exceptions import UsageError

FLAG_OF_PARAMETER = MappingProxyType(
    {
        "budget_s": "--budget",
        "db_path": "--db",
        "duration_s": "--duration",
        "history_path": "--history",
        "host": "--host",
        "html_path": "--html",
        "mix": "--mix",
        "no_history": "--no-history",
        "pid": "--pid",
        "python": "--python",
        "rounds": "--rounds",
        "threads": "--threads",
        "timeout_s": "--timeout",
        "token": "--token",
        "workers": "--workers",
    }
)

_QUOTED_PARAMETER = re.compile(r"`(\w+)`")


def usage_message(exc: UsageError) -> str:
    """``exc`` in the terms of the command line: the flag and its value, then the problem."""
    flag = FLAG_OF_PARAMETER.get(exc.parameter or "")
    if flag is None:
        return str(exc)
    problem = _QUOTED_PARAMETER.sub(lambda m: FLAG_OF_PARAMETER.get(m[1], m[0]), exc.problem)
    if exc.value is None:
        return f"{flag}: {problem}"
    value = f"{exc.value:g}" if isinstance(exc.value, float) else str(exc.value)
    return f"{flag} {value}: {problem}"
