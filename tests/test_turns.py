"""Turn-aware routing: OSM turn restrictions and turn costs, checked against independent oracles.

- hand-made OSM XML (via node ``no_*`` / ``only_*``, via way, ``restriction:hgv``,
  ``except``): the cheapest path found by brute force over every walk of the
  line graph (each edge at most once) that violates no restriction;
- every restriction relation of the bundled Liechtenstein and West Oakland
  extracts: no route violates one, the route that needs the forbidden turn
  takes the legal detour;
- Liechtenstein, truck (turn costs, U-turn ban): networkx Dijkstra on a line
  graph built here, 200 random node pairs.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import osmium
import pytest
import shapely

import geolog
from geolog import routing
from geolog.errors import InputError, RuleError

# ----------------------------------------------------------------------------- hand-made grid
#
#        2 --- 3            rows of the grid 100 m apart, north up
#        |     |
#  4 --- 5 --- 6
#  |     |     |
#  7     8 --- 9
#
# ways: one per segment, id 10 * a + b (w45: 4-5); all two-way residential.

SEGMENTS = [(2, 3), (2, 5), (3, 6), (4, 5), (5, 6), (4, 7), (5, 8), (6, 9), (8, 9)]
D = 0.0009  # degrees: about 100 m north-south (and 70 m east-west at 47°)


def _node_xy(n: int) -> tuple[float, float]:
    r, c = divmod(n - 1, 3)
    return 47.0 - r * D, 9.5 + c * D  # lat, lon


RESTRICTIONS = [
    # (id, tags, from, via ("n", id) or ("w", [ids]), to)
    (1, {"restriction": "no_left_turn"}, 45, ("n", 5), 25),  # east on 4-5, north onto 5-2
    (2, {"restriction": "only_straight_on"}, 58, ("n", 5), 25),  # north on 8-5: only on to 2
    (3, {"restriction": "no_straight_on"}, 47, ("w", [45]), 56),  # 7-4-5-6 forbidden
    (4, {"restriction:hgv": "no_right_turn"}, 25, ("n", 5), 45),  # trucks: south then west
    (5, {"restriction": "no_left_turn", "except": "hgv"}, 69, ("n", 6), 56),  # north then west
]


def _grid_xml(path) -> None:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for n in range(2, 10):
        lat, lon = _node_xy(n)
        out.append(f'<node id="{n}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for a, b in SEGMENTS:
        out.append(
            f'<way id="{10 * a + b}" version="1"><nd ref="{a}"/><nd ref="{b}"/>'
            '<tag k="highway" v="residential"/></way>'
        )
    for rid, tags, frm, via, to in RESTRICTIONS:
        members = [f'<member type="way" ref="{frm}" role="from"/>']
        if via[0] == "n":
            members.append(f'<member type="node" ref="{via[1]}" role="via"/>')
        else:
            members += [f'<member type="way" ref="{w}" role="via"/>' for w in via[1]]
        members.append(f'<member type="way" ref="{to}" role="to"/>')
        tag_xml = "".join(
            f'<tag k="{k}" v="{v}"/>' for k, v in {"type": "restriction", **tags}.items()
        )
        out.append(f'<relation id="{rid}" version="1">{"".join(members)}{tag_xml}</relation>')
    out.append("</osm>")
    path.write_text("\n".join(out))


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    p = tmp_path_factory.mktemp("turns") / "grid.osm"
    _grid_xml(p)
    return geolog.read_osm(p)


# the truck's turns without its climb model (these networks have no terrain)
TRUCK = {**geolog.get_profile("truck").to_dict(), "grade_model": {"model": "none"}}
NO_TURN_COSTS = {"u_turn_s": 0, "sharp_s": 0, "left_s": 0, "right_s": 0}


# ----------------------------------------------------------------------------- independent oracles


def _headings(geom) -> tuple[float, float]:
    """Heading (degrees, north = 0, east = 90) of a line's first and last segment."""
    xy = np.asarray(geom.coords)
    k = math.cos(math.radians(LAT0))

    def h(a, b):
        return math.degrees(math.atan2((b[0] - a[0]) * k, b[1] - a[1]))

    return h(xy[0], xy[1]), h(xy[-2], xy[-1])


