"""The import graph of ``src/gilwise`` has no circle, the package root holds only its entry points,
and the schema string is spelled once (``_results.document.SCHEMA``).

Built from the source with ``ast`` (not from ``sys.modules``, which would show only the imports
one run happened to execute). An edge is every ``import X`` (to X) and every ``from X import
name`` (to ``X.name`` where that is a module of gilwise, else to X), relative imports resolved,
at any depth: an import inside a function still ties two modules together (STYLE.md, habit 16:
move the shared piece down instead). Only the imports under ``if TYPE_CHECKING:`` are left out,
since they never run. Importing ``a.b`` also runs ``a/__init__``; that implicit edge is left out
too, or every package whose ``__init__`` re-exports a submodule would be a circle with it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import gilwise
from gilwise._results.document import SCHEMA

PACKAGE_DIR = Path(gilwise.__file__).resolve().parent
ROOT_FILES_ALLOWED = {"__init__.py", "__main__.py", "cli.py", "_exceptions.py", "py.typed"}
"""What the root of ``src/gilwise`` may hold besides packages (directories with an
``__init__.py``); every other module belongs to the package of its stage."""


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    where: str  # "src/gilwise/x.py:12", for the failure message

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported}  ({self.where})"


def _module_names(package_dir: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = (package_dir.name, *path.relative_to(package_dir).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_type_checking_guard(node: ast.If) -> bool:
    test = node.test
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of the module at any depth, except the bodies of TYPE_CHECKING guards."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
            continue
        if isinstance(node, ast.If) and _is_type_checking_guard(node):
            pending.extend(node.orelse)  # the ``else:`` branch does run
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def build_import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, list[Edge]]:
    modules = _module_names(package_dir)
    graph: dict[str, list[Edge]] = {name: [] for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        where_prefix = f"src/{path.relative_to(package_dir.parent).as_posix()}"
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _resolve_from(name, is_package, node)
                targets = [
                    f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                    for alias in node.names
                ]
            for target in dict.fromkeys(targets):
                if target in modules and target != name:
                    graph[name].append(Edge(name, target, f"{where_prefix}:{node.lineno}"))
    return graph


def find_cycles(graph: dict[str, list[Edge]]) -> list[list[Edge]]:
    """One circle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(start: str) -> None:
        # Iterative: the graph is small, but recursion depth should not depend on it.
        work: list[tuple[str, int]] = [(start, 0)]
        index[start] = lowlink[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, position = work[-1]
            edges = graph[node]
            if position < len(edges):
                work[-1] = (node, position + 1)
                target = edges[position].imported
                if target not in index:
                    index[target] = lowlink[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, 0))
                elif target in on_stack:
                    lowlink[node] = min(lowlink[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, component) for component in components]


def _one_cycle(graph: dict[str, list[Edge]], component: set[str]) -> list[Edge]:
    """A shortest circle through the component's first module (breadth-first), as edges."""
    start = min(component)
    came_by: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for edge in graph[node]:
                if edge.imported == start:
                    path = [edge]
                    while path[0].importer != start:
                        path.insert(0, came_by[path[0].importer])
                    return path
                if edge.imported in component and edge.imported not in came_by:
                    came_by[edge.imported] = edge
                    following.append(edge.imported)
        frontier = following
    raise AssertionError(f"no circle in the component {sorted(component)}")


def test_the_import_graph_has_no_circle() -> None:
    cycles = find_cycles(build_import_graph())
    message = "\n\n".join(
        f"import circle {i}:\n" + "\n".join(f"  {edge}" for edge in cycle)
        for i, cycle in enumerate(cycles, 1)
    )
    assert not cycles, f"{message}\n\nMove the shared piece down into a module both may import."


def test_no_module_imports_the_package_root() -> None:
    # The root loads _offload and _advise on first use of a public name (importlib, so not an
    # edge here): a module under it that imports the root closes a circle through them.
    upward = [
        str(edge) for edges in build_import_graph().values() for edge in edges if edge.imported == "gilwise"
    ]
    assert not upward, f"these import the package root, which sits above every package: {upward}"


