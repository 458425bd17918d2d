"""``gilwise audit`` on real distributions in a free-threaded venv: the GIL kept off, re-enabled
(and by which module), pure Python, failing imports, crashes and hangs, the clean child
environment, the exit codes, the 80-column table and the JSON document."""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from audit_venvs import empty_venv, hand_made_distribution, pinned_venv, site_packages
from rich.console import Console

from _pythons import (
    FIXTURES,
    ROOT,
    build_gil_test_extension,
    free_threaded_python,
    gil_python,
    gil_twin_python,
)
from gilwise import UsageError
from gilwise._advise.probes import Budget, call_probe
from gilwise._advise.protocol import TargetSpec
from gilwise._audit.api import AuditSettings, audit
from gilwise._audit.document import AUDIT_SCHEMA, DistributionFinding, exit_code, worst_first
from gilwise._audit.fixes import choose_installer, newest_wheel
from gilwise._audit.inventory import canonical_name, read_inventory, requirement_name
from gilwise._audit.measure import measure_gil_cost
from gilwise._report.audit import render_measurement

pytestmark = pytest.mark.timeout(180)


def _by_name(findings: list[DistributionFinding]) -> dict[str, DistributionFinding]:
    return {canonical_name(f["name"]): f for f in findings}


def _cli(*args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gilwise", "audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**__import__("os").environ, "COLUMNS": "80"},
        cwd=ROOT,
    )


@pytest.fixture(scope="session")
def real_venv() -> Path:
    return pinned_venv(free_threaded_python().path)


@pytest.mark.slow
def test_real_wheels_keep_reenable_or_fail(real_venv: Path) -> None:
    document = audit(AuditSettings(python=str(real_venv), offline=True))
    found = _by_name(document["distributions"])
    assert document["schema"] == AUDIT_SCHEMA
    assert document["target"]["free_threaded"] and document["target"]["wheel_tags"] == ["cp313t"]

    markupsafe = found["markupsafe"]
    assert (markupsafe["name"], markupsafe["version"]) == ("MarkupSafe", "3.0.2"), "as METADATA spells it"
    assert (markupsafe["kind"], markupsafe["status"], markupsafe["gil_modules"]) == ("extension", "ok", [])
    assert "cp313-cp313t-manylinux" in " ".join(markupsafe["wheel_tags"])

    greenlet = found["greenlet"]
    assert (greenlet["kind"], greenlet["status"]) == ("extension", "gil-enabled")
    # The module actually loaded: a private one, not the package the user imported.
    assert greenlet["gil_modules"] == ["greenlet._greenlet"]
    assert "PYTHON_GIL=0" in greenlet["fix"] and "the index was not asked (offline)" in greenlet["fix"]

    assert (found["six"]["kind"], found["six"]["status"]) == ("pure", "pure")
    nose = found["nose"]
    assert (nose["kind"], nose["status"]) == ("pure", "import-error")
    assert "No module named 'imp'" in nose["detail"]

    statuses = [f["status"] for f in document["distributions"]]
    assert statuses.index("gil-enabled") < statuses.index("import-error") < statuses.index("ok")
    assert exit_code(document) == 1


