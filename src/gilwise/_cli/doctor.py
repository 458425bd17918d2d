"""``gilwise doctor [--json]``: what this machine offers, and why a model or kernel is missing."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._harness.doctor import diagnose
from .._report.doctor import render_doctor
from .console import add_wide_flag, stdout_console
from .options import split_values


def add_doctor_parser(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        description="Find the CPython builds on this machine (PATH, pyenv, uv, gilwise's cache, "
        "--python), ask each what it is, which native kernels load in it and which concurrency "
        "models it can run, and say why not where it cannot.",
    )
    p.add_argument("--json", action="store_true", help="print the gilwise.doctor/1 document")
    p.add_argument(
        "--python", action="append", metavar="PATH", help="also examine this interpreter (repeatable)"
    )
    add_wide_flag(p)
    p.set_defaults(handler=run_doctor_command)


def run_doctor_command(args: argparse.Namespace) -> int:
    document = diagnose(tuple(split_values(args.python)))
    if args.json:
        sys.stdout.write(json.dumps(document, indent=1) + "\n")
        return 0
    render_doctor(stdout_console(args.wide), document)
    return 0
