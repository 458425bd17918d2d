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
    _print_machine(console, document["machine"])
    builds, notes = _builds_table(document["interpreters"])
    console.print(builds)
    notes += _notes_for_all_builds(document["interpreters"])
    for note in notes:
        console.print(f"  • {escape(note)}")
    _print_footnotes(console, document)
    console.print(_models_table(document))


def _print_machine(console: Console, machine: dict[str, Any]) -> None:
    console.print(f"[bold]Machine[/bold]  {escape(_machine_line(machine))}")
    if machine["load_per_usable_core"] > 0.5:
        console.print(
            "  [yellow]⚠ the machine is busy: benchmark figures will be noisy; stop other "
            "load or rely on paired speedups[/yellow]"
        )


def _gil_cell(interp: dict[str, Any]) -> str:
    gil = "free-threaded, GIL off" if interp["free_threaded"] else "GIL build"
    if interp["free_threaded"] and interp["gil_enabled"]:
        gil = "[red]free-threaded, GIL ON[/red]"
    if interp["native"].get("gil_reenabled_by_import"):
        gil += " [red](importing gilwise._native re-enables it)[/red]"
    return gil


def _builds_table(interpreters: list[dict[str, Any]]) -> tuple[Table, list[str]]:
    """One row per CPython build, and the notes particular to one build (shown under the table)."""
    table = Table(title="CPython builds", title_justify="left", header_style="bold")
    columns = ("build", "path", "found in", "GIL", "JIT", "sub-interp.", "C-API ext", "ctypes", "NumPy")
    for column in columns:
        table.add_column(column)
    notes: list[str] = []
    for interp in interpreters:
        native = interp["native"]
        table.add_row(
            escape(interp["label"]),
            escape(interp["path"]),
            escape(interp["source"]),
            _gil_cell(interp),
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
    return table, notes


def _notes_for_all_builds(interpreters: list[dict[str, Any]]) -> list[str]:
    """The C-API extension and NumPy notes, said once with the list of builds they apply to."""
    notes: list[str] = []
    unbuilt = [i["label"] for i in interpreters if not i["native"]["capi_built"]]
    if unbuilt:
        notes.append(
            f"the C-API extension (impls native, native-gil) is not built for {', '.join(unbuilt)}: "
            "a C-API extension is tied to one CPython version and build. Build it for one with "
            "`uv run python -m gilwise._native._build PATH`, or use the ctypes impl (the same C "
            "loop, any interpreter)."
        )
    no_numpy = [i["label"] for i in interpreters if (i["native"].get("impls") or {}).get("numpy")]
    if no_numpy:
        notes.append(
            f"NumPy cannot be imported in {', '.join(no_numpy)}: the numpy impl is unavailable "
            "there (`PATH -m pip install numpy` adds it)."
        )
    return notes


def _print_footnotes(console: Console, document: dict[str, Any]) -> None:
    """The dim lines under the builds table: how JIT is read, builds not made, how to get a
    free-threaded build when none was found, paths skipped."""
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
    if document.get("free_threaded_hint"):
        console.print(
            f"  [dim]no free-threaded CPython found: {escape(document['free_threaded_hint'])}[/dim]"
        )
    for skipped in document["skipped"]:
        where = f"{skipped['path']} ({skipped['source']})"
        console.print(f"  [dim]skipped {escape(where)}: {escape(skipped['reason'])}[/dim]")


def _models_table(document: dict[str, Any]) -> Table:
    """Each concurrency model and the builds it runs on; builds it cannot use, grouped by reason."""
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
    return models