LAT0 = 47.0  # set per network by _turn_cost_fn (the mean latitude of its coordinates)


def _turn_cost_fn(applied, costs):
    """Turn seconds for (row e, row f) as documented: by angle, U-turn = the same road back."""
    global LAT0
    LAT0 = float(
        np.mean(np.concatenate([np.asarray(g.coords)[:, 1] for g in applied.edges.geometry]))
    )
    heads = [_headings(g) for g in applied.edges.geometry]
    u, v = applied.edges["u"].to_numpy(), applied.edges["v"].to_numpy()
    way = applied.edges["osmid"].to_numpy()

    def cost(e, f):
        if u[f] == v[e] and v[f] == u[e] and way[e] == way[f]:
            return costs["u_turn_s"]  # None: banned
        a = (heads[f][0] - heads[e][1] + 180.0) % 360.0 - 180.0
        if abs(a) < 45:
            return 0.0
        if abs(a) < 135:
            return costs["right_s"] if a > 0 else costs["left_s"]
        return costs["sharp_s"]

    return cost


def _violates(applied, rows, restr) -> bool:
    """Whether a sequence of edge rows breaks one of the restrictions (pandas rows)."""
    way = applied.edges["osmid"].to_numpy()[rows]
    v = applied.edges["v"].to_numpy()[rows]
    for r in restr.itertuples():
        via = [int(x) for x in str(r.via_ways).split(";") if x]
        for i in range(len(rows) - 1):
            if way[i] != r.from_way:
                continue
            if r.via_node >= 0:
                if v[i] != r.via_node:
                    continue
                nxt = way[i + 1]
                if r.kind == "no" and nxt == r.to_way:
                    if r.from_way != r.to_way or _is_back(applied, rows[i], rows[i + 1]):
                        return True
                if r.kind == "only" and nxt != r.to_way:
                    return True
            else:
                j = i + 1
                while j < len(rows) and way[j] in via:
                    j += 1
                if j > i + 1 and j < len(rows):
                    if r.kind == "no" and way[j] == r.to_way:
                        return True
                    if r.kind == "only" and way[j] != r.to_way:
                        return True
    return False


def _is_back(applied, e, f) -> bool:
    u, v = applied.edges["u"].to_numpy(), applied.edges["v"].to_numpy()
    return u[f] == v[e] and v[f] == u[e]


def _brute_force(applied, src, dst, restr, costs, weight="cost", last_row=None):
    """Cheapest walk src -> dst (nodes) over the line graph, each row once, obeying ``restr``.

    With ``last_row``, only walks ending along that edge row count.
    """
    e = applied.edges
    w = e[weight].to_numpy(dtype=float)
    ok = np.flatnonzero(np.isfinite(e["cost"].to_numpy(dtype=float)))
    turn = _turn_cost_fn(applied, costs)
    u, v = e["u"].to_numpy(), e["v"].to_numpy()
    best = math.inf
    stack = [([r], w[r]) for r in ok if u[r] == src]
    while stack:
        path, c = stack.pop()
        last = path[-1]
        if (
            v[last] == dst
            and (last_row is None or last == last_row)
            and not _violates(applied, path, restr)
        ):
            best = min(best, c)
        for f in ok:
            if u[f] != v[last] or f in path:
                continue
            t = turn(last, f)
            if t is None:
                others = [g for g in ok if u[g] == v[last] and not _is_back(applied, last, g)]
                if others:
                    continue
                t = 0.0
            stack.append(
                ([*path, f], c + w[f] + (t if weight in ("cost", "travel_time_s") else 0.0))
            )
    return best


def _rows_violate(route, restr) -> bool:
    return _violates(route._net, route.rows, restr)


# ----------------------------------------------------------------------------- reading


