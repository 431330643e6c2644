"""The house stays easy to change: no module over 700 lines, no function over 100 code lines.

Code lines leave out blank lines, comments and docstrings. ``PENDING`` lists
modules being split by concern in work not merged yet; empty it when it lands.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import geolog

ROOT = Path(geolog.__file__).parent
MODULES = sorted(p for p in ROOT.rglob("*.py") if "_data" not in p.parts)
PENDING: set[str] = set()
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 100


def _code_lines(node: ast.AST, lines: list[str], docs: set[int]) -> int:
    return sum(
        1
        for i in range(node.lineno, node.end_lineno + 1)
        if i not in docs and lines[i - 1].strip() and not lines[i - 1].strip().startswith("#")
    )


def _docstring_lines(tree: ast.AST) -> set[int]:
    docs: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docs.update(range(body[0].lineno, body[0].end_lineno + 1))
    return docs


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_and_function_sizes(path):
    if path.name in PENDING:
        pytest.skip(f"{path.name} is being split in a branch not merged yet")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{path.name}: {len(lines)} lines; split it by concern"
    tree = ast.parse(text)
    docs = _docstring_lines(tree)
    long = {
        node.name: n
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := _code_lines(node, lines, docs)) > MAX_FUNCTION_LINES
    }
    assert not long, f"{path.name}: functions over {MAX_FUNCTION_LINES} code lines: {long}"
