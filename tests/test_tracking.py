"""Tracking: traces read and cleaned, HMM map matching, speeds, calibration, detours, CLI."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import gpxpy
import gpxpy.gpx
import numpy as np
import pandas as pd
import pytest
import shapely

import geolog
from geolog.errors import InputError
from geolog.tracking import (
    calibrate_profile,
    clean_trace,
    deviations,
    match,
    read_trace,
    simulate_trace,
    speed_table,
)

A, B = (42.5078, 1.5211), (42.5440, 1.5140)
DETOUR_VIA = (42.5350, 1.5800)


@pytest.fixture(scope="module")
def planned(andorra):
    return geolog.route(andorra, A, B, profile="car")


def _recall(route, m) -> float:
    """Share of the route's edges (the truth the trace was simulated from) matched."""
    truth = set(route.edges["edge"])
    return len(truth & set(m.edges["edge"])) / len(truth)


# ----------------------------------------------------------------------------- reading, cleaning


def test_gpx_track_reads_back_with_times(tmp_path):
    gpx = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack(name="truck <7>")
    seg = gpxpy.gpx.GPXTrackSegment()
    t0 = pd.Timestamp("2026-03-01T10:00:00Z")
    pts = [(42.50 + i * 1e-4, 1.52 + i * 2e-4) for i in range(5)]
    for i, (la, lo) in enumerate(pts):
        seg.points.append(gpxpy.gpx.GPXTrackPoint(la, lo, time=(t0 + pd.Timedelta(seconds=5 * i))))
    trk.segments.append(seg)
    gpx.tracks.append(trk)
    p = tmp_path / "t.gpx"
    p.write_text(gpx.to_xml())
    tr = read_trace(p)
    assert list(tr["vehicle"].unique()) == ["truck <7>"]
    np.testing.assert_allclose(tr[["lat", "lon"]].to_numpy(), np.array(pts))
    assert (tr["time"].diff().dt.total_seconds().iloc[1:] == 5).all()


def test_gpx_route_without_times_is_refused(tmp_path):
    gpx = gpxpy.gpx.GPX()
    rte = gpxpy.gpx.GPXRoute(name="planned")
    rte.points += [gpxpy.gpx.GPXRoutePoint(42.5, 1.52), gpxpy.gpx.GPXRoutePoint(42.51, 1.53)]
    gpx.routes.append(rte)
    p = tmp_path / "r.gpx"
    p.write_text(gpx.to_xml())
    with pytest.raises(InputError, match="no <time>"):
        read_trace(p)


def test_clean_trace_sorts_drops_duplicates_and_jumps_reports_gaps():
    t0 = pd.Timestamp("2026-03-01T10:00:00Z")
    secs = np.r_[np.arange(0, 20, 2), np.arange(400, 420, 2)]  # one 382 s gap
    lat = 42.5 + secs * 1e-5  # about 1.1 m/s north
    tr = pd.DataFrame(
        {"vehicle": "v", "time": t0 + pd.to_timedelta(secs, unit="s"), "lat": lat, "lon": 1.52}
    )
    jump = tr.iloc[[5]].assign(lat=43.0, time=t0 + pd.Timedelta(seconds=11))  # 55 km away
    dup = tr.iloc[[3]]
    raw = pd.concat([tr, jump, dup]).sample(frac=1.0, random_state=1)
    c = clean_trace(raw, max_speed_kph=200, gap_s=120)
    rep = c.attrs["cleaning"]["v"]
    assert rep["duplicates"] == 1 and rep["jumps"] == 1 and rep["kept"] == len(tr)
    assert rep["unsorted"] > 0
    pd.testing.assert_series_equal(c["time"], tr["time"].reset_index(drop=True))
    gaps = pd.DataFrame(c.attrs["gaps"])
    assert len(gaps) == 1 and gaps["duration_s"].iloc[0] == pytest.approx(382.0)


