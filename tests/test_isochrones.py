"""Isochrone areas: checked against a networkx Dijkstra and shapely in a UTM frame.

The reached road stretches are derived here, independently of geolog: networkx
shortest times from the origin node on the exported graph, each edge kept up
to the fraction the remaining time covers, cut with shapely in UTM 31N.
"""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.ops import substring

import geolog
from geolog import routing
from geolog.errors import InputError

UTM = "EPSG:32631"  # Andorra and the synthetic networks lie in zone 31N
VELLA = (42.5078, 1.5211)  # Andorra la Vella


FREE_TURNS = {"turn_costs": {"u_turn_s": 0, "sharp_s": 0, "left_s": 0, "right_s": 0}}


def _reached_pieces(applied: geolog.Network, origin_id: int, T: float) -> tuple[list, float]:
    """Road stretches reached within ``T`` s (UTM lines) and their length (km, geodesic)."""
    G = applied.to_networkx()
    G.remove_edges_from(
        [(u, v, k) for u, v, k, c in G.edges(keys=True, data="cost") if not np.isfinite(c)]
    )
    dist = nx.single_source_dijkstra_path_length(G, origin_id, weight="travel_time_s")
    e = applied.edges.to_crs(UTM)
    lines, km = [], 0.0
    for u, tt, c, length, geom in zip(
        e["u"], e["travel_time_s"], e["cost"], e["length_m"], e.geometry, strict=True
    ):
        if not np.isfinite(c) or dist.get(u, np.inf) > T:
            continue
        f = 1.0 if tt <= 0 else min(1.0, (T - dist[u]) / tt)
        if f > 0:
            lines.append(substring(geom, 0.0, f, normalized=True))
            km += f * length / 1000
    return lines, km


def _origin_node(net: geolog.Network, near: tuple[float, float]) -> tuple[int, tuple]:
    """The node nearest ``near`` in the largest strongly connected piece of the car graph."""
    applied = geolog.rules.apply(net, "car")
    G = applied.to_networkx()
    G.remove_edges_from(
        [(u, v, k) for u, v, k, c in G.edges(keys=True, data="cost") if not np.isfinite(c)]
    )
    big = list(max(nx.strongly_connected_components(G), key=len))
    xy = applied.nodes.loc[big, ["y", "x"]].to_numpy()
    i = int(np.argmin(np.hypot(xy[:, 0] - near[0], (xy[:, 1] - near[1]) * 0.74)))
    return big[i], (float(xy[i, 0]), float(xy[i, 1]))


@pytest.fixture(scope="module")
def vella(andorra):
    node, o = _origin_node(andorra, VELLA)
    # turns free: the node-based networkx oracle knows no turn seconds (with the
    # car's 20 s U-turns the turn-aware search can only reach less)
    iso = routing.isochrones(andorra, o, [900, 300, 600], profile="car", rules=FREE_TURNS)
    turned = routing.isochrones(andorra, o, [900, 300, 600], profile="car")
    assert (turned["reached_km"] <= iso["reached_km"] + 1e-9).all()
    assert (turned["reached_km"] < iso["reached_km"]).any()  # a U-turn saved somewhere
    return node, o, iso


@pytest.mark.parametrize("k", [0, 1, 2])
def test_area_covers_reached_roads_and_little_else(andorra, vella, k):
    node, o, iso = vella
    T = float(iso["time_s"].iloc[k])
    lines, km = _reached_pieces(geolog.rules.apply(andorra, "car"), node, T)
    assert iso["reached_km"].iloc[k] == pytest.approx(km, rel=1e-9)
    poly = gpd.GeoSeries([iso.geometry.iloc[k]], crs=4326).to_crs(UTM).iloc[0]
    assert poly.is_valid
    # >= 95 % of the reached road length lies inside the polygon
    lines = np.array(lines, dtype=object)
    inside = shapely.length(shapely.intersection(lines, poly)).sum()
    assert inside / shapely.length(lines).sum() >= 0.95
    # <= 30 % of the polygon is land farther than 200 m from every reached road
    far = poly.difference(shapely.union_all(shapely.buffer(lines, 200, quad_segs=4)))
    assert far.area / poly.area <= 0.30
    # and it is an area, not a band: more than the 50 m band around the same roads
    band = shapely.union_all(shapely.buffer(lines, 50, quad_segs=4))
    assert poly.area > band.area
    # area_km2 is the polygon's area (UTM as the independent frame)
    assert iso["area_km2"].iloc[k] == pytest.approx(poly.area / 1e6, rel=0.01)


def test_areas_are_nested_and_start_at_the_origin(vella):
    _, o, iso = vella
    assert list(iso["time_s"]) == [300, 600, 900]
    assert iso.attrs["kind"] == "area"
    assert iso.attrs["origin"] == pytest.approx(o, abs=1e-9)
    g = list(iso.geometry)
    for small, large in zip(g, g[1:], strict=False):
        assert large.contains(small)  # exactly, in lon/lat
        assert small.difference(large).area == 0
        assert large.area > small.area
    assert np.all(np.diff(iso["reached_km"]) > 0) and np.all(np.diff(iso["area_km2"]) > 0)
    assert g[0].contains(shapely.Point(o[1], o[0]))


