"""End to end with real measurements: bench --html --history, then history, report and compare."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from gilwise._report.html_tables import row_key
from gilwise._results.stats import relative_spread
from sample_documents import parse_page


def _run(cmd: list[str], env: dict[str, str], timeout: float = 170) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_bench_records_renders_and_compares(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str], isolated_history: Path
) -> None:
    out_json, out_html = tmp_path / "run.json", tmp_path / "run.html"
    bench = [
        *gilwise_cmd,
        "bench",
        "--workload",
        "sleep",
        "--model",
        "serial,threads,processes-fork",
        "--workers",
        "1,2,3",
        "--repeats",
        # 6 per side: Holm over these 7 rows asks p <= 0.05 / 7 of the injected row, beyond
        # what 4 vs 4 repeats can reach (their smallest one-sided p is 1/70).
        "6",
        "--size",
        "20",
        "--json",
        str(out_json),
        "--html",
        str(out_html),
    ]
    proc = _run(bench, subprocess_env)
    assert proc.returncode == 0, proc.stderr
    assert f"HTML report written to {out_html}" in proc.stderr
    assert "recorded as run #1" in proc.stderr and str(isolated_history) in proc.stderr
    doc = json.loads(out_json.read_text())

    page = parse_page(out_html.read_text())
    assert [r["data-row"] for r in page.rows if r.get("class", "").startswith("status-")] == [
        row_key(r) for r in doc["results"]
    ]
    assert "Speedup vs workers, sleep [python]" in page.svg_titles
    assert all(not value.startswith(("http", "//")) for _, _, value in page.links)

    listing = _run([*gilwise_cmd, "history"], subprocess_env)
    assert listing.returncode == 0 and "sleep" in listing.stdout and "7/7" in listing.stdout

    again = tmp_path / "again.html"
    assert _run([*gilwise_cmd, "report", "1", "--html", str(again)], subprocess_env).returncode == 0
    assert json.loads(parse_page(again.read_text()).json_text) == doc

    same = _run([*gilwise_cmd, "compare", "1", str(out_json)], subprocess_env)
    # The same run: never slower; clean, or inconclusive where few noisy repeats hid 5 %.
    assert same.returncode in (0, 3), same.stdout
    assert ("clean" if same.returncode == 0 else "INCONCLUSIVE") in same.stdout

    measured = [r for r in doc["results"] if r["status"] == "ok"]
    quiet = min(measured, key=lambda r: relative_spread(r["wall_s"]["values"]))
    assert relative_spread(quiet["wall_s"]["values"]) < 0.25, "even the quietest sleep row is too noisy"
    for rec in doc["results"]:
        if rec is quiet:
            # Twice as slow: this test checks that the gate's verdict reaches the exit code and
            # names the row; how small a slowdown it catches is test_gate.py's and
            # benchmarks/bench_compare_gate.py's to show (a +25 % row of a noisy sleep cell can
            # honestly stay inconclusive under the family-wise correction).
            rec["wall_s"]["values"] = [v * 2 for v in rec["wall_s"]["values"]]
    slower = tmp_path / "slower.json"
    slower.write_text(json.dumps(doc))
    gate = _run([*gilwise_cmd, "compare", "latest", str(slower)], subprocess_env)
    assert gate.returncode == 1, gate.stdout
    name = f"sleep[python] {quiet['model']}×{quiet['workers']}"
    assert "REGRESSION: 1 row(s)" in gate.stdout and name in gate.stdout


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_no_history_records_nothing(
    tmp_path: Path, gilwise_cmd: list[str], subprocess_env: dict[str, str], isolated_history: Path
) -> None:
    cmd = [*gilwise_cmd, "bench", "--workload", "sleep", "--model", "serial", "--repeats", "1", "--size", "1"]
    proc = _run([*cmd, "--no-history"], subprocess_env)
    assert proc.returncode == 0, proc.stderr
    assert not isolated_history.exists() and "recorded" not in proc.stderr
    elsewhere = tmp_path / "other" / "h.sqlite"
    proc = _run([*cmd, "--history", str(elsewhere)], subprocess_env)
    assert proc.returncode == 0, proc.stderr
    assert elsewhere.exists() and not isolated_history.exists()
