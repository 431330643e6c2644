"""The notebooks are product: saved without outputs, importing from geolog, logic in the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")
)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_without_outputs_and_uses_geolog(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and nb.cells[0].cell_type == "markdown", "open with the analyst's story"
    assert all(not c.outputs and c.execution_count is None for c in code), "run nbstripout"
    assert any("import geolog" in c.source for c in code)
    # logic lives in the package: no function or class definitions in notebooks
    assert not any(
        line.lstrip().startswith(("def ", "class ")) for c in code for line in c.source.splitlines()
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbstripout_leaves_the_source_unchanged(path):
    """The .ipynb is the source: nbstripout (keeping cell ids) must find nothing to strip."""
    run = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--keep-id", "--verify", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, f"run `nbstripout --keep-id {path.name}`: {run.stdout}"
    ids = [c["id"] for c in nbformat.read(path, as_version=4).cells]
    assert all(ids) and len(set(ids)) == len(ids), "every cell keeps its own stable id"
