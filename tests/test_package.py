"""The package face: names load on first use, heavy libraries only when needed."""

from __future__ import annotations

import subprocess
import sys

import geolog


def test_import_is_light():
    code = (
        "import sys, geolog; heavy = {'folium', 'rasterio', 'pyvrp', 'ortools', 'osmnx', 'pandas', 'scipy'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    for name in geolog.__all__:
        assert getattr(geolog, name) is not None, name
    assert set(dir(geolog)) >= set(geolog.__all__)


def test_briefing_stays_the_function_after_its_module_is_imported():
    import geolog.briefing  # noqa: F401 (binds the submodule on the package)
    from geolog.briefing import briefing

    assert geolog.briefing is briefing and callable(geolog.briefing)


def test_modules_reachable_without_import():
    assert geolog.rules.apply is not None and geolog.costing.add_terrain is not None


def _internal_imports() -> dict[str, set[str]]:
    """geolog module -> geolog modules it imports, at import time or inside functions.

    Imports under ``if TYPE_CHECKING:`` are left out (they never run).
    """
    import ast
    from pathlib import Path

    root = Path(geolog.__file__).resolve().parent
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        is_pkg = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_pkg else parts)
        package = name.split(".") if is_pkg else name.split(".")[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {
            id(n)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for n in ast.walk(block)
        }
        targets = graph.setdefault(name, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and id(node) not in typing_only:
                base = ".".join(package[: len(package) - node.level + 1])
                if node.module:
                    targets.add(f"{base}.{node.module}")
                else:
                    targets.update(f"{base}.{a.name}" for a in node.names)
    return graph


def test_no_import_cycles():
    import networkx as nx

    g = nx.DiGraph([(a, b) for a, bs in _internal_imports().items() for b in bs])
    g.remove_edges_from(
        [(a, b) for a, b in g.edges if a.startswith(b + ".")]
    )  # a package's own init
    assert g.number_of_edges() > 40, "the import graph was read"
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import cycles: {cycles[:5]}"
