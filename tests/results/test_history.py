"""Bench history: where it lives, round trips of whole documents, listing, broken files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from gilwise._exceptions import UsageError
from gilwise._results.history import History, default_history_path, load_result
from gilwise.cli import main
from sample_documents import default_document


def test_default_path_follows_env_then_xdg_then_home(tmp_path: Path) -> None:
    home = Path.home()
    assert default_history_path({}) == home / ".local/share/gilwise/history.sqlite"
    assert default_history_path({"XDG_DATA_HOME": "/data"}) == Path("/data/gilwise/history.sqlite")
    # A relative XDG_DATA_HOME is invalid by the spec and ignored.
    assert default_history_path({"XDG_DATA_HOME": "rel"}) == home / ".local/share/gilwise/history.sqlite"
    env = {"XDG_DATA_HOME": "/data", "GILWISE_HISTORY": str(tmp_path / "h.db")}
    assert default_history_path(env) == tmp_path / "h.db"


def test_tests_never_touch_the_users_history(isolated_history: Path) -> None:
    assert default_history_path() == isolated_history


def test_round_trip_keeps_the_whole_document(tmp_path: Path) -> None:
    history = History(tmp_path / "deep" / "h.sqlite")
    doc = default_document()
    first = history.record(doc)
    doc2 = default_document()
    doc2["interrupted"], doc2["complete"] = True, False
    second = history.record(doc2)
    assert (first, second) == (1, 2)
    assert history.load(first) == doc
    assert history.latest_id() == 2
    runs = history.runs()
    assert [r.id for r in runs] == [2, 1]
    assert runs[0].status == "interrupted" and runs[1].status == "complete"
    assert runs[1].workloads == ["sqrt_log", "json", "sha256", "zlib", "http", "sleep", "sqlite"]
    assert runs[1].models == ["serial", "threads", "processes", "asyncio"]
    assert runs[1].interpreters == ["3.11.7"]
    assert (runs[1].cells_measured, runs[1].cells_total) == (34, 34)
    assert history.runs(limit=1)[0].id == 2


def test_a_failed_cell_marks_the_run_failed(tmp_path: Path) -> None:
    doc = default_document()
    doc["results"][3].update(status="failed", reason="worker died", rounds=0)
    history = History(tmp_path / "h.sqlite")
    history.record(doc)
    assert history.runs()[0].status == "failed"
    assert history.runs()[0].cells_measured == 33


def test_history_command_lists_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.sqlite"
    assert main(["history", "--history", str(path)]) == 0
    assert "no bench runs recorded yet" in capsys.readouterr().out
    assert not path.exists(), "listing must not create the file"
    History(path).record(default_document())
    assert main(["history", "--history", str(path)]) == 0
    narrow = capsys.readouterr().out  # piped, COLUMNS unset or as the environment says
    assert "…" not in narrow and "34/34" in narrow
    # --wide: every column, each list on one line.
    assert main(["history", "--history", str(path), "--wide"]) == 0
    out = capsys.readouterr().out
    for text in (
        "id",
        "sqrt_log, json",
        "serial, threads, processes, asyncio",
        "3.11.7",
        "34/34",
        "complete",
    ):
        assert text in out


def test_history_ids_resolve_for_report_and_compare(tmp_path: Path, isolated_history: Path) -> None:
    History(isolated_history).record(default_document())
    label, doc = load_result("1", isolated_history)
    assert label == "run #1" and doc == default_document()
    assert load_result("latest", isolated_history)[1] == doc
    with pytest.raises(UsageError, match=r"no run #9 .*recent ids: 1"):
        load_result("9", isolated_history)
    out = tmp_path / "r.html"
    assert main(["report", "latest", "--html", str(out)]) == 0
    assert out.exists()


def test_broken_history_files_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_db = tmp_path / "notes.txt"
    not_db.write_text("this is not sqlite, just text " * 100)
    assert main(["history", "--history", str(not_db)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"--history {not_db}: cannot use it as the bench history" in err and "--no-history" in err
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(UsageError, match="newer gilwise"):
        History(newer)


def test_bench_with_unusable_history_fails_before_measuring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    argv = ["bench", "--workload", "sleep", "--history", str(blocker / "h.sqlite")]
    assert main(argv) == 2
    assert "cannot create the folder" in capsys.readouterr().err.replace("\n", " ")
    assert main([*argv, "--no-history"]) == 2  # argparse: the two options exclude each other
    capsys.readouterr()
    html = ["bench", "--workload", "sleep", "--no-history", "--html", str(blocker / "r.html")]
    assert main(html) == 2
    assert "cannot write the HTML report" in capsys.readouterr().err.replace("\n", " ")


def test_result_file_with_wrong_content_is_named(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(UsageError, match="not a gilwise result document"):
        load_result(str(path), tmp_path / "h.sqlite")
    with pytest.raises(UsageError, match="neither a result file nor a history id"):
        load_result(str(tmp_path / "missing.json"), tmp_path / "h.sqlite")


def test_result_rows_missing_fields_are_named(tmp_path: Path) -> None:
    doc = default_document()
    del doc["results"][4]["model"]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(UsageError, match="result row 4 lacks model"):
        load_result(str(path), tmp_path / "h.sqlite")
    assert main(["compare", str(path), str(path)]) == 2
