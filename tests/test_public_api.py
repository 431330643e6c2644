"""Every public name that worked before the package was reorganised still works.

The lists below are the public surface as it stood before geolog.distribution
became the geolog.planning package and maps.py / briefing.py were split; a
name may be added, never dropped.
"""

from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys
import types

import pytest

import geolog

TOP_LEVEL = [
    "__version__", "data", "errors", "GeologError", "Network", "load", "read_osm", "osm", "DEM",
    "get_profile", "load_rules", "explain", "route", "alternatives", "isochrones", "matrix", "prepare",
    "Route", "Matrix", "maps", "map", "briefing", "plan", "compare", "distribution",
    "risk", "viewshed", "critical_links", "contingency",
    "clear_cache", "to_file", "export", "offroad", "offroad_surface", "offroad_route",
    "offroad_isochrones", "hybrid_route", "match", "tracking",
]  # fmt: skip

MODULES = {
    "geolog.data": ["DATA_DIR", "Region", "regions", "path", "dem_path", "region"],
    "geolog.errors": ["GeologError", "InputError", "OSMError", "DEMError", "RuleError",
                      "NoRouteError", "SolverError", "GeologWarning"],
    "geolog.network": ["Network", "load", "sha256_file"],
    "geolog.osm": ["read_osm", "convert", "NETWORK_TYPES", "EDGE_TAGS"],
    "geolog.terrain": ["DEM", "Raster", "GO", "SLOW_GO", "NO_GO", "MOBILITY_CLASSES",
                       "mobility_thresholds", "utm_crs", "slope", "mobility", "map_overlap",
                       "open_chunked"],
    "geolog.drape": ["add_terrain", "elevation_profile", "grade_classes", "steepest_stretch",
                     "GRADE_CLASSES", "GRADE_CLASS_BINS", "OBSTRUCTION_GRADE", "GRADE_WANDER"],
    "geolog.costing": ["add_terrain", "elevation_profile", "grade_classes", "GRADE_CLASSES",
                       "GRADE_CLASS_BINS", "OBSTRUCTION_GRADE"],
    "geolog.profiles": ["PROFILE_DIR", "BUILTIN_PROFILES", "G", "Profile", "get_profile",
                        "tobler_kph", "climb_speed_kph", "braking_speed_kph"],
    "geolog.rules": ["Statement", "RuleSet", "load_rules", "explain", "rule_masks", "apply",
                     "clear_cache"],
    "geolog.routing": ["Route", "Matrix", "route", "route_nodes", "alternatives", "isochrones",
                       "matrix", "prepare", "DEFAULT_MAX_SNAP_M", "MIN_COMPONENT_NODES"],
    "geolog.maps": ["OSM_ATTRIBUTION", "GRADE_BINS", "GRADE_COLORS", "GRADE_LABELS", "base_map",
                    "network_layer", "route_layer", "isochrone_layer", "hillshade_layer",
                    "slope_layer", "mobility_layer", "areas_layer", "offroad_layer", "legend", "finish",
                    "make_map", "route_popup_html", "SPEED_BINS", "trace_layer",
                    "matched_layer", "delay_layer"],
    "geolog.distribution": ["ENGINES", "UNSERVED_REASONS", "Plan", "plan", "compare",
                            "solve_cvrp", "solve_model"],
    "geolog.planning": ["ENGINES", "UNSERVED_REASONS", "PLAN_FORMATS", "Plan", "plan", "compare",
                        "solve_cvrp", "solve_model"],
    "geolog.cli": ["app", "main"],
    "geolog.export": ["EXPORT_FORMATS", "AREA_FORMATS", "to_file", "write_layers", "clock_times"],
    "geolog.risk": ["LEVELS", "LEVEL_WEIGHTS", "CURVATURE_COEFFICIENT", "Viewshed", "viewshed",
                    "threat_zones", "with_threats", "with_visibility", "exposure_report",
                    "critical_links", "contingency"],
    "geolog.offroad": ["OffroadSurface", "offroad_surface", "offroad_route",
                       "offroad_isochrones", "hybrid_route", "read_landcover",
                       "load_landcover_table", "DEFAULT_NEIGHBOURS", "DEFAULT_MAX_SNAP_M",
                       "HybridRoute", "naismith_s"],
    "geolog.tracking": ["read_trace", "clean_trace", "match", "MatchResult", "MATCH_FORMATS",
                        "simulate_trace", "speed_table", "calibrate_profile", "GRADE_BANDS",
                        "deviations", "plan_vs_actual", "PlanProgress"],
}  # fmt: skip

