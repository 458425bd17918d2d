"""Finding the interpreters the tests run as subprocesses (skip with the reason when absent)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gilwise._pythons.builds import free_threaded_build_path, gil_twin_build_path
from gilwise._pythons.discovery import InterpreterInfo, probe, survey

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
FIXTURES = ROOT / "tests" / "fixtures"
PYENV = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def free_threaded_python() -> InterpreterInfo:
    path = free_threaded_build_path()
    if not os.path.exists(path):
        pytest.skip(
            f"no free-threaded CPython at {path}: run scripts/build-free-threaded-python.sh "
            "(CI does) or set GILWISE_FREE_THREADED_PYTHON"
        )
    return probe(path)


def gil_twin_python() -> InterpreterInfo:
    path = gil_twin_build_path()
    if not os.path.exists(path):
        pytest.skip(
            f"no GIL twin of the free-threaded build at {path}: run "
            "scripts/build-free-threaded-python.sh --gil (CI does) or set GILWISE_GIL_TWIN_PYTHON"
        )
    return probe(path)


def gil_python(minor: int) -> InterpreterInfo:
    """A GIL build of CPython 3.<minor>: from discovery (PATH, pyenv, uv, cache)."""
    for info in survey().interpreters:
        if info.version_info[:2] == (3, minor) and not info.free_threaded:
            return info
    pytest.skip(f"no CPython 3.{minor} (GIL build) found on PATH, in pyenv or uv's folders")


def run_python(
    python: str, code: str, *, timeout: float = 120.0, extra_path: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PYTHONHOME")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), str(FIXTURES), extra_path]))
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def build_gil_test_extension(
    python: str, name: str, out_dir: Path, *, declare_nogil: bool, stable_abi: bool = False
) -> None:
    """Compile tests/fixtures/gilstate_ext.c as module ``name`` for ``python`` (``stable_abi``:
    as ``name.abi3.so`` against the limited API of 3.11, the way a GIL build's abi3 wheel is)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (cc) to build the test extension; apt-get install gcc")
    query = "import sysconfig; print(sysconfig.get_paths()['include']); " + (
        "print(sysconfig.get_config_var('EXT_SUFFIX'))"
    )
    include, suffix = subprocess.run(
        [python, "-c", query], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    cmd = [cc, "-shared", "-fPIC", "-O0", f"-I{include}", f"-DMODULE_NAME={name}"]
    cmd += [f"-DINIT_FUNC=PyInit_{name}", str(FIXTURES / "gilstate_ext.c")]
    if stable_abi:
        suffix = ".abi3.so"
        cmd.append("-DPy_LIMITED_API=0x030B0000")
    cmd += ["-o", str(out_dir / f"{name}{suffix}")]
    if declare_nogil:
        cmd.append("-DDECLARE_GIL_NOT_USED")
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
