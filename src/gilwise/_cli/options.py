"""Parsing of repeatable, comma-separated CLI values, with errors that list valid choices."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .._exceptions import UsageError

MAX_WORKERS = 1024
_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc)://\[?[\w.:-]+\]?:\d{1,5}$")


def split_values(values: Sequence[str] | None) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``, order kept, duplicates dropped."""
    out: list[str] = []
    for value in values or ():
        for raw in value.split(","):
            part = raw.strip()
            if part and part not in out:
                out.append(part)
    return out


def choose(
    option: str, given: Sequence[str] | None, valid: Iterable[str], default: Sequence[str]
) -> list[str]:
    names = split_values(given)
    valid_list = list(valid)
    if not names:
        return list(default)
    unknown = [n for n in names if n not in valid_list and n != "all"]
    if unknown:
        raise UsageError(
            f"unknown {option} {', '.join(repr(u) for u in unknown)}; "
            f"valid choices: {', '.join(valid_list)} (or 'all')"
        )
    if "all" in names:
        return valid_list
    return names


def parse_workers(given: Sequence[str] | None, usable_cores: int) -> list[int] | None:
    """``--workers 2,4`` / ``--workers sweep`` (1 .. 2 × usable cores); None = per-workload default."""
    values = split_values(given)
    if not values:
        return None
    if values == ["sweep"]:
        return list(range(1, 2 * usable_cores + 1))
    workers: list[int] = []
    for value in values:
        try:
            n = int(value)
        except ValueError:
            raise UsageError(f"--workers {value!r} is not a whole number; give N[,N...] or 'sweep'") from None
        if not 1 <= n <= MAX_WORKERS:
            raise UsageError(f"--workers {n} is out of range: use 1 to {MAX_WORKERS}")
        workers.append(n)
    return sorted(set(workers))


def positive_int(option: str, value: int | None, maximum: int = 10**12) -> int | None:
    if value is not None and not 1 <= value <= maximum:
        raise UsageError(f"{option} {value} is out of range: use 1 to {maximum}")
    return value


def positive_float(option: str, value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise UsageError(f"{option} {value} must be a positive number of seconds")
    return value


def scheduler_address(address: str) -> str:
    """``--dask-scheduler``: a Dask scheduler address, checked for shape (reached later)."""
    if not _ADDRESS.match(address):
        raise UsageError(
            f"--dask-scheduler {address!r} is not a scheduler address: give PROTOCOL://HOST:PORT, "
            "e.g. tcp://10.0.0.5:8786 (the address `dask scheduler` prints; protocols: tcp, tls, ucx)"
        )
    return address


SERVE_TOKEN_ENV_VAR = "GILWISE_SERVE_TOKEN"
"""Where ``serve`` and ``load`` read the bearer token when no flag gives it (a command line is
visible to every user in ``ps``)."""
