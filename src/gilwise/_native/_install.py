"""How the native kernels are installed here: which extension file an interpreter loads, whether
this install was built without a compiler, and, when a kernel does not load, why and the fix in
the words of where gilwise runs.

A checkout rebuilds its kernels with ``uv sync`` and builds the extension for a free-threaded
interpreter with ``python -m gilwise._native._build``; an installed gilwise has neither, only
pip and wheels (``gilwise._system.install`` tells the two apart). An install whose build could
not compile ``native/`` (no C compiler, no CMake) is a pure-Python wheel, by the
``[[tool.scikit-build.overrides]] if.failed`` fallback in pyproject.toml: that is read from the
wheel's own metadata, not guessed from missing files.

Stdlib only. ``gilwise._native`` imports it only on its failure paths, so a kernel that loads
costs no import of it; ``gilwise doctor`` asks it about every interpreter.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.metadata
import sys
import sysconfig
from pathlib import Path

from .._system.install import running_from_checkout

NATIVE_DIR = Path(__file__).resolve().parent
STABLE_ABI_VERSION = (3, 11)
"""The limited API the extension is built for: ``wheel.py-api = "cp311"`` in pyproject.toml
(a test checks that the two agree). Every GIL build from this version on loads _capi.abi3.so."""
STABLE_ABI_FILE = "_capi.abi3.so"

NO_COMPILER_REASON = (
    "this install was built without a C compiler (its build from source could not compile "
    "native/, so it is pure Python). For the native kernels, install a binary wheel "
    "(`pip install --force-reinstall --only-binary gilwise gilwise`) or rebuild it with cmake and "
    "a C/C++ compiler on PATH (`pip install --force-reinstall --no-binary gilwise gilwise`)"
)
"""The reason on every native row of such an install: what happened, then the two ways out."""


@functools.cache
def built_without_compiler() -> bool:
    """True when the gilwise running here was installed as a pure-Python wheel (py3-none-any)."""
    try:
        distribution = importlib.metadata.distribution("gilwise")
    except importlib.metadata.PackageNotFoundError:
        return False
    # Another gilwise may be installed than the one imported (a checkout on PYTHONPATH): its
    # wheel says nothing about this one.
    if Path(str(distribution.locate_file("gilwise"))).resolve() != NATIVE_DIR.parent:
        return False
    wheel = distribution.read_text("WHEEL") or ""
    return any(line.strip().lower() == "root-is-purelib: true" for line in wheel.splitlines())


def capi_file_for(soabi: str, free_threaded: bool) -> Path:
    """The C-API extension file an interpreter with this SOABI loads (whether built or not).

    CPython tries ``_capi.<SOABI>.so`` first, then ``_capi.abi3.so`` (the one a wheel and
    ``uv sync`` build), which only a GIL build can run; ``python -m gilwise._native._build``
    makes the former for a free-threaded interpreter.
    """
    specific = NATIVE_DIR / f"_capi.{soabi}.so"
    if free_threaded or specific.exists():
        return specific
    return specific.with_name(STABLE_ABI_FILE)


def rebuild_command() -> str:
    """The command that compiles the native kernels again for this gilwise."""
    if running_from_checkout():
        return "uv sync --reinstall-package gilwise"
    return "pip install --force-reinstall --no-deps gilwise"


def rebuild_hint() -> str:
    """How to get the kernels back where this gilwise runs (a checkout, or an install)."""
    if running_from_checkout():
        return (
            f"rebuild them in the gilwise checkout with `{rebuild_command()}` "
            "(needs cmake and a C/C++ compiler)"
        )
    return (
        f"reinstall gilwise: `{rebuild_command()}` (a binary wheel has them built; a build from "
        "the sdist needs cmake and a C/C++ compiler)"
    )


def missing_reason(what: str, where: Path) -> str:
    """Why ``what`` (a kernel file expected at ``where``) is absent, and the fix."""
    if built_without_compiler():
        return NO_COMPILER_REASON
    return f"{what} is not built: {where} does not exist; {rebuild_hint()}"


def capi_build_command(python: str, free_threaded: bool) -> str:
    """The command that gives the interpreter ``python`` a C-API extension it can load."""
    if running_from_checkout():
        if free_threaded:
            return f"uv run python -m gilwise._native._build {python}"
        return rebuild_command()  # the stable-ABI extension serves it: rebuild that one
    if Path(python).absolute() == Path(sys.executable).absolute():
        return rebuild_command()
    return _install_into(python)


def _install_into(python: str) -> str:
    # An installed gilwise cannot compile for another interpreter (no native/ sources), but the
    # wheel made for that interpreter has the extension: abi3 for a GIL build, its own for a
    # free-threaded one.
    return f"{python} -m pip install gilwise"


def _this_interpreter() -> str:
    soabi = sysconfig.get_config_var("SOABI") or sys.implementation.cache_tag
    return f"CPython {sys.version.split()[0]} ({soabi}, {sys.executable})"


def describe_capi_failure(exc: ImportError | None) -> str:
    """Why gilwise._native._capi cannot be imported in this interpreter, and the fix.

    ``exc`` is None where the import was not even tried: a free-threaded build without its own
    extension (it would pick the abi3 one and fail in its init).
    """
    built = sorted(path.name for path in NATIVE_DIR.glob("_capi.*.so"))
    what = "the C extension gilwise._native._capi"
    if not built:
        return f"{missing_reason(what, NATIVE_DIR / STABLE_ABI_FILE)}."
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    suffixes = [s for s in importlib.machinery.EXTENSION_SUFFIXES if not (free_threaded and s == ".abi3.so")]
    if exc is not None and any(name.endswith(tuple(suffixes)) for name in built):
        return f"{what} failed to import in {_this_interpreter()}: {exc}; {rebuild_hint()}."
    # This interpreter is not the one gilwise was built for (a --python worker, PYTHONPATH).
    if running_from_checkout():
        fix = f"`{capi_build_command(sys.executable, free_threaded)}`"
    else:
        fix = f"`{_install_into(sys.executable)}` and run gilwise from there (`{sys.executable} -m gilwise`)"
    version = ".".join(map(str, STABLE_ABI_VERSION))
    return (
        f"{what} is built only as {', '.join(built)}, which {_this_interpreter()} cannot load: "
        f"{STABLE_ABI_FILE} (the stable ABI) serves every GIL build of CPython {version}+, a "
        f"free-threaded build needs one compiled for it. Get one with {fix}, or use the `ctypes` "
        "impl, which runs the same loop in any interpreter."
    )