def test_reader_keeps_every_restriction(grid):
    r = grid.restrictions
    assert sorted(r["relation"]) == [1, 2, 3, 4, 5]
    by = r.set_index("relation")
    assert by.loc[1, "kind"] == "no" and by.loc[1, "via_node"] == 5 and by.loc[1, "to_way"] == 25
    assert by.loc[2, "restriction"] == "only_straight_on"
    assert by.loc[3, "via_node"] == -1 and by.loc[3, "via_ways"] == "45"
    assert by.loc[4, "vehicles"] == "hgv" and by.loc[5, "except"] == "hgv"


def test_restrictions_survive_save_load_and_subsetting(grid, tmp_path):
    p = grid.save(tmp_path / "g.parquet")
    back = geolog.load(p)
    assert back.restrictions.equals(grid.restrictions)
    assert grid.largest_component().restrictions.equals(grid.restrictions)
    assert geolog.rules.apply(grid, "car").restrictions.equals(grid.restrictions)


@pytest.mark.parametrize("region", ["liechtenstein", "west-oakland"])
def test_every_relation_of_the_bundled_extracts_is_read(region):
    path = geolog.data.path(region)
    want = set()
    for rel in osmium.FileProcessor(str(path), osmium.osm.RELATION):
        tags = dict(rel.tags)
        if tags.get("type") == "restriction" and any(
            t.startswith(("no_", "only_")) for k, t in tags.items() if k.startswith("restriction")
        ):
            want.add(rel.id)
    net = geolog.read_osm(path)
    assert set(net.restrictions["relation"]) == want


# ----------------------------------------------------------------------------- hand-made grid routes


@pytest.mark.parametrize(
    ("src", "dst", "profile"),
    [
        (4, 2, "car"),
        (8, 4, "car"),
        (7, 6, "car"),
        (4, 6, "car"),
        (2, 4, "car"),
        (2, 4, TRUCK),
        (9, 5, "car"),
        (9, 5, TRUCK),
        (6, 7, TRUCK),
        (3, 7, "car"),
    ],
)
def test_grid_routes_equal_the_brute_force_oracle(grid, src, dst, profile):
    applied = geolog.rules.apply(grid, profile)
    costs = applied.meta["turn_costs"]
    classes = tuple(costs["restriction_classes"])
    from geolog._restrictions import for_vehicle

    restr = for_vehicle(grid.restrictions, classes)
    r = routing.route_nodes(grid, src, dst, profile=profile)
    assert not _rows_violate(r, restr)
    assert r.cost == pytest.approx(_brute_force(applied, src, dst, restr, costs), rel=1e-9)


def test_forbidden_turns_force_the_legal_detour(grid):
    free = {"turn_costs": {"restriction_classes": []}}
    for src, dst in [(4, 2), (8, 4), (7, 6)]:
        legal = routing.route_nodes(grid, src, dst, profile="car")
        ignoring = routing.route_nodes(grid, src, dst, profile="car", rules=free)
        assert legal.cost > ignoring.cost + 1.0  # the short way needed the forbidden turn
        assert legal.length_m > ignoring.length_m + 100
    # 4-5-6 is fine when not coming from 7 (the via-way restriction is about 7-4-5-6 only)
    r = routing.route_nodes(grid, 4, 6, profile="car")
    assert r.length_m == pytest.approx(
        routing.route_nodes(grid, 4, 6, profile="car", rules=free).length_m
    )


def test_vehicle_classes_and_except(grid):
    # restriction:hgv binds the truck only; except=hgv frees it
    car = routing.route_nodes(grid, 2, 4, profile="car", rules={"turn_costs": NO_TURN_COSTS})
    truck = routing.route_nodes(grid, 2, 4, profile=TRUCK, rules={"turn_costs": NO_TURN_COSTS})
    assert car.length_m < truck.length_m
    way = grid.edges["osmid"].to_numpy()
    car_ways = list(way[routing.route_nodes(grid, 9, 5, profile="car").rows])
    assert car_ways[:2] != [69, 56]  # the car may not turn left from 6-9 onto 6-5
    truck_r = routing.route_nodes(grid, 9, 5, profile=TRUCK, rules={"turn_costs": NO_TURN_COSTS})
    assert list(way[truck_r.rows]) == [69, 56]  # the truck may


