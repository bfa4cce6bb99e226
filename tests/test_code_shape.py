"""The shape of the code: modules stay a readable size, and lab modules share instead of copy.

- No module of ``labkit`` is over ``MAX_LINES`` lines unless its docstring says why, in a
  sentence with the words "is long because" (or "Why it is over 800 lines: ...").
- No block of more than ``MAX_COPIED`` lines stands in two lab modules (``labkit/labs/*.py``):
  lines are compared stripped, leaving out blank lines, comments, docstrings, import statements
  and lone closing brackets; a block of ``MAX_COPIED + 1`` such lines found in two modules is a
  copy (share it through ``labkit.labs.common`` or ``labkit.exercises``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labkit"
MAX_LINES = 800
REASON_WORDS = ("is long because", "over 800 lines:")  # how a docstring gives its reason
MAX_COPIED = 6
CLOSERS = {")", "]", "}", "),", "],", "},", "))", ")),", ") -> None:", "):"}


def _docstring_spans(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            first = body[0] if body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or 0) + 1))
    return lines


def _import_spans(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines.update(range(node.lineno, (node.end_lineno or 0) + 1))
    return lines


def code_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the lines that count for copies."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    skipped = _docstring_spans(tree) | _import_spans(tree)
    kept = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if number in skipped or not stripped or stripped.startswith("#") or stripped in CLOSERS:
            continue
        kept.append((number, stripped))
    return kept


def copied_blocks(paths: list[Path], size: int) -> list[str]:
    """Each block of ``size`` counted lines that stands in two different files, once per pair
    of files (the first place in each)."""
    first_seen: dict[tuple[str, ...], tuple[str, int]] = {}
    found: dict[tuple[str, str], str] = {}
    for path in paths:
        lines = code_lines(path)
        for start in range(len(lines) - size + 1):
            block = tuple(text for _, text in lines[start : start + size])
            where = (path.name, lines[start][0])
            seen = first_seen.setdefault(block, where)
            if seen[0] != path.name and (seen[0], path.name) not in found:
                found[(seen[0], path.name)] = (
                    f"{seen[0]}:{seen[1]} and {path.name}:{where[1]}: {block[0]!r}..."
                )
    return sorted(found.values())


def test_no_block_of_more_than_six_lines_is_copied_across_lab_modules():
    labs = sorted((PACKAGE / "labs").glob("*.py"))
    assert len(labs) >= 9
    assert copied_blocks(labs, MAX_COPIED + 1) == []


def test_the_copy_finder_finds_a_copy(tmp_path):
    body = "\n".join(f"value_{i} = compute({i}, 'x')" for i in range(MAX_COPIED + 1))
    (tmp_path / "a.py").write_text(f'"""A."""\n\nimport os\n\n{body}\n')
    (tmp_path / "b.py").write_text(f'"""B."""\n\n# other\n{body}\n')
    (tmp_path / "c.py").write_text("\n".join(body.splitlines()[:MAX_COPIED]) + "\n")
    paths = sorted(tmp_path.glob("*.py"))
    assert copied_blocks(paths, MAX_COPIED + 1) == [
        "a.py:5 and b.py:4: \"value_0 = compute(0, 'x')\"..."
    ]


def test_no_module_is_over_800_lines_without_a_reason_in_its_docstring():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        count = len(text.splitlines())
        docstring = ast.get_docstring(ast.parse(text)) or ""
        words = " ".join(docstring.split())
        if count > MAX_LINES and not any(reason in words for reason in REASON_WORDS):
            long.append(f"{path.relative_to(ROOT)}: {count} lines")
    assert long == []


# -- types: mypy runs in `make test` (make typecheck); these keep its rules honest ---------------


def _public_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Module-level functions and methods of public classes whose names are public (dunder
    methods count; nested functions do not)."""
    found = []

    def visit(node: ast.AST, public: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
                if public and (not name.startswith("_") or name.endswith("__")):
                    found.append(child)
            elif isinstance(child, ast.ClassDef):
                visit(child, public and not child.name.startswith("_"))
            elif isinstance(child, ast.If | ast.Try):
                visit(child, public)

    visit(tree, True)
    return found


def test_public_functions_are_typed():
    untyped = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for function in _public_functions(ast.parse(path.read_text(encoding="utf-8"))):
            arguments = function.args
            params = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            params += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            missing = [
                a.arg for a in params if a.annotation is None and a.arg not in ("self", "cls")
            ]
            if function.returns is None and function.name != "__init__":
                missing.append("return")
            if missing:
                where = f"{path.relative_to(ROOT)}:{function.lineno} {function.name}"
                untyped.append(f"{where}: {', '.join(missing)}")
    assert untyped == []


def test_mypy_checks_untyped_bodies_and_ignores_nothing_wholesale():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["check_untyped_defs"] is True
    assert config["files"] == ["labkit"]
    for override in config.get("overrides", []):
        assert "ignore_errors" not in override, override
    assert "ignore_errors" not in config


def test_every_type_ignore_names_its_code_and_says_why():
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "type: ignore" not in line:
                continue
            after = line.split("type: ignore", 1)[1]
            # "# type: ignore[code]  # why"
            if not after.startswith("[") or "#" not in after.split("]", 1)[1]:
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bare == []
