"""The history behaves as a database should: readers never change a byte and work on read-only
media; only bench migrates, and only its own or an empty file; a foreign or damaged file stops
bench before it measures (exit 2); a damaged run is listed as damaged and the others still load."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fault_injection import run_gilwise, tmpfs
from gilwise._results.history import History
from sample_documents import default_document

pytestmark = pytest.mark.slow

BENCH = ["bench", "--workload", "sleep", "--model", "serial", "--repeats", "1", "--budget", "0"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A history of three runs."""
    path = tmp_path / "history.sqlite"
    history = History(path)
    for _ in range(3):
        history.record(default_document())
    return path


def _readers(path: Path, tmp_path: Path) -> list[list[str]]:
    return [
        ["history", "--history", str(path)],
        ["report", "2", "--history", str(path)],
        ["report", "latest", "--json", str(tmp_path / "back.json"), "--history", str(path)],
        ["compare", "1", "2", "--history", str(path)],
    ]


def test_readers_never_change_a_byte(recorded: Path, tmp_path: Path, fault_env: dict[str, str]) -> None:
    before, files_before = _digest(recorded), sorted(p.name for p in recorded.parent.iterdir())
    for argv in _readers(recorded, tmp_path):
        done = run_gilwise(fault_env, *argv)
        assert done.returncode in (0, 1, 3) and "Traceback" not in done.stderr, (argv, done.stderr)
    assert _digest(recorded) == before
    assert sorted(p.name for p in recorded.parent.iterdir()) == sorted([*files_before, "back.json"])


@pytest.fixture
def read_only_copy(recorded: Path, tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "media") as media:
        (media / "history.sqlite").write_bytes(recorded.read_bytes())
        subprocess.run(["mount", "-o", "remount,ro", str(media)], check=True)
        yield media / "history.sqlite"


def test_readers_work_on_read_only_media(
    read_only_copy: Path, tmp_path: Path, fault_env: dict[str, str]
) -> None:
    for argv in _readers(read_only_copy, tmp_path):
        done = run_gilwise(fault_env, *argv)
        assert done.returncode in (0, 1, 3) and "Traceback" not in done.stderr, (argv, done.stderr)
        assert "readonly" not in done.stderr


def test_a_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path, fault_env: dict[str, str]) -> None:
    foreign = tmp_path / "notes.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.close()
    before = _digest(foreign)
    for argv in (["history", "--history", str(foreign)], [*BENCH, "--history", str(foreign)]):
        done = run_gilwise(fault_env, *argv)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert "another program's database (tables: notes)" in " ".join(done.stderr.split())
        assert "sleep" not in done.stdout  # refused before measuring
    assert _digest(foreign) == before


def test_a_history_damaged_past_its_first_page_stops_bench_before_measuring(
    recorded: Path, fault_env: dict[str, str]
) -> None:
    with sqlite3.connect(recorded) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages > 4
    with open(recorded, "r+b") as damaged:
        damaged.seek(page_size * (pages // 2))  # a page in the middle lost, as a bad sector loses it
        damaged.write(b"\0" * page_size)
    done = run_gilwise(fault_env, *BENCH, "--history", str(recorded))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "cannot use it as the bench history" in " ".join(done.stderr.split())
    assert "sleep" not in done.stdout


def test_a_damaged_run_is_listed_as_damaged_and_the_others_load(
    recorded: Path, tmp_path: Path, fault_env: dict[str, str]
) -> None:
    with sqlite3.connect(recorded) as conn:
        conn.execute('UPDATE runs SET document = \'{"schema": "gilwise.bench/1", "resu\' WHERE id = 2')
    conn.close()
    listed = run_gilwise(fault_env, "history", "--history", str(recorded), "--wide")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert (
        "damaged" in listed.stdout
        and listed.stdout.count("complete") + listed.stdout.count("interrupted") == 2
    )
    report = run_gilwise(fault_env, "report", "2", "--history", str(recorded))
    assert report.returncode == 2 and "Traceback" not in report.stderr
    assert "run #2 of the bench history" in " ".join(report.stderr.split()) and "damaged" in report.stderr
    for argv in (["report", "3"], ["compare", "1", "3"]):
        done = run_gilwise(fault_env, *argv, "--history", str(recorded))
        assert done.returncode in (0, 1, 3) and "Traceback" not in done.stderr, (argv, done.stderr)
