"""Risk and contingency: exposure against shapely, viewsheds against line of sight
and gdal_viewshed, critical links against a networkx brute force."""

from __future__ import annotations

import json
import re
import subprocess
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import rasterio
import shapely
from _browser import browser, console_errors, open_page, requires_browser
from affine import Affine

import geolog
from geolog._viewshed import gdal_viewshed_path
from geolog.errors import GeologError, InputError
from geolog.risk import exposure_report, threat_zones, with_threats

GDAL = gdal_viewshed_path()
needs_gdal = pytest.mark.skipif(
    GDAL is None, reason="gdal_viewshed (Debian gdal-bin) is not installed"
)

A, B = (42.5078, 1.5211), (42.5440, 1.5140)


@pytest.fixture(scope="module")
def zones() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["town", "checkpoint"], "level": ["high", 0.5], "radius_m": [np.nan, 600.0]},
        geometry=[shapely.box(1.52, 42.50, 1.535, 42.515), shapely.Point(1.5212, 42.525)],
        crs=4326,
    )


@pytest.fixture(scope="module")
def threatened(andorra, zones):
    return andorra.with_threats(zones, profile="car", risk_weight=2.0)


def _metric_zone(zones, level, crs):
    """Independent: the zones of one level as one metric polygon (points buffered here)."""
    m = zones.to_crs(crs)
    geoms = [
        g.buffer(r, quad_segs=16) if g.geom_type == "Point" else g
        for g, r in zip(m.geometry, m["radius_m"], strict=True)
    ]
    lv = zones["level"].map(lambda v: v if isinstance(v, str) else "medium").to_numpy()
    return shapely.union_all([g for g, x in zip(geoms, lv, strict=True) if x == level])


# ----------------------------------------------------------------------------- threats


def test_exposure_equals_shapely_intersection_of_route(threatened, zones):
    r = geolog.route(threatened, A, B, weight="cost")
    crs = threatened.metric_crs()
    line = gpd.GeoSeries([r.geometry], crs=4326).to_crs(crs).iloc[0]
    high = line.intersection(_metric_zone(zones, "high", crs)).length
    medium = line.intersection(_metric_zone(zones, "medium", crs)).length
    assert high > 500 and medium > 100  # the route crosses both zones
    rep = exposure_report(r, zones=zones)
    assert rep["exposure_high_m"].sum() == pytest.approx(high, rel=1e-6, abs=0.01)
    assert rep["exposure_medium_m"].sum() == pytest.approx(medium, rel=1e-6, abs=0.01)
    assert rep["traversed_m"].sum() == pytest.approx(r.length_m)
    # the per-edge columns summed over the whole edges of a node-to-node route
    rn = geolog.routing.route_nodes(
        threatened, int(r.edges["u"].iloc[1]), int(r.edges["v"].iloc[-2])
    )
    line = gpd.GeoSeries([rn.geometry], crs=4326).to_crs(crs).iloc[0]
    want = line.intersection(_metric_zone(zones, "high", crs)).length
    got = threatened.edges["exposure_high_m"].to_numpy()[rn.rows].sum()
    assert got == pytest.approx(want, rel=1e-6, abs=0.01)
    secs = threatened.edges["exposure_high_s"].to_numpy()[rn.rows].sum()
    speed = (
        threatened.edges["travel_time_s"].to_numpy()[rn.rows]
        / threatened.edges["length_m"].to_numpy()[rn.rows]
    )
    assert secs <= got * speed.max() + 1e-6 and secs >= got * speed.min() - 1e-6


def test_rules_read_exposure_and_risk_cost_trades_time(threatened, zones):
    rules = {"priority": [{"if": "exposure_medium_m > 0", "multiply_by": 0}]}
    avoid = geolog.route(threatened.apply("car", rules), A, B)
    crs = threatened.metric_crs()
    line = gpd.GeoSeries([avoid.geometry], crs=4326).to_crs(crs).iloc[0]
    assert line.intersection(_metric_zone(zones, "medium", crs)).length < 1.0
    table = geolog.explain(rules, threatened)
    assert "exposure_medium_m" in " ".join(map(str, table.to_numpy().ravel()))
    fast = geolog.route(threatened, A, B, weight="cost")
    safe = geolog.route(threatened, A, B, weight="risk_cost")
    exp = threatened.edges["threat_score_m"].to_numpy()
    assert safe.duration_s >= fast.duration_s
    assert (exp[safe.rows] * (safe.f1 - safe.f0)).sum() < (
        exp[fast.rows] * (fast.f1 - fast.f0)
    ).sum()


