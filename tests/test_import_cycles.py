"""No module of `pipeline/` imports, directly or through others, a module that imports it
back: read from the source with `ast` (imports inside functions count; imports under
`if TYPE_CHECKING:` do not, since they never run)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_blocks(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_of_the_package_imports_itself_back():
    assert cycles(import_graph()) == []


MLFLOW_BOUNDARY = {"pipeline/tracking.py", "pipeline/classifiers/pyfunc.py"}


def mlflow_importers(root: Path) -> set[str]:
    """The files under ``pipeline/`` and ``bench/`` that import ``mlflow`` (or a submodule),
    at any depth; imports under ``if TYPE_CHECKING:`` do not count."""
    found = set()
    for path in [*root.joinpath("pipeline").rglob("*.py"), *root.joinpath("bench").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_blocks(tree)
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if any(name == "mlflow" or name.startswith("mlflow.") for name in names):
                found.add(path.relative_to(root).as_posix())
    return found


def test_the_mlflow_scan_sees_imports_inside_functions(tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "a.py").write_text("def f():\n    from mlflow.models import get_model_info\n")
    (tmp_path / "pipeline" / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mlflow\n")
    assert mlflow_importers(tmp_path) == {"pipeline/a.py"}


def test_only_tracking_and_the_pyfunc_wrapper_import_mlflow():
    assert mlflow_importers(PACKAGE.parent) <= MLFLOW_BOUNDARY
