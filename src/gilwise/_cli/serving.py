"""``gilwise serving``: an ASGI app under each serving model, with the open-loop load."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any

from .._exceptions import UsageError
from .._extras import require_module
from .._loadgen.mix import GILWISE_SERVE_MIX, parse_weighted_mix
from .._loadgen.schedule import DEFAULT_RATE_RPS
from .._report.serving import print_serving
from .._results.files import check_output_target, unwritable_output, write_output_json, write_text_atomic
from .._serving.models import GILWISE_APP, MODELS
from .._serving.run import ServingConfig, run_serving
from .._system import usable_cores
from .console import add_wide_flag, stderr_console, stdout_console
from .options import choose, positive_float, positive_int

OTHER_APP_MIX = "/=1"
QUICK = {"duration": 3.0, "warmup": 1.0, "repeats": 1}


DESCRIPTION = (
    "Run an ASGI app under each serving model (uvicorn, uvicorn --workers N, "
    "Gunicorn's ASGI workers, Granian, Granian's thread runtime, Hypercorn, and for "
    "gilwise's own app one uvicorn process with threads or process offload), each started "
    "on loopback in its own process group, warmed up, loaded open-loop, then stopped whole. "
    "Prints throughput, the p99 of each route, busy cores and memory per model, and a verdict."
)


def add_serving_parser(sub: Any) -> None:
    p = sub.add_parser("serving", description=DESCRIPTION)
    p.add_argument("app", nargs="?", default=GILWISE_APP, help=f"MODULE:ATTRIBUTE (default {GILWISE_APP})")
    p.add_argument(
        "--model",
        action="append",
        help=f"model(s): {', '.join(m.name for m in MODELS)} (default: all)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes of multi-process models (default: usable cores)",
    )
    p.add_argument(
        "--mix", help=f"PATH=WEIGHT,... (default {GILWISE_SERVE_MIX} for gilwise's app, {OTHER_APP_MIX} else)"
    )
    p.add_argument("--rate", default=str(DEFAULT_RATE_RPS), metavar="R|sweep",
                   help=f"offered requests/s (default {DEFAULT_RATE_RPS:g}), or sweep: the highest rate "
                   "each model holds with the cheap route's p99 under --p99-bound")  # fmt: skip
    p.add_argument(
        "--p99-bound", type=float, default=50.0, metavar="MS", help="the sweep's bound (default 50 ms)"
    )
    p.add_argument(
        "--cheap", metavar="PATH", help="the cheap route the verdict is about (default /health or the first)"
    )
    p.add_argument(
        "--duration", type=float, default=10.0, metavar="S", help="seconds of load per model and repeat"
    )
    p.add_argument("--warmup", type=float, default=2.0, metavar="S", help="seconds of load before measuring")
    p.add_argument("--repeats", type=int, default=3, metavar="N", help="round-robin repeats (default 3)")
    p.add_argument("--ingest-batch", type=int, default=500, metavar="N",
                   help="gilwise's app: events per ingest batch, posted open-loop by the load's "
                   "clients at --ingest-rate (0: no ingest)")  # fmt: skip
    p.add_argument("--ingest-rate", type=float, default=10.0, metavar="B",
                   help="gilwise's app: ingest batches per second beside --rate (default 10)")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="3 s, 1 s warm-up, one repeat")
    p.add_argument("--json", metavar="PATH", help="write the gilwise.serving/1 document")
    p.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    add_wide_flag(p)
    p.set_defaults(handler=run_serving_command)


def _rate(text: str) -> float | None:
    if text == "sweep":
        return None
    try:
        rate = float(text)
    except ValueError:
        raise UsageError(f"--rate {text!r}: give requests per second or 'sweep'") from None
    if not 0 < rate <= 100_000:
        raise UsageError(f"--rate {text}: use more than 0 and at most 100000 requests per second")
    return rate


def _check_app(app: str) -> None:
    module, colon, attribute = app.partition(":")
    if not colon or not module or not attribute:
        raise UsageError(f"APP {app!r}: give MODULE:ATTRIBUTE, e.g. myservice.main:app")
    sys.path.insert(0, os.getcwd())
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    finally:
        sys.path.pop(0)
    if not found:
        raise UsageError(
            f"APP {app!r}: no module {module!r} here; run from the folder that holds it, "
            "or add that folder to PYTHONPATH"
        )


def run_serving_command(args: argparse.Namespace) -> int:
    # a missing server is its row's reason; the load's histograms are needed by every row
    require_module("servers", "hdrh", "gilwise serving")
    _check_app(args.app)
    positive_int("--workers", args.workers, maximum=256)
    positive_int("--repeats", args.repeats, maximum=100)
    positive_float("--duration", args.duration)
    positive_float("--p99-bound", args.p99_bound)
    if args.warmup < 0:
        raise UsageError(f"--warmup {args.warmup:g} must be 0 or more seconds")
    if args.ingest_batch < 0:
        raise UsageError(f"--ingest-batch {args.ingest_batch} must be 0 or more")
    if not 0 <= args.ingest_rate <= 1000:
        raise UsageError(f"--ingest-rate {args.ingest_rate:g}: use 0 (no ingest) to 1000 batches per second")
    models = choose("--model", args.model, [m.name for m in MODELS], [m.name for m in MODELS])
    mix = parse_weighted_mix(args.mix or (GILWISE_SERVE_MIX if args.app == GILWISE_APP else OTHER_APP_MIX))
    if args.cheap is not None and args.cheap not in mix:
        raise UsageError(f"--cheap {args.cheap!r} is not a route of --mix ({', '.join(mix)})")
    for option, path in (("--json", args.json), ("--html", args.html)):
        if path:
            check_output_target(option, path)
    quick = QUICK if args.quick else {}
    config = ServingConfig(
        mix=mix,
        rate=_rate(args.rate),
        app=args.app,
        models=tuple(models),
        workers=args.workers or usable_cores(),
        duration_s=quick.get("duration", args.duration),
        warmup_s=quick.get("warmup", args.warmup),
        repeats=int(quick.get("repeats", args.repeats)),
        p99_bound_ms=args.p99_bound,
        cheap_route=args.cheap,
        ingest_batch=args.ingest_batch,
        ingest_rate=args.ingest_rate,
        app_dir=os.getcwd(),
    )
    status = stderr_console().status("gilwise serving")
    with status:
        document = run_serving(config, progress=lambda text: status.update(f"gilwise serving: {text}"))
    if args.json:
        write_output_json("--json", args.json, document)
    if args.html:
        from .._report.serving_html import render_serving_html

        try:
            write_text_atomic(args.html, render_serving_html(document))
        except OSError as exc:  # a full disk: exit 2 naming the file
            raise unwritable_output("--html", args.html, exc) from exc
    print_serving(document, stdout_console(args.wide))
    return 1 if any(r["status"] == "failed" for r in document["results"]) else 0