METHODS = {
    ("geolog.network", "Network"): [
        "apply", "csr", "csr_edges", "fingerprint", "from_osmnx", "largest_component",
        "metric_crs", "nearest_edges", "node_ids", "node_positions", "plot", "replace", "save",
        "summary", "to_networkx", "twin_positions", "with_terrain", "with_threats",
        "with_visibility", "restrictions",
    ],
    ("geolog.routing", "Route"): ["directions", "edges", "geometry", "profile", "snapped",
                                  "summary", "to_geojson", "to_file"],
    ("geolog.routing", "Matrix"): ["to_frame"],
    ("geolog.tracking", "MatchResult"): ["edges", "geometry", "summary", "to_frame", "to_file",
                                         "to_geojson", "to_map"],
    ("geolog.planning", "Plan"): ["replan", "summary", "to_csv", "to_geojson", "to_map",
                                  "to_file"],
    ("geolog.terrain", "DEM"): ["aspect", "bounds", "cell_size_m", "clip", "hillshade", "sample_points",
                                "mobility", "open", "res", "sample", "shape", "slope",
                                "to_metric", "write"],
    ("geolog.rules", "RuleSet"): ["content_hash", "description", "distance_influence",
                                  "from_dict", "merge", "priority", "profile", "source", "speed",
                                  "statements", "to_dict"],
}  # fmt: skip

PLAN_FIELDS = ["stops", "itinerary", "routes", "unserved", "totals", "points", "matrices",
               "timings", "demand_names", "fleet", "time_limit_s"]  # fmt: skip


def test_top_level_names():
    assert set(TOP_LEVEL) <= set(geolog.__all__)
    for name in [*TOP_LEVEL, *geolog.__all__, *geolog._LAZY]:
        assert getattr(geolog, name) is not None, name


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_names(module):
    mod = importlib.import_module(module)
    for name in MODULES[module]:
        assert getattr(mod, name) is not None, f"{module}.{name}"
    for name in getattr(mod, "__all__", []):
        assert hasattr(mod, name), f"{module}.__all__ lists {name} but it is missing"


def test_costing_is_drape_under_its_old_name():
    from geolog import costing, drape

    for name in costing.__all__:
        assert getattr(costing, name) is getattr(drape, name), name
    assert costing.steepest_stretch is drape.steepest_stretch


def test_distribution_is_planning_under_its_old_name():
    from geolog import distribution, planning

    for name in MODULES["geolog.distribution"]:
        assert getattr(distribution, name) is getattr(planning, name), name
    assert geolog.plan is planning.plan and geolog.compare is planning.compare
    assert geolog.distribution is distribution


@pytest.mark.parametrize(("where", "cls"), sorted(METHODS))
def test_methods(where, cls):
    klass = getattr(importlib.import_module(where), cls)
    missing = [m for m in METHODS[(where, cls)] if not hasattr(klass, m)]
    assert not missing, f"{cls} lost {missing}"


def test_plan_is_a_dataclass_with_its_tables():
    from geolog.planning import Plan

    assert dataclasses.is_dataclass(Plan)
    fields = {f.name for f in dataclasses.fields(Plan)}
    assert set(PLAN_FIELDS) <= fields


def test_briefing_is_a_function_and_a_module():
    code = (
        "import sys, types, geolog\n"
        "import geolog.briefing\n"
        "from geolog.briefing import OBSTRUCTION_GRADE, briefing\n"
        "mod = sys.modules['geolog.briefing']\n"
        "assert isinstance(mod, types.ModuleType) and mod.briefing is briefing\n"
        "assert geolog.briefing is briefing and callable(geolog.briefing)\n"
        "assert 0 < OBSTRUCTION_GRADE < 1\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    assert isinstance(sys.modules.get("geolog.maps") or geolog.maps, types.ModuleType)


def test_cli_commands_exist():
    from typer.testing import CliRunner

    from geolog.cli import app

    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0
    for command in ("build", "plan", "brief", "route"):
        assert command in res.output, command


def test_routing_names_are_the_split_modules_objects():
    """routing.py re-exports what now lives in its private modules, the very same objects."""
    from geolog import _directions, _geometry, _isochrones, _matrix, _route, routing

    assert routing.Route is _route.Route and geolog.Route is routing.Route
    assert routing.Matrix is _matrix.Matrix and routing.matrix is _matrix.matrix
    assert routing.isochrones is _isochrones.isochrones is geolog.isochrones
    assert callable(_directions.directions) and callable(_geometry.parse_point)