def test_foot_ignores_turn_restrictions(grid):
    foot = {**geolog.get_profile("foot").to_dict(), "grade_model": {"model": "none"}}
    r = routing.route_nodes(grid, 4, 2, profile=foot)
    assert list(grid.edges["osmid"].to_numpy()[r.rows]) == [45, 25]


def test_truck_turn_costs_are_added_to_time_and_cost(grid):
    r = routing.route_nodes(grid, 4, 6, profile=TRUCK)  # straight on: no turn cost
    assert r.turn_s == 0
    r = routing.route_nodes(grid, 7, 5, profile=TRUCK)  # 7-4 north then right onto 4-5
    right = geolog.get_profile("truck").turn_costs["right_s"]
    assert r.turn_s == pytest.approx(right)
    e = r.edges
    assert r.duration_s == pytest.approx(e["traversed_s"].sum() + right)
    assert r.cost == pytest.approx(r.edges["cost"].sum() + right)


def test_rules_override_turn_costs_and_reject_bad_ones(grid):
    base = routing.route_nodes(grid, 7, 5, profile=TRUCK)
    r = routing.route_nodes(grid, 7, 5, profile=TRUCK, rules={"turn_costs": {"right_s": 100}})
    assert r.cost == pytest.approx(base.cost - base.turn_s + 100)
    with pytest.raises(RuleError, match="turn_costs.left"):
        geolog.load_rules({"turn_costs": {"left": 3}})
    with pytest.raises(RuleError, match="seconds"):
        geolog.load_rules({"turn_costs": {"left_s": -1}})
    with pytest.raises(InputError, match="turn_costs"):
        geolog.get_profile({"base": "car", "name": "c2", "turn_costs": {"u_turn_s": "x"}})


def test_matrix_and_isochrones_obey_the_restrictions(grid):
    xy = [_node_xy(n) for n in (4, 2, 8)]
    m = routing.matrix(grid, xy, profile="car")
    for i, a in enumerate((4, 2, 8)):
        for j, b in enumerate((4, 2, 8)):
            if a != b:
                assert m.costs[i, j] == pytest.approx(
                    routing.route_nodes(grid, a, b, profile="car").cost
                )
    # isochrone from 4: with the left turn forbidden, 5-2 is entered only by the detour
    from geolog._isochrones import _edge_entry_times
    from geolog._route_snap import _context, _snap_all

    ctx = _context(grid, "car", None, "travel_time_s")
    (a,) = _snap_all(ctx, [_node_xy(4)], ["origin"], 100)
    t = _edge_entry_times(ctx, a, 3600)
    e = ctx.applied.edges
    row52 = int(np.flatnonzero((e["u"] == 5) & (e["v"] == 2))[0])
    direct = float(e.loc[(e["u"] == 4) & (e["v"] == 5), "travel_time_s"].iloc[0])
    assert t[row52] > direct + 1.0
    costs = ctx.applied.meta["turn_costs"]
    restr = grid.restrictions
    full = _brute_force(ctx.applied, 4, 2, restr, costs, "travel_time_s", last_row=row52)
    assert t[row52] == pytest.approx(full - float(e["travel_time_s"].iloc[row52]), rel=1e-9)


# ----------------------------------------------------------------------------- bundled extracts