def test_map_layer_draws_areas_with_their_size(vella):
    from geolog import maps

    _, _, iso = vella
    fc = json.loads(maps.isochrone_layer(iso).data_json)
    polys = [f for f in fc["features"] if f["geometry"]["type"] != "Point"]
    for f, (t, km2, geom) in zip(
        polys, iso[["time_s", "area_km2", "geometry"]][::-1].itertuples(index=False), strict=True
    ):
        assert f["properties"]["tooltip"] == f"≤ {t / 60:g} min, {km2:,.1f} km²"
        drawn = shapely.geometry.shape(f["geometry"])  # coordinates rounded to 1e-6 degrees
        assert drawn.symmetric_difference(geom).area < 1e-3 * geom.area


def test_band_kind_keeps_the_buffered_roads(andorra, vella):
    node, o, area = vella
    band = routing.isochrones(
        andorra, o, [300, 600, 900], profile="car", kind="band", rules=FREE_TURNS
    )
    assert band.attrs["kind"] == "band"
    np.testing.assert_allclose(band["reached_km"], area["reached_km"], rtol=1e-12)
    lines, _ = _reached_pieces(geolog.rules.apply(andorra, "car"), node, 600)
    ref = shapely.union_all(shapely.buffer(np.array(lines, dtype=object), 50))
    got = gpd.GeoSeries([band.geometry.iloc[1]], crs=4326).to_crs(UTM).iloc[0]
    # the union of 50 m buffers of the same stretches (simplified by 10 m, so not exact)
    assert got.symmetric_difference(ref).area <= 0.05 * ref.area
    assert (band["area_km2"] < area["area_km2"]).all()


# ----------------------------------------------------------------------------- synthetic networks

M_LAT = 111_100.0  # metres per degree of latitude near 42.5°
M_LON = 81_950.0  # metres per degree of longitude at 42.5°


