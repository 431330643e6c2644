"""geolog.maps: offline folium maps, escaping, layers — checked in Python and in headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from _browser import (
    MAP_READY_JS,
    browser,
    console_errors,
    external_requests,
    open_page,
    requires_browser,
    screenshot_std,
)
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

import geolog
from geolog import _html, maps, routing
from geolog import rules as rules_mod
from geolog.errors import InputError

XSS_OSM = Path(__file__).parent / "data" / "xss.osm"
ORIGIN, DEST = (42.5063, 1.5218), (42.5345, 1.5806)  # Andorra la Vella -> Encamp


@pytest.fixture(scope="module")
def dem(andorra_dem):
    return andorra_dem


@pytest.fixture(scope="module")
def xss_net():
    return geolog.read_osm(XSS_OSM, network="drive")


@pytest.fixture(scope="module")
def andorra_route(andorra_terrain):
    return routing.route(andorra_terrain, ORIGIN, DEST, profile="car")


def _html_of(m) -> str:
    return m.get_root().render()


# -- escaping and safe JSON ----------------------------------------------------------------


def test_escape_makes_markup_inert():
    s = "<img src=x onerror=\"alert(1)\"> & 'q'"
    e = _html.escape(s)
    assert "<" not in e and ">" not in e and '"' not in e and "'" not in e
    import html

    assert html.unescape(e) == s
    assert _html.escape(None) == "" and _html.escape(float("nan")) == ""


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.text() | st.floats(allow_nan=False, allow_infinity=False) | st.integers() | st.none(),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=12,
    )
)
def test_script_json_round_trips_and_cannot_close_script(obj):
    text = _html.script_json(obj)
    assert json.loads(text) == obj
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text


def test_script_json_nonfinite_becomes_null():
    assert json.loads(
        _html.script_json({"a": float("inf"), "b": np.float64("nan"), "c": np.int64(3)})
    ) == {
        "a": None,
        "b": None,
        "c": 3,
    }


# -- offline page --------------------------------------------------------------------------


def test_map_page_loads_nothing_from_the_web(andorra):
    page = _html_of(maps.make_map(andorra, color_by="highway"))
    assert not re.search(r"<script[^>]*\bsrc=", page), "a <script src> would need the network"
    assert not re.search(r"<link[^>]*\bhref=", page), "a <link href> would need the network"
    assert "Leaflet 1.9.4" in page  # the vendored banner, inlined
    assert "cdn.jsdelivr" not in page and "code.jquery" not in page and "bootstrapcdn" not in page
    assert "sourceMappingURL" not in page
    assert "$(document)" not in page  # no jQuery needed


def test_leaflet_css_images_are_data_uris():
    css = _html.leaflet_css()
    assert "url(images/" not in css
    assert css.count("url(data:image/png;base64,") == 3  # layers, layers-2x, marker-icon


def test_osm_tiles_are_optional_and_off(andorra):
    page = _html_of(maps.base_map(andorra, osm_tiles=True))
    assert "tile.openstreetmap.org" in page
    m = maps.base_map(andorra)
    assert "tile.openstreetmap.org" not in _html_of(m)
    tiles = [
        c
        for c in maps.base_map(andorra, osm_tiles=True)._children.values()
        if type(c).__name__ == "TileLayer"
    ]
    assert len(tiles) == 1 and tiles[0].show is False


# -- network layer -------------------------------------------------------------------------


def _layer_data(layer) -> dict:
    return json.loads(layer.data_json)


def _segment_keys(e) -> pd.Series:
    """(way, reversal-free coordinates) of every edge row: equal for the two rows of a road."""
    coords = [tuple(g.coords) for g in e.geometry]
    return pd.Series(
        [(w, min(c, c[::-1])) for w, c in zip(e.osmid, coords, strict=True)], index=e.index
    )


def test_network_layer_draws_each_undirected_segment_once(andorra_terrain):
    layer = maps.network_layer(andorra_terrain, color_by="grade", tolerance_m=0)
    d = _layer_data(layer)
    e = andorra_terrain.edges
    # oracle: unique (way, geometry whichever way it is drawn)
    seg = _segment_keys(e)
    assert len(d["o"]) - 1 == seg.nunique() == len(d["s"]) == len(d["t"])
    # tolerance 0 keeps every vertex of one direction of every segment
    assert d["o"][-1] == len(d["c"]) // 2
    # classes: for each segment the steeper |max_grade| of its two directions, binned
    worst = e["max_grade"].abs().groupby(seg.to_numpy()).max().to_numpy()
    expect = np.bincount(np.digitize(worst, maps.GRADE_BINS), minlength=5)
    got = np.bincount(np.asarray(d["s"]), minlength=5)[:5]
    assert got.tolist() == expect.tolist()


def test_grade_bins_match_terrain_grade_classes():
    from geolog import costing

    assert tuple(maps.GRADE_BINS) == tuple(costing.GRADE_CLASS_BINS)


def test_network_layer_simplifies_for_display(andorra):
    full = _layer_data(maps.network_layer(andorra, color_by="highway", tolerance_m=0))
    simple = _layer_data(maps.network_layer(andorra, color_by="highway", tolerance_m=10))
    assert len(simple["c"]) < len(full["c"])
    # endpoints of every line are kept
    cf, cs = np.reshape(full["c"], (-1, 2)), np.reshape(simple["c"], (-1, 2))
    of, os_ = np.asarray(full["o"]), np.asarray(simple["o"])
    assert np.allclose(cf[of[:-1]], cs[os_[:-1]]) and np.allclose(cf[of[1:] - 1], cs[os_[1:] - 1])


def test_network_layer_color_modes(andorra_terrain):
    applied = andorra_terrain.apply(profile="car")
    sp = _layer_data(maps.network_layer(applied, color_by="speed_kph"))
    assert set(sp["s"]) <= set(range(6))
    mob = _layer_data(maps.network_layer(applied, color_by="mobility"))
    # NO-GO count = segments with a forbidden direction (priority 0 or infinite cost)
    e = applied.edges
    nogo = (e["priority"] <= 0) | ~np.isfinite(e["cost"])
    assert mob["s"].count(2) == int(nogo.groupby(_segment_keys(e).to_numpy()).any().sum())
    num = _layer_data(maps.network_layer(applied, color_by="length_m"))
    assert set(num["s"]) <= set(range(6))
    with pytest.raises(InputError, match="not an edge column"):
        maps.network_layer(applied, color_by="no_such_column")
    with pytest.raises(InputError, match="with_terrain"):
        maps.network_layer(geolog.read_osm(XSS_OSM), color_by="grade")


def test_network_tooltips_are_escaped(xss_net):
    page = _html_of(maps.make_map(xss_net))
    raw = set(xss_net.edges["name"].dropna()) | set(xss_net.edges["ref"].dropna())
    for s in raw:
        if any(c in s for c in "<>&\"'"):  # markup-bearing strings never appear raw
            assert s not in page
    d = _layer_data(maps.network_layer(xss_net, color_by="highway"))
    import html

    shown = " ".join(html.unescape(t) for t in d["t"])
    for s in xss_net.edges["name"].dropna():
        assert s in shown  # the escaped tooltip shows the name literally
    assert all("<img" not in t and "<script" not in t for t in d["t"])


# -- rasters -------------------------------------------------------------------------------


def test_warp_to_mercator_puts_pixels_where_they_belong():
    """A lat/lon checkerboard warped to EPSG:3857: a point's colour is unchanged."""
    from pyproj import Transformer

    h, w = 200, 300
    transform = Affine(0.002, 0, 1.4, 0, -0.002, 42.8)  # 0.6 x 0.4 degrees
    ii, jj = np.mgrid[0:h, 0:w]
    src = (((ii // 20) + (jj // 20)) % 2).astype("float32")
    warped, bounds = _html.warp_to_mercator(src, transform, "EPSG:4326", resampling="nearest")
    (s, wst), (n, e) = bounds
    assert s == pytest.approx(42.4, abs=3e-3) and n == pytest.approx(42.8, abs=3e-3)
    assert wst == pytest.approx(1.4, abs=3e-3) and e == pytest.approx(2.0, abs=3e-3)
    to_m = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, y0), (x1, y1) = to_m.transform(wst, n), to_m.transform(e, s)
    rng = np.random.default_rng(1)
    lon = rng.uniform(1.41, 1.99, 300)
    lat = rng.uniform(42.41, 42.79, 300)
    col_s = ((lon - 1.4) / 0.002).astype(int)
    row_s = ((42.8 - lat) / 0.002).astype(int)
    mx, my = to_m.transform(lon, lat)
    col_w = ((mx - x0) / (x1 - x0) * warped.shape[1]).astype(int)
    row_w = ((y0 - my) / (y0 - y1) * warped.shape[0]).astype(int)
    # skip points within a pixel of a checker edge
    safe = ((col_s % 20) > 1) & ((col_s % 20) < 18) & ((row_s % 20) > 1) & ((row_s % 20) < 18)
    assert safe.sum() > 100
    assert np.array_equal(src[row_s[safe], col_s[safe]], warped[row_w[safe], col_w[safe]])


def test_dem_layers_are_embedded_pngs(dem):
    small = dem.clip((1.50, 42.48, 1.60, 42.56))
    for layer in (
        maps.hillshade_layer(small),
        maps.slope_layer(small),
        maps.mobility_layer(small, "truck"),
    ):
        assert layer.url.startswith("data:image/png;base64,")
        (s, w), (n, e) = layer.bounds
        assert 42.4 < s < 42.49 and 42.55 < n < 42.6 and 1.45 < w < 1.51 and 1.59 < e < 1.65
        assert "SRTM" in layer.options["attribution"] or "hgt" in layer.options["attribution"]


def test_png_data_uri_decodes_to_same_pixels():
    import base64
    import io

    from PIL import Image

    a = np.random.default_rng(0).integers(0, 255, (7, 9, 4), dtype=np.uint8)
    uri = _html.png_data_uri(a)
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert np.array_equal(back, a)


# -- routes, isochrones, areas, the one-liner ----------------------------------------------


def test_route_layer_segments_follow_route_edges(andorra_route):
    layer = maps.route_layer(andorra_route)
    fc = json.loads(layer.data_json)
    kinds = [f["properties"]["style"].get("className") for f in fc["features"]]
    assert kinds.count("geolog-route-casing") == 1
    assert kinds.count("geolog-route") == len(andorra_route.edges)
    assert kinds.count("geolog-start") == kinds.count("geolog-end") == 1
    start = fc["features"][kinds.index("geolog-start")]["geometry"]["coordinates"]
    x0, y0 = shapely.get_coordinates(andorra_route.geometry)[0]
    assert start == pytest.approx([x0, y0])
    # popup numbers come from the route
    popup = fc["features"][0]["properties"]["popup"]
    assert f"{andorra_route.length_m / 1000:.2f} km" in popup
    assert f"{andorra_route.ascent_m:.0f} m" in popup


def test_isochrone_layer_one_polygon_per_budget(andorra_terrain):
    iso = routing.isochrones(andorra_terrain, ORIGIN, [300, 600], profile="car")
    fc = json.loads(maps.isochrone_layer(iso).data_json)
    polys = [f for f in fc["features"] if f["geometry"]["type"] != "Point"]
    assert len(polys) == len(iso) == 2
    # the largest budget is drawn first (underneath)
    areas = [shapely.geometry.shape(f["geometry"]).area for f in polys]
    assert areas[0] > areas[1]
    # the origin is marked where routing snapped it, inside the smallest band
    (mark,) = [f for f in fc["features"] if f["geometry"]["type"] == "Point"]
    lon, lat = mark["geometry"]["coordinates"]
    snapped = andorra_terrain.nearest_edges([ORIGIN], profile="car").iloc[0]
    assert (lat, lon) == pytest.approx((snapped["lat"], snapped["lon"]), abs=1e-6)
    assert shapely.geometry.shape(polys[-1]["geometry"]).contains(shapely.Point(lon, lat))
    with pytest.raises(InputError, match="time_s"):
        maps.isochrone_layer(iso.drop(columns="time_s"))


def test_areas_layer_from_rules_and_escaped_names():
    box = shapely.box(1.52, 42.50, 1.54, 42.52)
    rs = rules_mod.load_rules(
        {
            "areas": {"flood_zone": shapely.geometry.mapping(box)},
            "priority": [{"if": "in_area(flood_zone)", "multiply_by": 0}],
        }
    )
    fc = json.loads(maps.areas_layer(rs).data_json)
    assert len(fc["features"]) == 1
    assert (
        shapely.geometry.shape(fc["features"][0]["geometry"]).symmetric_difference(box).area < 1e-12
    )
    fc = json.loads(maps.areas_layer({"<b>zone</b>": box}).data_json)
    assert fc["features"][0]["properties"]["tooltip"] == "<b>&lt;b&gt;zone&lt;/b&gt;</b>"


def test_make_map_composes_all_layers(andorra_terrain, andorra_route, dem):
    import folium

    m = geolog.map(
        andorra_terrain, route=andorra_route, dem=dem, slope=True, mobility="truck", osm_tiles=True
    )
    names = [c.layer_name for c in m._children.values() if isinstance(c, folium.map.Layer)]
    assert names == [
        "OpenStreetMap tiles (online)",
        "hillshade",
        "slope classes",
        "mobility (truck)",
        "base map (OSM)",
        "roads by steepest grade (either direction)",
        "route",
    ]
    assert sum(isinstance(c, folium.LayerControl) for c in m._children.values()) == 1
    page = _html_of(m)
    assert "L.control.scale()" in page
    assert "© OpenStreetMap contributors" in page.replace("\\u00a9", "©")


# -- in a real browser, network blocked ------------------------------------------------------


@requires_browser
def test_map_opens_offline_in_chromium(tmp_path, andorra_terrain, andorra_route, dem):
    path = tmp_path / "map.html"
    geolog.map(andorra_terrain, route=andorra_route, dem=dem, osm_tiles=True).save(str(path))
    with browser() as d:
        open_page(d, path, ready_js=MAP_READY_JS)
        assert d.execute_script("return typeof window.L === 'object' && L.version") == "1.9.4"
        assert d.execute_script(
            "return document.querySelector('.folium-map').classList.contains('leaflet-container')"
        )
        assert d.execute_script(
            "return document.querySelectorAll('path.geolog-route').length"
        ) == len(andorra_route.edges)
        assert (
            d.execute_script("return document.querySelectorAll('img.geolog-hillshade').length") == 1
        )
        assert d.execute_script("return document.querySelectorAll('.geolog-legend').length") >= 1
        assert external_requests(d) == []
        assert console_errors(d) == []
        assert screenshot_std(d) > 10


@requires_browser
def test_xss_names_do_not_run_in_map(tmp_path, xss_net):
    path = tmp_path / "xss.html"
    r = routing.route(
        xss_net, (42.5050, 1.5200), (42.5110, 1.5230), profile=None, weight="length_m"
    )
    geolog.map(xss_net, route=r, color_by="name").save(str(path))  # names in the legend too
    with browser() as d:
        open_page(d, path, ready_js=MAP_READY_JS)
        # open every tooltip and popup so the data strings reach the DOM
        d.execute_script(
            """
            var m = Object.values(window).find(v => v instanceof L.Map);
            m.eachLayer(function (l) {
                if (l.getTooltip && l.getTooltip()) {
                    l.openTooltip(l.getCenter ? l.getCenter() : l.getLatLng());
                }
            });
            """
        )
        # the sentinel the payloads would set: no injected script or handler ran
        assert d.execute_script("return typeof window.__pwned") == "undefined"
        text = d.execute_script(
            "return Array.from(document.querySelectorAll('.leaflet-tooltip')).map(e => e.textContent).join('\\n')"
        )
        legend = d.execute_script(
            "return Array.from(document.querySelectorAll('.geolog-legend')).map(e => e.textContent).join('\\n')"
        )
        for name in xss_net.edges["name"].dropna().unique():
            assert name in text
            assert name in legend
        assert (
            d.execute_script(
                "return document.querySelectorAll('.geolog-legend img, .geolog-legend script').length"
            )
            == 0
        )
        assert (
            d.execute_script(
                "return document.querySelectorAll('.leaflet-tooltip img, .leaflet-tooltip script, .leaflet-tooltip svg').length"
            )
            == 0
        )
        assert console_errors(d) == []


@requires_browser
def test_plain_folium_markers_and_popups_work_offline_on_geolog_maps(tmp_path, xss_net):
    """folium.Marker (default icon) and folium.Popup (which calls jQuery) on a geolog map."""
    import folium

    m = geolog.map(xss_net)
    marker = folium.Marker([42.506, 1.521], popup=folium.Popup("depot <b>A</b> & co")).add_to(m)
    m.keep_in_front(*[c for c in m._children.values() if isinstance(c, folium.map.Layer)])
    path = tmp_path / "markers.html"
    m.save(str(path))
    with browser() as d:
        open_page(d, path, ready_js=MAP_READY_JS)
        src = d.execute_script("return document.querySelector('img.leaflet-marker-icon').src")
        assert src.startswith("data:image/png;base64,")
        d.execute_script(f"{marker.get_name()}.openPopup();")
        text = d.execute_script(
            "return document.querySelector('.leaflet-popup-content').textContent"
        )
        assert text.strip() == "depot A & co"  # folium.Popup takes HTML (the caller's markup)
        assert (
            d.execute_script("return document.querySelectorAll('.leaflet-popup-content b').length")
            == 1
        )
        assert console_errors(d) == []
        assert external_requests(d) == []
