"""The package is layered: no module imports from a layer above its own (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hf_tokenembed"

# Bottom to top. A module may import its own layer and the layers below it.
LAYERS = [
    {"atomic"},
    {"data"},
    {"backbones", "models"},
    {"losses"},
    {"training"},
    {"index"},
    {"controller"},
    {"evaluation"},
    {"pipelines"},
    {"plotting"},
    {"cli"},
    {"__init__"},  # the public API: imports everything, imported by nothing inside the package
]


def layer_of(top: str) -> int:
    for level, names in enumerate(LAYERS):
        if top in names:
            return level
    raise AssertionError(f"hf_tokenembed.{top} is in no layer of tests/test_layering.py: add it")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """`(line, dotted name)` of every hf_tokenembed module that `path` imports, relative imports resolved."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]  # the package holding the module
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "hf_tokenembed"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if name.split(".")[0] == "hf_tokenembed":
                found.append((node.lineno, name))
    return found


def top_of(dotted: str) -> str:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_module_imports_a_higher_layer():
    back_edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        own = layer_of(relative.parts[0].removesuffix(".py"))
        for line, name in imported_modules(path):
            if layer_of(top_of(name)) > own:
                back_edges.append(f"{relative}:{line} imports {name}")
    assert not back_edges, "imports from a higher layer:\n" + "\n".join(back_edges)


def test_the_walk_sees_relative_and_local_imports():
    """The checker itself: a relative import resolves, and an import inside a function is found."""
    edges = dict((name, line) for line, name in imported_modules(PACKAGE / "training" / "trainer.py"))
    assert "hf_tokenembed.training.arguments" in edges  # `from .arguments import ...`
    local = {name for _, name in imported_modules(PACKAGE / "training" / "examples.py")}
    assert "hf_tokenembed.data" in local  # imported inside build_stage1_examples
