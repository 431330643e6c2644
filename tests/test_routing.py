"""Routing: hand-checked partial edges on a synthetic network, networkx as the oracle."""

from __future__ import annotations

import json
import math
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import geolog
from geolog import routing
from geolog.errors import InputError, NoRouteError

GEOD = Geod(ellps="WGS84")

# ----------------------------------------------------------------------------- synthetic network
#
#   D(1.500,42.501) ---- North Rd ---- E(1.502,42.501)
#   |                                  |
#   West Ln                            East Ln           G ---- Far St ---- H
#   |                                  |                  \                /
#   A(1.500,42.500) -> B(1.501,42.500) -- C(1.502,42.500) --Bridge Rd-- G   I
#        Main St (A->B one-way)    Main St (two-way)         (triangle G-H-I)

NODES = {
    1: (1.500, 42.500),  # A
    2: (1.501, 42.500),  # B
    3: (1.502, 42.500),  # C
    4: (1.500, 42.501),  # D
    5: (1.502, 42.501),  # E
    6: (1.504, 42.500),  # G
    7: (1.505, 42.500),  # H
    8: (1.505, 42.501),  # I
}
# (u, v, way id, name, two-way)
WAYS = [
    (1, 2, 100, "Main St", False),
    (2, 3, 101, "Main St", True),
    (4, 5, 102, "North Rd", True),
    (1, 4, 103, "West Ln", True),
    (3, 5, 104, "East Ln", True),
    (3, 6, 105, "Bridge Rd", True),
    (6, 7, 106, "Far St", True),
    (7, 8, 106, "Far St", True),
    (8, 6, 106, "Far St", True),
]
TAGS = [
    "ref", "surface", "tracktype", "maxspeed", "lanes", "bridge", "tunnel", "oneway",
    "access", "hgv", "maxweight", "width", "junction",
]  # fmt: skip


def _synthetic() -> geolog.Network:
    ids = list(NODES)
    x = [NODES[i][0] for i in ids]
    y = [NODES[i][1] for i in ids]
    nodes = gpd.GeoDataFrame(
        {"x": x, "y": y},
        index=pd.Index(ids, name="osmid", dtype="int64"),
        geometry=shapely.points(x, y),
        crs="EPSG:4326",
    )
    rows = []
    for u, v, way, name, two in WAYS:
        for a, b, rev in [(u, v, False)] + ([(v, u, True)] if two else []):
            line = shapely.LineString([NODES[a], NODES[b]])
            rows.append(
                {
                    "u": a,
                    "v": b,
                    "osmid": way,
                    "highway": "residential",
                    "name": name,
                    **{t: None for t in TAGS},
                    "reversed": rev,
                    "length_m": GEOD.geometry_length(line),
                    "geometry": line,
                }
            )
    edges = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    for t in ["highway", "name", *TAGS]:
        edges[t] = edges[t].astype("str")
        edges.loc[edges[t] == "None", t] = None
    return geolog.Network(nodes, edges, {"network_type": "synthetic"})


@pytest.fixture(scope="module")
def syn() -> geolog.Network:
    return _synthetic()


def _len(net, u, v) -> float:
    e = net.edges
    return float(e.loc[(e.u == u) & (e.v == v), "length_m"].iloc[0])


def _at(u: int, v: int, f: float) -> tuple[float, float]:
    """(lat, lon) of the point at fraction f along the straight edge u -> v."""
    (x0, y0), (x1, y1) = NODES[u], NODES[v]
    return (y0 + f * (y1 - y0), x0 + f * (x1 - x0))


# ----------------------------------------------------------------------------- hand checks


def test_partial_edges_at_both_ends(syn):
    # 30 % along B->C to 50 % along C->E: the rest of B->C, then half of C->E
    r = routing.route(syn, _at(2, 3, 0.3), _at(3, 5, 0.5), profile=None, weight="length_m")
    expected = 0.7 * _len(syn, 2, 3) + 0.5 * _len(syn, 3, 5)
    assert r.length_m == pytest.approx(expected, rel=1e-6)
    assert list(r.edges["name"]) == ["Main St", "East Ln"]
    assert r.edges["fraction_start"].iloc[0] == pytest.approx(0.3, abs=1e-6)
    assert r.edges["fraction_end"].iloc[-1] == pytest.approx(0.5, abs=1e-6)
    # the geometry starts and ends at the snapped points
    start, end = shapely.get_coordinates(r.geometry)[[0, -1]]
    assert start == pytest.approx(_at(2, 3, 0.3)[::-1], abs=1e-7)
    assert end == pytest.approx(_at(3, 5, 0.5)[::-1], abs=1e-7)
    assert r.snapped["distance_m"].max() < 0.01


