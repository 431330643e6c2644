"""Cross-country movement: synthetic DEMs with hand-computed times, Andorra checks against
independent oracles (GDAL's OSM reader for land cover, the road router for hybrid bounds)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import rasterio
import shapely
from _browser import (
    MAP_READY_JS,
    browser,
    console_errors,
    external_requests,
    open_page,
    requires_browser,
)
from affine import Affine
from pyproj import Transformer

import geolog
from geolog.errors import DEMError, InputError, NoRouteError
from geolog.offroad import hybrid_route, offroad_isochrones, offroad_route, offroad_surface

CELL = 30.0  # metres
UTM = "EPSG:32631"
X0, Y0 = 400_000.0, 4_700_000.0  # north-west corner of the synthetic grids
TO_LL = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
FOOT_FLAT_KPH = 0.6 * 6 * math.exp(-3.5 * 0.05)  # Tobler on the flat, off path


def write_dem(tmp_path, z, name="dem.tif"):
    """Write ``z`` (rows north to south) as a GeoTIFF on a 30 m UTM grid; open it as a DEM."""
    path = tmp_path / name
    t = Affine(CELL, 0, X0, 0, -CELL, Y0)
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float32", crs=UTM, transform=t) as dst:  # fmt: skip
        dst.write(z.astype("float32"), 1)
    return geolog.DEM.open(path)


def cell_point(row, col):
    """(lat, lon) of a cell centre."""
    lon, lat = TO_LL.transform(X0 + (col + 0.5) * CELL, Y0 - (row + 0.5) * CELL)
    return (lat, lon)


def tobler_off_path(grade):
    return 0.6 * 6 * math.exp(-3.5 * abs(grade + 0.05))


@pytest.fixture
def flat(tmp_path):
    return write_dem(tmp_path, np.full((60, 60), 500.0))


@pytest.mark.parametrize(
    ("neighbours", "start", "end", "metres"),
    [
        (16, (30, 10), (30, 50), 40 * CELL),  # along a row
        (16, (10, 10), (50, 50), 40 * CELL * math.sqrt(2)),  # diagonal
        (16, (10, 10), (50, 30), 20 * CELL * math.sqrt(5)),  # knight's-move line, exact with 16
        (8, (10, 10), (50, 30), 20 * CELL * (1 + math.sqrt(2))),  # 8 neighbours: octile detour
    ],
)
def test_flat_plane_times_equal_hand_values(flat, neighbours, start, end, metres):
    r = offroad_route(flat, cell_point(*start), cell_point(*end), neighbours=neighbours)
    assert r.duration_s == pytest.approx(metres / (FOOT_FLAT_KPH / 3.6), rel=1e-9)
    assert r.length_m == pytest.approx(metres, rel=1e-9)
    assert set(r.edges["kind"]) == {"offroad"}


def test_flat_plane_vehicle_runs_at_table_speed(flat):
    r = offroad_route(flat, cell_point(30, 5), cell_point(30, 55), profile="tracked")
    table = geolog.offroad.load_landcover_table(None)
    assert r.duration_s == pytest.approx(50 * CELL / (table.profiles["tracked"]["speed_kph"] / 3.6))


def test_uniform_incline_is_anisotropic_and_equals_tobler(tmp_path):
    s = 0.10  # 10 % rising to the north
    rows = np.arange(60)[:, None]
    dem = write_dem(tmp_path, (59 - rows) * CELL * s + np.zeros((60, 60)))
    up = offroad_route(dem, cell_point(50, 30), cell_point(10, 30))
    down = offroad_route(dem, cell_point(10, 30), cell_point(50, 30))
    run = 40 * CELL
    assert up.duration_s == pytest.approx(run / (tobler_off_path(s) / 3.6), rel=1e-6)
    assert down.duration_s == pytest.approx(run / (tobler_off_path(-s) / 3.6), rel=1e-6)
    assert up.ascent_m == pytest.approx(40 * CELL * s, rel=1e-5)
    assert down.descent_m == pytest.approx(40 * CELL * s, rel=1e-5)


def test_naismith_langmuir_by_hand():
    import pandas as pd

    from geolog.offroad import naismith_s

    # 5 km flat, then 600 m up over 3 km, then 300 m down at 8.5 deg, then 300 m down at 30 deg
    d8, d30 = 300 / math.tan(math.radians(8.5)), 300 / math.tan(math.radians(30))
    prof = pd.DataFrame({
        "distance_m": np.cumsum([0, 5000, 3000, d8, d30]),
        "elevation_m": [1000, 1000, 1600, 1300, 1000],
    })  # fmt: skip
    plain = (5000 + 3000 + d8 + d30) / 5000 + 1.0  # hours
    assert naismith_s(prof, langmuir=False) == pytest.approx(plain * 3600)
    assert naismith_s(prof) == pytest.approx(plain * 3600 - 600 + 600)  # -10 min, +10 min
    steep = prof.assign(elevation_m=[1000, 1000, 1600, 1600, 1300])
    assert naismith_s(steep) == pytest.approx(naismith_s(steep, langmuir=False) + 600)


def cliff_dem(tmp_path):
    """100 m high ground north of row 30, 0 m south of it: a cliff across the whole grid."""
    return write_dem(
        tmp_path, np.where(np.arange(60)[:, None] < 30, 100.0, 0.0) + np.zeros((60, 60))
    )


def test_no_go_band_is_never_crossed(tmp_path):
    dem = cliff_dem(tmp_path)
    a, b = cell_point(50, 30), cell_point(10, 30)
    for profile in ("foot", "tracked"):
        with pytest.raises(NoRouteError, match="slopes beyond"):
            offroad_route(dem, a, b, profile=profile)


def test_no_go_band_detour_through_the_gap(tmp_path):
    z = np.where(np.arange(60)[:, None] < 30, 100.0, 0.0) + np.zeros((60, 60))
    z[:, 45:50] = np.clip((59 - np.arange(60)) * (100 / 59), 0, 100)[:, None]  # 5.6 % ramp
    dem = write_dem(tmp_path, z)
    surf = offroad_surface(dem, profile="tracked")
    r = offroad_route(surf, cell_point(50, 10), cell_point(10, 10))
    leg = r.parts[0][1]
    steps = np.hypot(np.diff(leg.x), np.diff(leg.y))
    grades = np.diff(leg.z) / steps
    assert np.abs(grades).max() <= 0.6 + 1e-9  # no step steeper than the tracked limit
    row, col = surf.rc_of(leg.x, leg.y)
    assert (surf.factor[row, col] > 0).all()  # only passable cells
    assert ((col >= 45) & (col < 50)).any()  # it went through the ramp
    assert r.length_m > 40 * CELL * 1.5  # a real detour


@pytest.fixture(scope="module")
def andorra_surface(andorra_dem):
    return offroad_surface(andorra_dem, profile="foot", landcover=geolog.data.path("andorra"))


def test_offroad_leg_time_recomputed_from_its_cells(andorra_surface):
    """The leg's time equals Tobler × land-cover factors summed over its own steps."""
    r = offroad_route(andorra_surface, (42.5078, 1.5211), (42.5440, 1.5140))
    leg = r.parts[0][1]
    s = andorra_surface
    row, col = s.rc_of(leg.x, leg.y)
    f = s.factor[row, col]
    d = np.hypot(np.diff(leg.x), np.diff(leg.y))
    g = np.diff(leg.z) / d
    v = 0.6 * 6 * np.exp(-3.5 * np.abs(g + 0.05)) / 3.6
    t = 0.5 * d * (1 / (v * f[:-1]) + 1 / (v * f[1:]))
    assert r.duration_s == pytest.approx(t.sum(), rel=1e-9)
    assert np.allclose(leg.z, s.dem.array[row, col])