def test_time_validity_applies_to_departures_in_the_window(andorra, zones):
    timed = zones.assign(
        valid_from=["2026-01-01T06:00Z", None], valid_to=["2026-01-01T18:00Z", None]
    )
    day = with_threats(andorra, timed, depart="2026-01-01T12:00Z")
    night = with_threats(andorra, timed, depart="2026-01-01T22:00Z")
    always = with_threats(andorra, timed)
    assert day.edges["exposure_high_m"].sum() > 0
    assert night.edges["exposure_high_m"].sum() == 0
    assert night.edges["exposure_medium_m"].sum() == pytest.approx(
        day.edges["exposure_medium_m"].sum()
    )
    assert always.edges["exposure_high_m"].sum() == pytest.approx(
        day.edges["exposure_high_m"].sum()
    )


# ----------------------------------------------------------------------------- bad input


def test_bad_zones_name_the_item(andorra, zones):
    with pytest.raises(InputError, match="'level' column"):
        threat_zones(zones.drop(columns="level"))
    with pytest.raises(InputError, match="zone 'checkpoint'.*level 'severe'"):
        threat_zones(zones.assign(level=["high", "severe"]))
    bow = shapely.Polygon([(1.5, 42.5), (1.52, 42.52), (1.52, 42.5), (1.5, 42.52)])
    with pytest.raises(InputError, match="zone 'town'.*invalid geometry.*Self-intersection"):
        threat_zones(zones.set_geometry([bow, zones.geometry.iloc[1]]))
    with pytest.raises(InputError, match="zone 'checkpoint'.*empty geometry"):
        threat_zones(zones.set_geometry([zones.geometry.iloc[0], shapely.Polygon()]))
    with pytest.raises(InputError, match="zone 'checkpoint'.*radius_m"):
        threat_zones(zones.assign(radius_m=[np.nan, -1.0]))
    with pytest.raises(InputError, match="site 'far'.*cannot be snapped"):
        geolog.critical_links(andorra, {"town": A, "far": (42.0, 1.0)}, profile="car")


# ----------------------------------------------------------------------------- viewshed

R_EARTH = 6378137.0  # GDAL takes the radius from the CRS's ellipsoid (WGS 84 here)


def _dem(z: np.ndarray, cell: float) -> geolog.DEM:
    return geolog.DEM(z, Affine(cell, 0, 500000.0, 0, -cell, 4700000.0), 32631)


def _line_of_sight(z: np.ndarray, cell: float, obs: tuple[int, int], h: float, t: float,
                   cc: float) -> np.ndarray:  # fmt: skip
    """Brute force: a target cell is visible if no cell the sight line passes is above it.

    Heights drop by ``cc · d² / 2R`` with distance ``d`` from the observer.
    """
    rows, cols = np.indices(z.shape)
    r0, c0 = obs
    d = np.hypot(rows - r0, cols - c0) * cell
    drop = cc / (2 * R_EARTH)
    eye = z[r0, c0] + h
    steps = int(np.ceil(max(z.shape) * 2))
    s = np.linspace(0, 1, steps + 1)[1:-1]
    rr = np.rint(r0 + np.multiply.outer(s, rows - r0)).astype(int)
    cc_ = np.rint(c0 + np.multiply.outer(s, cols - c0)).astype(int)
    # terrain of the cell the line crosses, lowered by the curvature at that distance
    ground = z[rr, cc_] - drop * np.multiply.outer(s, d) ** 2
    sight = eye + np.multiply.outer(s, z - drop * d**2 + t - eye)
    same = (rr == rows) & (cc_ == cols) | (rr == r0) & (cc_ == c0)
    return ~np.any((ground > sight) & ~same, axis=0)


