"""Build the C-API extension for a free-threaded interpreter, next to the one `uv sync` built.

    uv run python -m gilwise._native._build ~/.cache/gilwise/cpython-3.13.5t/bin/python3.13t

`uv sync` builds gilwise._native._capi for the stable ABI (``_capi.abi3.so``), which every GIL
build of CPython 3.11+ loads, so `--python` workers under 3.12, 3.13 or 3.14 use it as it is. A
free-threaded build cannot load abi3 modules: this compiles ``_capi.cpython-313t-*.so`` (or
whichever its SOABI is) for it. For a GIL interpreter it builds the abi3 extension again, with
that interpreter's headers (tests use this; the checkout's own copy is left alone). The ctypes
library has no Python ABI and serves every interpreter as it is.

Works from a source checkout (it needs native/ and cmake): an installed gilwise gets the
extension for a free-threaded interpreter from the wheel built for it instead. Stdlib only, like
the rest of gilwise._native.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

from .._exceptions import NativeKernelError
from .._system.install import checkout_root
from ._install import STABLE_ABI_FILE, STABLE_ABI_VERSION, capi_build_command, capi_file_for

PACKAGE_DIR = Path(__file__).resolve().parent

_QUERY = (
    "import json, sys, sysconfig; print(json.dumps({'soabi': sysconfig.get_config_var('SOABI'),"
    " 'suffix': sysconfig.get_config_var('EXT_SUFFIX'), 'version': list(sys.version_info[:3]),"
    " 'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED'))}))"
)


def _run(cmd: list[str], what: str, timeout: float) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NativeKernelError(f"{what}: could not run {cmd[0]} ({exc}).") from exc
    if proc.returncode != 0:
        raise NativeKernelError(
            f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return proc.stdout


class _Build(TypedDict):
    """What _QUERY prints about an interpreter."""

    soabi: str
    suffix: str
    version: list[int]
    free_threaded: bool


def _probe(python: str) -> _Build:
    """SOABI, extension suffix, version and build of ``python``; refuses one gilwise cannot use."""
    info: _Build = json.loads(_run([python, "-I", "-c", _QUERY], f"probing {python}", 60))
    if tuple(info["version"]) < STABLE_ABI_VERSION:
        raise NativeKernelError(
            f"{python} is CPython {'.'.join(map(str, info['version']))}; gilwise needs "
            f"{'.'.join(map(str, STABLE_ABI_VERSION))} or newer."
        )
    return info


def _native_sources_root() -> Path:
    root = checkout_root()
    if root is None or not (root / "native" / "CMakeLists.txt").is_file():
        raise NativeKernelError(
            f"no native sources beside {PACKAGE_DIR}: this gilwise is installed, not a source "
            "checkout. Install the wheel built for the other interpreter instead "
            "(`PYTHON -m pip install gilwise`)."
        )
    return root


def build_capi(
    python: str,
    out_dir: Path = PACKAGE_DIR,
    build_dir: Path | None = None,
    timeout: float = 300,
) -> Path:
    """Compile gilwise._native._capi for the interpreter `python`; returns the built file.

    A GIL build gets the stable-ABI extension (``_capi.abi3.so``), a free-threaded one its own.
    CMake's build tree goes to build_dir (default build/native/SOABI in the checkout), so a
    rebuild after editing native/ is incremental.
    """
    root = _native_sources_root()
    cmake = shutil.which("cmake")
    if cmake is None:
        raise NativeKernelError(
            "cmake is not on PATH: install it (`apt-get install cmake` or "
            "`uv tool install cmake`) to build the extension for another interpreter."
        )
    info = _probe(python)
    # The same switch scikit-build-core sets from wheel.py-api (see native/CMakeLists.txt).
    stable_abi = "" if info["free_threaded"] else ".".join(map(str, STABLE_ABI_VERSION))
    build_dir = build_dir or root / "build" / "native" / info["soabi"]
    _run(
        [
            cmake,
            "-S",
            str(root / "native"),
            "-B",
            str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={python}",
            f"-DSKBUILD_SABI_VERSION={stable_abi}",
            f"-DGILWISE_OUTPUT_DIR={out_dir.resolve()}",
        ],
        f"configuring the extension for {python}",
        timeout,
    )
    # Only the extension: libgilwise_native.so already serves every interpreter, and
    # relinking it would replace a file other processes may have loaded.
    _run(
        [cmake, "--build", str(build_dir), "--target", "_capi"],
        f"compiling the extension for {python}",
        timeout,
    )
    built = out_dir / (STABLE_ABI_FILE if stable_abi else f"_capi{info['suffix']}")
    if not built.is_file():
        raise NativeKernelError(f"the build finished but {built} is missing; see {build_dir}")
    return built


def _needs_no_build(python: str) -> str | None:
    """For a GIL interpreter whose stable-ABI extension is already here: the line saying so."""
    info = _probe(python)
    existing = capi_file_for(info["soabi"], info["free_threaded"])
    if info["free_threaded"] or not existing.is_file():
        return None
    return (
        f"{existing}: already built; it serves {python} (the stable ABI, every GIL build of CPython "
        f"{'.'.join(map(str, STABLE_ABI_VERSION))}+). To rebuild it: `{capi_build_command(python, False)}`."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gilwise._native._build",
        description="Build gilwise's C-API extension for free-threaded Python interpreters.",
    )
    parser.add_argument("pythons", nargs="+", metavar="PYTHON", help="interpreter paths")
    args = parser.parse_args(argv)
    for python in args.pythons:
        try:
            print(_needs_no_build(python) or build_capi(python))
        except NativeKernelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