def test_same_edge_both_directions_on_a_two_way_road(syn):
    L = _len(syn, 2, 3)
    fwd = routing.route(syn, _at(2, 3, 0.2), _at(2, 3, 0.7), profile=None, weight="length_m")
    back = routing.route(syn, _at(2, 3, 0.7), _at(2, 3, 0.2), profile=None, weight="length_m")
    assert fwd.length_m == pytest.approx(0.5 * L, rel=1e-6)
    assert back.length_m == pytest.approx(0.5 * L, rel=1e-6)
    assert len(fwd.edges) == len(back.edges) == 1
    assert (fwd.edges["u"].iloc[0], back.edges["u"].iloc[0]) == (2, 3)  # back uses C->B


def test_same_edge_against_a_one_way_goes_round_the_block(syn):
    # A->B is one-way: from 70 % back to 20 % means B, C, E, D, A and on
    r = routing.route(syn, _at(1, 2, 0.7), _at(1, 2, 0.2), profile=None, weight="length_m")
    L = _len(syn, 1, 2)
    expected = (
        0.3 * L + _len(syn, 2, 3) + _len(syn, 3, 5) + _len(syn, 5, 4) + _len(syn, 4, 1) + 0.2 * L
    )
    assert r.length_m == pytest.approx(expected, rel=1e-6)
    assert list(r.edges["u"]) == [1, 2, 3, 5, 4, 1]


def test_off_road_points_snap_to_the_nearest_edge(syn):
    lat, lon = _at(2, 3, 0.5)
    r = routing.route(syn, (lat - 0.0001, lon), _at(3, 5, 0.5), profile=None, weight="length_m")
    assert r.snapped["distance_m"].iloc[0] == pytest.approx(
        GEOD.inv(lon, lat, lon, lat - 0.0001)[2], rel=0.01
    )
    assert r.edges["fraction_start"].iloc[0] == pytest.approx(0.5, abs=1e-6)


def test_via_points_and_directions(syn):
    o, v, d = _at(2, 3, 0.5), _at(3, 5, 0.5), _at(4, 5, 0.5)
    r = routing.route(syn, o, d, via=[v], profile=None, weight="length_m")
    a = routing.route(syn, o, v, profile=None, weight="length_m")
    b = routing.route(syn, v, d, profile=None, weight="length_m")
    assert r.length_m == pytest.approx(a.length_m + b.length_m, rel=1e-9)
    assert sorted(r.edges["leg"].unique()) == [0, 1]
    assert r.geometry.distance(shapely.Point(v[1], v[0])) < 1e-9
    # east along Main St, left (north) onto East Ln, left (west) onto North Rd
    steps = routing.route(syn, o, d, profile=None, weight="length_m").directions()
    assert list(steps["road"]) == ["Main St", "East Ln", "North Rd", "North Rd"]
    assert list(steps["turn"]) == ["depart", "left", "left", "arrive"]
    assert steps["turn_deg"].iloc[1] == pytest.approx(-90, abs=1)
    assert steps["distance_m"].sum() == pytest.approx(
        0.5 * _len(syn, 2, 3) + _len(syn, 3, 5) + 0.5 * _len(syn, 5, 4), rel=1e-6
    )


def test_geojson_and_reprs(syn):
    r = routing.route(syn, _at(2, 3, 0.3), _at(3, 5, 0.5), profile=None, weight="length_m")
    gj = json.loads(r.to_geojson())
    feat = gj["features"][0]
    assert feat["geometry"]["type"] == "LineString"
    assert feat["properties"]["length_m"] == pytest.approx(r.length_m)
    assert "km" in repr(r) and "<table>" in r._repr_html_()


def test_bad_points_raise_input_error(syn):
    with pytest.raises(InputError, match="latitude"):
        routing.route(syn, (200.0, 1.5), _at(3, 5, 0.5), profile=None, weight="length_m")
    with pytest.raises(InputError, match="lat, lon"):
        routing.route(syn, "nowhere", _at(3, 5, 0.5), profile=None, weight="length_m")
    with pytest.raises(InputError, match="max_snap_m"):
        routing.route(syn, (42.6, 1.5), _at(3, 5, 0.5), profile=None, weight="length_m")
    with pytest.raises(InputError, match="no edge column"):
        routing.route(syn, _at(2, 3, 0.3), _at(3, 5, 0.5), profile=None, weight="nope")