@needs_gdal
@pytest.mark.parametrize("case", ["wall", "pit", "curvature"])
def test_viewshed_agrees_with_line_of_sight(case):
    n = 81
    z = np.full((n, n), 100.0)
    cell, obs = 10.0, (40, 10)
    if case == "wall":
        z[10:70, 40:42] = 140.0
    elif case == "pit":
        rows, cols = np.indices(z.shape)
        z[np.hypot(rows - 40, cols - 55) < 12] = 60.0
    else:
        cell, obs = 250.0, (40, 0)  # 20 km of flat ground: the horizon is ~11 km away
    dem = _dem(z, cell)
    lat, lon = _latlon(dem, *obs)
    vs = geolog.viewshed(dem, [(lat, lon)], height_m=2.0, target_height_m=2.0)
    want = _line_of_sight(z, cell, obs, 2.0, 2.0, 0.85714)
    got = vs.visible[0]
    assert got.shape == z.shape
    assert (got == want).mean() >= 0.99
    assert 0.05 < want.mean() < 0.95  # the case hides part of the grid
    if case == "wall":
        assert not got[40, 45:].any()  # straight behind the wall
    if case == "curvature":
        assert got[40, 30] and not got[40, 60]  # 7.5 km seen, 15 km under the horizon


def _latlon(dem, r, c):
    from pyproj import Transformer

    t = dem.transform
    x, y = t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e
    lon, lat = Transformer.from_crs(dem.crs, 4326, always_xy=True).transform(x, y)
    return lat, lon


@needs_gdal
def test_viewshed_matches_gdal_viewshed_on_andorra(andorra_dem, tmp_path):
    window = andorra_dem.clip((1.50, 42.50, 1.58, 42.56)).to_metric()
    obs = (42.53, 1.54)
    vs = geolog.viewshed(window, {"post": obs}, height_m=5, target_height_m=3,
                         max_distance_m=4000)  # fmt: skip
    src = tmp_path / "dem.tif"
    with rasterio.open(src, "w", driver="GTiff", width=window.shape[1], height=window.shape[0],
                       count=1, dtype="float32", crs=window.crs, transform=window.transform,
                       nodata=-9999) as ds:  # fmt: skip
        ds.write(np.where(np.isfinite(window.array), window.array, -9999).astype("float32"), 1)
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, window.crs, always_xy=True).transform(obs[1], obs[0])
    out = tmp_path / "vs.tif"
    subprocess.run([GDAL, "-q", "-ox", str(x), "-oy", str(y), "-oz", "5", "-tz", "3",
                    "-md", "4000", "-cc", "0.85714", "-vv", "1", "-iv", "0", "-ov", "0",
                    str(src), str(out)], check=True)  # fmt: skip
    with rasterio.open(out) as ds:
        direct = ds.read(1)
        col0 = (ds.transform.c - window.transform.c) / window.transform.a
        row0 = (ds.transform.f - window.transform.f) / window.transform.e
    r0, c0 = round(row0), round(col0)
    ours = vs.visible[0][r0 : r0 + direct.shape[0], c0 : c0 + direct.shape[1]]
    assert ours.shape == direct.shape
    assert (ours == (direct == 1)).mean() >= 0.99
    assert 0.02 < ours.mean() < 0.98
    assert not vs.visible[0][: max(r0, 0)].any()  # nothing beyond the range


@needs_gdal
def test_with_visibility_matches_sampling_and_bad_observers(andorra, andorra_dem):
    window = andorra_dem.clip((1.50, 42.50, 1.58, 42.56))
    vs = geolog.viewshed(window, {"post": (42.53, 1.54), "ridge": (42.515, 1.56)})
    assert vs.visible.shape[0] == 2
    assert (vs.combined == (vs.visible[0] | vs.visible[1])).all()
    net = andorra.with_visibility(vs)
    e = net.edges.to_crs(vs.crs)
    inside = e.geometry.within(shapely.box(*rasterio.transform.array_bounds(
        *vs.combined.shape, vs.transform)[:4]))  # fmt: skip
    # independent: vertices of each edge densified every 5 m, sampled with rasterio's rowcol
    dense = shapely.segmentize(e.geometry[inside].to_numpy(), 5.0)
    frac = []
    for g in dense:
        xy = shapely.get_coordinates(g)
        rr, cc = rasterio.transform.rowcol(vs.transform, xy[:, 0], xy[:, 1])
        frac.append(vs.combined[np.asarray(rr), np.asarray(cc)].mean())
    got = net.edges.loc[inside[inside].index, "visible_frac"].to_numpy()
    assert np.mean(np.abs(got - np.asarray(frac))) < 0.05
    assert got.max() == 1.0 and got.min() == 0.0
    assert (net.edges["visible_m"] <= net.edges["length_m"] + 1e-9).all()
    with pytest.raises(InputError, match="observer 'sea'.*off the DEM"):
        geolog.viewshed(window, {"post": (42.53, 1.54), "sea": (43.7, 7.4)})