@pytest.mark.parametrize("landcover", [False, True])
def test_hybrid_never_slower_than_road_or_offroad(andorra_terrain, andorra_dem, landcover):
    """Random pairs; without land cover (open ground) every bound is a number, with it the
    rivers cut pure off-road routes (water is impassable) and only the road bounds remain."""
    andorra = andorra_terrain
    andorra_surface = offroad_surface(
        andorra_dem, landcover=geolog.data.path("andorra") if landcover else None
    )
    rng = np.random.default_rng(15)
    checked = compared = 0
    for _ in range(6):
        a = (42.50 + rng.uniform(0, 0.06), 1.50 + rng.uniform(0, 0.06))
        b = (42.50 + rng.uniform(0, 0.06), 1.50 + rng.uniform(0, 0.06))
        try:
            pure = offroad_route(andorra_surface, a, b).duration_s
        except (NoRouteError, InputError):
            pure = math.inf
        h = hybrid_route(andorra, andorra_surface, a, b, profile="foot")
        assert h.duration_s <= pure * (1 + 1e-9)
        road = geolog.route(andorra, a, b, profile="foot", weight="travel_time_s")
        sn = road.snapped
        so, sd = (sn.lat[0], sn.lon[0]), (sn.lat[1], sn.lon[1])
        road_access = 1.5 * min(andorra_surface.dem.res)  # ROAD_ACCESS_CELLS, at the road end
        try:
            walk = offroad_route(andorra_surface, a, so, max_snap_m=road_access).duration_s
            walk += offroad_route(andorra_surface, sd, b, max_snap_m=road_access).duration_s
        except (NoRouteError, InputError):
            walk = math.inf  # no walk to or from the road: nothing to compare with
        assert h.duration_s <= (walk + road.duration_s) * (1 + 1e-9)
        compared += int(np.isfinite(walk)) + int(np.isfinite(pure))
        assert h.duration_s == pytest.approx(h.segments["duration_s"].sum())
        assert h.duration_s == pytest.approx(h.edges["traversed_s"].sum())
        turns = h.edges["turn_s"].to_numpy()  # off-road legs turn nowhere; roads as their Route
        assert (turns[(h.edges["kind"] == "offroad").to_numpy()] == 0).all()
        assert turns.sum() == pytest.approx(h.turn_s) and h.turn_after_s.sum() == h.turn_s
        checked += 1
    assert checked == 6 and compared >= (6 if landcover else 10)  # most bounds are numbers


