"""The offline OSM base map: read with pyosmium, drawn under the data, legible in Chromium."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import osmium
import pytest
from _browser import MAP_READY_JS, browser, console_errors, open_page, requires_browser

import geolog
from geolog import routing
from geolog._basemap import PLACE_CLASS, osm_source, read_basemap
from geolog.briefing import briefing
from geolog.errors import InputError

OSM = geolog.data.path("andorra")
PLAN_DIR = Path(OSM).parent / "plan"
PAYLOAD = '</script><img src=x onerror="window.__pwned=1">{{ 7*7 }}${window.__pwned=2}'
READY = "window.geologMapReady && " + MAP_READY_JS
SANT_JULIA, ENCAMP = (42.4630, 1.4910), (42.5345, 1.5806)


def _places_by_pyosmium(path) -> set[str]:
    """Named place nodes of the drawn classes, read here with pyosmium directly."""
    names = set()
    for n in osmium.FileProcessor(str(path), osmium.osm.NODE):
        if n.tags.get("place") in PLACE_CLASS and n.tags.get("name"):
            names.add(n.tags["name"])
    return names


def test_read_basemap_matches_pyosmium():
    bm = read_basemap(OSM)
    assert set(bm.places["name"]) == _places_by_pyosmium(OSM)
    assert {"Andorra la Vella", "Encamp", "Canillo"} <= set(bm.places["name"])
    assert set(bm.areas["kind"]) == {"water", "built", "forest"}
    assert bm.areas.geometry.is_valid.all() and len(bm.water_lines) > 20
    # the data date is the file's replication timestamp
    hdr = osmium.io.Reader(str(OSM), osmium.osm.osm_entity_bits.NOTHING)
    assert bm.timestamp == hdr.header().get("osmosis_replication_timestamp")
    hdr.close()


def test_network_finds_its_own_osm_file_by_hash(andorra, tmp_path):
    assert osm_source(andorra).resolve() == Path(OSM).resolve()
    other = type(andorra)(andorra.nodes, andorra.edges, {"sources": [{"file": "x.osm.pbf"}]})
    assert osm_source(other) is None
    with pytest.raises(InputError, match="no such OSM file"):
        read_basemap(tmp_path / "missing.osm.pbf")
    m = geolog.map(andorra, basemap=False)
    assert "base map (OSM)" not in m.get_root().render()


@pytest.fixture(scope="module")
def brief(tmp_path_factory, andorra):
    r = routing.route(andorra, SANT_JULIA, ENCAMP, profile="car")
    path = tmp_path_factory.mktemp("bm") / "brief.html"
    briefing(andorra, r, title="Base map", path=path)
    return path, r


@requires_browser
def test_briefing_shows_place_labels_and_fits_the_data(brief):
    path, r = brief
    with browser() as d:
        open_page(d, path, ready_js=READY)
        assert console_errors(d) == []
        # the route's bounding box is inside the visible map (in screen pixels)
        w, s, e, n = r.geometry.bounds
        inside = d.execute_script(
            """
            var m = window.geologMap, c = m.getSize();
            var a = m.latLngToContainerPoint([arguments[1], arguments[0]]);
            var b = m.latLngToContainerPoint([arguments[3], arguments[2]]);
            return [a.x, a.y, b.x, b.y, c.x, c.y];
            """,
            w,
            s,
            e,
            n,
        )
        ax, ay, bx, by, cw, ch = inside
        assert 0 <= ax < bx <= cw and 0 <= by < ay <= ch
        # no control (layers, legends, zoom) covers the route: compare screen rectangles
        hits = d.execute_script(
            """
            var rs = Array.from(document.querySelectorAll('path.geolog-route'))
                .map(function (p) { return p.getBoundingClientRect(); });
            var cs = Array.from(document.querySelectorAll('.leaflet-control'))
                .map(function (c) { return c.getBoundingClientRect(); });
            var n = 0;
            rs.forEach(function (r) { cs.forEach(function (c) {
                var w = Math.min(r.right, c.right) - Math.max(r.left, c.left);
                var h = Math.min(r.bottom, c.bottom) - Math.max(r.top, c.top);
                if (w > 2 && h > 2) { n += 1; }
            }); });
            return [n, rs.length];
            """
        )
        assert hits[1] > 0 and hits[0] == 0
        # zoom to the country: the three towns are visible labels inside the map
        d.execute_script("window.geologMap.setView([42.53, 1.57], 12, {animate: false});")
        shown = d.execute_script(
            """
            var box = document.querySelector('.folium-map').getBoundingClientRect();
            return Array.from(document.querySelectorAll('.geolog-label span')).filter(function (s) {
                var r = s.getBoundingClientRect();
                return r.width > 0 && r.left >= box.left && r.right <= box.right &&
                       r.top >= box.top && r.bottom <= box.bottom;
            }).map(function (s) { return s.textContent; });
            """
        )
        assert {"Andorra la Vella", "Encamp", "Canillo"} <= set(shown)
        # labels sit above the roads, areas below them; neither takes clicks
        z = d.execute_script(
            "var m = window.geologMap; return [m.getPane('geolog-basemap').style.zIndex,"
            " m.getPane('geolog-labels').style.zIndex, m.getPane('geolog-labels').style.pointerEvents];"
        )
        assert z == ["350", "450", "none"]


@requires_browser
def test_payload_place_names_stay_text(tmp_path, andorra):
    osm = tmp_path / "places.osm"
    osm.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" lat="42.51" lon="1.53" version="1">'
        f'<tag k="place" v="town"/><tag k="name" v="{_xml(PAYLOAD)}"/></node>\n'
        '<node id="2" lat="42.52" lon="1.55" version="1">'
        '<tag k="place" v="village"/><tag k="name" v="&lt;b&gt;bold&lt;/b&gt;"/></node>\n</osm>\n',
        encoding="utf-8",
    )
    r = routing.route(andorra, SANT_JULIA, ENCAMP, profile="car")
    path = briefing(andorra, r, title="payloads", basemap=osm, path=tmp_path / "p.html")
    with browser() as d:
        open_page(d, path, ready_js=READY)
        labels = d.execute_script(
            "return Array.from(document.querySelectorAll('.geolog-label span')).map(s => s.textContent)"
        )
        assert set(labels) >= {PAYLOAD, "<b>bold</b>"}
        assert d.execute_script("return typeof window.__pwned") == "undefined"
        assert (
            d.execute_script(
                "return document.querySelectorAll('.geolog-label b, .geolog-label img').length"
            )
            == 0
        )
        assert console_errors(d) == []


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@requires_browser
def test_two_plans_on_one_map_have_a_working_layer_control(andorra_terrain, tmp_path):
    depots = gpd.read_file(PLAN_DIR / "depots.geojson")
    stops = gpd.read_file(PLAN_DIR / "stops.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = geolog.plan(andorra_terrain, depots, stops, PLAN_DIR / "fleet.yaml", time_limit_s=1)
    other = base.replan(surge={"S05": 2.0})
    m = base.to_map(name="base", title=PAYLOAD)
    other.to_map(m=m, name="disrupted")
    m.save(str(tmp_path / "plans.html"))
    with browser() as d:
        open_page(d, tmp_path / "plans.html", ready_js=MAP_READY_JS)
        assert console_errors(d) == []
        names = d.execute_script(
            "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
            ".map(l => l.textContent.trim())"
        )
        vehicles = set(base.routes["vehicle"])
        assert {f"base: {v}" for v in vehicles} <= set(names)
        assert {f"disrupted: {v}" for v in set(other.routes["vehicle"])} <= set(names)
        assert "base: depots" in names and "disrupted: depots" in names
        # stop numbers: one label per served stop of both plans, numbered 1..n per vehicle
        nums = d.execute_script(
            "return Array.from(document.querySelectorAll('.geolog-num')).map(e => e.textContent)"
        )
        served = int(base.stops["served"].sum() + other.stops["served"].sum())
        n_depots = 2 * len(base._depots_input)
        assert len(nums) == served + n_depots
        assert PAYLOAD in d.execute_script("return document.body.innerText")
        assert d.execute_script("return typeof window.__pwned") == "undefined"


def test_cli_version_and_brief_takes_the_rules_profile(tmp_path, capsys):
    import json
    import re

    from geolog import __version__
    from geolog.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"geolog {__version__}"
    rules = Path(OSM).parent / "rules" / "truck_loaded.yaml"
    out = tmp_path / "b.html"
    argv = ["brief", str(OSM), "--from", "42.4630,1.4910", "--to", "42.5345,1.5806"]
    argv += ["--dem", str(geolog.data.dem_path("andorra"))]
    assert main([*argv, "--rules", str(rules), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    block = re.search(r'id="geolog-data">(.*?)</script>', page, re.S).group(1)
    assert [p["name"] for p in json.loads(block)["profiles"]] == ["truck"]
    assert "wrote" in capsys.readouterr().out