# ----------------------------------------------------------------------------- critical links


MONACO_SITES = {
    "port": (43.7350, 7.4215),
    "station": (43.7390, 7.4195),
    "casino": (43.7395, 7.4280),
    "fontvieille": (43.7290, 7.4150),
}


@pytest.fixture(scope="module")
def monaco():
    return geolog.read_osm(geolog.data.path("monaco")).apply("car")


def _pair_times(G, nodes):
    out = {}
    for s in nodes:
        d = nx.single_source_dijkstra_path_length(G, s, weight="travel_time_s")
        for t in nodes:
            if t != s:
                out[s, t] = d.get(t, np.inf)
    return out


def test_critical_links_equal_networkx_brute_force(monaco):
    table = geolog.critical_links(monaco, MONACO_SITES)
    sites = table.attrs["sites"]
    nodes = monaco.nodes.index.to_numpy()[sites["node"].to_numpy()].tolist()
    e = monaco.edges[np.isfinite(monaco.edges["cost"])]
    G = nx.DiGraph()
    for u, v, w in zip(e["u"], e["v"], e["travel_time_s"], strict=True):  # min over parallels
        if not G.has_edge(u, v) or G[u][v]["travel_time_s"] > w:
            G.add_edge(u, v, travel_time_s=w)
    multi = {}
    for lab, u, v, w in zip(e.index, e["u"], e["v"], e["travel_time_s"], strict=True):
        multi.setdefault((u, v), []).append((w, lab))
    base = _pair_times(G, nodes)
    finite = {k: v for k, v in base.items() if np.isfinite(v)}
    assert table.attrs["total_s"] == pytest.approx(sum(finite.values()))
    tp = monaco.twin_positions()
    labels = monaco.edges.index.to_numpy()
    twin = dict(zip(labels, labels[np.maximum(tp, 0)], strict=True))
    brute = {}
    done = set()
    for lab in e.index:  # every usable link, both directions removed
        link = frozenset([lab] + ([twin[lab]] if tp[monaco.edges.index.get_loc(lab)] >= 0 else []))
        if link in done:
            continue
        done.add(link)
        saved = {}
        for x in link:
            u, v = monaco.edges.loc[x, "u"], monaco.edges.loc[x, "v"]
            rest = [w for w, other in multi.get((u, v), []) if other not in link]
            if G.has_edge(u, v):
                saved[u, v] = G[u][v]["travel_time_s"]
                G.remove_edge(u, v)
            if rest:
                G.add_edge(u, v, travel_time_s=min(rest))
        new = _pair_times(G, nodes)
        for (u, v), w in saved.items():  # put the link back
            G.add_edge(u, v, travel_time_s=w)
        cut = sum(1 for k in finite if not np.isfinite(new[k]))
        added = sum(new[k] - finite[k] for k in finite if np.isfinite(new[k]))
        if cut or added > 1e-6:
            brute[link] = (cut, added)
    got = {
        frozenset([r.edge] + ([r.twin] if r.twin >= 0 else [])): (r.cut_pairs, r.added_s)
        for r in table.itertuples()
        if r.cut_pairs or r.added_s > 1e-6
    }
    assert len(brute) > 10
    assert set(got) == set(brute)
    for k, (cut, added) in brute.items():
        assert got[k][0] == cut and got[k][1] == pytest.approx(added, rel=1e-9, abs=1e-6)
    # the ranking: most pairs cut, then most time added
    keys = list(zip(-table["cut_pairs"], -table["added_s"], strict=True))
    assert keys == sorted(keys)


def test_contingency_detours_avoid_each_stretch(monaco):
    r = geolog.route(monaco, MONACO_SITES["fontvieille"], MONACO_SITES["casino"])
    links = geolog.critical_links(monaco, {"from": r.origin, "to": r.destination}, top=5)
    for segments in ("road", links):
        table = geolog.contingency(monaco, r, segments=segments)
        assert len(table) > 0
        for row in table[table["detour_exists"]].itertuples():
            assert row.extra_s >= -1e-6
            assert row.advice.startswith(f"if {row.stretch} is closed, go via")
    table = geolog.contingency(monaco, r)
    crs = monaco.metric_crs()
    names = r.edges["name"].fillna("").astype(str)
    checked = 0
    for row in table[table["detour_exists"]].itertuples():
        closed = r.edges[names.eq(row.stretch)]
        if closed.empty:
            continue
        used = gpd.GeoSeries([row.geometry], crs=4326).to_crs(crs).iloc[0]
        road = shapely.union_all(closed.to_crs(crs).geometry.to_numpy())
        assert used.intersection(road.buffer(0.01)).length < 1.0
        checked += 1
    assert checked > 0


