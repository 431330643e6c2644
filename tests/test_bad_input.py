"""The bad-input battery: hostile text never runs, every bad input is one clear error.

Three parts:

1. Template injection: OSM names, stop names, vehicle names and titles carrying
   Jinja payloads go through every HTML writer (``geolog.map``, the briefing,
   ``Plan.to_map``, CLI ``brief`` and ``plan --map``); a payload that would
   create a file creates none, and headless Chromium shows the names literally.
2. API cases: each bad input raises its :class:`~geolog.errors.GeologError`
   subclass, quickly and within bounded memory for the "bomb" cases, and leaves
   an existing output file unchanged.
3. CLI cases: exit status 2, exactly one line on stderr, no traceback, output
   file unchanged.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pytest
from _browser import MAP_READY_JS, browser, console_errors, open_page, requires_browser

import geolog
from geolog import errors
from geolog.cli import main
from geolog.distribution import plan

REPO = Path(__file__).resolve().parent.parent

# -------------------------------------------------------------------- 1. template injection

#: Node grid (id: lat, lon) of the payload network: three rungs of a ladder.
_NODES = {
    1: (42.505, 1.520),
    2: (42.505, 1.523),
    3: (42.507, 1.520),
    4: (42.507, 1.523),
    5: (42.509, 1.520),
    6: (42.509, 1.523),
}
_WAYS = [(1, 2), (3, 4), (5, 6), (1, 3, 5), (2, 4, 6)]


def jinja_payloads(marker: Path) -> list[str]:
    """Names that run code, evaluate, or break the parser if rendered as Jinja."""
    return [
        f"Carrer {{{{ lipsum.__globals__.os.popen('touch {marker}').read() }}}}",
        "Seven {{7*7}} Road",
        "Rue du {% broken",
        "Comment {# way",
        "Loop {% for i in range(3) %}x{% endfor %} Lane",
    ]


def write_osm(path: Path, names: list[str]) -> Path:
    """An OSM XML ladder whose five ways carry ``names``."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [f'<node id="{i}" version="1" lat="{la}" lon="{lo}"/>' for i, (la, lo) in _NODES.items()]
    for k, (refs, name) in enumerate(zip(_WAYS, names, strict=True)):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(
            f'<way id="{100 + k}" version="1">{nds}<tag k="highway" v="residential"/>'
            f"<tag k=\"name\" v={quoteattr(name)}/></way>"
        )
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


#: Collect everything a reader can see: page text, tooltips, popups, layer-control labels.
_SHOWN_JS = """
var out = [document.body.innerText];
var text = function (html) { var d = document.createElement('div'); d.innerHTML = html; return d.textContent; };
Object.keys(window).forEach(function (k) {
  var m = window[k];
  if (window.L && m instanceof L.Map) {
    m.eachLayer(function (l) {
      var t = l.getTooltip && l.getTooltip(); if (t) { out.push(text(t.getContent())); }
      var p = l.getPopup && l.getPopup(); if (p) { out.push(text(p.getContent())); }
    });
  }
});
document.querySelectorAll('.leaflet-control-layers label').forEach(function (e) { out.push(e.textContent); });
return out.join('\\n');
"""


@pytest.fixture(scope="module")
def payload_case(tmp_path_factory):
    d = tmp_path_factory.mktemp("jinja")
    marker = d / "PWNED"
    names = jinja_payloads(marker)
    net = geolog.read_osm(write_osm(d / "payload.osm", names), network="drive")
    assert set(net.edges["name"]) == set(names)  # the reader keeps them verbatim
    return d, marker, names, net


def _stops(names: list[str]) -> tuple[list[dict], list[dict], list[dict]]:
    depots = [{"id": names[2], "lat": 42.505, "lon": 1.520}]
    stops = [
        {"id": f"S{i}", "name": names[i % len(names)], "lat": la, "lon": lo, "demand": [1]}
        for i, (la, lo) in enumerate(list(_NODES.values())[1:])
    ]
    fleet = [{"name": names[1], "count": 2, "capacity": [10], "profile": "car", "depot": names[2]}]
    return depots, stops, fleet


