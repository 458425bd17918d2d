"""The free-threaded venvs the audit tests import real distributions from.

``pinned_venv`` installs real wheels from the index into a 3.13t venv once and keeps it under
``~/.cache/gilwise/test-venvs/<hash of the pins>`` (built in a temporary folder, then renamed:
an interrupted build leaves nothing half-made behind). ``hand_made_distribution`` writes a
distribution by hand (``dist-info`` with METADATA, RECORD and WHEEL) into a venv, for the cases
no index package shows on demand: the test suite's own extension without ``Py_mod_gil``, an
import that crashes the interpreter, one that hangs, a vendored shared library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PINS = ("markupsafe==3.0.2", "greenlet==3.1.1", "six==1.17.0", "nose==1.3.7")
"""Measured on 3.13.5t: MarkupSafe 3.0.2's cp313t wheel declares Py_mod_gil (the GIL stays off);
greenlet 3.1.1's cp313t wheel re-enables it through its private greenlet._greenlet; six is
pure Python; nose 1.3.7 (pure) fails to import on 3.12+ (``No module named 'imp'``)."""

CACHE = Path(os.environ.get("GILWISE_TEST_VENVS") or Path.home() / ".cache" / "gilwise" / "test-venvs")


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: it installs the pinned wheels of the audit tests")
    return uv


def pinned_venv(python: str, pins: tuple[str, ...] = PINS) -> Path:
    """A cached venv of ``python`` holding ``pins`` (wheels only), made on first use."""
    key = hashlib.sha256("\n".join([os.path.realpath(python), *sorted(pins)]).encode()).hexdigest()[:16]
    venv = CACHE / f"audit-{key}"
    if (venv / "pins.txt").exists():
        return venv
    uv = _uv()
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"audit-{key}-", dir=CACHE))
    try:
        # sys.prefix follows bin/python's own location, so a venv renamed whole still works.
        subprocess.run([uv, "venv", "-q", "--python", python, str(building)], check=True, timeout=120)
        install = [uv, "pip", "install", "-q", "--only-binary", ":all:", "--no-deps"]
        install += ["--python", str(building / "bin" / "python"), *pins]
        proc = subprocess.run(install, capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            pytest.skip(f"could not install {' '.join(pins)} from the index: {proc.stderr.strip()[-300:]}")
        (building / "pins.txt").write_text("\n".join(pins) + "\n")
        try:
            building.rename(venv)
        except OSError:  # another run made it meanwhile
            assert (venv / "pins.txt").exists()
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return venv


def empty_venv(python: str, folder: Path) -> Path:
    subprocess.run([_uv(), "venv", "-q", "--python", python, str(folder)], check=True, timeout=120)
    return folder


def site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3*/site-packages"))
    assert found, f"no site-packages under {venv}"
    return found[0]


def hand_made_distribution(
    site: Path, name: str, files: dict[str, bytes], *, tag: str = "py3-none-any"
) -> None:
    """Install ``files`` (path in site-packages → content) as distribution ``name`` 1.0."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "WHEEL").write_text(f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
    for path, content in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_bytes(content)
    record = [f"{path},," for path in files] + [f"{info.name}/{n},," for n in ("METADATA", "WHEEL", "RECORD")]
    (info / "RECORD").write_text("\n".join(record) + "\n")
