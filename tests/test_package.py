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