def _check_page(path: Path, names: list[str], marker: Path) -> None:
    assert not marker.exists(), "a Jinja payload ran while the page was written"
    with browser() as d:
        open_page(d, path, ready_js=MAP_READY_JS)
        shown = d.execute_script(_SHOWN_JS)
        assert console_errors(d) == []
    for name in names:
        assert name in shown, f"{name!r} is not shown literally in {path.name}"
    assert "Seven 49 Road" not in shown
    assert not marker.exists()


@requires_browser
def test_jinja_payloads_in_map_briefing_and_plan_map_stay_text(payload_case):
    d, marker, names, net = payload_case
    r = geolog.route(net, _NODES[1], _NODES[6], profile="car")
    assert set(r.edges["name"]) >= {names[3], names[2]} or len(r.edges) >= 2

    m = d / "map.html"
    geolog.map(net, route=r).save(str(m))
    _check_page(m, names, marker)

    b = d / "briefing.html"
    geolog.briefing(net, r, title=names[0], purpose=names[1], labels=[names[4]], path=b)
    _check_page(b, names, marker)

    depots, stops, fleet = _stops(names)
    p = plan(net, depots, stops, fleet, time_limit_s=0.5)
    assert p.totals["served"] == len(stops)
    pm = d / "plan.html"
    p.to_map(name=names[3]).save(str(pm))
    _check_page(pm, names, marker)


@requires_browser
def test_jinja_payloads_through_the_cli(payload_case):
    d, marker, names, net = payload_case
    osm = d / "payload.osm"
    b = d / "cli-brief.html"
    args = ["brief", str(osm), "--from", "42.505,1.520", "--to", "42.509,1.523", "-o", str(b)]
    assert main([*args, "--title", names[0], "--purpose", names[1]]) == 0
    _check_page(b, names, marker)

    depots, stops, fleet = _stops(names)

    def points(rows: list[dict]) -> str:
        feats = [
            {
                "type": "Feature",
                "properties": {k: v for k, v in r.items() if k not in ("lat", "lon", "demand")}
                | ({"demand": r["demand"][0]} if "demand" in r else {}),
                "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            }
            for r in rows
        ]
        return json.dumps({"type": "FeatureCollection", "features": feats})

    (d / "depots.geojson").write_text(points(depots))
    (d / "stops.geojson").write_text(points(stops))
    fleet[0]["capacity"] = 10
    (d / "fleet.json").write_text(json.dumps({"vehicles": fleet}))  # JSON is YAML
    pm = d / "cli-plan.html"
    code = main(
        ["plan", str(osm), "--depots", str(d / "depots.geojson"), "--stops",
         str(d / "stops.geojson"), "--fleet", str(d / "fleet.json"), "--time-limit", "0.5",
         "-o", str(d / "plan.geojson"), "--map", str(pm)]
    )  # fmt: skip
    assert code == 0
    _check_page(pm, [n for n in names if n in {names[1], names[2]}] + ["S0"], marker)


def test_geolog_layers_are_inert_on_a_plain_folium_map(payload_case):
    """Layers added to folium's own Map (two Jinja passes) still carry no Jinja tag."""
    import folium

    d, marker, names, net = payload_case
    m = folium.Map(tiles=None)
    geolog.maps.network_layer(net, color_by="highway").add_to(m)
    html = m.get_root().render()  # a Jinja payload would run or raise here
    assert not marker.exists()
    assert "Seven 49 Road" not in html and "Seven \\u0026#123;\\u0026#123;7*7}} Road" in html


def test_folium_elements_on_a_geolog_map_are_rendered_once(tmp_path):
    """folium's own Tooltip/FeatureGroup text on a geolog map is not rendered a second time."""
    import folium

    marker = tmp_path / "PWNED"
    tip = f"Tip {{{{7*7}}}} {{{{ lipsum.__globals__.os.popen('touch {marker}').read() }}}}"
    m = geolog.maps.base_map(bounds=(1.5, 42.5, 1.6, 42.6))
    folium.Marker([42.55, 1.55], tooltip=tip).add_to(m)
    folium.FeatureGroup(name="Group {{7*7}}").add_to(m)
    geolog.maps.finish(m)
    html = m.get_root().render()
    assert not marker.exists()
    assert "Tip {{7*7}}" in html and '"Group {{7*7}}"' in html
