"""Write result documents atomically: a reader (or a Ctrl-C) never sees half a file."""

from __future__ import annotations

import errno
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
    write_text_atomic(path, json.dumps(document, indent=1) + "\n")


def write_output_json(option: str, path: str | os.PathLike[str], document: Mapping[str, object]) -> None:
    """:func:`write_json_atomic` for a command's output file: a failure (a full disk, a folder
    made read-only meanwhile) is a :class:`UsageError` naming ``option`` and the file, which the
    CLI turns into exit 2 instead of a traceback."""
    try:
        write_json_atomic(path, document)
    except OSError as exc:
        raise unwritable_output(option, path, exc) from exc


def unwritable_output(option: str, path: str | os.PathLike[str], exc: OSError) -> UsageError:
    """The error for an output file that could not be written: what, where, and why."""
    return UsageError(
        f"cannot write {option} {Path(path)}: {exc.strerror or exc}; nothing was written there."
    )


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to a new file beside ``path``, then rename it over ``path``: a reader (or a
    Ctrl-C) sees the old file or the new one, never half of one. The file gets the permissions
    of any file the user creates (0666 less the umask), so a report meant for others is
    readable by them."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = _create_beside(target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new empty file in ``target``'s folder (the rename must stay on one file system).

    Not ``mkstemp``: it creates 0600 whatever the umask, and a chmod after it would have to
    read the umask, which a process can only do by setting it (racing other threads). Created
    with 0666 here, the kernel takes the umask (and a folder's default ACL) off by itself."""
    for _ in range(100):
        staging = target.with_name(f".{target.name}.{os.urandom(4).hex()}")
        try:
            return os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), staging
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", str(target.parent))
