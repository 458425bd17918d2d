"""``gilwise serving`` on gilwise's own app: every installed serving model, one table.

Mix ``/health`` + ``/analytics/sessions`` (2 : 1) offered open-loop at ``--rate`` requests/s
while an ingest stream (``--ingest-rate`` batches of ``--ingest-batch`` events a second, posted
open-loop by the same client processes) feeds the store, round-robin over ``--repeats`` rounds.
Per model: throughput, ``/health`` p99 with its interval over the rounds and its
paired ratio to one uvicorn process, the sessions p99, busy cores of the server's tree, USS and
PSS of the tree, start-up time; then the verdict. Every figure comes from this run: the JSON
(``results/bench_serving.json``) keeps the command line that produced it.

Run: ``uv run python benchmarks/bench_serving.py [--rate 30] [--duration 6] [--repeats 3]
[--model NAME,...]``.
"""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console

from _common import RESULTS
from gilwise._report.serving import print_serving
from gilwise._results.files import write_json_atomic
from gilwise._serving.run import ServingConfig, run_serving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--mix", default="/health=2,/analytics/sessions=1")
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ingest-batch", type=int, default=1000)
    parser.add_argument("--ingest-rate", type=float, default=10.0)
    parser.add_argument("--model", help="models to run, comma-separated (default: all)")
    parser.add_argument("--json", default=str(RESULTS / "bench_serving.json"))
    args = parser.parse_args()
    from gilwise._loadgen.mix import parse_weighted_mix

    config = ServingConfig(
        mix=parse_weighted_mix(args.mix),
        rate=args.rate,
        duration_s=args.duration,
        warmup_s=args.warmup,
        repeats=args.repeats,
        ingest_batch=args.ingest_batch,
        ingest_rate=args.ingest_rate,
        **({"models": tuple(args.model.split(","))} if args.model else {}),
    )
    started = time.time()
    document = run_serving(
        config,
        progress=lambda text: print(
            f"... {time.time() - started:5.0f} s {text}", file=sys.stderr, flush=True
        ),
    )
    record = {
        **document,
        "command": "uv run python benchmarks/bench_serving.py " + " ".join(sys.argv[1:]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "wall_s": time.time() - started,
    }
    write_json_atomic(args.json, record)
    print_serving(document, Console(width=80))
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