def test_no_route_breaks_a_restriction_of_liechtenstein(liechtenstein):
    restr = liechtenstein.restrictions
    assert len(restr) >= 3
    e = liechtenstein.edges
    free = {"turn_costs": {"restriction_classes": []}}
    checked = detours = 0
    for r in restr.itertuples():
        # from the middle of the 'from' way's row into the via node to beyond the via node
        into = np.flatnonzero((e["osmid"] == r.from_way) & (e["v"] == r.via_node))
        out = np.flatnonzero((e["osmid"] == r.to_way) & (e["u"] == r.via_node))
        if r.kind == "only":  # then try every other way out of the via node
            out = np.flatnonzero(
                (e["osmid"] != r.to_way) & (e["u"] == r.via_node) & (e["osmid"] != r.from_way)
            )
        if not len(into) or not len(out):  # a way the drive network does not hold
            continue
        checked += 1
        for a in into:
            for b in out:
                pa = e.geometry.iloc[a].interpolate(0.5, normalized=True)
                pb = e.geometry.iloc[b].interpolate(0.5, normalized=True)
                try:
                    legal = routing.route(liechtenstein, (pa.y, pa.x), (pb.y, pb.x), profile="car")
                except geolog.errors.NoRouteError:
                    continue
                assert not _violates(legal._net, legal.rows, restr.iloc[[r.Index]])
                ignoring = routing.route(
                    liechtenstein, (pa.y, pa.x), (pb.y, pb.x), profile="car", rules=free
                )
                assert legal.cost >= ignoring.cost - 1e-9
                if _violates(ignoring._net, ignoring.rows, restr.iloc[[r.Index]]):
                    detours += 1  # the short way needed the forbidden turn
                    assert legal.cost > ignoring.cost
    assert checked >= 2 and detours >= 1


def test_west_oakland_has_no_restrictions_and_routes_as_before():
    net = geolog.read_osm(geolog.data.path("west-oakland"))
    assert net.restrictions.empty
    applied = geolog.rules.apply(net, "car")
    G = nx.DiGraph()
    for u, v, c in applied.to_networkx().edges(data="cost"):
        if np.isfinite(c) and (not G.has_edge(u, v) or G[u][v]["w"] > c):
            G.add_edge(u, v, w=c)
    ids = list(G.nodes)
    for a in ids[:8]:
        for b in ids[-8:]:
            if a == b or not nx.has_path(G, a, b):
                continue
            want = nx.dijkstra_path_length(G, a, b, weight="w")
            assert routing.route_nodes(net, a, b, profile="car").cost == pytest.approx(
                want, rel=1e-9
            )


# ----------------------------------------------------------------------------- line-graph oracle


def _line_graph(applied, costs):
    """networkx DiGraph over edge rows: arc e -> f weighted cost[f] + turn seconds."""
    from geolog._restrictions import for_vehicle

    e = applied.edges
    w = e["cost"].to_numpy(dtype=float)
    u, v = e["u"].to_numpy(), e["v"].to_numpy()
    ok = np.flatnonzero(np.isfinite(w))
    turn = _turn_cost_fn(applied, costs)
    restr = for_vehicle(applied.restrictions, tuple(costs["restriction_classes"]))
    by_u: dict[int, list[int]] = {}
    for r in ok:
        by_u.setdefault(u[r], []).append(r)
    L = nx.DiGraph()
    for r in ok:
        L.add_node(int(r))
        outs = by_u.get(v[r], [])
        for f in outs:
            t = turn(r, f)
            if t is None:
                if any(not _is_back(applied, r, g) for g in outs):
                    continue
                t = 0.0
            if _violates(applied, np.array([r, f]), restr):
                continue
            L.add_edge(int(r), int(f), weight=w[f] + t)
    for n in applied.nodes.index:  # virtual start / end per node
        L.add_node(("s", n))
        L.add_node(("t", n))
    for r in ok:
        L.add_edge(("s", u[r]), int(r), weight=w[r])
        L.add_edge(int(r), ("t", v[r]), weight=0.0)
    return L


def test_truck_routes_equal_networkx_on_the_line_graph_for_200_pairs(liechtenstein):
    applied = geolog.rules.apply(liechtenstein, TRUCK)
    L = _line_graph(applied, applied.meta["turn_costs"])
    rng = np.random.default_rng(17)
    ids = applied.nodes.index.to_numpy()
    checked = 0
    while checked < 200:
        a, b = (int(x) for x in rng.choice(ids, 2, replace=False))
        try:
            want = nx.dijkstra_path_length(L, ("s", a), ("t", b), weight="weight")
        except nx.NetworkXNoPath:
            continue
        r = routing.route_nodes(liechtenstein, a, b, profile=TRUCK)
        assert r.cost == pytest.approx(want, rel=1e-9, abs=1e-6), (a, b)
        checked += 1


# ----------------------------------------------------------------------------- turns per junction