def test_public_names():
    assert geolog.viewshed is geolog.risk.viewshed
    assert geolog.critical_links is geolog.risk.critical_links
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert callable(geolog.contingency)
    assert issubclass(InputError, GeologError)


@needs_gdal
def test_map_layers_escape_names(andorra, andorra_dem, zones):
    import folium

    from geolog.maps import critical_links_layer, threat_layer, viewshed_layer

    evil = zones.assign(name=["<script>alert(1)</script>", "checkpoint"])
    window = andorra_dem.clip((1.50, 42.50, 1.58, 42.56))
    vs = geolog.viewshed(window, {"<b>post</b>": (42.53, 1.54)})
    links = geolog.critical_links(andorra, {"a": A, "b": B}, profile="car", top=3)
    m = folium.Map(tiles=None)
    for layer in (threat_layer(evil), viewshed_layer(vs), critical_links_layer(links)):
        layer.add_to(m)
    html = m.get_root().render()
    assert "<script>alert(1)" not in html
    assert "\\u0026lt;script\\u0026gt;alert(1)" in html  # escaped, then JSON-encoded
    assert "<b>post</b>" not in html and "observer &lt;b&gt;post" in html
    assert "#1 " in html and "threat: high" in html


def test_exposure_report_of_a_plan(andorra_terrain, zones):
    stops = [
        {"id": "S1", "lat": 42.5063, "lon": 1.5218, "demand": [100], "service_s": 300},
        {"id": "S2", "lat": 42.5089, "lon": 1.5386, "demand": [100], "service_s": 300},
    ]
    fleet = [{"name": "van", "count": 1, "capacity": [1000], "profile": "car", "depot": "D",
              "shift_start_s": 7 * 3600, "shift_end_s": 15 * 3600}]  # fmt: skip
    depots = [{"id": "D", "lat": 42.463704, "lon": 1.490886}]
    p = geolog.plan(andorra_terrain, depots, stops, fleet, time_limit_s=1.0)
    rep = exposure_report(p, zones=zones)
    assert len(rep) == len(p.routes) and (rep["vehicle"] == p.routes["vehicle"].to_numpy()).all()
    crs = andorra_terrain.metric_crs()
    legs = p.routes.to_crs(crs).geometry
    for level in ("high", "medium"):
        want = legs.intersection(_metric_zone(zones, level, crs)).length.to_numpy()
        np.testing.assert_allclose(rep[f"exposure_{level}_m"], want, rtol=1e-6, atol=0.01)
    assert rep["exposure_high_m"].sum() > 0