def test_no_route_names_the_blocking_rule(syn):
    rules = {"priority": [{"if": "name == 'Bridge Rd'", "multiply_by": 0}]}
    # reachable without the rule
    ok = routing.route(syn, _at(2, 3, 0.5), _at(6, 7, 0.5), profile="car")
    assert "Bridge Rd" in set(ok.edges["name"])
    with pytest.raises(NoRouteError) as err:
        routing.route(syn, _at(2, 3, 0.5), _at(6, 7, 0.5), profile="car", rules=rules)
    msg = str(err.value)
    assert "priority[0]" in msg and "Bridge Rd" in msg
    # a rule that blocks something else does not get blamed
    rules2 = {
        "priority": [
            {"if": "name == 'North Rd'", "multiply_by": 0},
            {"if": "name == 'Bridge Rd'", "multiply_by": 0},
        ]
    }
    with pytest.raises(NoRouteError) as err:
        routing.route(syn, _at(2, 3, 0.5), _at(6, 7, 0.5), profile="car", rules=rules2)
    assert "priority[1]" in str(err.value) and "priority[0]" not in str(err.value)


def test_no_route_without_rules_says_so(syn):
    # cut the bridge in the network itself: the two parts are disconnected
    e = syn.edges[syn.edges["name"] != "Bridge Rd"].reset_index(drop=True)
    cut = syn.replace(edges=e)
    with pytest.raises(NoRouteError, match="not connected"):
        routing.route(cut, _at(2, 3, 0.5), _at(6, 7, 0.5), profile=None, weight="length_m")


# ----------------------------------------------------------------------------- networkx oracle


def _nx_path_values(G, path, weight):
    cost = dur = length = 0.0
    for a, b in zip(path[:-1], path[1:], strict=True):
        d = min(G[a][b].values(), key=lambda x: (x[weight], x["length_m"]))
        cost += d[weight]
        dur += d["travel_time_s"]
        length += d["length_m"]
    return cost, dur, length


RULES_NO_PRIMARY = {
    "priority": [
        {"if": "highway in ('primary', 'primary_link')", "multiply_by": 0},
        {"if": "highway == 'residential'", "multiply_by": 0.5},
    ],
    "speed": [{"if": "highway == 'secondary'", "limit_to": 40}],
}
RULES_SOFT = {
    "priority": [{"if": "highway == 'residential'", "multiply_by": 0.5}],
    "speed": [{"if": "highway == 'secondary'", "limit_to": 40}],
}


@pytest.mark.parametrize("rules", [None, RULES_NO_PRIMARY], ids=["car", "car+rules"])
def test_route_equals_networkx_for_200_pairs(andorra, rules):
    applied = geolog.rules.apply(andorra, "car", rules)
    G = applied.to_networkx()
    G.remove_edges_from(
        [(u, v, k) for u, v, k, c in G.edges(keys=True, data="cost") if not np.isfinite(c)]
    )
    rng = np.random.default_rng(42)
    # 180 pairs inside the largest strongly connected piece, 20 from anywhere
    big = np.array(sorted(max(nx.strongly_connected_components(G), key=len)))
    pairs = np.vstack(
        [rng.choice(big, size=(180, 2)), rng.choice(applied.nodes.index.to_numpy(), (20, 2))]
    )
    found = 0
    for u, v in pairs:
        try:
            path = nx.shortest_path(G, u, v, weight="cost")
        except nx.NetworkXNoPath:
            with pytest.raises(NoRouteError):
                routing.route_nodes(andorra, u, v, profile="car", rules=rules)
            continue
        cost, dur, length = _nx_path_values(G, path, "cost")
        r = routing.route_nodes(andorra, u, v, profile="car", rules=rules)
        found += 1
        assert r.cost == pytest.approx(cost, rel=1e-6, abs=1e-6)
        assert r.duration_s == pytest.approx(dur, rel=1e-6, abs=1e-6)
        assert r.length_m == pytest.approx(length, rel=1e-6, abs=1e-6)
    assert found >= 180


def test_point_routes_at_nodes_equal_node_routes(andorra):
    rng = np.random.default_rng(7)
    big = andorra.largest_component()
    ids = big.nodes.index.to_numpy()
    xy = big.nodes[["y", "x"]]
    for u, v in rng.choice(ids, size=(15, 2)):
        a = routing.route_nodes(andorra, u, v, profile="car")
        b = routing.route(andorra, tuple(xy.loc[u]), tuple(xy.loc[v]), profile="car")
        assert b.cost == pytest.approx(a.cost, rel=1e-6, abs=1e-3)
        assert b.length_m == pytest.approx(a.length_m, rel=1e-6, abs=1e-3)


