"""The ``gilwise doctor`` document as terminal tables: machine, CPython builds, kernels, models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import fmt
from .columns import TableColumn, dropped_note, fit_columns, fitted_table


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
        return "[red]error (below)[/red]"
    reason = native["impls"].get(impl)
    if reason is None:
        return "[green]loads[/green]"
    if impl == "native" and not native["capi_built"]:
        return "[yellow]not built[/yellow]"  # for this ABI: the note under the table says so
    return "[yellow]no[/yellow]"


def _jit_cell(interp: dict[str, Any]) -> str:
    state = interp.get("jit")
    if state is None:
        return "?"
    return {"on": "[green]on[/green]", "off": "off, built in", "not built": "not built"}[state]


def render_doctor(console: Console, document: dict[str, Any]) -> None:
    _print_machine(console, document["machine"])
    _print_builds(console, document["interpreters"])
    notes = _build_notes(document["interpreters"]) + _notes_for_all_builds(document["interpreters"])
    for note in notes:
        console.print(f"  • {escape(note)}", highlight=False)
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


def _label_column(header: str, priority: int = 0) -> TableColumn:
    return TableColumn(header, priority, wraps=True, justify="left")


BUILD_COLUMNS: tuple[tuple[TableColumn, Callable[[dict[str, Any]], str]], ...] = (
    (TableColumn("build", 0, justify="left"), lambda interp: escape(interp["label"])),
    # A path is never cut: where it does not fit whole, it is printed on its own line below.
    (TableColumn("path", 1, justify="left"), lambda interp: escape(interp["path"])),
    (_label_column("found in"), lambda interp: escape(interp["source"])),
    (_label_column("GIL"), _gil_cell),
    (_label_column("JIT"), _jit_cell),
    (TableColumn("sub-interp.", 2, justify="left"), lambda i: escape(i["subinterpreters_module"] or "—")),
    (_label_column("C-API ext"), lambda interp: _native_cell(interp["native"], "native")),
    (_label_column("ctypes"), lambda interp: _native_cell(interp["native"], "ctypes")),
    (_label_column("NumPy"), lambda interp: _native_cell(interp["native"], "numpy")),
)
"""The builds table, in display order, with the priority that keeps it within the width: the
path next (else listed under the table), the sub-interpreter module last (``--wide``)."""
_BUILD_REGISTRY = tuple(column for column, _ in BUILD_COLUMNS)


def _print_builds(console: Console, interpreters: list[dict[str, Any]]) -> None:
    """One row per CPython build; a path that does not fit goes whole on a line of its own,
    to be copied into ``--python``."""
    console.print("[bold]CPython builds[/bold]")
    rows = [[cell(interp) for _, cell in BUILD_COLUMNS] for interp in interpreters]
    fitted = fit_columns(_BUILD_REGISTRY, rows, console.width)
    console.print(fitted_table(_BUILD_REGISTRY, rows, fitted))
    if "path" in fitted.dropped:
        console.print("  paths (give one to --python):")
        for interp in interpreters:
            console.print(f"  {escape(interp['label']):<9}{escape(interp['path'])}", highlight=False)
    others = [header for header in fitted.dropped if header != "path"]
    if others:
        console.print(f"  [dim]{escape(dropped_note(others, also='so does --json'))}[/dim]", highlight=False)


def _build_notes(interpreters: list[dict[str, Any]]) -> list[str]:
    """The notes particular to one build (shown under the table)."""
    notes: list[str] = []
    for interp in interpreters:
        native = interp["native"]
        for impl in ("native", "ctypes", "numpy"):
            reason = native.get("impls", {}).get(impl)
            # Said once below for all interpreters: an extension not built for it, no NumPy.
            common = (impl == "native" and not native["capi_built"]) or impl == "numpy"
            if reason and not common:
                notes.append(f"{interp['label']} {impl}: {reason}")
        if native.get("error"):
            notes.append(f"{interp['label']}: {native['error']}")
    return notes


def _notes_for_all_builds(interpreters: list[dict[str, Any]]) -> list[str]:
    """The C-API extension and NumPy notes, said once with the list of builds they apply to."""
    notes: list[str] = []
    unbuilt = [i for i in interpreters if not i["native"]["capi_built"]]
    if unbuilt:
        # Each build's own command: it depends on the build (free-threaded or not) and on where
        # gilwise runs (a checkout builds it, an install gets the wheel for that interpreter).
        commands = "; ".join(dict.fromkeys(f"`{i['native']['capi_build_command']}`" for i in unbuilt))
        notes.append(
            "the C-API extension (impls native, native-gil) is not built for "
            f"{', '.join(i['label'] for i in unbuilt)}: one stable-ABI build serves every GIL "
            "build, a free-threaded build needs its own. Get it with "
            f"{commands}, or use the ctypes impl (the same C loop, any interpreter)."
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
        # fold: a word wider than its column (a path in a reason) breaks, never ends in "…".
        models.add_column(column, ratio=1 if column != "model" else None, overflow="fold")
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
