"""The ``gilwise doctor`` document as terminal tables: machine, CPython builds, kernels, models."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import fmt


def _machine_line(machine: dict[str, Any]) -> str:
    limit = machine.get("cgroup_cpu_limit")
    load = ", ".join(f"{v:.2f}" for v in machine["load_average"])
    return (
        f"{machine['cpu_model']}: {machine['usable_cores']} usable cores "
        f"({machine['logical_cores']} logical, {machine['physical_cores']} physical; cgroup limit "
        f"{'none' if limit is None else f'{limit:g} CPUs'}), "
        f"{fmt.size_bytes(machine['memory_bytes'])} memory, load {load} "
        f"({machine['load_per_usable_core']:.2f} per usable core)"
    )


def _native_cell(native: dict[str, Any], impl: str) -> str:
    if "error" in native:
        return f"[red]{escape(native['error'][:60])}[/red]"
    reason = native["impls"].get(impl)
    if reason is None:
        return "[green]loads[/green]"
    if impl == "native" and not native["capi_built"]:
        return "[yellow]not built for this ABI[/yellow]"
    return "[yellow]no[/yellow]"


def _jit_cell(interp: dict[str, Any]) -> str:
    state = interp.get("jit")
    if state is None:
        return "?"
    return {"on": "[green]on[/green]", "off": "off, built in", "not built": "not built"}[state]


def render_doctor(console: Console, document: dict[str, Any]) -> None:
    machine = document["machine"]
    console.print(f"[bold]Machine[/bold]  {escape(_machine_line(machine))}")
    if machine["load_per_usable_core"] > 0.5:
        console.print(
            "  [yellow]⚠ the machine is busy: benchmark figures will be noisy; stop other "
            "load or rely on paired speedups[/yellow]"
        )
    table = Table(title="CPython builds", title_justify="left", header_style="bold")
    columns = ("build", "path", "found in", "GIL", "JIT", "sub-interp.", "C-API ext", "ctypes", "NumPy")
    for column in columns:
        table.add_column(column)
    notes: list[str] = []
    for interp in document["interpreters"]:
        native = interp["native"]
        gil = "free-threaded, GIL off" if interp["free_threaded"] else "GIL build"
        if interp["free_threaded"] and interp["gil_enabled"]:
            gil = "[red]free-threaded, GIL ON[/red]"
        if native.get("gil_reenabled_by_import"):
            gil += " [red](importing gilwise._native re-enables it)[/red]"
        table.add_row(
            escape(interp["label"]),
            escape(interp["path"]),
            escape(interp["source"]),
            gil,
            _jit_cell(interp),
            escape(interp["subinterpreters_module"] or "—"),
            _native_cell(native, "native"),
            _native_cell(native, "ctypes"),
            _native_cell(native, "numpy"),
        )
        for impl in ("native", "ctypes", "numpy"):
            reason = native.get("impls", {}).get(impl)
            # Said once below for all interpreters: an extension not built for it, no NumPy.
            common = (impl == "native" and not native["capi_built"]) or impl == "numpy"
            if reason and not common:
                notes.append(f"{interp['label']} {impl}: {reason}")
        if native.get("error"):
            notes.append(f"{interp['label']}: {native['error']}")
    console.print(table)
    unbuilt = [i["label"] for i in document["interpreters"] if not i["native"]["capi_built"]]
    if unbuilt:
        notes.append(
            f"the C-API extension (impls native, native-gil) is not built for {', '.join(unbuilt)}: "
            "a C-API extension is tied to one CPython version and build. Build it for one with "
            "`uv run python -m gilwise._native._build PATH`, or use the ctypes impl (the same C "
            "loop, any interpreter)."
        )
    no_numpy = [i["label"] for i in document["interpreters"] if (i["native"].get("impls") or {}).get("numpy")]
    if no_numpy:
        notes.append(
            f"NumPy cannot be imported in {', '.join(no_numpy)}: the numpy impl is unavailable "
            "there (`PATH -m pip install numpy` adds it)."
        )
    for note in notes:
        console.print(f"  • {escape(note)}")
    console.print(
        "  [dim]JIT: at start-up, from sys._jit on 3.14+, else from the configure flags "
        "(--enable-experimental-jit); `off, built in` turns on with PYTHON_JIT=1[/dim]"
    )
    for build in document.get("cached_builds", []):
        if not build["present"]:
            console.print(
                f"  [dim]{escape(build['label'])} not built ({escape(build['path'])}): "
                f"{escape(build['build_command'])}[/dim]"
            )
    for skipped in document["skipped"]:
        where = f"{skipped['path']} ({skipped['source']})"
        console.print(f"  [dim]skipped {escape(where)}: {escape(skipped['reason'])}[/dim]")
    labels = {i["path"]: i["label"] for i in document["interpreters"]}
    models = Table(title="Concurrency models", title_justify="left", header_style="bold")
    for column in ("model", "needs", "available with", "not available with"):
        models.add_column(column, ratio=1 if column != "model" else None)
    for model in document["models"]:
        by_reason: dict[str, list[str]] = {}
        for path, reason in model["unavailable"].items():
            by_reason.setdefault(reason, []).append(labels[path])
        missing = "; ".join(f"{', '.join(who)}: {reason}" for reason, who in by_reason.items())
        models.add_row(
            escape(model["name"]),
            escape(model["needs"]),
            escape(", ".join(labels[p] for p in model["available_on"])) or "[red]none[/red]",
            escape(missing) or "—",
        )
    console.print(models)
