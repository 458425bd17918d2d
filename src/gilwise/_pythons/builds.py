"""gilwise's own CPython builds: the one place that knows where the cache keeps them, and how
a user gets a free-threaded CPython where gilwise runs.

In a checkout, ``scripts/build-free-threaded-python.sh VERSION [--gil]`` builds a free-threaded
CPython and its GIL twin (same source, same flags) into ``$GILWISE_CACHE/cpython-X.Y.Z[t]``;
``scripts/debian-python.sh VERSION`` unpacks Debian's own (GIL) build of 3.14 / 3.15 into
``$GILWISE_CACHE/debian-python3.X``. Discovery scans every ``bin/`` of the cache; this module
names the paths a caller asks for by version (tests, benchmarks, messages). An installed
gilwise has no ``scripts/``: its hints name ``uv python install 3.14t`` (or pyenv), whose
interpreters discovery finds where those tools put them.

Stdlib only, and ``_system.install`` (whether gilwise runs from a checkout).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .._system.install import checkout_hint, running_from_checkout

# One upstream release per minor version; keep in step with the table in
# scripts/build-free-threaded-python.sh (a test compares the two).
BUILD_VERSIONS: dict[str, str] = {"3.13": "3.13.5", "3.14": "3.14.10", "3.15": "3.15.2"}
DEFAULT_MINOR = "3.13"
"""What the script builds without VERSION, and what the unsuffixed variables name."""
BUILD_SCRIPT = "scripts/build-free-threaded-python.sh"
DEBIAN_SCRIPT = "scripts/debian-python.sh"
SUGGESTED_MINOR = "3.14"
"""The free-threaded CPython a hint suggests: the first one CPython supports (PEP 779)."""


def install_command(minor: str, free_threaded: bool) -> str:
    """How a user installs CPython ``minor`` with uv, which puts it where discovery looks."""
    return f"uv python install {minor}{'t' if free_threaded else ''}"


def free_threaded_hint() -> str:
    """How to get a free-threaded CPython here, said the same way by doctor and advise."""
    minor = SUGGESTED_MINOR
    return (
        f"`{install_command(minor, True)}` (or `pyenv install {minor}t`) installs one, and gilwise "
        f"finds it there{checkout_hint(f'{BUILD_SCRIPT} {minor}')}"
    )


def default_cache_dir() -> str:
    """gilwise's cache root: ``$GILWISE_CACHE`` or ``~/.cache/gilwise``."""
    return os.environ.get("GILWISE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "gilwise")


@dataclass(frozen=True)
class CachedBuild:
    """One build of the script: a minor version, free-threaded or its GIL twin."""

    minor: str
    free_threaded: bool

    @property
    def version(self) -> str:
        return BUILD_VERSIONS[self.minor]

    @property
    def label(self) -> str:
        return self.version + ("t" if self.free_threaded else "")

    @property
    def env_variable(self) -> str:
        """Overrides the path: ``GILWISE_FREE_THREADED_PYTHON`` (3.13), ``..._3_14`` for 3.14."""
        base = "GILWISE_FREE_THREADED_PYTHON" if self.free_threaded else "GILWISE_GIL_TWIN_PYTHON"
        return base if self.minor == DEFAULT_MINOR else f"{base}_{self.minor.replace('.', '_')}"

    @property
    def build_command(self) -> str:
        """The script's command in a checkout; elsewhere uv's (the same CPython, uv's build,
        in uv's folder rather than gilwise's cache, where discovery finds it too)."""
        if running_from_checkout():
            return f"{BUILD_SCRIPT} {self.minor}" + ("" if self.free_threaded else " --gil")
        return install_command(self.minor, self.free_threaded)

    def path(self) -> str:
        """Where the interpreter is (or would be once built): the variable, else the cache."""
        suffix = "t" if self.free_threaded else ""
        return os.environ.get(self.env_variable) or os.path.join(
            default_cache_dir(), f"cpython-{self.version}{suffix}", "bin", f"python{self.minor}{suffix}"
        )


def cached_builds() -> list[CachedBuild]:
    """Every build the script knows, oldest first, each free-threaded build before its twin."""
    return [CachedBuild(minor, ft) for minor in BUILD_VERSIONS for ft in (True, False)]


def _known(minor: str) -> str:
    if minor not in BUILD_VERSIONS:
        raise ValueError(f"no build of CPython {minor}; known: {', '.join(BUILD_VERSIONS)}")
    return minor


def free_threaded_build_path(minor: str = DEFAULT_MINOR) -> str:
    """Where the build script installs CPython ``minor`` with --disable-gil (may not exist)."""
    return CachedBuild(_known(minor), True).path()


def gil_twin_build_path(minor: str = DEFAULT_MINOR) -> str:
    """The GIL build of the same source and flags (``--gil``): the like-for-like baseline of the
    free-threaded single-thread penalty (may not exist)."""
    return CachedBuild(_known(minor), False).path()


def debian_python_path(minor: str) -> str:
    """Debian's own CPython ``minor`` as ``scripts/debian-python.sh`` leaves it (may not exist)."""
    return os.path.join(default_cache_dir(), f"debian-python{minor}", "bin", f"python{minor}")