def test_route_offroad_true_takes_the_dem_from_terrain(andorra_terrain, andorra):
    a, b = (42.5078, 1.5211), (42.5440, 1.5140)
    r = geolog.route(andorra_terrain, a, b, profile="foot", offroad=True)
    kinds = set(r.edges["kind"])
    assert kinds <= {"road", "offroad"} and "road" in kinds
    prof = r.profile()
    assert prof["distance_m"].iloc[-1] == pytest.approx(r.length_m, rel=1e-6)
    assert set(prof["kind"]) == kinds
    with pytest.raises(DEMError, match="with_terrain"):
        geolog.route(andorra, a, b, profile="foot", offroad=True)


def test_landcover_shares_match_gdal_rasterisation(andorra_surface):
    """Forest, water and built-up cells equal an independent rasterisation (GDAL's OSM driver)."""
    import geopandas as gpd
    from rasterio.features import rasterize

    path = str(geolog.data.path("andorra"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mp = gpd.read_file(path, layer="multipolygons")
        ln = gpd.read_file(path, layer="lines")
    other = mp["other_tags"].fillna("")
    cls = np.full(len(mp), "", dtype=object)
    order = {"scrub": 1, "forest": 2, "scree": 3, "wetland": 4, "built_up": 5, "water": 6,
             "building": 7}  # fmt: skip
    rules = [
        ("scrub", mp["natural"].isin(["scrub", "heath"])),
        ("forest", mp["landuse"].eq("forest") | mp["natural"].eq("wood")),
        ("scree", mp["natural"].isin(["scree", "bare_rock", "shingle"])),
        ("wetland", mp["natural"].eq("wetland")),
        ("built_up", mp["landuse"].isin(["residential", "commercial", "industrial", "retail"])),
        ("water", mp["natural"].eq("water") | mp["landuse"].isin(["reservoir", "basin"])
         | other.str.contains('"waterway"=>"riverbank"')),
        ("building", mp["building"].notna()),
    ]  # fmt: skip
    for name, m in rules:  # the later rule wins, as in the table's class order
        cls[m.to_numpy()] = name
    s = andorra_surface
    mp = mp[cls != ""].assign(c=[order[c] for c in cls[cls != ""]]).to_crs(s.crs)
    rivers = ln[ln["waterway"].isin(["river", "canal"])].to_crs(s.crs)
    width = np.where(rivers["waterway"] == "river", 10.0, 8.0)
    out = np.zeros(s.shape, dtype=np.uint8)
    for c in range(1, 8):
        sel = mp[mp["c"] == c]
        if len(sel):
            rasterize(sel.geometry, out=out, transform=s.transform, default_value=c)
        if c == order["water"] and len(rivers):
            rasterize(shapely.buffer(rivers.geometry.values, width / 2), out=out,
                      transform=s.transform, default_value=c, all_touched=True)  # fmt: skip
    names = s.table.classes
    valid = np.isfinite(s.dem.array)
    for name in ("forest", "water", "built_up"):
        mine = (s.landcover == names.index(name)) & valid
        theirs = (out == order[name]) & valid
        assert theirs.sum() > 100, name  # the class is really there
        agree = (mine == theirs)[mine | theirs].mean()  # agreement on the class's cells
        assert agree >= 0.99, (name, agree, mine.sum(), theirs.sum())
        share = s.class_shares()[name]
        assert share == pytest.approx(theirs.sum() / valid.sum(), rel=0.01)


def test_offroad_isochrones_grow_and_combined_reach_further(andorra_terrain, andorra_surface):
    o = (42.5078, 1.5211)
    iso = offroad_isochrones(andorra_surface, o, [900, 1800])
    assert list(iso["time_s"]) == [900, 1800]
    m = iso.to_crs(andorra_surface.crs).geometry  # compare in metres, 1 m for reprojection
    assert m.iloc[1].buffer(1.0).contains(m.iloc[0])
    # a walker covers at most 3.6 km/h (Tobler's peak, off path) in a straight line
    c = shapely.Point(o[1], o[0])
    far = (
        iso.to_crs(andorra_surface.crs)
        .geometry.iloc[1]
        .hausdorff_distance(gpd_point(c, andorra_surface.crs))
    )
    assert far <= 3600 / 3600 * 1800 + 100
    both = offroad_isochrones(andorra_surface, o, [1800], net=andorra_terrain)
    assert both["area_km2"].iloc[0] > iso["area_km2"].iloc[1]
    assert both.to_crs(andorra_surface.crs).geometry.iloc[0].buffer(1.0).contains(m.iloc[1])


def gpd_point(p, crs):
    import geopandas as gpd

    return gpd.GeoSeries([p], crs=4326).to_crs(crs).iloc[0]


def test_bad_input_errors_say_what_to_do(flat, tmp_path, andorra_surface):
    with pytest.raises(InputError, match="off the DEM"):
        offroad_route(flat, (10.0, 10.0), cell_point(5, 5))
    z = np.full((60, 60), 500.0)
    dem = write_dem(tmp_path, z, "lake.tif")
    lake = geolog.offroad.offroad_surface(
        dem,
        barriers=[
            shapely.box(*TO_LL.transform(X0, Y0 - 60 * CELL), *TO_LL.transform(X0 + 40 * CELL, Y0))
        ],  # fmt: skip
    )
    with pytest.raises(InputError, match="no passable cell within"):
        offroad_route(lake, cell_point(30, 10), cell_point(30, 55))
    with pytest.raises(InputError, match="unknown land-cover class 'lava'"):
        offroad_surface(flat, table={"classes": {"open": {"foot": 1, "vehicle": 1}},
                                     "tags": {"natural=lava": "lava"}})  # fmt: skip
    with pytest.raises(InputError, match="class codes"):
        from geolog.terrain import Raster

        codes = Raster(np.full((60, 60), 42, dtype=np.uint8), flat.transform, flat.crs)
        offroad_surface(flat, landcover=codes)
    with pytest.raises(InputError, match="neighbours"):
        offroad_surface(flat, neighbours=4)


@requires_browser
def test_map_draws_offroad_legs_dashed_and_the_pace_overlay(tmp_path, andorra_terrain,
                                                            andorra_surface):  # fmt: skip
    h = hybrid_route(andorra_terrain, andorra_surface, (42.5078, 1.5211), (42.5440, 1.5140))
    n_off = int((h.edges["kind"] == "offroad").sum())
    assert n_off >= 1
    path = tmp_path / "offroad.html"
    geolog.map(route=h, offroad=andorra_surface).save(str(path))
    with browser() as d:
        open_page(d, path, ready_js=MAP_READY_JS)
        dashed = d.execute_script(
            "return Array.from(document.querySelectorAll('path.geolog-offroad'))"
            ".map(p => p.getAttribute('stroke-dasharray'))"
        )
        assert len(dashed) == n_off and all(dashed)
        solid = d.execute_script(
            "return Array.from(document.querySelectorAll('path.geolog-route:not(.geolog-offroad)'))"
            ".filter(p => !p.getAttribute('stroke-dasharray')).length"
        )
        assert solid == len(h.edges) - n_off
        assert (
            d.execute_script(
                "return document.querySelectorAll('img.geolog-offroad-surface').length"
            )
            == 0
        )  # off at opening
        d.execute_script(  # tick the overlay in the layer control
            "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
            ".find(l => l.textContent.includes('off-road pace')).querySelector('input').click()"
        )
        assert (
            d.execute_script(
                "return document.querySelectorAll('img.geolog-offroad-surface').length"
            )
            == 1
        )
        assert console_errors(d) == []
        assert external_requests(d) == []


def test_cli_offroad_route_and_isochrone(tmp_path, capsys):
    from geolog.cli import main

    osm, dem = str(geolog.data.path("andorra")), str(geolog.data.dem_path("andorra"))
    out = tmp_path / "r.geojson"
    args = ["route", osm, "--from", "42.5078,1.5211", "--to", "42.5440,1.5140", "-p", "foot"]
    assert main([*args, "--offroad", "--dem", dem, "-o", str(out)]) == 0
    props = json.loads(out.read_text())["features"][0]["properties"]
    assert props["offroad_m"] > 0 and props["duration_s"] > 0
    printed = capsys.readouterr().out
    assert "cross country" in printed and "km of it off-road" in printed
    assert main([*args, "--offroad"]) == 2  # no DEM: one line, exit 2
    err = capsys.readouterr().err
    assert "needs a DEM" in err and "Traceback" not in err
    iso = tmp_path / "iso.geojson"
    argv = ["isochrone", osm, "--from", "42.5078,1.5211", "--minutes", "10,20", "-p", "foot"]
    assert main([*argv, "--offroad", "--dem", dem, "-o", str(iso)]) == 0
    feats = json.loads(iso.read_text())["features"]
    assert [f["properties"]["time_s"] for f in feats] == [600, 1200]
    assert main([*argv[:3], "43.5,1.5", "--offroad", "--dem", dem, "-o", str(iso)]) == 2
    assert "off the DEM" in capsys.readouterr().err


def test_barriers_slow_or_block(flat):
    import geopandas as gpd

    a, b = cell_point(30, 10), cell_point(30, 50)
    base = offroad_route(flat, a, b).duration_s
    everywhere = shapely.box(*TO_LL.transform(X0 - 100, Y0 - 61 * CELL), *TO_LL.transform(
        X0 + 61 * CELL, Y0 + 100))  # fmt: skip
    half = gpd.GeoDataFrame({"factor": [0.5]}, geometry=[everywhere], crs=4326)
    assert offroad_route(flat, a, b, barriers=half).duration_s == pytest.approx(2 * base)
    # a rule set's named area across the whole grid (rows 25-35) blocks the way north
    w, s_ = TO_LL.transform(X0 - 100, Y0 - 35 * CELL)
    e, n = TO_LL.transform(X0 + 61 * CELL, Y0 - 25 * CELL)
    rules = geolog.load_rules(
        {"areas": {"closed": shapely.geometry.mapping(shapely.box(w, s_, e, n))}}
    )
    with pytest.raises(NoRouteError):
        offroad_route(flat, cell_point(45, 30), cell_point(10, 30), barriers=rules)


def test_tracked_vehicle_leaves_a_mountain_road(andorra_terrain, andorra_dem):
    """Valley roads sit on cells steeper than a vehicle's limit; the carrier still gets off them."""
    tracked = offroad_surface(andorra_dem, profile="tracked")
    a, b = (42.5650, 1.4870), (42.6068, 1.4646)  # valley road to the ridge (notebook 07)
    h = hybrid_route(andorra_terrain, tracked, a, b, profile="tracked")
    assert list(h.segments["kind"]) == ["offroad", "road", "offroad"]
    try:
        pure = offroad_route(tracked, a, b).duration_s
    except (NoRouteError, InputError):
        pure = math.inf
    assert h.duration_s <= pure
    assert h.duration_s == pytest.approx(h.edges["traversed_s"].sum())


def test_landcover_from_a_raster_or_a_frame_sets_the_factor(flat, tmp_path):
    import geopandas as gpd

    table = geolog.offroad.load_landcover_table(None)
    forest = table.classes.index("forest")
    a, b = cell_point(30, 10), cell_point(30, 50)
    base = offroad_route(flat, a, b).duration_s
    tif = tmp_path / "landcover.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=60, height=60, count=1, dtype="uint8",
                       crs=UTM, transform=flat.transform) as dst:  # fmt: skip
        dst.write(np.full((60, 60), forest, dtype="uint8"), 1)
    woods = offroad_route(flat, a, b, landcover=str(tif)).duration_s
    assert woods == pytest.approx(base / table.factors["foot"][forest])
    box = shapely.box(*TO_LL.transform(X0 - 100, Y0 - 61 * CELL), *TO_LL.transform(
        X0 + 61 * CELL, Y0 + 100))  # fmt: skip
    frame = gpd.GeoDataFrame({"landcover": ["forest"]}, geometry=[box], crs=4326)
    assert offroad_route(flat, a, b, landcover=frame).duration_s == pytest.approx(woods)
    with pytest.raises(InputError, match="not in the table"):
        offroad_surface(flat, landcover=frame.assign(landcover="lava"))


def test_surfaces_from_files_are_built_once(andorra_dem):
    path = geolog.data.path("andorra")
    s1 = offroad_surface(andorra_dem, profile="tracked", landcover=path)
    assert offroad_surface(andorra_dem, profile="tracked", landcover=path) is s1
    assert offroad_surface(andorra_dem, profile="foot", landcover=path) is not s1
    assert not s1.factor.flags.writeable
    geolog.clear_cache("off-road surfaces")
    assert offroad_surface(andorra_dem, profile="tracked", landcover=path) is not s1
