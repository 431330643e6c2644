"""geolog.briefing: one self-contained offline HTML file, checked in Python and in headless Chromium."""

from __future__ import annotations

import html
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from _browser import (
    MAP_READY_JS,
    browser,
    console_errors,
    external_requests,
    open_page,
    requires_browser,
    screenshot_std,
)

import geolog
from geolog import routing
from geolog import rules as rules_mod
from geolog.briefing import OBSTRUCTION_GRADE, briefing
from geolog.errors import InputError

DATA = Path(geolog.data.path("andorra")).parent
RULES = DATA / "rules" / "truck_loaded.yaml"
XSS_OSM = Path(__file__).parent / "data" / "xss.osm"
SANT_JULIA, ENCAMP = (42.4630, 1.4910), (42.5345, 1.5806)
PAYLOAD = '</script><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
READY = "window.geologMapReady && " + MAP_READY_JS


@pytest.fixture(scope="module")
def dem(andorra_dem):
    return andorra_dem


@pytest.fixture(scope="module")
def truck_route(andorra_terrain):
    return routing.route(andorra_terrain, SANT_JULIA, ENCAMP, profile="truck", rules=RULES)


@pytest.fixture(scope="module")
def car_route(andorra_terrain):
    return routing.route(andorra_terrain, SANT_JULIA, ENCAMP, profile="car")


@pytest.fixture(scope="module")
def brief(tmp_path_factory, andorra_terrain, truck_route, car_route, dem):
    path = tmp_path_factory.mktemp("brief") / "andorra.html"
    out = briefing(
        andorra_terrain,
        [truck_route, car_route],
        labels=["truck (rules)", "car"],
        title="Relief convoy Sant Julià → Encamp",
        purpose="Deliver shelter kits after the flood.\nCheck steep stretches.",
        dem=dem,
        rules=RULES,
        path=path,
    )
    assert out == path
    return path, path.read_text(encoding="utf-8")