def _osm(path, nodes: dict[int, tuple[float, float]], ways: list[list[int]]):
    """Write an OSM XML file: nodes ``{id: (east_m, north_m)}`` from (42.5, 1.5), residential ways."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for i, (x, y) in nodes.items():
        lines.append(
            f'<node id="{i}" version="1" lat="{42.5 + y / M_LAT}" lon="{1.5 + x / M_LON}"/>'
        )
    for k, refs in enumerate(ways):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(
            f'<way id="{100 + k}" version="1">{nds}<tag k="highway" v="residential"/></way>'
        )
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _latlon(x: float, y: float) -> tuple[float, float]:
    return (42.5 + y / M_LAT, 1.5 + x / M_LON)


def _pt(x: float, y: float) -> shapely.Point:
    lat, lon = _latlon(x, y)
    return shapely.Point(lon, lat)


def test_dead_end_road_reached_half_way_by_hand(tmp_path):
    # one 1 km road; the origin at its dead end; half its travel time reaches half of it
    net = geolog.read_osm(_osm(tmp_path / "road.osm", {1: (0, 0), 2: (1000, 0)}, [[1, 2]]))
    e = geolog.rules.apply(net, "car").edges
    out = e[e["u"] == 1].iloc[0]
    tt, L = float(out["travel_time_s"]), float(out["length_m"])
    iso = routing.isochrones(net, _latlon(0, 0), [0.5 * tt, 3 * tt], profile="car")
    # one direction (1 -> 2) half-way; with 3 tt both directions in full
    assert iso["reached_km"].tolist() == pytest.approx([0.5 * L / 1000, 2 * L / 1000], rel=1e-9)
    half = iso.geometry.iloc[0]
    assert half.contains(_pt(0, 0)) and half.contains(_pt(400, 0)) and half.contains(_pt(480, 0))
    assert not half.contains(_pt(700, 0))  # beyond the frontier and its margin
    assert not half.contains(_pt(250, 150))  # beyond the margin across the road
    assert iso.geometry.iloc[1].contains(_pt(1000, 0))


def test_origin_mid_road_reaches_both_ways_and_tiny_budgets_stay_small(tmp_path):
    net = geolog.read_osm(_osm(tmp_path / "road.osm", {1: (0, 0), 2: (1000, 0)}, [[1, 2]]))
    e = geolog.rules.apply(net, "car").edges
    tt, L = float(e["travel_time_s"].iloc[0]), float(e["length_m"].iloc[0])
    iso = routing.isochrones(net, _latlon(300, 0), [1.0, 0.1 * tt], profile="car")
    # 1 s: a few metres each way; the area is the origin's neighbourhood only
    assert iso["reached_km"].iloc[0] == pytest.approx(2 * L / tt / 1000, rel=1e-9)
    assert iso.geometry.iloc[0].contains(_pt(300, 0))
    assert iso["area_km2"].iloc[0] < 0.03  # at most a 3 x 3 block of 50 m cells, and then some
    # 0.1 tt: 100 m each way from the snapped point, part of one edge in each direction
    assert iso["reached_km"].iloc[1] == pytest.approx(2 * 0.1 * L / 1000, rel=1e-9)
    ten = iso.geometry.iloc[1]
    assert ten.contains(_pt(210, 0)) and ten.contains(_pt(390, 0))
    assert not ten.contains(_pt(0, 0)) and not ten.contains(_pt(600, 0))


SQUARE = {1: (0, 0), 2: (2000, 0), 3: (2000, 2000), 4: (0, 2000), 5: (-300, 0), 6: (-300, -300),
          7: (0, -300)}  # fmt: skip
# a 2 km square ring road, and a 300 m block at its corner 1
RING = [[1, 2, 3, 4, 1], [1, 5, 6, 7, 1]]


def test_small_blocks_filled_large_fields_are_holes(tmp_path):
    net = geolog.read_osm(_osm(tmp_path / "ring.osm", SQUARE, RING))
    o = _latlon(0, 0)
    area = routing.isochrones(net, o, 3600, profile="car").geometry.iloc[0]
    assert area.contains(_pt(-150, -150))  # the block: 150 m from its roads, filled
    assert not area.contains(_pt(1000, 1000))  # the field: 1 km from every road
    assert len(area.interiors) == 1  # ... a hole in the area
    assert area.contains(_pt(1000, 0)) and area.contains(_pt(0, 1000))
    wide = routing.isochrones(net, o, 3600, profile="car", fill_m=1100).geometry.iloc[0]
    assert wide.contains(_pt(1000, 1000)) and not wide.interiors
    band = routing.isochrones(net, o, 3600, profile="car", kind="band").geometry.iloc[0]
    assert not band.contains(_pt(-150, -150)) and not band.contains(_pt(1000, 1000))
    none = routing.isochrones(net, o, 3600, profile="car", fill_m=0).geometry.iloc[0]
    assert not none.contains(_pt(-150, -150))


def test_large_areas_coarsen_the_grid_and_keep_the_roads(tmp_path, monkeypatch):
    from geolog import _iso_area

    net = geolog.read_osm(_osm(tmp_path / "ring.osm", SQUARE, RING))
    fine = routing.isochrones(net, _latlon(0, 0), 3600, profile="car").geometry.iloc[0]
    monkeypatch.setattr(_iso_area, "MAX_CELLS", 2_000)  # ~ 2.9 km square / 2,000 -> ~65 m cells
    coarse = routing.isochrones(net, _latlon(0, 0), 3600, profile="car").geometry.iloc[0]
    road = [_pt(x, y) for x in range(0, 2001, 250) for y in (0, 2000)]
    assert all(coarse.contains(p) for p in road) and all(fine.contains(p) for p in road)
    assert shapely.get_num_coordinates(coarse) < shapely.get_num_coordinates(fine)


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"kind": "blob"}, "kind must be one of 'area', 'band'"),
        ({"kind": None}, "kind must be one of"),
        ({"fill_m": -1}, "fill_m must be"),
        ({"fill_m": float("nan")}, "fill_m must be"),
        ({"fill_m": "200"}, "fill_m must be"),
        ({"fill_m": True}, "fill_m must be"),
        ({"buffer_m": 0}, "buffer_m must be"),
        ({"times_s": []}, "times_s must be positive"),
        ({"times_s": [600, -1]}, "times_s must be positive"),
    ],
)
def test_bad_arguments_raise_input_error(tmp_path, kwargs, what):
    net = geolog.read_osm(_osm(tmp_path / "road.osm", {1: (0, 0), 2: (1000, 0)}, [[1, 2]]))
    args = {"times_s": [60], **kwargs}
    with pytest.raises(InputError, match=what):
        routing.isochrones(net, _latlon(0, 0), profile="car", **args)


def test_numpy_numbers_are_numbers(tmp_path):
    net = geolog.read_osm(_osm(tmp_path / "road.osm", {1: (0, 0), 2: (1000, 0)}, [[1, 2]]))
    kw = {"buffer_m": np.int64(40), "fill_m": np.float32(100)}
    iso = routing.isochrones(net, _latlon(0, 0), np.array([60]), profile="car", **kw)
    assert iso["time_s"].tolist() == [60] and iso.geometry.iloc[0].contains(_pt(0, 0))


def test_cli_isochrone_kind(andorra, tmp_path, capsys):
    from geolog.cli import main

    andorra_file = andorra.save(tmp_path / "andorra.parquet")
    argv = ["isochrone", str(andorra_file), "--from", "42.5078,1.5211", "--minutes", "5"]
    for kind in ("area", "band"):
        assert main([*argv, "--kind", kind, "-o", str(tmp_path / f"{kind}.geojson")]) == 0
    said = capsys.readouterr().out
    assert "km²" in said
    area, band = (
        json.loads((tmp_path / f"{k}.geojson").read_text())["features"][0]["properties"]
        for k in ("area", "band")
    )
    assert area["reached_km"] == pytest.approx(band["reached_km"])
    assert area["area_km2"] > band["area_km2"] > 0
    assert main([*argv, "--kind", "blob", "-o", str(tmp_path / "x.geojson")]) == 2
    assert "blob" in capsys.readouterr().err
    assert not (tmp_path / "x.geojson").exists()
