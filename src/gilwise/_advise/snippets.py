"""The code to use for a recommendation: ``concurrent.futures`` first (what everyone has),
gilwise's ``Executor`` / ``Offloader`` where a service or crash-safety needs them."""

from __future__ import annotations

from .costmodel import CallShape, Prediction


def _names(target: str) -> tuple[str, str]:
    module, _, qualname = target.partition(":")
    head = qualname.split(".")[0]
    return f"from {module} import {head}", qualname


def code_for(p: Prediction, target: str, shape: CallShape, coroutine: bool) -> str:
    imports, fn = _names(target)
    if p.model == "serial":
        call = f"await {fn}(item)" if coroutine else f"{fn}(item)"
        return f"{imports}\n\nresults = [{call} for item in items]  # items: one argument per call"
    if p.model == "processes":
        chunk = f", chunksize={p.chunksize}" if p.chunksize > 1 else ""
        return (
            f"from concurrent.futures import ProcessPoolExecutor\n{imports}\n\n"
            f'# or gilwise.Executor({p.workers}, route="cpu")\n'
            f"with ProcessPoolExecutor(max_workers={p.workers}) as pool:\n"
            f"    results = list(pool.map({fn}, items{chunk}))  # items: one argument per call\n"
            f'# in an asyncio service: await offloader.run({fn}, item, route="cpu")'
        )
    if p.model == "interpreters":
        return (
            f"from concurrent.futures import InterpreterPoolExecutor  # CPython 3.14+\n{imports}\n\n"
            f"with InterpreterPoolExecutor(max_workers={p.workers}) as pool:\n"
            f"    results = list(pool.map({fn}, items))  # items: one argument per call"
        )
    if p.model == "asyncio":
        if coroutine:
            gather = f"await asyncio.gather(*({fn}(item) for item in items))"
            return f"import asyncio\n{imports}\n\nresults = {gather}"
        return (
            f"import asyncio\n{imports}\n\n"
            f"results = await asyncio.gather(*(asyncio.to_thread({fn}, item) for item in items))"
        )
    route = "io" if shape.wait_share >= 0.5 else "native"
    where = "" if p.model == "threads" else f"# run under {p.interpreter.path} (free-threaded)\n"
    return (
        f"{where}from concurrent.futures import ThreadPoolExecutor\n{imports}\n\n"
        f'# or gilwise.Executor({p.workers}, route="{route}")\n'
        f"with ThreadPoolExecutor(max_workers={p.workers}) as pool:\n"
        f"    results = list(pool.map({fn}, items))  # items: one argument per call\n"
        f'# in an asyncio service: await offloader.run({fn}, item, route="{route}")'
    )