def test_apply_and_graph_are_built_once_for_many_routes(andorra, monkeypatch):
    from geolog import _graph

    geolog.rules.clear_cache()
    applied, builds = [], []
    real_apply, real_build = geolog.rules.apply, _graph._build

    def apply(*a, **k):
        out = real_apply(*a, **k)
        applied.append(out)
        return out

    def build(*a, **k):
        builds.append(a[1])
        return real_build(*a, **k)

    monkeypatch.setattr(geolog.rules, "apply", apply)
    monkeypatch.setattr(_graph, "_build", build)
    o, d = (42.5078, 1.5211), (42.5440, 1.5140)
    for _ in range(100):
        routing.route(andorra, o, d, profile="car", rules=RULES_SOFT)
    # the rules module hands back its cached network: the same object every time
    assert len(applied) == 100 and all(x is applied[0] for x in applied)
    assert builds == ["cost"]  # one CSR view for the whole loop


# ----------------------------------------------------------------------------- matrix, alternatives, isochrones


def test_matrix_equals_repeated_route(andorra):
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = andorra.largest_component().nodes.total_bounds
    pts = []
    while len(pts) < 10:
        p = (rng.uniform(y0, y1), rng.uniform(x0, x1))
        try:
            routing.route(andorra, p, p, profile="car", rules=RULES_NO_PRIMARY, max_snap_m=300)
        except InputError:
            continue
        pts.append(p)
    pts.append(pts[0])  # a duplicate point: zero on the diagonal and between the two
    m = routing.matrix(andorra, pts, profile="car", rules=RULES_NO_PRIMARY, max_snap_m=300)
    assert m.durations_s.shape == m.distances_m.shape == (11, 11)
    assert m.durations_s[0, 10] == 0 and np.all(np.diag(m.durations_s) == 0)
    for i in range(len(pts)):
        for j in range(len(pts)):
            try:
                r = routing.route(
                    andorra, pts[i], pts[j], profile="car", rules=RULES_NO_PRIMARY, max_snap_m=300
                )
            except NoRouteError:
                assert np.isinf(m.durations_s[i, j]) and np.isinf(m.distances_m[i, j])
                continue
            assert m.costs[i, j] == pytest.approx(r.cost, rel=1e-9, abs=1e-6)
            assert m.durations_s[i, j] == pytest.approx(r.duration_s, rel=1e-9, abs=1e-6)
            assert m.distances_m[i, j] == pytest.approx(r.length_m, rel=1e-9, abs=1e-6)
    frame = m.to_frame()
    assert len(frame) == 121 and set(frame.columns) >= {"origin", "destination", "duration_s"}
    assert (m.points["snap_distance_m"] <= 300).all()


def test_alternatives_are_different_and_reported(andorra):
    o, d = (42.5078, 1.5211), (42.5345, 1.5807)
    best = routing.route(andorra, o, d, profile="car")
    alts = routing.alternatives(andorra, o, d, k=3, profile="car", max_overlap=0.7)
    assert 2 <= len(alts) <= 3
    assert alts[0].cost == pytest.approx(best.cost)
    assert alts[0].overlap == 0 and alts[0].stretch == 1
    seg = [set(map(frozenset, zip(a.edges["u"], a.edges["v"], strict=True))) for a in alts]
    for i, a in enumerate(alts[1:], start=1):
        assert 1 <= a.stretch <= 1.5
        assert a.overlap <= 0.7
        assert a.cost >= best.cost - 1e-9
        assert seg[i] != seg[0]
        # overlap reported = shared length share, recomputed independently
        e = a.edges
        shared = e["traversed_m"][
            [frozenset(p) in seg[0] for p in zip(e["u"], e["v"], strict=True)]
        ].sum()
        assert a.overlap >= shared / a.length_m - 1e-9