def package_graph(graph: dict[str, list[Edge]]) -> dict[str, list[Edge]]:
    """The same graph between the packages of gilwise (``gilwise._harness``, ...), one edge per
    pair of packages, located at the first import that makes it. The root's own modules
    (``gilwise``, ``gilwise._exceptions``, ``gilwise.cli``) stay nodes of their own."""

    def package_of(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: dict[str, dict[str, Edge]] = {package_of(module): {} for module in graph}
    for module, edges in graph.items():
        for edge in edges:
            source, target = package_of(module), package_of(edge.imported)
            if source != target:
                packages[source].setdefault(target, Edge(source, target, edge.where))
    return {package: list(targets.values()) for package, targets in packages.items()}


def test_the_packages_form_layers() -> None:
    # Each package's __init__ names the packages it may import; together they must be layers
    # (a package never imports, even indirectly, one that imports it).
    cycles = find_cycles(package_graph(build_import_graph()))
    message = "\n\n".join(
        f"packages in a circle {i}:\n" + "\n".join(f"  {edge}" for edge in cycle)
        for i, cycle in enumerate(cycles, 1)
    )
    assert not cycles, f"{message}\n\nMove the module that reaches up into the package above."


def test_the_package_root_holds_only_its_entry_points_and_packages() -> None:
    strays = sorted(
        entry.name
        for entry in PACKAGE_DIR.iterdir()
        if entry.name not in ROOT_FILES_ALLOWED
        and not (entry.is_dir() and (entry / "__init__.py").is_file())
        and entry.name != "__pycache__"
    )
    assert not strays, (
        f"src/gilwise/ holds {strays}: the root keeps only {sorted(ROOT_FILES_ALLOWED)} and "
        "packages; move each module into the package of its stage"
    )


def test_the_schema_string_is_written_once_in_the_source() -> None:
    # One fact, one definition: docstrings and help texts name SCHEMA instead of repeating it.
    spelled = [
        f"{path.relative_to(PACKAGE_DIR.parent)}:{number}"
        for path in sorted(PACKAGE_DIR.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".so", ".pyc"}
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if SCHEMA in line
    ]
    assert len(spelled) == 1, f"{SCHEMA!r} is spelled out in {spelled}: name SCHEMA instead"


def test_the_graph_sees_function_level_imports_and_skips_type_checking_ones(tmp_path: Path) -> None:
    # The checker itself: a circle made by a function-level import is found, with file:line;
    # one that exists only for the type checker is not.
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .a import x\n")
    (package / "c.py").write_text("TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from . import a\n")
    (package / "d.py").write_text("from .c import y\n")
    (package / "e.py").write_text("import pkg.d\n")
    graph = build_import_graph(package)
    cycles = find_cycles(graph)
    assert [[str(edge) for edge in cycle] for cycle in cycles] == [
        ["pkg.a -> pkg.b  (src/pkg/a.py:1)", "pkg.b -> pkg.a  (src/pkg/b.py:2)"]
    ]
    assert [edge.imported for edge in graph["pkg.c"]] == []
    assert [edge.imported for edge in graph["pkg.d"]] == ["pkg.c"]
    assert [edge.imported for edge in graph["pkg.e"]] == ["pkg.d"]


def test_the_package_graph_sees_a_circle_no_module_circle_shows(tmp_path: Path) -> None:
    # x.a -> y.b and y.c -> x.d: no module is in a circle, but the packages x and y are.
    package = tmp_path / "pkg"
    for sub in ("x", "y"):
        (package / sub).mkdir(parents=True)
        (package / sub / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "x" / "a.py").write_text("from ..y import b\n")
    (package / "x" / "d.py").write_text("")
    (package / "y" / "b.py").write_text("")
    (package / "y" / "c.py").write_text("from ..x.d import thing\n")
    graph = build_import_graph(package)
    assert find_cycles(graph) == []
    cycles = find_cycles(package_graph(graph))
    assert [[str(edge) for edge in cycle] for cycle in cycles] == [
        ["pkg.x -> pkg.y  (src/pkg/x/a.py:1)", "pkg.y -> pkg.x  (src/pkg/y/c.py:1)"]
    ]
