"""How trustworthy is `gilwise compare` as a CI gate on this machine? Measured, not assumed.

    uv run python benchmarks/bench_compare_gate.py [--pairs 20] [--repeats 5] [--window 10]
        [--anchor] [--runs DIR] [--recheck]

Runs the command a new user would, `gilwise bench --repeats 5 --workload sqrt_log --model
serial,threads,processes --workers 2` (default impls: python, native), over and over, as whole
separate runs, in this order: ``--warmup`` runs that only fill the history, then per pair two
runs, A and B, judged twice:

    A vs B    a same-code pair: every row the gate flags is a false alarm;
    A vs B'   an injected pair: B' is B with one parallel row (a different one each pair) having
              its repeat values multiplied by 1.25, a real rerun plus a 25 % slowdown the gate
              must catch (outcome slower, that row named).

One pair of runs serves both kinds, so both meet the same machine and a window of pairs takes
half the runs. Each pair is judged two ways: B against A (`gilwise compare A B`), and B against
the between-run spread of the ``--window`` runs before it (`gilwise compare --baseline history:N
B`; every run before B in this sequence is such a run, the injection being applied only to the
compared copy). Folders written before this layout (four runs a pair: A, B, then A', B' for the
injected pair) are read as they were written: ``sequence.json`` says which. With ``--anchor`` every
run is benched with `--anchor` too, and each pair is also judged B against A with the anchor
(serial rows relative to the anchor loop of the same round); "B vs A" then ignores the anchor,
as a run without it would. Prints a table of the outcomes and writes
``results/compare_gate.json`` (``compare_gate_anchor.json`` with ``--anchor``).

Every run's document is kept in ``--runs DIR`` (run000.json, ...); calling again with the same
folder first completes a pair cut short, then adds pairs after those already there (so 20 pairs
can run as several short windows on a quiet machine), and ``--recheck`` measures nothing: it
judges the runs already in the folder again, with the gate as it is now.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import machine_summary, save, table
from gilwise._results.baseline import EarlierRun, comparable_runs, compare_with_history
from gilwise._results.compare import Comparison, Gate, RowKey, compare_documents
from gilwise._results.document import ResultDocument

COMMAND = ["bench", "--repeats", "{repeats}", "--workload", "sqrt_log"]
COMMAND += ["--model", "serial,threads,processes", "--workers", "2", "--no-history"]
SLOWDOWN = 1.25
SHARED = 2
"""Runs a pair takes in this layout: A and B, for the same-code and the injected pair alike."""
SEPARATE = 4
"""Runs a pair took in folders written before: A, B (same code), then A', B' (injected)."""


def _bench(repeats: int, path: Path, anchor: bool) -> None:
    """One `gilwise bench` run, as a user types it, its document written to ``path``."""
    gilwise = Path(sys.executable).with_name("gilwise")
    argv = [str(gilwise), *(a.format(repeats=repeats) for a in COMMAND), "--json", str(path)]
    argv += ["--anchor"] if anchor else []
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not path.exists():
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def _runs(folder: Path) -> list[Path]:
    return sorted(folder.glob("run*.json"))


def _parallel_rows(doc: ResultDocument) -> list[int]:
    return [
        i
        for i, r in enumerate(doc["results"])
        if r["model"] != "serial" and r["status"] == "ok" and r["wall_s"]["values"]
    ]


def _inject(doc: ResultDocument, index: int) -> ResultDocument:
    out = copy.deepcopy(doc)
    wall = out["results"][index]["wall_s"]
    wall["values"] = [v * SLOWDOWN for v in wall["values"]]
    wall["median"] = statistics.median(wall["values"])
    return out


def _row_name(rec: Any) -> str:
    return f"{rec['workload']}[{rec['impl']}] {rec['model']}×{rec['workers']}"


def _key_name(key: RowKey) -> str:
    return f"{key.workload}[{key.impl}] {key.model}×{key.workers}"


def _verdict(comparison: Comparison, target: Any | None) -> dict[str, Any]:
    """What one comparison said: its outcome, whether it caught the target row, its rows."""
    flagged = [_key_name(r.key) for r in comparison.regressions]
    compared = [r for r in comparison.rows if r.change is not None]
    out: dict[str, Any] = {
        "outcome": comparison.outcome,
        "family": comparison.family,
        "regressions": flagged,
        "inconclusive": {_key_name(r.key): r.detectable for r in comparison.inconclusive},
        "rows": {
            _key_name(r.key): {
                "verdict": r.verdict,
                "basis": r.basis,
                "change": r.change,
                "change_low": r.change_low,
                "p_adjusted": r.p_adjusted,
                "detectable": r.detectable,
            }
            for r in compared
        },
        "notes": comparison.notes,
    }
    if target is not None:
        out["caught"] = comparison.outcome == "slower" and _row_name(target) in flagged
    return out


@dataclass(frozen=True)
class _Sequence:
    warmup: int
    documents: list[ResultDocument]
    runs_per_pair: int

    def earlier(self, position: int) -> list[EarlierRun]:
        """Every run before ``position``, newest first, as the history would hold them."""
        return [EarlierRun(i, self.documents[i]) for i in range(position - 1, -1, -1)]


def _without_anchor(doc: ResultDocument) -> ResultDocument:
    """``doc`` as a run without ``--anchor`` would have written it (serial rows on wall time)."""
    out = copy.deepcopy(doc)
    for rec in out["results"]:
        rec.pop("anchor_s", None)
        rec.pop("anchor_round_ids", None)
    return out


GATES = {"vs_a": "B vs A", "vs_a_anchor": "B vs A, --anchor", "vs_history": "B vs history"}
"""How each pair is judged (the anchored one only where the runs have an anchor)."""


def _judge(sequence: _Sequence, gate: Gate, window: int) -> list[dict[str, Any]]:
    pairs = []
    count = (len(sequence.documents) - sequence.warmup) // sequence.runs_per_pair
    injected_offset = 0 if sequence.runs_per_pair == SHARED else 2
    for pair in range(count):
        base = sequence.warmup + pair * sequence.runs_per_pair
        for kind, offset in (("same code", 0), ("injected", injected_offset)):
            a, b = sequence.documents[base + offset], sequence.documents[base + offset + 1]
            target = None
            if kind == "injected":
                parallel = _parallel_rows(b)
                index = parallel[pair % len(parallel)]
                target, b = b["results"][index], _inject(b, index)
            position = base + offset + 1
            history = comparable_runs(sequence.earlier(position), b, window)
            plain_a, plain_b = _without_anchor(a), _without_anchor(b)
            against_a = compare_documents(plain_a, plain_b, gate.threshold, gate.alpha, gate.must_detect)
            anchored = any("anchor_s" in r for r in b["results"])
            with_anchor = compare_documents(a, b, gate.threshold, gate.alpha, gate.must_detect)
            pairs.append(
                {
                    "pair": pair,
                    "kind": kind,
                    "target": None if target is None else _row_name(target),
                    "vs_a": _verdict(against_a, target),
                    **({"vs_a_anchor": _verdict(with_anchor, target)} if anchored else {}),
                    "vs_history": _verdict(compare_with_history(history, b, gate), target),
                    "history_runs": len(history),
                }
            )
    return pairs


def _summary(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for judged in GATES:
        if not all(judged in p for p in pairs):
            continue
        same = [p[judged]["outcome"] for p in pairs if p["kind"] == "same code"]
        caught = [p[judged]["caught"] for p in pairs if p["kind"] == "injected"]
        out[judged] = {
            "same_code_pairs": len(same),
            "same_code_outcomes": {o: same.count(o) for o in ("slower", "inconclusive", "clean")},
            "injected_pairs": len(caught),
            "injected_caught": sum(caught),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=20, help="pairs of each kind to add (default 20)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3, help="history-only runs first (default 3)")
    parser.add_argument("--window", type=int, default=10, help="history baseline: last N runs (default 10)")
    parser.add_argument("--runs", type=Path, help="folder of the run documents (default: a temp folder)")
    parser.add_argument(
        "--anchor", action="store_true", help="bench with --anchor, and also judge B vs A with it"
    )
    parser.add_argument("--recheck", action="store_true", help="measure nothing: judge the runs in --runs")
    args = parser.parse_args()
    if args.recheck and args.runs is None:
        parser.error("--recheck needs --runs DIR")
    folder = args.runs or Path(tempfile.mkdtemp(prefix="gilwise-compare-gate-"))
    folder.mkdir(parents=True, exist_ok=True)
    existing = len(_runs(folder))
    # How the runs in the folder are laid out: fixed by the first call, kept by the next ones.
    layout_path = folder / "sequence.json"
    if not layout_path.exists():
        layout = {"warmup": args.warmup, "repeats": args.repeats, "anchor": args.anchor}
        layout["runs_per_pair"] = SHARED
        layout_path.write_text(json.dumps(layout))
    layout = json.loads(layout_path.read_text())
    warmup, repeats, anchor = int(layout["warmup"]), int(layout["repeats"]), bool(layout.get("anchor"))
    per_pair = int(layout.get("runs_per_pair", SEPARATE))
    if not args.recheck:
        # A window cut short (a timeout, Ctrl-C) leaves a pair half run: complete it first.
        started = max(0, existing - warmup)
        cut_short = -started % per_pair
        wanted = max(0, warmup - existing) + cut_short + per_pair * args.pairs
        for number in range(existing, existing + wanted):
            _bench(repeats, folder / f"run{number:03d}.json", anchor)
            print(f"run {number + 1 - existing}/{wanted} written to {folder}", flush=True)
    documents: list[ResultDocument] = [json.loads(p.read_text()) for p in _runs(folder)]
    sequence = _Sequence(warmup, documents, per_pair)
    gate = Gate()
    pairs = _judge(sequence, gate, args.window)
    summary = _summary(pairs)
    rows = []
    for judged, label in GATES.items():
        if judged not in summary:
            continue
        s = summary[judged]
        outcomes = s["same_code_outcomes"]
        rows.append(
            [
                label + (f"[:{args.window}]" if judged == "vs_history" else ""),
                f"{outcomes['slower']}/{s['same_code_pairs']}",
                f"{outcomes['inconclusive']}/{s['same_code_pairs']}",
                f"{outcomes['clean']}/{s['same_code_pairs']}",
                f"{s['injected_caught']}/{s['injected_pairs']}",
            ]
        )
    headers = ["gate", "same code: REGRESSION", "inconclusive", "clean", f"+{SLOWDOWN - 1:.0%} caught"]
    print(table(headers, rows))
    for p in pairs:
        for judged in (g for g in GATES if g in p):
            for alarm in p[judged]["regressions"] if p["kind"] == "same code" else []:
                print(f"  pair {p['pair']} {judged}: false alarm {alarm}")
            if p["kind"] == "injected" and not p[judged]["caught"]:
                print(f"  pair {p['pair']} {judged}: missed {p['target']} ({p[judged]['outcome']})")
    path = save(
        "compare_gate_anchor" if anchor else "compare_gate",
        {
            "command": "gilwise "
            + " ".join(COMMAND).format(repeats=repeats)
            + (" --anchor" if anchor else ""),
            "repeats": repeats,
            "runs": len(documents),
            "warmup_runs": warmup,
            "window": args.window,
            "slowdown_injected": SLOWDOWN,
            "gate": {"threshold": gate.threshold, "alpha": gate.alpha, "must_detect": gate.must_detect},
            "summary": summary,
            "pairs": pairs,
            "machine": machine_summary(),
        },
    )
    print(f"runs kept in {folder}; written to {path}")


if __name__ == "__main__":
    main()
