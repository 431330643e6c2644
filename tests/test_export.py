"""Exports for partners: every format read back by an independent reader.

GPX by gpxpy, GeoPackage and GeoJSON by GDAL (pyogrio) and json, KML by
xml.etree and GDAL's KML driver; values checked against the route, the plan
and the network's node elevations computed here.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import xml.etree.ElementTree as ET

import geopandas as gpd
import gpxpy
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod

import geolog
from geolog.errors import InputError

A, B = (42.5078, 1.5211), (42.5440, 1.5140)
DAY = dt.date(2026, 12, 2)
HOSTILE = "<script>alert(1)</script> ]]> & {{7*7}} \x1b[31mred\x07"
XML_SAFE = HOSTILE.replace("\x1b", "\ufffd").replace("\x07", "\ufffd")  # XML 1.0 cannot hold them
KML = {"k": "http://www.opengis.net/kml/2.2"}
DEPOTS = [{"id": "SUD", "lat": 42.463704, "lon": 1.490886}]
STOPS = [
    {"id": "S1", "name": HOSTILE, "lat": 42.5380, "lon": 1.5840, "demand": 3},
    {"id": "S2", "name": "Ordino", "lat": 42.5560, "lon": 1.5331, "demand": 2},
    {"id": "S3", "name": "Arinsal", "lat": 42.5720, "lon": 1.4843, "demand": 4},
    {"id": "S4", "name": "Soldeu", "lat": 42.5767, "lon": 1.6676, "demand": 99},  # too heavy
]
FLEET = [
    {"name": "truck", "count": 2, "capacity": [6], "profile": "truck", "depot": "SUD",
     "shift_start_s": 7 * 3600, "shift_end_s": 15 * 3600},
]  # fmt: skip


@pytest.fixture(scope="module")
def route(andorra_terrain):
    return geolog.route(andorra_terrain, A, B, profile="car")


@pytest.fixture(scope="module")
def plan(andorra_terrain):
    return geolog.plan(andorra_terrain, DEPOTS, STOPS, FLEET, time_limit_s=1)


def _node_z(net, xy):
    """Elevation of the network node at each vertex that is one (NaN elsewhere)."""
    nodes = net.nodes
    nxy = nodes[["x", "y"]].to_numpy()
    z = nodes["elevation"].to_numpy()
    out = np.full(len(xy), np.nan)
    for i, p in enumerate(xy):
        hit = np.flatnonzero(np.all(np.abs(nxy - p) < 1e-7, axis=1))
        if len(hit):
            out[i] = z[hit[0]]
    return out


def _clock(seconds):
    return [dt.datetime.combine(DAY, dt.time()) + dt.timedelta(seconds=round(s)) for s in seconds]


# ------------------------------------------------------------------ Route


def test_route_gpx_rte_trk_and_ele(route, tmp_path):
    gpx = gpxpy.parse((route.to_file(tmp_path / "r.gpx")).read_text())
    assert len(gpx.tracks) == 1 and len(gpx.routes) == 1
    trk = gpx.tracks[0]
    pts = trk.segments[0].points
    xy = shapely.get_coordinates(route.geometry)
    got = np.array([[p.longitude, p.latitude] for p in pts])
    np.testing.assert_allclose(got, xy, atol=1e-7)
    ele = np.array([p.elevation for p in pts])
    at_nodes = _node_z(route._net, xy)
    known = np.isfinite(at_nodes)
    assert known.sum() > 10
    np.testing.assert_allclose(ele[known], at_nodes[known], atol=0.5)
    assert f"{route.length_m / 1000:.2f} km" in trk.description
    assert trk.name == gpx.name == f"geolog route ({route.profile_name})"
    rte = [(p.latitude, p.longitude) for p in gpx.routes[0].points]
    np.testing.assert_allclose(rte, route.snapped[["lat", "lon"]].to_numpy(), atol=1e-7)
    assert [w.name for w in gpx.waypoints] == ["origin", "destination"]


def test_route_kml_line_and_style(route, tmp_path):
    out = route.to_file(tmp_path / "r.kml")
    root = ET.parse(out).getroot()
    pm = root.find(".//k:Folder[k:name='route']/k:Placemark", KML)
    coords = pm.find(".//k:LineString/k:coordinates", KML).text.split()
    xyz = np.array([[float(v) for v in c.split(",")] for c in coords])
    np.testing.assert_allclose(xyz[:, :2], shapely.get_coordinates(route.geometry), atol=1e-7)
    style = root.find(f".//k:Style[@id='{pm.find('k:styleUrl', KML).text[1:]}']", KML)
    assert len(style.find("k:LineStyle/k:color", KML).text) == 8
    data = {d.get("name"): d.find("k:value", KML).text for d in pm.iter(f"{{{KML['k']}}}Data")}
    assert float(data["length_m"]) == pytest.approx(route.length_m, rel=1e-6)
    assert {"route", "stops"} == {n for n, _ in pyogrio.list_layers(out)}  # GDAL's KML driver


def test_route_gpkg_layers(route, tmp_path):
    out = route.to_file(tmp_path / "r.gpkg")
    assert {n for n, _ in pyogrio.list_layers(out)} == {"route", "legs", "edges", "stops"}
    line = gpd.read_file(out, layer="route")
    assert line.geometry.iloc[0].has_z
    np.testing.assert_allclose(
        shapely.get_coordinates(line.geometry.iloc[0]), shapely.get_coordinates(route.geometry)
    )
    stops = gpd.read_file(out, layer="stops")
    assert list(stops["role"]) == list(route.snapped["role"])


def test_route_with_via_has_one_leg_per_stretch(andorra_terrain, tmp_path):
    via = (42.5345, 1.5807)
    r = geolog.route(andorra_terrain, A, B, via=[via], profile="car")
    legs = gpd.read_file(r.to_file(tmp_path / "r.gpkg"), layer="legs")
    assert list(legs["name"]) == ["origin to via 1", "via 1 to destination"]
    geod = Geod(ellps="WGS84")
    lengths = [geod.geometry_length(g) for g in legs.geometry]
    np.testing.assert_allclose(lengths, legs["length_m"], rtol=1e-3)
    assert sum(lengths) == pytest.approx(r.length_m, rel=1e-3)
    ends = np.array([g.coords[-1] for g in legs.geometry])[:, ::-1]
    np.testing.assert_allclose(ends, r.snapped[["lat", "lon"]].to_numpy()[1:], atol=1e-6)
    gpx = gpxpy.parse(r.to_file(tmp_path / "r.gpx").read_text())
    assert [p.name for p in gpx.routes[0].points] == ["origin", "via 1", "destination"]


# ------------------------------------------------------------------ Plan


def test_plan_gpkg_layers_and_types(plan, tmp_path):
    out = plan.to_file(tmp_path / "p.gpkg", date=DAY)
    assert {n for n, _ in pyogrio.list_layers(out)} == {"routes", "legs", "stops", "depots"}
    stops = gpd.read_file(out, layer="stops")
    assert stops["served"].dtype == bool
    assert list(stops["served"]) == list(plan.stops["served"])
    assert not stops["served"].all()  # the heavy stop is unserved
    served = plan.stops["served"].to_numpy()
    assert list(stops["arrival"][served]) == _clock(plan.stops["arrival_s"][served])
    assert stops["arrival"][~served].isna().all()
    assert stops["name"].iloc[0] == HOSTILE  # literal, control characters included
    legs = gpd.read_file(out, layer="legs")
    assert legs["distance_m"].sum() == plan.routes["distance_m"].sum()
    assert list(legs["depart"]) == _clock(plan.routes["depart_s"])
    for got, want in zip(legs.geometry, plan.routes.geometry, strict=True):
        xyz = shapely.get_coordinates(got, include_z=True)
        np.testing.assert_allclose(xyz[:, :2], shapely.get_coordinates(want), atol=1e-9)
        z = _node_z(plan._net, xyz[:, :2])
        ok = np.isfinite(z)
        np.testing.assert_allclose(xyz[ok, 2], z[ok], atol=1e-6)
    routes = gpd.read_file(out, layer="routes")
    per_vehicle = plan.routes.groupby("vehicle")["distance_m"].sum()
    assert dict(zip(routes["vehicle"], routes["distance_m"], strict=True)) == per_vehicle.to_dict()
    assert (routes["stops"].sum(), len(gpd.read_file(out, layer="depots"))) == (3, 1)


def test_plan_geojson_typed(plan, tmp_path):
    out = plan.to_file(tmp_path / "p.geojson", date="2026-12-02")
    feats = json.loads(out.read_text())["features"]
    stops = [f["properties"] for f in feats if f["properties"]["kind"] == "stop"]
    assert all(isinstance(s["served"], bool) for s in stops)
    times = [dt.datetime.fromisoformat(s["arrival"]) for s in stops if s["served"]]
    assert times and all(t.date() == DAY for t in times)
    assert stops[0]["name"] == HOSTILE
    back = pyogrio.read_dataframe(out)  # GDAL reads it too
    assert len(back) == len(feats)


def test_plan_gpx_per_vehicle(plan, tmp_path):
    gpx = gpxpy.parse(plan.to_file(tmp_path / "p.gpx", date=DAY).read_text())
    vehicles = list(dict.fromkeys(plan.routes["vehicle"]))
    assert [r.name for r in gpx.routes] == vehicles == [t.name for t in gpx.tracks]
    for trk, rte in zip(gpx.tracks, gpx.routes, strict=True):
        legs = plan.routes[plan.routes["vehicle"] == trk.name]
        assert len(trk.segments) == len(legs)
        for seg, geom in zip(trk.segments, legs.geometry, strict=True):
            got = [[p.longitude, p.latitude] for p in seg.points]
            np.testing.assert_allclose(got, shapely.get_coordinates(geom), atol=1e-7)
            assert all(p.elevation is not None for p in seg.points)
        visits = plan.itinerary[plan.itinerary["vehicle"] == trk.name]
        assert [p.name for p in rte.points] == list(visits["id"])
    wpt = {w.name: w for w in gpx.waypoints}
    assert len(gpx.waypoints) == len(plan.stops) + 1 and "SUD" in wpt
    assert XML_SAFE in wpt  # the hostile name, literally (U+FFFD for the control characters)
    s1 = plan.stops.set_index("id").loc["S1"]
    assert wpt[XML_SAFE].time.replace(tzinfo=None) == _clock([s1["arrival_s"]])[0]


def test_plan_kml_one_colour_per_vehicle(plan, tmp_path):
    out = plan.to_file(tmp_path / "p.kml", date=DAY)
    root = ET.parse(out).getroot()
    colour = {
        s.get("id"): s.find("k:LineStyle/k:color", KML).text
        for s in root.iter(f"{{{KML['k']}}}Style")
    }
    legs = root.findall(".//k:Folder[k:name='legs']/k:Placemark", KML)
    by_vehicle: dict = {}
    for pm in legs:
        veh = pm.find(".//k:Data[@name='vehicle']/k:value", KML).text
        by_vehicle.setdefault(veh, set()).add(colour[pm.find("k:styleUrl", KML).text[1:]])
    assert set(by_vehicle) == set(plan.routes["vehicle"])
    assert all(len(c) == 1 for c in by_vehicle.values())
    assert len(set().union(*by_vehicle.values())) == len(by_vehicle)
    names = [pm.find("k:name", KML).text for pm in root.iter(f"{{{KML['k']}}}Placemark")]
    assert XML_SAFE in names
    s1 = [
        pm
        for pm in root.iter(f"{{{KML['k']}}}Placemark")
        if pm.find("k:name", KML).text == XML_SAFE
    ]
    assert s1[0].find("k:TimeStamp/k:when", KML).text.startswith("2026-12-02T")
    assert len(pyogrio.list_layers(out)) == 4


# ------------------------------------------------------------------ frames, failures, CLI


def _frame():
    return gpd.GeoDataFrame(
        {"name": [HOSTILE, "b"], "description": [f"{HOSTILE} desc", ""], "ok": [True, False], "n": [1, 2],
         "when": pd.to_datetime(["2026-12-02T08:00", "2026-12-02T09:30"])},
        geometry=[shapely.LineString([(1.5, 42.5, 1000), (1.51, 42.51, 1010)]),
                  shapely.Point(1.52, 42.52)],
        crs="EPSG:4326",
    )  # fmt: skip


@pytest.mark.parametrize("suffix", [".gpx", ".kml", ".geojson", ".gpkg"])
def test_hostile_text_round_trips(tmp_path, suffix):
    out = geolog.to_file(_frame(), tmp_path / f"f{suffix}")
    if suffix == ".gpx":
        gpx = gpxpy.parse(out.read_text())
        assert gpx.tracks[0].name == XML_SAFE and gpx.waypoints[0].name == "b"
        assert gpx.tracks[0].segments[0].points[1].elevation == 1010
    elif suffix == ".kml":
        root = ET.parse(out).getroot()  # well-formed
        assert root.find(".//k:Placemark/k:name", KML).text == XML_SAFE
        desc = root.find(".//k:Placemark/k:description", KML).text
        assert "<script" not in desc and html.unescape(desc) == f"{XML_SAFE} desc"  # shown, not run
    else:
        back = pyogrio.read_dataframe(out)
        assert back["name"].iloc[0] == HOSTILE
        assert back["ok"].tolist() == [True, False] and back["ok"].dtype == bool
        if suffix == ".gpkg":
            assert back["when"].iloc[1] == pd.Timestamp("2026-12-02T09:30")
        else:
            assert json.loads(out.read_text())["features"][1]["properties"]["when"] == (
                "2026-12-02T09:30:00"
            )


def test_failed_writes_leave_the_old_file(tmp_path, plan):
    area = gpd.GeoDataFrame(geometry=[shapely.box(1.5, 42.5, 1.51, 42.51)], crs=4326)
    # GPX has no areas; GDAL refuses the second layer's name after writing the first
    for suffix, bad, why in (
        (".gpx", area, "areas"),
        (".gpkg", {"ok": _frame(), "gpkg_x": _frame()}, "gpkg_x"),
    ):
        old = tmp_path / f"keep{suffix}"
        old.write_text("keep me")
        with pytest.raises(InputError, match=why):
            geolog.to_file(bad, old)
        assert old.read_text() == "keep me"
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    with pytest.raises(InputError, match=r"\.gpx.*\.kml.*\.gpkg"):
        plan.to_file(tmp_path / "p.shp")
    with pytest.raises(InputError, match=r"\.kml"):
        geolog.to_file(_frame(), tmp_path / "f.txt")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        plan.to_file(tmp_path / "p.gpkg", date="2 Dec")


def test_isochrones_as_kml_and_gpkg(andorra, tmp_path):
    iso = geolog.isochrones(andorra, A, [300, 600], profile="car")
    out = geolog.to_file(iso, tmp_path / "iso.kml", color_by="time_s")
    root = ET.parse(out).getroot()
    pms = root.findall(".//k:Placemark", KML)
    assert len(pms) == len(iso)
    ids = {pm.find("k:styleUrl", KML).text for pm in pms}
    assert len(ids) == 2  # one colour per band
    back = gpd.read_file(geolog.to_file(iso, tmp_path / "iso.gpkg"), layer="features")
    np.testing.assert_allclose(
        shapely.area(back.geometry.values), shapely.area(iso.geometry.values)
    )
    with pytest.raises(InputError, match="kml"):
        geolog.to_file(iso, tmp_path / "iso.gpx")


def test_cli_route_and_plan_outputs(andorra_terrain, tmp_path):
    from geolog.cli import main

    net = andorra_terrain.save(tmp_path / "net.parquet")
    base = ["route", str(net), "--from", "42.5078,1.5211", "--to", "42.5440,1.5140"]
    assert main([*base, "-o", str(tmp_path / "r.gpx")]) == 0
    assert len(gpxpy.parse((tmp_path / "r.gpx").read_text()).tracks) == 1
    assert main([*base, "-o", str(tmp_path / "r.kml")]) == 0
    assert ET.parse(tmp_path / "r.kml").getroot().tag == f"{{{KML['k']}}}kml"
    assert main([*base, "-o", str(tmp_path / "r.shp")]) == 2
    plan_dir = geolog.data.path("andorra").parent / "plan"
    args = ["plan", str(net), "--depots", str(plan_dir / "depots.geojson"), "--stops",
            str(plan_dir / "stops.geojson"), "--fleet", str(plan_dir / "fleet.yaml"),
            "--time-limit", "1", "--date", "2026-12-02", "-o", str(tmp_path / "p.gpx")]  # fmt: skip
    assert main(args) == 0
    gpx = gpxpy.parse((tmp_path / "p.gpx").read_text())
    assert gpx.routes and gpx.routes[0].points[0].time.date() == DAY


def test_threat_zones_as_kml_gpkg_geojson(tmp_path):
    raw = gpd.GeoDataFrame(
        {"name": [HOSTILE, "ridge"], "level": ["high", "low"]},
        geometry=[shapely.box(1.50, 42.50, 1.52, 42.52), shapely.box(1.55, 42.55, 1.56, 42.56)],
        crs="EPSG:4326",
    )
    zones = geolog.risk.threat_zones(raw)
    root = ET.parse(geolog.to_file(zones, tmp_path / "z.kml", color_by="level")).getroot()
    pms = root.findall(".//k:Placemark", KML)
    assert [pm.find("k:name", KML).text for pm in pms] == [XML_SAFE, "ridge"]
    ring = pms[1].find(".//k:outerBoundaryIs/k:LinearRing/k:coordinates", KML).text.split()
    got = np.array([[float(v) for v in c.split(",")] for c in ring])
    np.testing.assert_allclose(got, shapely.get_coordinates(zones.geometry.iloc[1]), atol=1e-7)
    assert len({pm.find("k:styleUrl", KML).text for pm in pms}) == 2
    for suffix in (".gpkg", ".geojson"):
        back = pyogrio.read_dataframe(geolog.to_file(zones, tmp_path / f"z{suffix}", layer="zones"))
        assert list(back["name"]) == [HOSTILE, "ridge"] and list(back["level"]) == ["high", "low"]
        assert shapely.equals(back.geometry.to_numpy(), zones.geometry.to_numpy()).all()


def test_time_zones_single_layers_and_empty_input(tmp_path):
    f = _frame().assign(
        when=pd.to_datetime(["2026-12-02T08:00", "2026-12-02T09:30"]).tz_localize("Europe/Andorra")
    )
    back = pyogrio.read_dataframe(geolog.to_file(f, tmp_path / "f.gpkg"))
    assert str(back["when"].dt.tz) == "UTC"  # GeoPackage date-times are UTC
    assert back["when"].iloc[0] == pd.Timestamp("2026-12-02T07:00", tz="UTC")
    props = json.loads(geolog.to_file(f, tmp_path / "f.geojson").read_text())["features"][0]
    assert "kind" not in props["properties"]  # one layer: nothing added
    assert dt.datetime.fromisoformat(props["properties"]["when"]) == dt.datetime(
        2026, 12, 2, 7, tzinfo=dt.UTC
    )
    with pytest.raises(InputError, match="at least one layer"):
        geolog.to_file({}, tmp_path / "e.gpkg")
    with pytest.raises(InputError, match="Route, a Plan"):
        geolog.to_file(42, tmp_path / "e.gpkg")
    assert not list(tmp_path.glob("e.*"))