def _expected_turns(route, turn) -> np.ndarray:
    """The oracle's turn seconds after each row: within a leg the profile's cost of the turn
    onto the next row (a U-turn, banned but for dead ends, costs 0 there), 0 at leg ends."""
    out = np.zeros(len(route.rows))
    start = 0
    for size in route.leg_sizes:
        rows = route.rows[start : start + size]
        for k in range(size - 1):
            t = turn(int(rows[k]), int(rows[k + 1]))
            out[start + k] = 0.0 if t is None else t
        start += size
    return out


def test_truck_routes_carry_the_turn_seconds_of_each_junction(liechtenstein):
    from geolog._route_export import route_legs

    applied = geolog.rules.apply(liechtenstein, TRUCK)
    costs = applied.meta["turn_costs"]
    assert min(costs["left_s"], costs["right_s"], costs["sharp_s"]) > 0
    turn = _turn_cost_fn(applied, costs)
    e = applied.edges
    rng = np.random.default_rng(23)
    usable = np.flatnonzero(np.isfinite(e["cost"].to_numpy(dtype=float)))
    checked = turned = 0
    for i in range(40):
        at = e.geometry.values[rng.choice(usable, 2 + i % 3)]  # 0-2 via points, on usable roads
        on = shapely.line_interpolate_point(at, rng.uniform(0, 1, len(at)), normalized=True)
        pts = [(p.y, p.x) for p in on]
        try:
            r = routing.route(liechtenstein, pts[0], pts[-1], via=pts[1:-1], profile=TRUCK)
        except geolog.errors.NoRouteError:
            continue
        assert (r._net.edges.index == e.index).all()
        assert len(r.turn_after_s) == len(r.rows)
        assert r.turn_after_s.sum() == pytest.approx(r.turn_s, abs=1e-9)
        np.testing.assert_allclose(r.turn_after_s, _expected_turns(r, turn))
        np.testing.assert_array_equal(r.edges["turn_s"], r.turn_after_s)
        assert r.duration_s == pytest.approx(
            r.edges["traversed_s"].sum() + r.edges["turn_s"].sum(), rel=1e-12
        )
        if r.via:  # the legs written by Route.to_file take their turns along
            legs = route_legs(r)["duration_s"].to_numpy()
            assert legs.sum() == pytest.approx(r.duration_s, rel=1e-12)
        checked += 1
        turned += int((r.turn_after_s > 0).sum() >= 2)
    assert checked >= 35 and turned >= 30


def test_alternatives_keep_the_turn_seconds_of_each_junction(liechtenstein):
    applied = geolog.rules.apply(liechtenstein, TRUCK)
    turn = _turn_cost_fn(applied, applied.meta["turn_costs"])
    alts = routing.alternatives(liechtenstein, (47.166, 9.510), (47.060, 9.497), profile=TRUCK, k=3)
    assert len(alts) >= 2
    for r in alts:
        assert r.turn_s > 0 and r.turn_after_s.sum() == pytest.approx(r.turn_s, abs=1e-9)
        np.testing.assert_allclose(r.turn_after_s, _expected_turns(r, turn))


def test_untravelled_rows_hand_their_turns_to_the_kept_row_before():
    from geolog._route_search import _travelled

    rows = np.array([10, 11, 12, 13])
    f0 = np.array([1.0, 0.0, 0.0, 0.0])  # starts at the very end of row 10
    f1 = np.array([1.0, 1.0, 1.0, 0.0])  # ends at the very start of row 13
    turns = np.array([8.0, 5.0, 15.0, 0.0])
    kept, a, b, t = _travelled(rows, f0, f1, turns)
    assert kept.tolist() == [11, 12] and a.tolist() == [0.0, 0.0] and b.tolist() == [1.0, 1.0]
    assert t.tolist() == [13.0, 15.0]  # 10's turn on the first kept row; 13 has none
    kept, _, _, t = _travelled(rows[:2], np.ones(2), np.ones(2), np.array([8.0, 0.0]))
    assert kept.tolist() == [11] and t.tolist() == [8.0]  # nothing travelled: the last row kept
