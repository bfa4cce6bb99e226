"""labkit's import graph, read from the source: no cycles, function-level imports included.

Every ``import`` and ``from ... import`` counts, wherever it is written (module level, inside a
function, a method or a branch), and so does a lazy import by name (a string that names a
labkit module, as ``labkit/__init__.py``'s table of lazy exports holds). Only imports under
``if TYPE_CHECKING:`` do not count: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labkit"


def module_names(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    names: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def import_graph(package: Path) -> dict[str, set[str]]:
    """module -> the package's modules it imports (anywhere in its source)."""
    modules = module_names(package)
    root = package.name

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        skipped = _type_checking_nodes(tree)
        targets: set[str | None] = set()
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets.update(
                    owner(alias.name) for alias in node.names if alias.name.startswith(root)
                )
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name if path.name == "__init__.py" else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        anchor = anchor.rpartition(".")[0]
                    base = f"{anchor}.{base}" if base else anchor
                if base != root and not base.startswith(root + "."):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(owner(full) if full in modules else owner(base))
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value in modules
                and "." in node.value
            ):
                targets.add(node.value)  # a lazy import by name
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_import_cycles_among_labkit_modules() -> None:
    graph = import_graph(PACKAGE)
    assert "labkit.shell" in graph["labkit.client"]  # the graph is really read
    assert cycles(graph) == []


def test_the_graph_sees_function_level_and_lazy_imports(tmp_path: Path) -> None:
    package = tmp_path / "labkit"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text('_LAZY = {"World": "labkit.b"}\n')
    (package / "a.py").write_text("def f():\n    from labkit.sub import c\n")
    (package / "b.py").write_text("import labkit.a\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from labkit import b\n"
        "from .. import b\n"
    )
    graph = import_graph(package)
    assert graph["labkit"] == {"labkit.b"}
    assert graph["labkit.a"] == {"labkit.sub.c"}
    assert cycles(graph) == [["labkit.a", "labkit.b", "labkit.sub.c"]]
    (package / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from labkit import b\n"
    )
    assert cycles(import_graph(package)) == []


LAZY_NOTE = "# Lazy imports (inside functions):"


def function_level_imports(path: Path) -> list[int]:
    """The lines of the imports written inside functions (``TYPE_CHECKING`` ones aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = _type_checking_nodes(tree)
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines += [
                inner.lineno
                for inner in ast.walk(node)
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and id(inner) not in skipped
            ]
    return sorted(set(lines))


def test_imports_are_at_the_top_unless_the_module_says_why() -> None:
    """An import inside a function needs a reason (a measured cost, a platform): the module
    says it in a ``# Lazy imports (inside functions): ...`` comment."""
    unexplained = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := function_level_imports(path)) and LAZY_NOTE not in path.read_text()
    }
    assert unexplained == {}