def _data_block(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="geolog-data">(.*?)</script>', page, re.S)
    assert m, "embedded JSON block missing"
    return json.loads(m.group(1))


# -- the file ------------------------------------------------------------------------------


def test_briefing_is_one_self_contained_file(brief):
    path, page = brief
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert not re.search(r"<img[^>]*\bsrc=[\"']?https?:", page)
    assert "Leaflet 1.9.4" in page
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert path.stat().st_size < 5_000_000


def test_sections_and_provenance(brief, dem):
    _, page = brief
    for sid in ("map-section", "routes", "profile", "rules", "assumptions", "sources"):
        assert f'<section id="{sid}">' in page
    assert "<title>Relief convoy Sant Julià → Encamp</title>" in page
    assert "Deliver shelter kits after the flood.\nCheck steep stretches." in page
    # rules: the analyst's YAML verbatim (escaped) and the explain table
    assert html.escape(RULES.read_text(encoding="utf-8")) in page
    assert "edges_matched" in page and "km_affected" in page
    # assumptions: the truck profile's numbers
    truck = geolog.get_profile("truck")
    assert f"{truck.max_speed_kph:g} km/h" in page
    # sources: OSM file and hash, DEM source, version, time
    assert "andorra.osm.pbf" in page and html.escape(dem.source) in page
    assert f"geolog {geolog.__version__}" in page
    assert re.search(r"Generated \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", page)
    assert "© OpenStreetMap contributors" in page


def test_route_table_matches_routes(brief, truck_route, car_route):
    _, page = brief
    for r in (truck_route, car_route):
        assert f"{r.length_m / 1000:.2f} km" in page
        assert f"{r.ascent_m:.0f} m" in page
        # obstruction oracle: metres travelled on edges whose |max_grade| >= 7 %
        e = r.edges
        steep = np.abs(e["max_grade"].to_numpy()) >= OBSTRUCTION_GRADE
        n, km = int(steep.sum()), e["traversed_m"].to_numpy()[steep].sum() / 1000
        assert f"{n} ({km:.2f} km)" in page
        # steepest climb and steepest descent, each signed in the direction of travel
        down = max(0.0, -float(e["max_grade"].min()))
        assert f"{r.max_grade * 100:.1f} %" in page and f"{down * 100:.1f} %" in page
    assert "steepest climb" in page and "steepest descent" in page
    # grade classes add up to the route length
    m = re.search(r"truck \(rules\): grade classes</h3>(.*?)</table>", page, re.S)
    kms = [
        float(x) for x in re.findall(r"<td class=num>([\d.]+)</td><td class=num>\d+ %", m.group(1))
    ]
    assert sum(kms) == pytest.approx(truck_route.length_m / 1000, abs=0.01 * len(kms))


def test_embedded_json_reproduces_the_route(brief, truck_route):
    _, page = brief
    data = _data_block(page)
    assert data["geolog_version"] == geolog.__version__
    r0 = data["routes"][0]
    assert r0["label"] == "truck (rules)"
    assert r0["length_m"] == pytest.approx(truck_route.length_m)
    assert r0["origin"] == list(SANT_JULIA) and r0["destination"] == list(ENCAMP)
    assert r0["profile"] == "truck"
    # the rules round-trip: same content as the file
    back = rules_mod.load_rules(data["rules"])
    assert back.content_hash() == rules_mod.load_rules(RULES).content_hash()
    assert data["profiles"][0]["name"] == "truck"


def test_elevation_chart_is_the_route_profile(brief, truck_route):
    _, page = brief
    svg = re.search(r'<svg class="profile".*?</svg>', page, re.S).group(0)
    pts = re.search(r'class="profile-line" points="([^"]+)"', svg).group(1)
    xy = np.array([[float(v) for v in p.split(",")] for p in pts.split()])
    prof = truck_route.profile()
    assert len(xy) == len(prof)
    assert np.all(np.diff(xy[:, 0]) >= 0)  # distance increases left to right
    # y is an affine, decreasing function of elevation (SVG y grows downwards)
    z = prof["elevation_m"].to_numpy()
    A = np.column_stack([z, np.ones_like(z)])
    coef, *_ = np.linalg.lstsq(A, xy[:, 1], rcond=None)
    assert coef[0] < 0
    assert np.abs(A @ coef - xy[:, 1]).max() < 0.2  # rounding to 0.1 px only


def test_json_and_text_cannot_break_out(andorra_terrain, car_route):
    page = briefing(
        andorra_terrain,
        car_route,
        title=PAYLOAD,
        purpose=PAYLOAD,
        labels=[PAYLOAD],
        rules={"description": PAYLOAD, "speed": [{"if": "highway == 'track'", "limit_to": 20}]},
    )
    assert PAYLOAD not in page and "<img src=x" not in page
    data = _data_block(page)
    assert data["title"] == PAYLOAD and data["routes"][0]["label"] == PAYLOAD
    assert data["rules"]["description"] == PAYLOAD
    # every <script> element is one we wrote: plain ones, and the JSON block once
    opened = re.findall(r"<script[^>]*>", page)
    assert opened.count('<script type="application/json" id="geolog-data">') == 1
    assert set(opened) == {"<script>", '<script type="application/json" id="geolog-data">'}
    assert len(opened) == page.count("</script>")
    assert "window.__pwned=2</script>" not in page


def test_bad_input_and_atomic_write(tmp_path, andorra_terrain, car_route, monkeypatch):
    good = tmp_path / "b.html"
    good.write_text("good", encoding="utf-8")
    with pytest.raises(InputError, match="at least one route"):
        briefing(andorra_terrain, [], title="t", path=good)
    with pytest.raises(InputError, match="not a route"):
        briefing(andorra_terrain, ["nope"], title="t", path=good)
    with pytest.raises(InputError, match="labels"):
        briefing(andorra_terrain, car_route, title="t", labels=["a", "b"], path=good)

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        briefing(andorra_terrain, car_route, title="t", path=good)
    assert good.read_text(encoding="utf-8") == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["b.html"]


def test_briefing_without_terrain_or_dem(andorra):
    r = routing.route(andorra, SANT_JULIA, ENCAMP, profile="car")
    page = briefing(andorra, r, title="no terrain")
    assert "grades unknown" in page
    assert "no elevation profile" in page
    assert _data_block(page)["routes"][0]["length_m"] == pytest.approx(r.length_m)


# -- in a real browser, network blocked ------------------------------------------------------


@requires_browser
def test_briefing_opens_offline_in_chromium(brief, truck_route, car_route):
    path, _ = brief
    with browser() as d:
        open_page(d, path, ready_js=READY)
        assert d.execute_script("return window.L && L.version") == "1.9.4"
        assert d.execute_script(
            "return document.querySelector('.folium-map').classList.contains('leaflet-container')"
        )
        # first route: one path per edge, coloured by grade; second: one line in its colour
        n_route = len(truck_route.edges) + 1
        assert (
            d.execute_script("return document.querySelectorAll('path.geolog-route').length")
            == n_route
        )
        assert (
            d.execute_script("return document.querySelectorAll('img.geolog-hillshade').length") == 1
        )
        assert (
            d.execute_script(
                "return document.querySelectorAll('svg.profile path.profile-area').length"
            )
            == 2
        )
        box = d.execute_script(
            "var r = document.querySelector('svg.profile').getBoundingClientRect(); return [r.width, r.height];"
        )
        assert box[0] > 300 and box[1] > 80
        assert external_requests(d) == []
        assert console_errors(d) == []
        assert screenshot_std(d) > 10


@requires_browser
def test_xss_payloads_stay_text_in_briefing(tmp_path, dem):
    net = geolog.read_osm(XSS_OSM, network="drive").with_terrain(dem)
    r = routing.route(net, (42.5050, 1.5200), (42.5110, 1.5230), profile=None, weight="length_m")
    path = briefing(
        net,
        r,
        title=PAYLOAD,
        purpose="</textarea>" + PAYLOAD,
        labels=["<img src=x onerror=window.__pwned=3>"],
        dem=dem,
        path=tmp_path / "xss.html",
    )
    with browser() as d:
        open_page(d, path, ready_js=READY)
        d.execute_script(
            """
            var m = window.geologMap;
            m.eachLayer(function (l) {
                if (l.getTooltip && l.getTooltip()) {
                    l.openTooltip(l.getCenter ? l.getCenter() : l.getLatLng());
                }
            });
            """
        )
        # the sentinel the payloads would set: no injected script or handler ran
        assert d.execute_script("return typeof window.__pwned") == "undefined"
        body = d.execute_script("return document.body.innerText")
        tips = d.execute_script(
            "return Array.from(document.querySelectorAll('.leaflet-tooltip')).map(e => e.textContent).join('\\n')"
        )
        assert PAYLOAD in body  # title shown literally
        assert "<img src=x onerror=window.__pwned=3>" in body
        names = set(net.edges.loc[r.edges["edge"], "name"].dropna())
        assert names and all(n in tips for n in names)
        assert (
            d.execute_script(
                "return document.querySelectorAll('main img:not(.leaflet-image-layer), .leaflet-tooltip img').length"
            )
            == 0
        )
        assert console_errors(d) == []


def test_cli_brief_writes_the_briefing(tmp_path, capsys):
    from geolog.cli import main

    out = tmp_path / "cli.html"
    argv = [
        "brief",
        str(geolog.data.path("andorra")),
        "--dem",
        str(geolog.data.dem_path("andorra")),
        "--from",
        "42.4630,1.4910",
        "--to",
        "42.5345,1.5806",
        "--profile",
        "truck",
        "--rules",
        str(RULES),
        "--title",
        "CLI <convoy>",
        "-o",
        str(out),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        assert main(argv) == 0
    page = out.read_text(encoding="utf-8")
    assert "<title>CLI &lt;convoy&gt;</title>" in page
    assert 'class="geolog-hillshade"' in page or "geolog-hillshade" in page  # DEM from meta
    data = _data_block(page)
    assert data["routes"][0]["profile"] == "truck"
    assert data["routes"][0]["origin"] == [42.4630, 1.4910]
    # a bad point: one line, exit 2, nothing written
    bad = tmp_path / "bad.html"
    argv[argv.index("--from") + 1] = "42.4630"
    argv[-1] = str(bad)
    assert main(argv) == 2
    assert "LAT,LON" in capsys.readouterr().err
    assert not bad.exists()


def test_obstructions_are_stretches_per_road_with_km(andorra_terrain):
    from geolog.briefing import obstruction_stretches

    r = routing.route(andorra_terrain, (42.5063, 1.5218), (42.5440, 1.7330), profile="car")
    cell = max(andorra_terrain.meta["terrain"]["dem_cell_m"])
    e = r.edges
    length = e["traversed_m"].to_numpy(float)
    end = np.cumsum(length)
    start = end - length
    g = np.abs(e["max_grade"].to_numpy(float))
    steep = np.flatnonzero(g >= OBSTRUCTION_GRADE)
    # a road is what the table names: name and ref, the class only when both are missing
    key = e["name"].fillna("") + "|" + e["ref"].fillna("")
    key = key.where(key != "|", "|" + e["highway"].astype(str)).to_numpy()
    run = np.concatenate([[0], np.cumsum(key[1:] != key[:-1])])
    t = obstruction_stretches(e, cell_m=cell)
    assert 1 < len(t) < steep.size  # merged, not one row per fragment
    s, f = t["start_m"].to_numpy(), t["end_m"].to_numpy()
    assert (np.diff(s) > 0).all() and (s[1:] >= f[:-1] - 1e-6).all()  # route order, disjoint
    for j in steep:  # every steep edge lies in exactly one row, which has its steepest grade
        inside = np.flatnonzero((s <= start[j] + 1e-6) & (f >= end[j] - 1e-6))
        assert inside.size == 1
        assert abs(t["steepest_grade"].iloc[inside[0]]) >= g[j] - 1e-12
    for row in t.itertuples():
        k = run[np.searchsorted(end, row.start_m + 1e-6)]
        r0, r1 = start[run == k].min(), end[run == k].max()
        assert row.start_m >= r0 - 1e-6 and row.end_m <= r1 + 1e-6  # one road per row
        if row.length_m < cell - 1e-6:  # shorter than a DEM cell: only a whole road
            assert row.start_m == pytest.approx(r0) and row.end_m == pytest.approx(r1)
    page = briefing(andorra_terrain, r, title="stretches", departure="06:30")
    table = page.split("obstructions (stretches", 1)[1].split("</table>", 1)[0]
    kms = re.findall(
        r'<tr class="obstruction"><td class=num>\d+</td><td>[^<]*</td><td class=num>([\d.]+) km',
        table,
    )
    assert [float(x) for x in kms] == pytest.approx(np.round(s / 1000, 2).tolist())


def test_directions_with_clock_times(andorra_terrain):
    r = routing.route(andorra_terrain, SANT_JULIA, ENCAMP, profile="car")
    page = briefing(andorra_terrain, r, title="d", departure="06:30")
    d = r.directions()
    sec = page.split('<section id="directions">', 1)[1].split("</section>", 1)[0]
    assert "departure 06:30" in sec
    rows = re.findall(r"<tr><td class=num>(\d+)</td>.*?</tr>", sec)
    assert len(rows) == len(d)
    # the last step starts after all the earlier ones: its clock time from the durations
    t_last = d["duration_s"].to_numpy(float)[:-1].sum()
    m = int(round(t_last / 60)) + 6 * 60 + 30
    assert f"<td class=num>{m // 60:02d}:{m % 60:02d}</td>" in sec
    km_last = d["distance_m"].to_numpy(float)[:-1].sum() / 1000
    assert f"<td class=num>{km_last:.1f}</td>" in sec
    with pytest.raises(InputError, match="HH:MM"):
        briefing(andorra_terrain, r, title="d", departure="half past six")
