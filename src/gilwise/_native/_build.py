"""Build the C-API extension for another interpreter, next to the one `uv sync` built.

    uv run python -m gilwise._native._build /usr/bin/python3.13t [PYTHON ...]

A C-API extension is tied to one CPython version and build (GIL or free-threaded); the ctypes
library is not. `uv sync` compiles the extension for the project's interpreter only, so to run
the `native` / `native-gil` impls in workers under other interpreters (`gilwise bench --python`),
build it for each of them here. Works from a source checkout (it needs native/ and cmake).
Stdlib only, like the rest of gilwise._native.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from .._exceptions import NativeKernelError

PACKAGE_DIR = Path(__file__).resolve().parent
NATIVE_DIR = PACKAGE_DIR.parents[2] / "native"
BUILD_ROOT = PACKAGE_DIR.parents[2] / "build" / "native"

_QUERY = (
    "import json, sys, sysconfig; print(json.dumps({'soabi': sysconfig.get_config_var('SOABI'),"
    " 'suffix': sysconfig.get_config_var('EXT_SUFFIX'), 'version': sys.version.split()[0]}))"
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


def build_capi(
    python: str,
    out_dir: Path = PACKAGE_DIR,
    build_dir: Path | None = None,
    timeout: float = 300,
) -> Path:
    """Compile gilwise._native._capi for the interpreter `python`; returns the built file.

    CMake's build tree goes to build_dir (default build/native/SOABI in the checkout), so a
    rebuild after editing native/ is incremental.
    """
    if not (NATIVE_DIR / "CMakeLists.txt").is_file():
        raise NativeKernelError(
            f"no native sources at {NATIVE_DIR}: building for another interpreter needs a "
            "source checkout of gilwise (this one is installed from a wheel)."
        )
    cmake = shutil.which("cmake")
    if cmake is None:
        raise NativeKernelError(
            "cmake is not on PATH: install it (`apt-get install cmake` or "
            "`uv tool install cmake`) to build the extension for another interpreter."
        )
    info = json.loads(_run([python, "-I", "-c", _QUERY], f"probing {python}", 60))
    build_dir = build_dir or BUILD_ROOT / info["soabi"]
    _run(
        [
            cmake,
            "-S",
            str(NATIVE_DIR),
            "-B",
            str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={python}",
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
    built = out_dir / f"_capi{info['suffix']}"
    if not built.is_file():
        raise NativeKernelError(f"the build finished but {built} is missing; see {build_dir}")
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gilwise._native._build",
        description="Build gilwise's C-API extension for other Python interpreters.",
    )
    parser.add_argument("pythons", nargs="+", metavar="PYTHON", help="interpreter paths")
    args = parser.parse_args(argv)
    for python in args.pythons:
        try:
            print(build_capi(python))
        except NativeKernelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