def test_cli_risk_writes_map_and_lists_links(zones, tmp_path, capsys):
    from geolog.cli import main

    zfile = tmp_path / "zones.geojson"
    zones.to_file(zfile)
    sfile = tmp_path / "sites.geojson"
    gpd.GeoDataFrame(
        {"name": ["<i>depot</i>", "town"]},
        geometry=[shapely.Point(A[1], A[0]), shapely.Point(B[1], B[0])],
        crs=4326,
    ).to_file(sfile)
    out = tmp_path / "risk.html"
    osm = str(geolog.data.path("andorra"))
    argv = ["risk", osm, "--threats", str(zfile), "--sites", str(sfile), "--top", "3"]
    assert main([*argv, "-o", str(out)]) == 0
    html = out.read_text()
    assert "threat zones" in html and "critical links" in html and "<i>depot" not in html
    printed = capsys.readouterr().out
    assert "critical links" in printed and "wrote" in printed
    bad = tmp_path / "bad.geojson"
    zones.drop(columns="level").to_file(bad)
    assert main(["risk", osm, "--threats", str(bad), "-o", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'level' column" in err[0]
    assert not (tmp_path / "x.html").exists()
    # geolog brief --threats --contingency: the risk section, equal to exposure_report
    bfile = tmp_path / "brief.html"
    ends = ["--from", f"{A[0]},{A[1]}", "--to", f"{B[0]},{B[1]}"]
    argv = ["brief", osm, *ends, "--threats", str(zfile), "--contingency", "-o", str(bfile)]
    assert main(argv) == 0
    page = bfile.read_text(encoding="utf-8")
    r = geolog.route(geolog.read_osm(osm, network="drive"), A, B, profile="car")
    want = exposure_report(r, zones=zones)["exposure_high_m"].sum()
    assert float(_risk_rows(page)["inside high threat zones"]) == pytest.approx(want, abs=0.5)
    assert "If a stretch is closed" in page
    argv = ["brief", osm, *ends, "--threats", str(bad), "-o", str(tmp_path / "y.html")]
    assert main(argv) == 2
    assert "'level' column" in capsys.readouterr().err
    assert not (tmp_path / "y.html").exists()


# ----------------------------------------------------------------------------- briefing

RISK_PAYLOAD = "{{7*7}}<img src=x onerror=alert(1)>"


def _risk_rows(page: str) -> dict[str, str]:
    """First two cells of each row of the risk section: label -> metres text."""
    sec = re.search(r'<section id="risk">(.*?)</section>', page, re.S)
    assert sec, "no risk section"
    return dict(re.findall(r"<tr><td>([^<]*)</td><td class=num>([^<]*)</td>", sec.group(1)))


@needs_gdal
@requires_browser
def test_briefing_risk_section_matches_report_and_escapes(threatened, andorra_dem, zones, tmp_path):
    evil = zones.assign(name=[RISK_PAYLOAD, "checkpoint"])
    vs = geolog.viewshed(andorra_dem.clip((1.50, 42.50, 1.58, 42.56)), {"post": (42.53, 1.54)})
    r = geolog.route(threatened, A, B, weight="cost")
    table = geolog.contingency(threatened, r)
    assert table["detour_exists"].any()
    table.loc[0, ["stretch", "advice"]] = RISK_PAYLOAD  # untrusted road name
    out = geolog.briefing(threatened, r, title="risk", threats=evil, viewshed=vs,
                          contingency=table, path=tmp_path / "risk.html")  # fmt: skip
    page = out.read_text(encoding="utf-8")
    rep = exposure_report(r, zones=evil, viewshed=vs)
    rows = _risk_rows(page)
    for label, col in [("inside high threat zones", "exposure_high_m"),
                       ("inside medium threat zones", "exposure_medium_m"),
                       ("inside any threat zone", "exposure_m"),
                       ("in view of observer post", "visible_post_m")]:  # fmt: skip
        assert float(rows[label]) == pytest.approx(rep[col].sum(), abs=0.5)
    assert rep["exposure_high_m"].sum() > 500 and rep["visible_post_m"].sum() > 0
    # per zone: independent shapely intersection in UTM
    crs = threatened.metric_crs()
    line = gpd.GeoSeries([r.geometry], crs=4326).to_crs(crs).iloc[0]
    town = gpd.GeoSeries([evil.geometry.iloc[0]], crs=4326).to_crs(crs).iloc[0]
    esc = "&#123;&#123;7*7}}&lt;img src=x onerror=alert(1)&gt;"
    zone = re.search(f"<tr><td>{re.escape(esc)}</td><td>high</td><td class=num>([^<]*)</td>", page)
    assert float(zone.group(1)) == pytest.approx(line.intersection(town).length, abs=0.5)
    m = re.search(r'<script type="application/json" id="geolog-data">(.*?)</script>', page, re.S)
    data = json.loads(m.group(1))["risk"][0]
    assert data["exposure"]["exposure_high_s"] == pytest.approx(rep["exposure_high_s"].sum())
    assert len(data["contingency"]) == len(table)
    assert "<img src=x" not in page
    with browser() as d:
        open_page(d, out, ready_js="window.geologMapReady")
        text = d.execute_script("return document.getElementById('risk').textContent")
        assert text.count(RISK_PAYLOAD) == 3  # zone row, closed stretch, advice
        assert "If a stretch is closed" in text and "min" in text
        assert d.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
        assert (
            d.execute_script("return document.querySelectorAll('path.geolog-threat').length") == 2
        )
        assert (
            d.execute_script("return document.querySelectorAll('img.geolog-viewshed').length") == 1
        )
        assert console_errors(d) == []


def test_briefing_without_risk_arguments_has_no_risk_section(threatened):
    r = geolog.route(threatened, A, B, weight="cost")
    page = geolog.briefing(threatened, r, title="plain")
    assert 'id="risk"' not in page and "Risks and contingencies" not in page
    assert '"risk"' not in page and "geolog-threat" not in page
