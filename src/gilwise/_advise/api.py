"""``gilwise.advise(fn, *args, **kwargs)`` and ``gilwise advise MODULE:FUNC``: probe, predict,
choose, verify, within the budget."""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .._exceptions import UsageError, WorkloadFailed
from .._harness.machine import describe_machine
from .._pythons.builds import free_threaded_hint
from .._pythons.discovery import InterpreterInfo, current, probe, survey
from .._system import usable_cores
from .._system.lifetime import owned_temp_directory, sweep_stale_temp_dirs
from .choose import Choice, choose
from .costmodel import ModelInputs, Prediction, inputs_from, predict
from .decide import verified_choice
from .fmt import model_label
from .memory import MemoryCheck
from .probes import (
    INTERPRETER_POOL_VERSION,
    Budget,
    BudgetExhausted,
    InterpreterProbes,
    Unavailable,
    probe_interpreter,
)
from .protocol import TargetSpec
from .report_build import Conditions, build_report
from .verdict import AdviseReport
from .verify import Measured, round_seconds, verify

Progress = Callable[[str], None]
BASELINE_PROBE_SHARE = 0.40
OTHER_PROBE_SHARE = 0.20
MIN_ROUNDS = 3
MAX_BATCH_CALLS = 20_000
"""A batch of more calls than a scaling probe makes would be predicted from smaller ones."""


