"""Find the user's function by name inside a worker (any CPython, stdlib only).

``"package.module:Qualified.name"`` is imported the way the workload registry imports task
functions (``gilwise._workloads.load_object``), with dotted attribute paths for methods.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import sys
import traceback
from collections.abc import Callable
from typing import Any

from .protocol import AdviseFailure, TargetSpec


class TargetProblem(Exception):
    """The target cannot be used; ``failure`` says how (usage error, or it raised)."""

    def __init__(self, failure: AdviseFailure) -> None:
        super().__init__(failure["error"])
        self.failure = failure


def usage(error: str) -> TargetProblem:
    return TargetProblem({"ok": False, "kind": "usage", "error": error})


def user_traceback(exc: BaseException) -> str:
    """The traceback without the worker's own frames (the user's code starts at the call)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = __file__.rsplit("/", 1)[0]
    user = [f for f in frames if not f.filename.startswith(mine)] or list(frames)
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(user)]
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def raised(where: str, exc: BaseException) -> TargetProblem:
    return TargetProblem(
        {
            "ok": False,
            "kind": "raised",
            "error": f"{where} raised {type(exc).__name__}: {exc}",
            "traceback": user_traceback(exc),
        }
    )


def resolve(target: str) -> Callable[..., Any]:
    module_name, sep, qualname = target.partition(":")
    if not sep or not module_name or not qualname:
        raise usage(f"{target!r} is not MODULE:FUNCTION (for example mypackage.work:crunch)")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise usage(
                f"cannot import module {module_name!r} ({exc}); run from the folder that holds it, "
                "or put that folder on PYTHONPATH"
            ) from None
        raise raised(f"importing {module_name}", exc) from None
    except BaseException as exc:
        raise raised(f"importing {module_name}", exc) from None
    for part in qualname.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n, None)))
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise usage(
                f"{getattr(obj, '__name__', module_name)!r} has no attribute {part!r}"
                + (f"; callables there: {shown}" if shown else "")
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise usage(f"{target} is a {type(obj).__name__}, not a function: advise needs a callable")
    fn: Callable[..., Any] = obj
    return fn


def load(spec: TargetSpec) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    """The function and its arguments, ready to call."""
    for folder in reversed(spec["sys_path"]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    fn = resolve(spec["target"])
    try:
        with open(spec["args_path"], "rb") as f:
            args, kwargs = pickle.load(f)
    except (ModuleNotFoundError, ImportError) as exc:
        raise TargetProblem(
            {"ok": False, "kind": "unavailable", "error": f"the arguments cannot be loaded here: {exc}"}
        ) from None
    return fn, tuple(args), dict(kwargs)


def is_coroutine(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn)


def call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """One call: a coroutine function runs to completion in its own event loop."""
    if is_coroutine(fn):
        import asyncio

        return asyncio.run(fn(*args, **kwargs))
    return fn(*args, **kwargs)