@pytest.mark.slow
def test_the_child_ignores_python_gil_and_warning_filters(
    real_venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With PYTHON_GIL=1 inherited every import would look fine; with warnings as errors the
    # import would raise while the GIL still comes back on.
    monkeypatch.setenv("PYTHON_GIL", "1")
    monkeypatch.setenv("PYTHONWARNINGS", "error")
    document = audit(AuditSettings(python=str(real_venv), only=("greenlet", "markupsafe"), offline=True))
    found = _by_name(document["distributions"])
    assert set(found) == {"greenlet", "markupsafe"}
    assert found["greenlet"]["status"] == "gil-enabled"
    assert found["markupsafe"]["status"] == "ok"


@pytest.mark.slow
def test_own_extension_crash_hang_and_vendored_library(tmp_path: Path) -> None:
    ft = free_threaded_python()
    venv = empty_venv(ft.path, tmp_path / "venv")
    site = site_packages(venv)
    build = tmp_path / "build"
    build.mkdir()
    # gilpkg_plain holds two extensions without Py_mod_gil: the warning names only the first,
    # the audit must name both. gilpkg_nogil's declares it.
    # gilpkg_lazy loads its extension only on first use: importing the package is not enough.
    for package, modules, declare, lazy in (
        ("gilpkg_plain", ("gilstate_plain", "gilstate_plain2"), False, False),
        ("gilpkg_nogil", ("gilstate_nogil",), True, False),
        ("gilpkg_lazy", ("gilstate_lazy",), False, True),
    ):
        imports = "" if lazy else "".join(f"from . import {m}\n" for m in modules)
        files = {f"{package}/__init__.py": imports.encode()}
        for module in modules:
            build_gil_test_extension(ft.path, module, build, declare_nogil=declare)
            (built,) = build.glob(f"{module}.*")
            files[f"{package}/{built.name}"] = built.read_bytes()
        # Vendored as numpy.libs/*.so are: ends in .so, is no module.
        files[f"{package}.libs/libvendored.so"] = b"\x7fELF not really"
        hand_made_distribution(site, package, files, tag="cp313-cp313t-linux_x86_64")
    # An abi3 wheel built for GIL builds, forced into the free-threaded venv: still searched.
    build_gil_test_extension(gil_twin_python().path, "gilabi3", build, declare_nogil=False, stable_abi=True)
    abi3 = {"gilabi3.abi3.so": (build / "gilabi3.abi3.so").read_bytes()}
    hand_made_distribution(site, "gilabi3", abi3, tag="cp311-abi3-linux_x86_64")
    hand_made_distribution(
        site, "crasher", {"crasher.py": b"import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"}
    )
    hand_made_distribution(site, "hanger", {"hanger.py": b"import time\ntime.sleep(120)\n"})

    document = audit(AuditSettings(python=str(venv), timeout_s=3, offline=True))
    found = _by_name(document["distributions"])
    plain = found["gilpkg-plain"]
    both = ["gilpkg_plain.gilstate_plain", "gilpkg_plain.gilstate_plain2"]
    assert (plain["status"], plain["gil_modules"]) == ("gil-enabled", both)
    assert plain["extension_modules"] == both, "the .libs file is no module"
    assert found["gilpkg-nogil"]["status"] == "ok"
    lazy = found["gilpkg-lazy"]
    assert (lazy["status"], lazy["gil_modules"]) == ("gil-enabled", ["gilpkg_lazy.gilstate_lazy"])
    crash = found["crasher"]
    assert (crash["status"], crash.get("signal")) == ("crash", 11)
    assert "SIGSEGV" in crash["detail"]
    assert found["hanger"]["status"] == "timeout"
    forced = found["gilabi3"]
    # 3.13.5t refuses it ("init function ... returned uninitialized object"); it may also crash.
    assert forced["status"] in ("import-error", "crash"), forced
    assert ".abi3.so file(s) built for GIL builds" in forced["detail"]
    assert [f["status"] for f in document["distributions"]][:2] == ["crash", "gil-enabled"]


@pytest.mark.slow
def test_cli_exit_codes_json_and_80_columns(real_venv: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    failing = _cli("--python", str(real_venv), "--offline", "--json", str(out))
    assert failing.returncode == 1, failing.stderr
    lines = failing.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, failing.stdout
    table = failing.stdout
    assert table.index("greenlet") < table.index("MarkupSafe"), "worst first"
    assert "greenlet._greenlet" in table
    document = json.loads(out.read_text())
    assert document["schema"] == AUDIT_SCHEMA
    for finding in document["distributions"]:
        assert {"name", "version", "direct", "kind", "status", "gil_modules", "detail", "fix"} <= set(finding)

    ready = _cli("--python", str(real_venv), "--offline", "--only", "six,markupsafe")
    assert ready.returncode == 0, ready.stdout + ready.stderr

    twin = gil_twin_python()
    unknown = _cli("--python", twin.path, "--offline")
    assert unknown.returncode == 3, unknown.stdout + unknown.stderr
    assert "GIL build" in unknown.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = _cli("--python", str(tmp_path / "nowhere"), "--offline")
    assert missing.returncode == 2
    assert "no such interpreter" in " ".join(missing.stderr.split())
    assert "Traceback" not in missing.stderr
    # Checked before the audit runs, in the flags' own words.
    threads = _cli("--measure", "m:f", "--threads", "1", "--python", str(tmp_path / "nowhere"))
    assert threads.returncode == 2
    assert "--threads 1: must be at least 2" in threads.stderr


def test_worst_first_and_exit_code() -> None:
    def finding(name: str, status: str, direct: bool = True) -> DistributionFinding:
        return {"name": name, "status": status, "direct": direct}  # type: ignore[typeddict-item]

    findings = [
        finding("a", "ok"),
        finding("b", "timeout"),
        finding("c", "gil-enabled", False),
        finding("d", "pure"),
    ]
    assert [f["name"] for f in worst_first(findings)] == ["c", "b", "a", "d"]

    def code(*statuses: str, free_threaded: bool = True) -> int:
        target = {"free_threaded": free_threaded}
        found = [finding(str(i), s) for i, s in enumerate(statuses)]
        return exit_code({"target": target, "distributions": found})  # type: ignore[typeddict-item]

    assert code("ok", "timeout", "gil-enabled") == 1
    assert code("ok", "timeout") == 3
    assert code("ok", "pure") == 0
    assert code(free_threaded=False) == 3, "a GIL build checks nothing, even with nothing installed"


def test_requirement_names_follow_pep_503() -> None:
    assert requirement_name("Zope.Interface[x]>=5; python_version>'3'") == "zope-interface"
    assert requirement_name("pytest ; extra == 'test'") is None
    assert canonical_name("MarkupSafe") == "markupsafe"


@pytest.mark.slow
def test_measure_pairs_serial_and_threads_on_three_builds() -> None:
    ft, twin = free_threaded_python(), gil_twin_python()
    measurement = measure_gil_cost(
        "audit_measure:spin", ft.path, threads=2, rounds=2, serial_cell_s=0.3, sys_path=[str(FIXTURES)]
    )
    labels = [build["label"] for build in measurement["builds"]]
    assert labels == [twin.label, ft.label, f"{ft.label} PYTHON_GIL=1"]
    assert measurement["builds"][2]["environment"] == {"PYTHON_GIL": "1"}
    assert measurement["calls"] % 2 == 0
    for build in measurement["builds"]:
        assert len(build["ratios"]) == 2, "one paired ratio per round"
        assert build["speedup"] is not None and build["speedup"] > 0
        assert build["interval"] is not None


def test_measure_refuses_a_gil_build() -> None:
    twin = gil_twin_python()
    with pytest.raises(UsageError, match="GIL build"):
        measure_gil_cost("audit_measure:spin", twin.path)


@pytest.mark.slow
def test_requirements_go_into_a_scratch_venv(tmp_path: Path) -> None:
    ft = free_threaded_python()
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\nsix==1.17.0\n")
    document = audit(AuditSettings(python=ft.path, requirements=(str(requirements),), offline=True))
    (six,) = document["distributions"]
    assert (six["name"], six["version"], six["direct"], six["status"]) == ("six", "1.17.0", True, "pure")
    assert not Path(document["target"]["path"]).exists(), "the scratch venv is gone"


@pytest.mark.slow
def test_the_index_names_a_newer_release(real_venv: Path) -> None:
    python = str(real_venv / "bin" / "python")
    answer = newest_wheel(python, "greenlet", choose_installer(python, offline=False))
    if answer.problem is not None:
        pytest.skip(f"the index could not be asked: {answer.problem}")
    assert answer.version is not None
    assert tuple(int(p) for p in answer.version.split(".")[:2]) > (3, 1), answer.version


def test_the_measurement_prints_each_interval_within_80_columns() -> None:
    interval = {"low": 0.81, "high": 1.89, "level": 0.984}
    build = {"path": "/x", "environment": {}, "speedup": 1.17, "interval": interval, "ratios": [1.0] * 7}
    measurement = {
        "target": "mypkg.work:crunch",
        "threads": 2,
        "calls": 12,
        "builds": [
            {**build, "label": label, "serial_s": [], "threads_s": []}
            for label in ("3.13.5", "3.13.5t PYTHON_GIL=1")
        ],
        "notes": [],
    }
    console = Console(width=80, record=True)
    render_measurement(console, measurement)  # type: ignore[arg-type]
    text = console.export_text()
    assert "3.13.5t PYTHON_GIL=1" in text and "1.17× [0.81–1.89] at 98%" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.slow
def test_ctrl_c_kills_the_import_children(tmp_path: Path) -> None:
    venv = empty_venv(free_threaded_python().path, tmp_path / "venv")
    pid_file = tmp_path / "hanger.pid"
    hanger = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)\n"
    hand_made_distribution(site_packages(venv), "hanger", {"hanger.py": hanger.encode()})
    proc = subprocess.Popen(
        [sys.executable, "-m", "gilwise", "audit", "--python", str(venv), "--offline", "--timeout", "100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the import child never started"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == 130, stderr
    deadline = time.monotonic() + 5
    while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the import child outlived the interrupted audit"
        time.sleep(0.05)


@pytest.mark.parametrize("minor", [13, 14, 15])
def test_the_target_build_decides_the_wheel_tags(minor: int) -> None:
    python = gil_python(minor)
    target = read_inventory(python.path).target
    assert target["version"].startswith(f"3.{minor}.")
    assert (target["free_threaded"], target["wheel_tags"]) == (False, [f"cp3{minor}"])
    assert ".so" in target["extension_suffixes"]


def test_a_workers_environment_forces_the_gil_on_or_leaves_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ft = free_threaded_python()
    monkeypatch.setenv("PYTHON_GIL", "1")  # inherited unless the cell removes it
    args = tmp_path / "args.pickle"
    args.write_bytes(pickle.dumps(((), {})))
    spec: TargetSpec = {"target": "audit_measure:spin", "args_path": str(args), "sys_path": [str(FIXTURES)]}
    seen = {
        value: call_probe(ft, spec, Budget(60), 0.05, environment={"PYTHON_GIL": value})["gil_enabled"]
        for value in (None, "1")
    }
    assert seen == {None: False, "1": True}