@dataclass(frozen=True)
class AdviseSettings:
    """How ``advise`` runs. ``pythons[0]`` is the interpreter the verdict is for (default:
    this one); the others are probed for "what would change the verdict" (by default the
    newest free-threaded build found on this machine)."""

    budget_s: float = 60.0
    """A hard bound on the whole run, probes and verification."""
    pythons: tuple[str, ...] = ()
    calls: int | None = None
    """The batch (calls of the target) to predict and verify; default: about ``batch_s`` serial."""
    batch_s: float = 1.0
    find_free_threaded: bool = True

    def advise(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> AdviseReport:
        return advise_target(target_name(fn), args, kwargs, self, sys_path=module_root(fn))


def advise(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> AdviseReport:
    """Which concurrency model to run ``fn(*args, **kwargs)`` under here, predicted and verified.

    ``fn`` must be importable by name (worker processes import it): a module-level function
    or a method reachable from one, not a lambda, a nested function or one defined in
    ``__main__``. Options: ``gilwise.AdviseSettings(budget_s=30).advise(fn, ...)``.
    """
    return AdviseSettings().advise(fn, *args, **kwargs)


def target_name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not callable(fn):
        raise UsageError(f"advise needs a function, got a {type(fn).__name__}")
    if module is None or qualname is None:
        raise UsageError(
            f"{fn!r} has no importable name (__module__ / __qualname__); pass a module-level function"
        )
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise UsageError(
            f"{module}.{qualname} is a lambda or a nested function: worker processes import the target "
            "by name, so define it at module level"
        )
    if module == "__main__":
        raise UsageError(
            f"{qualname} is defined in __main__ (a script or an interactive session): worker processes "
            "import the target by name, so move it into a module (e.g. mywork.py) and import it from there"
        )
    name = f"{module}:{qualname}"
    from .target import resolve

    try:
        found = resolve(name)
    except Exception as exc:
        raise UsageError(f"{name} cannot be imported by name: {exc}") from None
    if found is not fn and getattr(found, "__wrapped__", None) is not fn:
        raise UsageError(
            f"{name} names another object than the one given (a decorator without functools.wraps?)"
        )
    return name


def module_root(fn: Callable[..., Any]) -> list[str]:
    """The folder a worker must have on sys.path to import fn's module the same way."""
    module = sys.modules.get(getattr(fn, "__module__", ""))
    path = getattr(module, "__file__", None)
    if module is None or path is None:
        return []
    root = os.path.dirname(os.path.abspath(path))
    depth = module.__name__.count(".") + (1 if os.path.basename(path) == "__init__.py" else 0)
    for _ in range(depth):
        root = os.path.dirname(root)
    return [root]


@contextlib.contextmanager
def _arguments_file(args: Sequence[Any], kwargs: dict[str, Any]) -> Iterator[str]:
    try:
        blob = pickle.dumps((tuple(args), dict(kwargs)), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise UsageError(
            f"the arguments cannot be pickled ({type(exc).__name__}: {exc}): advise ships them to "
            "fresh worker processes; pass picklable arguments"
        ) from None
    sweep_stale_temp_dirs()  # pickled arguments a SIGKILLed earlier advise left behind
    with owned_temp_directory("gilwise-advise-") as folder:
        path = os.path.join(folder, "arguments.pickle")
        with open(path, "wb") as f:
            f.write(blob)
        yield path


def interpreters_for(settings: AdviseSettings) -> tuple[InterpreterInfo, list[InterpreterInfo], list[str]]:
    baseline = probe(settings.pythons[0]) if settings.pythons else current()
    others = [probe(p) for p in settings.pythons[1:]]
    notes: list[str] = []
    if not settings.find_free_threaded:
        return baseline, others, notes
    found = survey().interpreters
    free = [i for i in found if i.free_threaded]
    if not baseline.free_threaded and not any(o.free_threaded for o in others):
        if free:
            others.append(max(free, key=lambda i: i.version_info))
        else:
            notes.append(f"no free-threaded CPython found here: {free_threaded_hint()}")
    pools = [i for i in found if i.version_info >= INTERPRETER_POOL_VERSION and not i.free_threaded]
    probed = [baseline, *others]
    if not any(i.version_info >= INTERPRETER_POOL_VERSION for i in probed):
        where = (
            f"found here: {pools[-1].path}; add it with `gilwise advise --python PATH` or "
            "AdviseSettings(pythons=(PATH,))"
            if pools
            else "none found here"
        )
        notes.append(
            f"sub-interpreter pools (InterpreterPoolExecutor) need CPython 3.14+, not probed ({where})"
        )
    return baseline, others, notes


def batch_calls(settings: AdviseSettings, call_s: float, cores: int) -> int:
    if settings.calls is not None:
        return settings.calls
    wanted = math.ceil(settings.batch_s / max(call_s, 1e-7))
    return min(MAX_BATCH_CALLS, max(2 * cores, math.ceil(wanted / cores) * cores))


def plan(
    inputs: ModelInputs, calls: int, budget: Budget, fixed: bool, memory: MemoryCheck
) -> tuple[int, list[Prediction], Choice, list[str]]:
    """Predictions for the batch; a batch too big to verify 3 rounds in the budget is cut.
    Only worker counts whose calls fit in memory together are chosen for verification."""
    notes: list[str] = []
    first = calls

    def chosen(predictions: list[Prediction]) -> Choice:
        fitting = [p for p in predictions if p.model == "serial" or memory.allows(p.workers)]
        return choose(fitting, inputs.baseline.interpreter.path, inputs.baseline.call["coroutine"])

    for _ in range(8):
        predictions = predict(inputs, calls)
        choice = chosen(predictions)
        cells = _cells(predictions, choice)
        needed = MIN_ROUNDS * round_seconds(cells) * 1.3
        available = budget.left() - 1.0
        if fixed or needed <= available or calls <= inputs.cores:
            break
        calls = max(inputs.cores, int(calls * available / needed * 0.8))
    else:
        predictions = predict(inputs, calls)
        choice = chosen(predictions)
    if calls != first:
        notes.append(f"batch cut from {first} to {calls} calls so that verification fits the budget")
    return calls, predictions, choice, notes


def _cells(predictions: list[Prediction], choice: Choice) -> list[Prediction]:
    serial = next(p for p in predictions if p.model == "serial")
    cells = [serial]
    for p in (choice.recommended, choice.runner_up):
        if p is not None and p is not serial:
            cells.append(p)
    return cells


def _probe_other_builds(
    others: list[InterpreterInfo],
    spec: TargetSpec,
    base: InterpreterProbes,
    settings: AdviseSettings,
    budget: Budget,
    cores: int,
    say: Progress,
    notes: list[str],
) -> list[InterpreterProbes]:
    """The other builds' probes, paired with the baseline's: a build that fails is a note."""
    extra: list[InterpreterProbes] = []
    for other in others:
        say(f"probing {spec['target']} under {other.label}")
        try:
            sub = Budget(min(budget.left() * 0.5, OTHER_PROBE_SHARE * settings.budget_s))
            extra.append(
                probe_interpreter(
                    other, spec, sub, cores, processes=not other.free_threaded, paired_with=base
                )
            )
        except (Unavailable, WorkloadFailed, BudgetExhausted, UsageError) as exc:
            first = str(exc).splitlines()[0]
            notes.append(f"{other.label} ({other.path}) not probed: {first}")
    return extra


def advise_target(
    target: str,
    args: Sequence[Any],
    kwargs: dict[str, Any],
    settings: AdviseSettings,
    sys_path: list[str] | None = None,
    progress: Progress | None = None,
) -> AdviseReport:
    """The whole advise run for ``"module:function"`` called with ``args`` / ``kwargs``: probe,
    predict, verify what the prediction favours, and the best measured model is the verdict."""
    if settings.budget_s <= 0:
        raise UsageError(
            "must be a positive number of seconds", parameter="budget_s", value=settings.budget_s
        )
    budget = Budget(settings.budget_s)
    say = progress or (lambda _message: None)
    cores = usable_cores()
    folders = [*(sys_path or []), os.getcwd()]
    baseline, others, notes = interpreters_for(settings)
    with _arguments_file(args, kwargs) as args_path:
        spec: TargetSpec = {"target": target, "args_path": args_path, "sys_path": folders}
        say(f"probing {target} under {baseline.label}")
        try:
            base = probe_interpreter(
                baseline,
                spec,
                Budget(min(budget.left(), BASELINE_PROBE_SHARE * settings.budget_s)),
                cores,
                processes=True,
            )
        except Unavailable as exc:
            raise UsageError(f"{target} cannot run under {baseline.label}: {exc}") from None
        except BudgetExhausted as exc:
            raise WorkloadFailed(
                f"{target}: the probes did not finish within the budget of {settings.budget_s:g} s "
                f"({exc}); one call may take longer than the budget allows: raise the budget "
                "(`gilwise advise --budget S`, or AdviseSettings(budget_s=S)) or pass smaller arguments"
            ) from None
        if base.memory.note:
            notes.append(base.memory.note)
        extra = _probe_other_builds(others, spec, base, settings, budget, cores, say, notes)
        inputs = inputs_from(base, extra, cores)
        calls = batch_calls(settings, base.call_s, cores)
        calls, predictions, choice, planned = plan(
            inputs, calls, budget, fixed=settings.calls is not None, memory=base.memory
        )
        notes += planned
        cells = _cells(predictions, choice)
        labels = ", ".join(model_label(p.model, p.workers) for p in cells)
        say(f"verifying {labels} in paired rounds ({calls} calls)")
        measured, verified_notes, load = verify(spec, cells, calls, budget)
        notes += verified_notes
    verified = verified_choice(choice, measured, baseline.path)
    parallel_won = verified.decided_by == "measurement" and verified.choice.recommended.model != "serial"
    conclusive = load.settles(parallel_won)
    return build_report(
        target,
        calls,
        inputs,
        predictions,
        verified,
        measured,
        notes,
        budget,
        describe_machine(),
        Conditions(base.memory, load, conclusive),
    )


__all__ = ["AdviseSettings", "Measured", "advise", "advise_target"]
