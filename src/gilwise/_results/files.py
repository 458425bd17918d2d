"""Write result documents atomically: a reader (or a Ctrl-C) never sees half a file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .._exceptions import UsageError


def check_output_target(option: str, path: str | os.PathLike[str]) -> None:
    """Fail before a long run, not after it, when ``option``'s file could not be written."""
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {target} is a folder; give a file name inside it.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=f".{target.name}.", dir=target.parent):
            pass
    except OSError as exc:
        raise UsageError(
            f"cannot write {option} {target}: {exc.strerror or exc}; choose a writable path."
        ) from exc


def write_json_atomic(path: str | os.PathLike[str], document: Mapping[str, object]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=1)
            handle.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
