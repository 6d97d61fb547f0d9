"""The house plan holds: leadcore's modules import each other in one direction only (no cycles),
nothing imports inside a function to dodge one, and only leadcore/ui/ imports Streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "leadcore"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imported(node: ast.AST, modules: dict[str, Path], here: str) -> list[str]:
    """The leadcore modules an import statement loads (a package's submodule when named so)."""
    found = []
    if isinstance(node, ast.Import):
        found = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        found = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                 for a in node.names]
    return [m for m in found if m in modules and m != here]


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    inside_functions = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node):
                node.body = []          # annotations only: not an import at run time
        for node in tree.body:
            for sub in ast.walk(node):
                for target in _imported(sub, modules, name):
                    graph[name].add(target)
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        inside_functions.append(f"{name} imports {target} inside {node.name}")
    return graph, inside_functions


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_module_of_leadcore_imports_in_a_circle():
    graph, _ = _graph()
    assert _cycles(graph) == []


def test_no_module_imports_leadcore_inside_a_function():
    # The command line may load a command's module when that command runs (startup time);
    # nothing else imports late, so a cycle cannot hide behind a late import.
    _, late = _graph()
    assert [hit for hit in late if not hit.startswith("leadcore.__main__ ")] == []


def test_only_the_ui_package_imports_streamlit():
    outside = []
    for name, path in _modules().items():
        if name.startswith("leadcore.ui"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(n.split(".")[0] == "streamlit" for n in names):
                    outside.append(name)
    assert outside == []
