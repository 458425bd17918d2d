"""``gilwise advise``: a verdict on the user's own function (``MODULE:FUNC``) or on a running
program (``--pid PID``, ``-- python SCRIPT ARGS...``), predicted and then verified."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from .._exceptions import UsageError
from .._results.files import check_output_target, write_output_json
from .console import add_wide_flag, stderr_console, stdout_console
from .exit_codes import EXIT_INCONCLUSIVE, EXIT_OK
from .options import positive_float, positive_int, split_values

_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def add_advise_parser(sub: Any) -> None:
    p = sub.add_parser(
        "advise",
        description="Probe a function (one call is the unit of work) in fresh worker processes, "
        "predict each concurrency model's speedup from the probes, bench the best two for real, "
        "and print the verdict with the code to use. With --pid or -- COMMAND: per-thread CPU and "
        "GIL samples of a whole running program.",
    )
    p.add_argument(
        "command",
        nargs="*",
        metavar="MODULE:FUNC | -- COMMAND",
        help="the function to advise on (run from the folder holding MODULE), or after -- a "
        "program to start and sample (e.g. -- python app.py)",
    )
    p.add_argument("--args", metavar="JSON", help="positional arguments of one call, a JSON array")
    p.add_argument("--kwargs", metavar="JSON", help="keyword arguments of one call, a JSON object")
    p.add_argument(
        "--python",
        action="append",
        metavar="PATH",
        help="interpreter(s): the first is the one advised for (default: this one), the others are "
        "probed for what would change the verdict (default: the newest free-threaded build found)",
    )
    p.add_argument(
        "--calls", type=int, metavar="N", help="calls per batch to predict and verify (default: ~1 s serial)"
    )
    p.add_argument("--json", metavar="PATH", help="write the verdict (gilwise.advise/1)")
    add_wide_flag(p)
    p.add_argument(
        "--budget", type=float, default=60.0, metavar="S", help="hard bound on the whole run (default 60 s)"
    )
    p.add_argument("--pid", type=int, metavar="PID", help="advise on this running Python process")
    p.add_argument(
        "--duration", type=float, default=5.0, metavar="S", help="sampling time for --pid / -- (default 5 s)"
    )
    p.set_defaults(handler=run_advise_command)


def _json_value(option: str, text: str | None, kind: type) -> Any:
    if text is None:
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option} is not valid JSON ({exc.msg} at column {exc.colno}): {text!r}") from None
    if not isinstance(value, kind):
        shape = "an array, e.g. '[200000]'" if kind is list else "an object, e.g. '{\"level\": 6}'"
        raise UsageError(f"{option} must be a JSON {shape}; got {type(value).__name__}")
    return value


def run_advise_command(args: argparse.Namespace) -> int:
    from .._advise import AdviseSettings, advise_command, advise_pid, advise_target
    from .._report.advise import render_advice, render_program

    budget = positive_float("--budget", args.budget) or 60.0
    duration = positive_float("--duration", args.duration) or 5.0
    if args.json:
        check_output_target("--json", args.json)
    out, err = stdout_console(args.wide), stderr_console()
    command: list[str] = args.command
    function_mode = len(command) == 1 and _TARGET.match(command[0]) is not None
    if args.pid is not None or (command and not function_mode):
        if args.pid is not None and command:
            raise UsageError("give either --pid PID or a command after --, not both")
        if args.args or args.kwargs or args.python or args.calls:
            raise UsageError(
                "--args, --kwargs, --python and --calls are for MODULE:FUNC, not a running program"
            )
        err.print(f"sampling for {duration:g} s …", highlight=False)
        report = (
            advise_pid(args.pid, duration, budget)
            if args.pid is not None
            else advise_command(command, duration, budget)
        )
        document: Any = report.to_json()
        render_program(out, document)
        status = EXIT_OK
    else:
        if not command:
            raise UsageError("give MODULE:FUNC (e.g. mypkg.work:crunch), --pid PID, or -- python SCRIPT ARGS")
        settings = AdviseSettings(
            budget_s=budget,
            pythons=tuple(split_values(args.python)),
            calls=positive_int("--calls", args.calls, 10**7),
        )
        advice = advise_target(
            command[0],
            _json_value("--args", args.args, list),
            _json_value("--kwargs", args.kwargs, dict),
            settings,
            progress=lambda message: err.print(f"{message} …", highlight=False),
        )
        document = advice.to_json()
        render_advice(out, document)
        status = EXIT_OK if advice.conclusive else EXIT_INCONCLUSIVE
    if args.json:
        write_output_json("--json", args.json, document)
        err.print(f"verdict written to {args.json}")
    return status
