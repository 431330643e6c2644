"""Tests for geolog.distribution: both engines, one independent validator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from geolog.distribution import solve_cvrp
from geolog.errors import InputError, SolverError

CVRPLIB = Path(__file__).resolve().parent.parent / "data" / "cvrplib"
ENGINES = ["pyvrp", "ortools"]


# ---------------------------------------------------------------- independent oracles


def check_cvrp(matrix, demands, capacity, depot, routes, cost):
    """Independent CVRP validator: every client exactly once, loads, cost from the matrix."""
    n = len(matrix)
    visited = sorted(c for r in routes for c in r)
    assert visited == [i for i in range(n) if i != depot], "each client exactly once, no depot"
    for r in routes:
        assert r, "no empty routes"
        assert sum(demands[c] for c in r) <= capacity, f"route {r} over capacity"
    total = 0
    for r in routes:
        prev = depot
        for c in r:
            total += round(matrix[prev][c])
            prev = c
        total += round(matrix[prev][depot])
    assert total == cost, f"reported cost {cost} != recomputed {total}"
    return total


def read_cvrplib(name):
    import vrplib

    inst = vrplib.read_instance(str(CVRPLIB / f"{name}.vrp"), compute_edge_weights=True)
    best = json.loads((CVRPLIB / "best_known.json").read_text())[name]
    return inst, best


def random_instance(n, seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, size=(n, 2))
    m = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    d = rng.integers(1, 10, size=n)
    return m, d


# ---------------------------------------------------------------- plain-matrix core


@pytest.mark.parametrize("engine", ENGINES)
def test_cvrp_both_engines_feasible_with_recomputed_cost(engine):
    m, d = random_instance(25, seed=1)
    d[3] = 0
    routes, cost = solve_cvrp(m, d, 30, depot=3, time_limit_s=1, engine=engine)
    check_cvrp(m, d, 30, 3, routes, cost)


def test_cvrp_tiny_by_hand():
    # square of side 10, depot at a corner, capacity 3 -> one tour of the perimeter
    pts = np.array([[0, 0], [0, 10], [10, 0], [10, 10]])
    m = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    for engine in ENGINES:
        routes, cost = solve_cvrp(m, [0, 1, 1, 1], 3, time_limit_s=0.3, engine=engine)
        assert cost == 40
        assert len(routes) == 1
        # capacity 1: three out-and-back trips, 20 + 2*10*sqrt(2) rounded + 20
        routes, cost = solve_cvrp(m, [0, 1, 1, 1], 1, time_limit_s=0.3, engine=engine)
        assert cost == 20 + 2 * round(10 * 2**0.5) + 20
        assert len(routes) == 3


def test_cvrp_pyvrp_close_to_best_known_e_n22_k4():
    inst, best = read_cvrplib("E-n22-k4")
    depot = int(np.atleast_1d(inst["depot"])[0])
    routes, cost = solve_cvrp(
        inst["edge_weight"], inst["demand"], inst["capacity"], depot=depot, time_limit_s=2
    )
    check_cvrp(inst["edge_weight"], inst["demand"], inst["capacity"], depot, routes, cost)
    assert cost <= best * 1.01
    assert cost >= best  # a lower cost than the proven optimum would mean a wrong cost


def test_cvrp_ortools_on_cvrplib_is_feasible():
    inst, best = read_cvrplib("A-n32-k5")
    depot = int(np.atleast_1d(inst["depot"])[0])
    routes, cost = solve_cvrp(
        inst["edge_weight"],
        inst["demand"],
        inst["capacity"],
        depot=depot,
        time_limit_s=1,
        engine="ortools",
    )
    check_cvrp(inst["edge_weight"], inst["demand"], inst["capacity"], depot, routes, cost)
    assert best <= cost <= best * 1.10


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(demands=[0, -1, 1, 1]), InputError),
        (dict(demands=[0, 5, 1, 1]), InputError),  # above capacity 3
        (dict(demands=[0, 1, 1]), InputError),  # wrong length
        (dict(engine="gurobi"), InputError),
        (dict(time_limit_s=0), InputError),
        (dict(n_vehicles=1, capacity=1), SolverError),  # 3 units, 1 vehicle of 1
    ],
)
def test_cvrp_bad_input(kwargs, error):
    pts = np.array([[0, 0], [0, 10], [10, 0], [10, 10]])
    m = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    args = dict(matrix=m, demands=[0, 1, 1, 1], capacity=3, time_limit_s=0.2)
    args.update(kwargs)
    matrix, demands, capacity = args.pop("matrix"), args.pop("demands"), args.pop("capacity")
    with pytest.raises(error):
        solve_cvrp(matrix, demands, capacity, **args)


def test_cvrp_unreachable_node_is_an_error():
    m = np.ones((4, 4)) - np.eye(4)
    m[0, 2] = m[1, 2] = m[3, 2] = np.inf
    with pytest.raises(SolverError, match=r"\[2\]"):
        solve_cvrp(m, [0, 1, 1, 1], 3, time_limit_s=0.2)


# ---------------------------------------------------------------- network level

import geopandas as gpd  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402

import geolog  # noqa: E402
from geolog.distribution import UNSERVED_REASONS, compare, plan  # noqa: E402

PLAN_DIR = Path(__file__).resolve().parent.parent / "data" / "andorra" / "plan"

DEPOTS = [
    {"id": "SUD", "lat": 42.463704, "lon": 1.490886},  # on road nodes of the main network
    {"id": "EST", "lat": 42.534377, "lon": 1.579761},
]
SITES = [
    ("Andorra la Vella", 42.5063, 1.5218), ("Escaldes", 42.5089, 1.5386),
    ("Canillo", 42.5667, 1.5981), ("Soldeu", 42.5767, 1.6676),
    ("Ordino", 42.5560, 1.5331), ("La Massana", 42.5450, 1.5148),
    ("Arinsal", 42.5720, 1.4843), ("Aixovall", 42.4770, 1.4890),
    ("Santa Coloma", 42.4944, 1.4983), ("Llorts", 42.5977, 1.5274),
    ("Encamp <b>&</b>", 42.5380, 1.5840), ("Engolasters", 42.5199, 1.5675),
]  # fmt: skip
FLEET = [
    {"name": "truck", "count": 2, "capacity": [3000, 6], "profile": "truck", "depot": "SUD",
     "shift_start_s": 7 * 3600, "shift_end_s": 15 * 3600, "max_duration_s": 6 * 3600},
    {"name": "van", "count": 2, "capacity": [1200, 4], "profile": "car", "depot": "EST",
     "shift_start_s": 7 * 3600, "shift_end_s": 15 * 3600, "fixed_cost": 300},
]  # fmt: skip


def make_stops():
    rows = []
    for i, (name, lat, lon) in enumerate(SITES):
        row = {"id": f"S{i}", "name": name, "lat": lat, "lon": lon,
               "demand": [300 + 100 * (i % 5), 1 + i % 2], "service_s": 300 + 60 * (i % 4)}  # fmt: skip
        if i % 3 == 0:
            row |= {"tw_start_s": 8 * 3600 + 1800 * (i % 2), "tw_end_s": 10 * 3600 + 1800 * (i % 4)}
        rows.append(row)
    return rows


def check_plan(p, net, depots, stops, fleet):
    """Independent validator of a Plan against its inputs and a fresh routing matrix."""
    from geolog.routing import matrix

    st = {s["id"]: s for s in stops}
    dep = {d["id"]: d for d in depots}
    ft = {f["name"]: f for f in fleet}
    pts = p.points
    # the plan's matrices are the routing engine's, rounded to whole seconds / metres
    for prof, (dur, dist) in p.matrices.items():
        m = matrix(net, list(zip(pts["lat"], pts["lon"], strict=True)), profile=prof)
        fin = np.isfinite(m.durations_s)
        np.testing.assert_array_equal(dur[fin], np.rint(m.durations_s[fin]))
        np.testing.assert_array_equal(dist[fin], np.rint(m.distances_m[fin]))
        assert (dur[~fin] >= 10**12).all()
    seen = []
    counts = {}
    for veh, it in p.itinerary.groupby("vehicle", sort=False):
        it = it.sort_values("seq")
        f = ft[it["vehicle_type"].iloc[0]]
        counts[f["name"]] = counts.get(f["name"], 0) + 1
        dur = p.matrices[f.get("profile", "car")][0]
        # starts and ends at its own depot
        assert it["kind"].iloc[0] == it["kind"].iloc[-1] == "depot"
        assert it["id"].iloc[0] == it["id"].iloc[-1] == f["depot"]
        assert it["point"].iloc[0] == list(dep).index(f["depot"])
        visits = it[it["kind"] == "stop"]
        assert len(visits) >= 1
        # load within capacity in every dimension
        load = np.sum([st[s]["demand"] for s in visits["id"]], axis=0)
        assert (load <= np.asarray(f["capacity"])).all(), (veh, load)
        # times consistent with the matrix, service times and windows
        t = it["depart_s"].iloc[0]
        assert t >= f.get("shift_start_s", 0)
        prev = it["point"].iloc[0]
        for _, v in visits.iterrows():
            s = st[v["id"]]
            assert pts["id"][v["point"]] == v["id"]
            assert v["arrival_s"] == t + dur[prev, v["point"]]
            assert v["start_s"] >= max(v["arrival_s"], s.get("tw_start_s", 0))
            assert v["start_s"] <= s.get("tw_end_s", np.inf), (v["id"], v["start_s"])
            assert v["depart_s"] == v["start_s"] + s.get("service_s", 0)
            t, prev = v["depart_s"], v["point"]
            seen.append(v["id"])
        end = it["arrival_s"].iloc[-1]
        assert end == t + dur[prev, it["point"].iloc[-1]]
        assert end <= f.get("shift_end_s", np.inf)
        assert end - it["depart_s"].iloc[0] <= f.get("max_duration_s", np.inf)
    for name, n in counts.items():
        assert n <= ft[name]["count"]
    # every stop served exactly once or unserved with a known reason
    assert len(seen) == len(set(seen))
    unserved = set(p.unserved["id"])
    assert set(seen) | unserved == set(st) and not (set(seen) & unserved)
    assert set(p.unserved["reason"]) <= set(UNSERVED_REASONS)
    assert p.totals["served"] == len(seen)
    # legs: one per hop, distances from the matrix, geometry from depot to depot
    assert len(p.routes) == len(seen) + p.totals["vehicles_used"]
    assert p.routes["distance_m"].sum() / 1000 == pytest.approx(p.totals["distance_km"])


@pytest.fixture(scope="module")
def net(andorra_terrain):
    return andorra_terrain


@pytest.fixture(scope="module")
def plans(net):
    stops = make_stops()
    return {e: plan(net, DEPOTS, stops, FLEET, time_limit_s=1.5, engine=e) for e in ENGINES}


@pytest.mark.parametrize("engine", ENGINES)
def test_plan_passes_independent_validator(plans, net, engine):
    p = plans[engine]
    check_plan(p, net, DEPOTS, make_stops(), FLEET)
    assert p.totals["served"] >= 10  # the fleet has room for nearly all of these stops
    s = p.summary()
    assert s["stops"].sum() == p.totals["served"]
    assert (s["use_dim0_pct"] <= 100).all()


def test_engines_agree_closely(plans):
    a, b = plans["pyvrp"], plans["ortools"]
    assert a.totals["served"] == b.totals["served"]
    # same objective (route seconds + fixed costs + penalties); neither far worse
    assert a.totals["cost"] <= b.totals["cost"] * 1.05
    assert b.totals["cost"] <= a.totals["cost"] * 1.25


def test_unserved_reasons(net):
    stops = make_stops()[:6]
    stops[0]["demand"] = [5000, 1]  # more kg than any vehicle
    stops[1] |= {"tw_start_s": 0, "tw_end_s": 7 * 3600 + 60}  # closes a minute after shifts start
    stops[2]["penalty"] = 1  # optional and worth next to nothing
    for engine in ENGINES:
        p = plan(net, DEPOTS, stops, FLEET, time_limit_s=0.5, engine=engine)
        check_plan(p, net, DEPOTS, stops, FLEET)
        why = dict(zip(p.unserved["id"], p.unserved["reason"], strict=True))
        assert why == {"S0": "capacity", "S1": "time_window", "S2": "penalty"}


def test_closure_unreachable_matches_routing(net):
    from geolog.planning.legs import close_roads
    from geolog.routing import matrix

    stops = [{"id": "pas", "lat": 42.5426, "lon": 1.7336, "demand": [100, 1]},
             {"id": "soldeu", "lat": 42.5767, "lon": 1.6676, "demand": [100, 1]}]  # fmt: skip
    base = plan(net, DEPOTS, stops, FLEET, time_limit_s=0.5)
    closed = base.replan(closures="Port d'Envalira")
    cnet, n = close_roads(net, "Port d'Envalira")
    assert n > 0
    expected = set()
    for s in stops:
        ok = False
        for f in FLEET:
            d = next(x for x in DEPOTS if x["id"] == f["depot"])
            m = matrix(cnet, [(d["lat"], d["lon"]), (s["lat"], s["lon"])], profile=f["profile"])
            ok |= bool(np.isfinite(m.durations_s).all())
        if not ok:
            expected.add(s["id"])
    assert set(closed.unserved.query("reason == 'unreachable'")["id"]) == expected
    table = compare(base, closed)
    assert table.loc["unserved", "change"] == len(closed.unserved) - len(base.unserved)
    assert base.totals["served"] == 2  # before the closure both are served


def test_surge_and_compare(plans):
    p = plans["pyvrp"]
    same = compare(p, p)
    assert same.loc["stops_changed_vehicle", "b"] == 0
    assert (same["change"] == 0).all()
    q = p.replan(surge={"S3": 3, "S4": 2}, time_limit_s=0.5)
    s = q.itinerary.set_index("id")
    assert set(q.unserved["id"]) | set(s.index) >= {"S3", "S4"}
    load3 = q._stops_input.set_index("id").loc["S3", "demand"]
    assert list(load3) == [3 * 600, 3 * 2]  # S3 demand was [600, 2]
    with pytest.raises(InputError, match="unknown stops"):
        p.replan(surge={"nope": 2})


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s, f: s[0].update(demand=[-5, 1]), "negative"),
        (lambda s, f: s[0].update(tw_start_s=40000, tw_end_s=30000), "before it starts"),
        (lambda s, f: f[0].update(capacitty=3), "did you mean 'capacity'"),
        (lambda s, f: f[0].update(capacity=[10]), "capacity has 1 value"),
        (lambda s, f: f[0].update(depot="NORD"), "unknown depot"),
        (lambda s, f: f[0].update(count=0), "count"),
        (lambda s, f: s[1].update(id="S0"), "unique"),
        (lambda s, f: s[0].update(lat=95), "lat/lon"),
    ],
)
def test_plan_bad_input(net, change, match):
    stops, fleet = make_stops()[:3], [dict(f) for f in FLEET]
    change(stops, fleet)
    with pytest.raises(InputError, match=match):
        plan(net, DEPOTS, stops, fleet, time_limit_s=0.2)


def test_plan_bad_engine_and_yaml(net, tmp_path):
    with pytest.raises(InputError, match="engine"):
        plan(net, DEPOTS, make_stops()[:2], FLEET, engine="cplex")
    bad = tmp_path / "fleet.yaml"
    bad.write_text("vehicles: [ {name: x, capacity: [1, 2]\n")
    with pytest.raises(InputError, match="YAML"):
        plan(net, DEPOTS, make_stops()[:2], bad)


def test_exports(plans, tmp_path):
    p = plans["pyvrp"]
    gj = p.to_geojson(tmp_path / "plan.geojson")
    back = gpd.read_file(gj)
    assert (back["kind"] == "leg").sum() == len(p.routes)
    assert (back["kind"] == "stop").sum() == len(p.stops)
    assert set(back.geom_type[back["kind"] == "leg"]) == {"LineString"}
    csv = pd.read_csv(p.to_csv(tmp_path / "plan.csv"))
    assert len(csv) == len(p.itinerary)
    html = p.to_map().get_root().render()
    assert "Encamp" in html
    # escaped for HTML, then written as \u-escaped JSON inside the page's script
    assert "<b>&</b>" not in html and "Encamp \\u0026lt;b\\u0026gt;" in html
    # offline: Leaflet inline, nothing fetched from a CDN
    assert "L.map(" in html and not re.search(r'<(script|link)[^>]+(src|href)="https?://', html)
    assert not list(tmp_path.glob(".*.tmp"))


def test_to_file_formats_and_to_geojson_text(plans, tmp_path):
    import pyogrio

    p = plans["pyvrp"]
    text = p.to_geojson(date="2026-12-02")
    assert isinstance(text, str)
    assert text == p.to_file(tmp_path / "plan.geojson", date="2026-12-02").read_text()
    n_dep = len({f["depot"] for f in FLEET})
    n_veh = p.routes["vehicle"].nunique()
    counts = {"route": n_veh, "leg": len(p.routes), "stop": len(p.stops), "depot": n_dep}
    assert json.loads(text)["type"] == "FeatureCollection"
    assert (
        pd.Series([f["properties"]["kind"] for f in json.loads(text)["features"]])
        .value_counts()
        .to_dict()
        == counts
    )
    # GeoPackage: one layer per kind, read back by GDAL (pyogrio), not by geolog
    gpkg = p.to_file(tmp_path / "plan.gpkg")
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == {"routes", "legs", "stops", "depots"}
    assert len(gpd.read_file(gpkg, layer="routes")) == n_veh
    legs = gpd.read_file(gpkg, layer="legs")
    assert len(legs) == counts["leg"] and legs.crs.to_epsg() == 4326
    assert np.allclose(
        shapely.length(legs.geometry.to_numpy()), shapely.length(p.routes.geometry.to_numpy())
    )
    assert (legs["vehicle"].to_numpy() == p.routes["vehicle"].to_numpy()).all()
    assert len(gpd.read_file(gpkg, layer="stops")) == counts["stop"]
    assert len(gpd.read_file(gpkg, layer="depots")) == counts["depot"]
    # GeoParquet: one table with the kind column
    back = gpd.read_parquet(p.to_file(tmp_path / "plan.parquet"))
    assert back["kind"].value_counts().to_dict() == counts
    assert back.crs.to_epsg() == 4326
    assert len(pd.read_csv(p.to_file(tmp_path / "plan.csv"))) == len(p.itinerary)
    # an unknown suffix is refused before anything is written; a good file survives
    with pytest.raises(InputError, match=r"\.gpkg"):
        p.to_file(tmp_path / "plan.shp")
    assert not list(tmp_path.glob("*.shp")) and not list(tmp_path.glob(".*"))


def test_example_inputs_and_cli(tmp_path, capsys):
    from typer.testing import CliRunner

    from geolog.cli import app, main

    out = tmp_path / "plan.geojson"
    html = tmp_path / "plan.html"
    osm = str(geolog.data.path("andorra"))
    args = ["plan", osm, "--depots", str(PLAN_DIR / "depots.geojson"), "--stops",
            str(PLAN_DIR / "stops.geojson"), "--fleet", str(PLAN_DIR / "fleet.yaml"),
            "--time-limit", "1", "-o", str(out), "--map", str(html)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert gpd.read_file(out)["kind"].eq("stop").sum() == 30
    assert html.read_text().startswith("<!DOCTYPE html>")
    bad = tmp_path / "fleet.yaml"
    bad.write_text("vehicles:\n  - {name: t, count: 1, capacity: [1, 2], depot: NOWHERE}\n")
    args[args.index("--fleet") + 1] = str(bad)
    out.unlink()
    assert main(args) == 2
    assert not out.exists()
    # the output format is checked before any work: a .shp is refused, nothing written
    args[args.index("-o") + 1] = str(tmp_path / "plan.shp")
    args[args.index("--fleet") + 1] = str(PLAN_DIR / "fleet.yaml")
    capsys.readouterr()
    assert main(args) == 2
    said = "".join(capsys.readouterr())
    assert ".gpkg" in said and "Traceback" not in said, said
    assert not list(tmp_path.glob("plan.*[!l]"))