def test_isochrones_nested_contain_origin_and_reached_nodes(andorra):
    big = andorra.largest_component()
    origin_id = big.nodes.index[len(big.nodes) // 2]
    o = tuple(big.nodes.loc[origin_id, ["y", "x"]])
    iso = routing.isochrones(andorra, o, [900, 300], profile="car")
    assert list(iso["time_s"]) == [300, 900]
    small, large = iso.geometry.iloc[0], iso.geometry.iloc[1]
    assert small.difference(large).area < 1e-12 * max(small.area, 1e-12) + 1e-14
    assert large.area > small.area
    assert small.contains(shapely.Point(o[1], o[0]))
    # independent oracle: every node networkx reaches within T lies inside
    applied = geolog.rules.apply(andorra, "car")
    G = applied.to_networkx()
    G.remove_edges_from(
        [(u, v, k) for u, v, k, c in G.edges(keys=True, data="cost") if not np.isfinite(c)]
    )
    reach = nx.single_source_dijkstra_path_length(G, origin_id, weight="travel_time_s")
    for T, poly in zip(iso["time_s"], iso.geometry, strict=True):
        ids = [n for n, t in reach.items() if t <= T]
        pts = shapely.points(applied.nodes.loc[ids, ["x", "y"]].to_numpy())
        assert shapely.contains(poly.buffer(1e-7), pts).all()


# ----------------------------------------------------------------------------- terrain


def test_route_terrain_and_profile(andorra_terrain):
    big = andorra_terrain.largest_component()
    ids = big.nodes.index
    u, v = ids[10], ids[len(ids) - 10]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        r = routing.route_nodes(andorra_terrain, u, v, profile="car")
    e = r.edges
    assert r.ascent_m == pytest.approx(e["ascent_m"].sum(), rel=1e-9)
    assert r.descent_m == pytest.approx(e["descent_m"].sum(), rel=1e-9)
    assert r.max_grade == pytest.approx(e["max_grade"].max())
    p = r.profile()
    assert p["distance_m"].is_monotonic_increasing
    assert p["distance_m"].iloc[0] == 0
    assert p["distance_m"].iloc[-1] == pytest.approx(r.length_m, rel=1e-3)
    rise = np.diff(p["elevation_m"].to_numpy())
    assert rise[rise > 0].sum() == pytest.approx(r.ascent_m, rel=0.02, abs=1.0)
    assert math.isfinite(r.max_grade)


# ----------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def andorra_file(andorra, tmp_path_factory):
    return andorra.save(tmp_path_factory.mktemp("net") / "andorra.parquet")


def test_cli_route_json_and_table(andorra_file, capsys):
    from geolog.cli import main

    args = ["route", str(andorra_file), "--from", "42.5078,1.5211", "--to", "42.5345,1.5807"]
    assert main([*args, "--json"]) == 0
    gj = json.loads(capsys.readouterr().out)
    props = gj["features"][0]["properties"]
    r = routing.route(geolog.load(andorra_file), (42.5078, 1.5211), (42.5345, 1.5807))
    assert props["length_m"] == pytest.approx(r.length_m, rel=1e-6)
    assert main([*args, "--alternatives", "2"]) == 0
    assert "directions" in capsys.readouterr().out


@pytest.mark.parametrize(
    "frm, to, what",
    [
        ("42.5078;1.5211", "42.5345,1.5807", "--from"),  # not LAT,LON
        ("42.5078", "42.5345,1.5807", "--from"),
        ("42.5078,1.5211", "north", "--to"),
        ("45.0,1.5", "42.5345,1.5807", "max_snap_m"),  # outside the network
    ],
)
def test_cli_route_bad_input_exits_2(andorra_file, capsys, frm, to, what):
    from geolog.cli import main

    assert main(["route", str(andorra_file), "--from", frm, "--to", to]) == 2
    assert what in capsys.readouterr().err


def test_cli_isochrone_writes_geojson(andorra_file, tmp_path, capsys):
    from geolog.cli import main

    dest = tmp_path / "iso.geojson"
    argv = ["isochrone", str(andorra_file), "--from", "42.5078,1.5211", "--minutes", "5,10"]
    assert main([*argv, "-o", str(dest)]) == 0
    iso = gpd.read_file(dest)
    assert list(iso["time_s"]) == [300, 600]
    assert main([*argv[:-2], "--minutes", "ten", "-o", str(dest)]) == 2


def test_isochrone_cuts_frontier_edges_by_hand(syn):
    # origin mid-way along the two-way B-C; a budget of a quarter of that edge's
    # travel time reaches a quarter of the edge in each direction, no node
    applied = geolog.rules.apply(syn, "car")
    e = applied.edges
    tt = float(e.loc[(e.u == 2) & (e.v == 3), "travel_time_s"].iloc[0])
    L = _len(syn, 2, 3)
    iso = routing.isochrones(
        syn, _at(2, 3, 0.5), [0.25 * tt, 0.75 * tt], profile="car", kind="band", buffer_m=5
    )
    assert iso["reached_km"].iloc[0] == pytest.approx(2 * 0.25 * L / 1000, rel=1e-6)
    # 0.75: the rest of B-C both ways (0.5 + 0.5), then 0.25 tt onward out of B
    # (B->C again: each direction of travel counts) and out of C (C->B, C->E,
    # C->G); B->A does not exist, A->B is one-way. Turning back (B->C after
    # C->B, C->B after B->C) first costs the car's U-turn seconds.
    u_turn = geolog.get_profile("car").turn_costs["u_turn_s"]
    onward = 0
    for u, v, turn in [(2, 3, u_turn), (3, 2, u_turn), (3, 5, 0), (3, 6, 0)]:
        t_uv = float(e.loc[(e.u == u) & (e.v == v), "travel_time_s"].iloc[0])
        onward += min(1.0, max(0.0, 0.25 * tt - turn) / t_uv) * _len(syn, u, v)
    assert iso["reached_km"].iloc[1] == pytest.approx((L + onward) / 1000, rel=1e-6)
    band = iso.geometry.iloc[0]
    lat, lon = _at(2, 3, 0.5)
    assert band.contains(shapely.Point(lon, lat))
    assert not band.contains(shapely.Point(*NODES[2])) and not band.contains(
        shapely.Point(*NODES[3])
    )


def test_directions_treat_roundabouts_as_one_step(andorra):
    r = geolog.route(andorra, (42.4637, 1.4913), (42.6180, 1.5400), profile="car")
    d = r.directions()
    ring_rows = r.edges["junction"].isin(["roundabout", "circular"])
    assert ring_rows.any(), "this trip crosses roundabouts"
    instr = d["instruction"].tolist()
    enters = [i for i, t in enumerate(instr) if t.startswith("enter the roundabout")]
    assert enters
    for i in enters:
        n = int(d["exit"].iloc[i])
        assert n >= 1 and d["exit"].iloc[i + 1] == n
        assert instr[i + 1].startswith("leave the roundabout"), instr[i : i + 2]
    assert "u-turn" not in d["turn"].tolist()
    assert d["distance_m"].sum() == pytest.approx(r.length_m, rel=1e-9)


# ----------------------------------------------------------------------------- oracle with virtual nodes

# the node-based oracle knows no turns: these rules switch the truck's turn costs off
# (turn-aware routing has its own oracle in tests/test_turns.py)
NO_TURNS = {"u_turn_s": 0, "sharp_s": 0, "left_s": 0, "right_s": 0, "restriction_classes": []}
ANDORRA_TRUCK_RULES = {
    "priority": [{"if": "max_grade > 0.10", "multiply_by": 0}],
    "turn_costs": NO_TURNS,
}
LIECHTENSTEIN_CAR_RULES = {
    "priority": [
        {"if": "highway == 'tertiary'", "multiply_by": 0},
        {"if": "highway == 'residential'", "multiply_by": 0.5},
    ]
}


def _cost_graph(applied) -> nx.DiGraph:
    """The exported graph reduced to the least usable ``cost`` per (u, v)."""
    H = nx.DiGraph()
    H.add_nodes_from(applied.nodes.index)
    for u, v, c in applied.to_networkx().edges(data="cost"):
        if np.isfinite(c) and (not H.has_edge(u, v) or c < H[u][v]["cost"]):
            H.add_edge(u, v, cost=c)
    return H


def _twin_row(edges, label):
    """Label of the opposite-direction row of the same road (found by geometry), or None."""
    e = edges.loc[label]
    cand = edges[(edges["u"] == e["v"]) & (edges["v"] == e["u"]) & (edges["osmid"] == e["osmid"])]
    rev = shapely.reverse(e.geometry)
    for lab, row in cand.iterrows():
        if row.geometry.equals_exact(rev, 1e-12):
            return lab
    return None


def _add_min(H, u, v, cost):
    """Add u -> v or keep the cheaper of two (a loop road's two directions share both ends)."""
    if not H.has_edge(u, v) or cost < H[u][v]["cost"]:
        H.add_edge(u, v, cost=cost)


def _insert(H, edges, name, snap, other=None):
    """Add snapped point ``name`` to H as a virtual node on its edge (or use its node)."""
    if snap["node"] != -1:
        return snap["node"]
    label, f = snap["edge"], snap["fraction"]
    parts = [(label, f)]
    twin = _twin_row(edges, label)
    if twin is not None:
        parts.append((twin, 1.0 - f))
    for lab, fr in parts:
        e = edges.loc[lab]
        c = e["cost"]
        if np.isfinite(c):
            _add_min(H, e["u"], name, fr * c)
            _add_min(H, name, e["v"], (1 - fr) * c)
    if other is not None and other[1]["node"] == -1:
        # both points on the same road: the stretch between them
        oname, o = other
        for lab, fr in parts:
            fo = o["fraction"] if o["edge"] == lab else None
            if fo is None and _twin_row(edges, o["edge"]) == lab:
                fo = 1.0 - o["fraction"]
            if fo is not None and np.isfinite(edges.loc[lab, "cost"]):
                c = edges.loc[lab, "cost"]
                if fo >= fr:  # along this row the new point comes first
                    _add_min(H, name, oname, (fo - fr) * c)
                if fr >= fo:
                    _add_min(H, oname, name, (fr - fo) * c)
    return name


def _oracle_points(net, rng, n_each: int) -> list[tuple[float, float]]:
    """Points at random nodes, exactly at 3- and 4-way junctions, and within 50 m of a road."""
    G = nx.Graph(net.to_networkx())
    ids = np.array(list(G.nodes))
    deg = np.array([G.degree(n) for n in ids])
    xy = net.nodes[["y", "x"]]
    pts = [tuple(xy.loc[n]) for n in rng.choice(ids, n_each)]
    for k in (3, 4):
        pts += [tuple(xy.loc[n]) for n in rng.choice(ids[deg == k], n_each // 2)]
    lines = net.edges.geometry.to_numpy()
    for li in rng.integers(0, len(lines), n_each):
        p = shapely.line_interpolate_point(lines[li], rng.uniform(), normalized=True)
        lon, lat, _ = GEOD.fwd(p.x, p.y, rng.uniform(0, 360), rng.uniform(0, 50))
        pts.append((lat, lon))
    return pts


@pytest.mark.parametrize("region", ["andorra", "liechtenstein"])
def test_routes_equal_dijkstra_with_virtual_nodes(region, andorra_terrain, liechtenstein):
    if region == "andorra":
        net, profile, rules, n_each, n_pairs = (
            andorra_terrain,
            "truck",
            ANDORRA_TRUCK_RULES,
            30,
            110,
        )
    else:
        net, profile, rules, n_each, n_pairs = (
            liechtenstein,
            "car",
            LIECHTENSTEIN_CAR_RULES,
            30,
            110,
        )
    applied = geolog.rules.apply(net, profile, rules)
    H = _cost_graph(applied)
    big = [c for c in nx.strongly_connected_components(H) if len(c) >= 50]
    in_big = set().union(*big)
    rng = np.random.default_rng(11)
    pts = _oracle_points(net, rng, n_each)
    node_of = {tuple(net.nodes.loc[n, ["y", "x"]]): n for n in net.nodes.index}
    edges = applied.edges
    routed = unreachable = 0
    for i, j in rng.integers(0, len(pts), (n_pairs, 2)):
        a, b = pts[i], pts[j]
        try:
            r = routing.route(net, a, b, profile=profile, rules=rules, max_snap_m=20_000)
            cost = r.cost
        except NoRouteError as err:
            r, cost = None, np.inf
            msg = str(err)
        snaps = (
            r.snapped if r is not None else net.nearest_edges([a, b], profile=profile, rules=rules)
        )
        sa, sb = snaps.iloc[0], snaps.iloc[-1]
        for q, s in ((a, sa), (b, sb)):
            n = node_of.get(q)
            if n is not None and n in in_big:  # a point at a routable node stays there
                assert s["node"] == n and s["distance_m"] < 1e-6
            if s["node"] == -1:  # the snapped edge is routable both ways round
                e = edges.loc[s["edge"]]
                assert any(e["u"] in c and e["v"] in c for c in big)
        A = _insert(H, edges, "A", sa)
        B = _insert(H, edges, "B", sb, other=(A, sa) if A == "A" else None)
        try:
            want = nx.dijkstra_path_length(H, A, B, weight="cost") if A != B else 0.0
        except nx.NetworkXNoPath:
            want = np.inf
        finally:
            H.remove_nodes_from([x for x in ("A", "B") if x in H])
        if np.isinf(want):
            assert r is None, f"{a} -> {b}: geolog found a route Dijkstra does not"
            assert "no path" in msg and "priority[" in msg  # names the rule that cuts it
            unreachable += 1
            continue
        assert r is not None, f"{a} -> {b}: false NoRouteError ({msg})"
        assert cost == pytest.approx(want, rel=1e-9, abs=1e-6), (a, b)
        routed += 1
    # a 10 % grade limit splits Andorra's valleys for a truck: many pairs are
    # genuinely unreachable (Dijkstra agrees), but most must route
    assert routed + unreachable == n_pairs and routed >= 0.5 * n_pairs


def test_matrix_rectangular_and_bad_points(andorra):
    rng = np.random.default_rng(5)
    nodes = andorra.largest_component().nodes
    src = [tuple(nodes.loc[n, ["y", "x"]]) for n in rng.choice(nodes.index, 4)]
    dst = [tuple(nodes.loc[n, ["y", "x"]]) for n in rng.choice(nodes.index, 3)]
    far, bad = (45.0, 1.5), "nowhere"
    m = routing.matrix(andorra, [*src, far], [*dst, bad], profile="car")
    assert m.shape == m.durations_s.shape == (5, 4)
    for i, a in enumerate(src):
        for j, b in enumerate(dst):
            r = routing.route(andorra, a, b, profile="car")
            assert m.durations_s[i, j] == pytest.approx(r.duration_s, rel=1e-9, abs=1e-6)
            assert m.distances_m[i, j] == pytest.approx(r.length_m, rel=1e-9, abs=1e-6)
    assert np.isnan(m.durations_s[4]).all() and np.isnan(m.durations_s[:, 3]).all()
    p = m.problems
    assert list(zip(p["role"], p["index"], strict=True)) == [("source", 4), ("target", 3)]
    assert "max_snap_m" in p["reason"].iloc[0] and "lat, lon" in p["reason"].iloc[1]
    assert len(m.to_frame()) == 20
    with pytest.raises(InputError, match="max_snap_m"):
        routing.matrix(andorra, [*src, far], dst, profile="car", errors="raise")


def test_nearest_edges_is_routings_snapper(andorra):
    rng = np.random.default_rng(9)
    x0, y0, x1, y1 = andorra.largest_component().nodes.total_bounds
    pts = [(rng.uniform(y0, y1), rng.uniform(x0, x1)) for _ in range(12)]
    rules = {"priority": [{"if": "highway == 'track'", "multiply_by": 0}]}
    near = andorra.nearest_edges(pts, profile="car", rules=rules)
    for k, p in enumerate(pts):
        r = routing.route(andorra, p, pts[0], profile="car", rules=rules, max_snap_m=1e5)
        s = r.snapped.iloc[0]
        assert s["edge"] == near["edge"].iloc[k] or s["edge"] == near["twin"].iloc[k]
        assert s["distance_m"] == pytest.approx(near["distance_m"].iloc[k], abs=1e-9)
        assert (s["lat"], s["lon"]) == pytest.approx(
            (near["lat"].iloc[k], near["lon"].iloc[k]), abs=1e-12
        )
    assert (andorra.edges.loc[near["edge"], "highway"] != "track").all()
    # a point at a junction snaps to the junction itself
    G = nx.Graph(andorra.to_networkx())
    j = next(n for n in G.nodes if G.degree(n) == 4)
    at = andorra.nearest_edges([tuple(andorra.nodes.loc[j, ["y", "x"]])])
    assert at["node"].iloc[0] == j and at["distance_m"].iloc[0] < 1e-6


def test_unroutable_nearest_road_is_named(syn):
    rules = {"priority": [{"if": "name == 'Far St'", "multiply_by": 0}]}
    # next to Far St, which the rule forbids: snapped to Bridge Rd instead, with a note
    p = _at(6, 7, 0.5)
    r = routing.route(syn, p, _at(2, 3, 0.5), profile="car", rules=rules)
    note = r.snapped["note"].iloc[0]
    assert "Far St" in note and "priority[0]" in note
    assert r.snapped["distance_m"].iloc[0] > 40
    with pytest.raises(InputError) as err:
        routing.route(syn, p, _at(2, 3, 0.5), profile="car", rules=rules, max_snap_m=20)
    msg = str(err.value)
    assert "Far St" in msg and "priority[0]" in msg and "Bridge Rd" in msg


def test_no_route_message_with_a_custom_profile_names_the_rule(syn):
    prof = {"base": "car", "name": "slow car", "max_speed_kph": 40}
    rules = {"priority": [{"if": "name == 'Bridge Rd'", "multiply_by": 0}]}
    with pytest.raises(NoRouteError) as err:
        routing.route(syn, _at(2, 3, 0.5), _at(6, 7, 0.5), profile=prof, rules=rules)
    msg = str(err.value)
    assert "'slow car'" in msg and "priority[0]" in msg and "even without" not in msg


def test_matrix_names_a_cut_off_point(syn):
    rules = {"priority": [{"if": "name == 'Bridge Rd'", "multiply_by": 0}]}
    pts = [_at(2, 3, 0.5), _at(3, 5, 0.5), _at(6, 7, 0.5)]
    m = routing.matrix(syn, pts, profile="car", rules=rules)
    assert np.isinf(m.costs[2, :2]).all() and np.isinf(m.costs[:2, 2]).all()
    assert np.isfinite(m.costs[:2, :2]).all() and m.costs[2, 2] == 0
    p = m.problems
    assert list(p["index"]) == [2] and "cut off" in p["reason"].iloc[0]


def test_point_in_a_piece_the_rules_cut_off_says_why(andorra_terrain):
    # a residential street above Sant Julià de Lòria whose only ways out climb more than 10 %
    p, q = (42.482182, 1.459175), (42.5078, 1.5211)
    kw = {"profile": "truck", "rules": ANDORRA_TRUCK_RULES}
    with pytest.raises(InputError) as err:
        routing.route(andorra_terrain, p, q, **kw)
    msg = str(err.value)
    assert "cut off" in msg and "priority[0] (max_grade > 0.10)" in msg and "max_snap_m" in msg
    near = andorra_terrain.nearest_edges([p], **kw)
    assert f"{near['distance_m'].iloc[0]:,.0f} m away" in msg  # the nearest routable road
    r = routing.route(andorra_terrain, p, q, max_snap_m=3000, **kw)
    assert r.snapped["distance_m"].iloc[0] == pytest.approx(near["distance_m"].iloc[0])
    assert "cut off" in r.snapped["note"].iloc[0]