def test_csv_with_missing_time_names_the_fix(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("vehicle,time,lat,lon\nv,2026-03-01T10:00:00Z,42.5,1.52\nv,,42.51,1.53\n")
    with pytest.raises(InputError, match="fix 1 has no timestamp"):
        read_trace(p)


# ----------------------------------------------------------------------------- matching


@pytest.mark.parametrize("noise_m", [10.0, 20.0, 30.0])
def test_matching_recovers_the_driven_edges(andorra, planned, noise_m):
    for seed in (1, 2):
        tr = simulate_trace(planned, noise_m=noise_m, seed=seed)
        m = match(andorra, tr, profile="car", sigma_m=max(noise_m, 20.0))
        assert _recall(planned, m) >= 0.95, (noise_m, seed)


def test_match_times_and_geometry_follow_the_truth(andorra, planned):
    tr = simulate_trace(planned, noise_m=10.0, seed=3)
    m = match(andorra, tr, profile="car")
    e = m.edges
    assert m.breaks.empty and e["segment"].nunique() == 1
    # entry times never go back and the path covers the trace's span
    assert (e["entry_time"].diff().dt.total_seconds().iloc[1:] >= -1e-6).all()
    assert (e["exit_time"] >= e["entry_time"]).all()
    assert e["traversed_m"].sum() == pytest.approx(planned.length_m, rel=0.05)
    # the matched line stays within a few noise sigmas of the driven route
    assert shapely.hausdorff_distance(m.geometry, planned.geometry) < 3e-4 * 3  # ~100 m
    # observed speed on long edges: the profile speed the simulation drove at
    long = e[(e["traversed_m"] > 300) & (e["fraction_start"] == 0) & (e["fraction_end"] == 1)]
    assert len(long) >= 3
    np.testing.assert_allclose(long["speed_kph"], long["profile_speed_kph"], rtol=0.1)
    assert e["confidence"].between(0, 1).all()


def test_a_detour_is_detected(andorra, planned):
    drove = geolog.route(andorra, A, B, via=[DETOUR_VIA], profile="car")
    m = match(andorra, simulate_trace(drove, noise_m=20.0, seed=4), profile="car")
    d = deviations(m, planned)
    assert len(d) >= 1
    # the detour runs through the via point and is as long as the extra distance, roughly
    assert (
        shapely.distance(shapely.union_all(d.geometry.to_numpy()), shapely.Point(DETOUR_VIA[::-1]))
        < 1e-3
    )
    assert d["length_m"].sum() > 0.5 * (drove.length_m - planned.length_m)
    on_plan = match(andorra, simulate_trace(planned, noise_m=20.0, seed=5), profile="car")
    assert deviations(on_plan, planned).empty


def test_speed_calibration_recovers_the_simulating_profile(andorra_terrain):
    d = geolog.get_profile("truck").to_dict()
    d["grade_model"] = {**d["grade_model"], "power_kw": 150.0}
    d["name"] = "weaker truck"
    # the grade curve alone: no turn seconds (the simulator would spend them
    # standing at junctions, which a per-edge speed fit cannot tell from slow driving)
    d["turn_costs"] = {"u_turn_s": 0, "sharp_s": 0, "left_s": 0, "right_s": 0}
    truth = geolog.profiles.Profile.from_dict(d)
    pts = [A, B, (42.5676, 1.5977), (42.4640, 1.4920), (42.5350, 1.5800), A]
    routes = [
        geolog.route(andorra_terrain, a, b, profile=truth)
        for a, b in zip(pts[:-1], pts[1:], strict=True)
    ]
    tr = simulate_trace(routes, noise_m=15.0, seed=3)
    m = match(andorra_terrain, tr, profile="truck")
    cal = calibrate_profile(m, "truck")
    grades = np.linspace(0.03, 0.15, 13)
    np.testing.assert_allclose(
        cal.grade_speed_kph(grades), truth.grade_speed_kph(grades), rtol=0.05
    )
    # the default truck is too fast on climbs: the table says so
    table = speed_table(m)
    steep = table[table["grade_band"].astype(str).str.startswith("+4 % to +8 %")]
    assert len(steep) and (steep["ratio"] < 0.9).all()
    assert steep["finding"].str.contains("the profile assumes").all()


# ----------------------------------------------------------------------------- bad input


def test_bad_traces_are_refused_clearly(andorra, planned):
    tr = simulate_trace(planned, noise_m=10.0, seed=1)
    with pytest.raises(InputError, match="clean_trace"):
        match(andorra, tr.iloc[::-1], profile="car")
    with pytest.raises(InputError, match="at least two"):
        match(andorra, tr.iloc[:1], profile="car")
    two = pd.concat([tr, tr.assign(vehicle="other")])
    with pytest.raises(InputError, match="2 vehicles"):
        match(andorra, two, profile="car")
    assert match(andorra, two, profile="car", vehicle="other").vehicle == "other"
    far = tr.assign(lat=tr["lat"] + 1.0)  # 111 km north
    with pytest.raises(InputError, match="within radius_m"):
        match(andorra, far, profile="car")
    with pytest.raises(InputError, match="no 'time'"):
        match(andorra, tr.drop(columns="time"), profile="car")


def test_fixes_far_from_the_roads_break_the_match(andorra, planned):
    tr = simulate_trace(planned, noise_m=10.0, seed=1)
    mid = slice(len(tr) // 2, len(tr) // 2 + 30)
    tr.loc[tr.index[mid], "lon"] += 0.02  # 1.6 km east, off the roads
    m = match(andorra, tr, profile="car")
    off = m.breaks[m.breaks["kind"] == "off network"]
    assert len(off) >= 1
    assert m.edges["segment"].nunique() >= 2
    assert (
        not m.fixes.loc[m.fixes.index[mid], "used"].any()
        or m.fixes.loc[m.fixes.index[mid], "distance_m"].max() <= m.params["radius_m"]
    )


# ----------------------------------------------------------------------------- files and CLI


def test_match_result_files_read_back(andorra, planned, tmp_path):
    m = match(andorra, simulate_trace(planned, noise_m=10.0, seed=1), profile="car")
    gj = m.to_file(tmp_path / "m.geojson")
    back = gpd.read_file(gj)
    assert len(back) == len(m.edges)
    back_s = (pd.to_datetime(back["entry_time"], utc=True) - m.edges["entry_time"].iloc[0]).dt
    want_s = (m.edges["entry_time"] - m.edges["entry_time"].iloc[0]).dt
    np.testing.assert_allclose(back_s.total_seconds(), want_s.total_seconds(), atol=1e-3)
    g = m.to_file(tmp_path / "m.gpkg")
    import pyogrio

    assert sorted(name for name, _ in pyogrio.list_layers(g)) == ["edges", "fixes"]
    assert len(gpd.read_file(g, layer="fixes")) == len(m.fixes)
    assert json.loads(m.to_geojson())["type"] == "FeatureCollection"
    # partners' formats, read back by independent readers
    import xml.etree.ElementTree as ET

    import gpxpy

    gpx = gpxpy.parse(m.to_file(tmp_path / "m.gpx").read_text())
    assert len(gpx.waypoints) == len(m.fixes)
    first = gpx.tracks[0].segments[0].points[0]
    x0, y0 = m.edges.geometry.iloc[0].coords[0]
    assert abs(first.longitude - x0) < 1e-6 and abs(first.latitude - y0) < 1e-6
    kml = ET.parse(m.to_file(tmp_path / "m.kml"))
    marks = kml.getroot().iter("{http://www.opengis.net/kml/2.2}Placemark")
    assert sum(1 for _ in marks) == len(m.edges) + len(m.fixes)


def test_cli_match_writes_the_result(andorra, planned, tmp_path):
    from geolog.cli import main

    p = tmp_path / "t.csv"
    simulate_trace(planned, noise_m=10.0, seed=1).to_csv(p, index=False)
    out = tmp_path / "m.geojson"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        rc = main(["match", str(p), str(geolog.data.path("andorra")), "-o", str(out), "-p", "car"])
    assert rc == 0 and len(gpd.read_file(out)) > 10
    assert (
        main(["match", str(p), str(geolog.data.path("andorra")), "-o", str(tmp_path / "m.shp")])
        == 2
    )


# ----------------------------------------------------------------------------- plan vs actual


@pytest.fixture(scope="module")
def andorra_plan():
    net = geolog.read_osm(geolog.data.path("andorra"), network="truck")
    d = geolog.data.path("andorra").parent / "plan"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        return net, geolog.plan(
            net, d / "depots.geojson", d / "stops.geojson", d / "fleet.yaml", time_limit_s=2
        )


def test_plan_vs_actual_measures_a_late_start(andorra_plan):
    from geolog.tracking import plan_vs_actual

    net, p = andorra_plan
    v = str(p.itinerary["vehicle"].iloc[0])
    it = p.itinerary[p.itinerary["vehicle"] == v].sort_values("seq")
    pts = p.points.iloc[it["point"].to_numpy()]
    ll = list(zip(pts["lat"], pts["lon"], strict=True))
    legs = [geolog.route(net, a, b, profile="truck") for a, b in zip(ll[:-1], ll[1:], strict=True)]
    service = (it["depart_s"] - it["start_s"]).to_numpy(dtype=float)[1:]
    late_s = 600.0
    leave = pd.Timestamp("2026-05-04", tz="UTC") + pd.Timedelta(
        seconds=float(it["depart_s"].iloc[0]) + late_s
    )
    n_done = min(3, len(legs) - 1)  # the vehicle is at its third stop: the rest are pending
    tr = simulate_trace(
        legs[:n_done], noise_m=15.0, start=leave, vehicle=v, stops_s=list(service[:n_done]), seed=2
    )
    pr = plan_vs_actual(p, match(net, tr, profile="truck"))
    s = pr.stops
    done = s[s["status"] == "arrived"]
    assert len(done) == n_done and (s["status"] == "pending").sum() == len(s) - n_done
    # every stop reached about as late as the vehicle left (the plan's legs are the routes driven)
    np.testing.assert_allclose(done["delay_s"], late_s, atol=45)
    np.testing.assert_allclose(s["eta_delay_s"].dropna(), late_s, atol=90)
    assert pr.deviations.empty
    assert pr.summary()["arrived"] == n_done


def test_tracking_map_escapes_names_and_marks_hot_spots(andorra, planned, tmp_path):
    from geolog._map_tracking import delays

    hostile = "<script>alert('x')</script>"
    tr = simulate_trace(planned, noise_m=10.0, seed=1, vehicle=hostile)
    # 5 min without a fix mid-route (a halt): the edges between lose that time
    tr.loc[tr.index[200:], "time"] += pd.Timedelta(minutes=5)
    m = match(andorra, tr, profile="car")
    hot = delays(m, min_loss_s=30)
    assert hot["lost_s"].sum() == pytest.approx(300, abs=60)
    t_gap = tr["time"].iloc[200]
    assert (hot["entry_time"] <= t_gap).all() and (hot["exit_time"] >= tr["time"].iloc[199]).all()
    html = m.to_map().get_root().render()
    assert hostile not in html and "alert" in html  # there, but escaped
    assert "delay hot spots" in html and "matched route" in html


def test_briefing_tracking_section(andorra_plan, tmp_path):
    from geolog.tracking import plan_vs_actual

    net, p = andorra_plan
    v = str(p.itinerary["vehicle"].iloc[0])
    it = p.itinerary[p.itinerary["vehicle"] == v].sort_values("seq")
    pts = p.points.iloc[it["point"].to_numpy()]
    ll = list(zip(pts["lat"], pts["lon"], strict=True))
    leg = geolog.route(net, ll[0], ll[1], profile="truck")
    leave = pd.Timestamp("2026-05-04", tz="UTC") + pd.Timedelta(
        seconds=float(it["depart_s"].iloc[0])
    )
    hostile = "<img src=x onerror=alert(1)>"
    tr = simulate_trace(leg, noise_m=15.0, start=leave, vehicle=v, seed=2)
    pr = plan_vs_actual(p, match(net, tr, profile="truck"))
    pr.vehicle = hostile
    pr.match.vehicle = hostile
    html = geolog.briefing(net, leg, title="Run", tracking=pr, basemap=False, osm_tiles=False)
    assert 'id="tracking"' in html and hostile not in html
    assert str(pr.stops["id"].iloc[0]) in html and "ETA" in html
