"""A full disk loses no run: the run is recorded first, then each output is written atomically;
a file that cannot be written is named, the run is said to be kept, and the command exits 2.

A real full file system (a tmpfs filled to the last byte; skipped without root)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_injection import full_filesystem, run_gilwise
from gilwise._results.history import History

pytestmark = pytest.mark.slow

QUICK_BENCH = [
    "--workload",
    "sqrt_log",
    "--impl",
    "python",
    "--model",
    "serial,threads",
    "--workers",
    "2",
    "--repeats",
    "2",
]
QUICK_BENCH += ["--size", "20000", "--budget", "0"]


@pytest.fixture
def full(tmp_path: Path) -> Iterator[Path]:
    with full_filesystem(tmp_path / "full") as mount_point:
        yield mount_point


def test_bench_onto_a_full_disk_keeps_the_run_and_exits_2(
    full: Path, tmp_path: Path, fault_env: dict[str, str]
) -> None:
    done = run_gilwise(
        fault_env, "bench", *QUICK_BENCH, "--json", str(full / "run.json"), "--html", str(full / "p.html")
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"cannot write --json {full / 'run.json'}: No space left on device" in done.stderr
    assert f"--html {full / 'p.html'}: cannot write the HTML report there: No space left" in done.stderr
    assert "gilwise report 1 --json PATH" in done.stderr
    assert not (full / "run.json").exists() and not (full / "p.html").exists()
    assert [p.name for p in full.iterdir()] == ["filler"]  # no half-written temporary file either
    history = History(Path(fault_env["GILWISE_HISTORY"]))
    [run] = history.runs()
    assert run.status == "complete" and run.cells_measured == run.cells_total == 2

    # ... and the run comes back as the file it should have been.
    back = tmp_path / "back.json"
    again = run_gilwise(fault_env, "report", "1", "--json", str(back))
    assert again.returncode == 0, again.stderr
    assert json.loads(back.read_text()) == history.load(1)


def test_report_and_compare_onto_a_full_disk_exit_2_naming_the_file(
    full: Path, tmp_path: Path, fault_env: dict[str, str]
) -> None:
    ran = run_gilwise(fault_env, "bench", *QUICK_BENCH, "--json", str(tmp_path / "a.json"))
    assert ran.returncode == 0, ran.stderr
    page = run_gilwise(fault_env, "report", "1", "--html", str(full / "p.html"))
    assert page.returncode == 2 and "Traceback" not in page.stderr, page.stderr
    assert str(full / "p.html") in page.stderr and "No space left on device" in page.stderr
    compared = run_gilwise(
        fault_env, "compare", "1", str(tmp_path / "a.json"), "--json", str(full / "c.json")
    )
    assert compared.returncode == 2 and "Traceback" not in compared.stderr, compared.stderr
    assert f"cannot write --json {full / 'c.json'}: No space left on device" in compared.stderr
    assert [p.name for p in full.iterdir()] == ["filler"]
