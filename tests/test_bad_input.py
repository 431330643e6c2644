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
import subprocess
import sys
import time
import warnings
from functools import partial
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
    lines += [
        f'<node id="{i}" version="1" lat="{la}" lon="{lo}"/>' for i, (la, lo) in _NODES.items()
    ]
    for k, (refs, name) in enumerate(zip(_WAYS, names, strict=True)):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(
            f'<way id="{100 + k}" version="1">{nds}<tag k="highway" v="residential"/>'
            f'<tag k="name" v={quoteattr(name)}/></way>'
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


# -------------------------------------------------------------------- 2. API cases

LADDER = [f"Road {i}" for i in range(len(_WAYS))]

YAML_BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "priority: []",
    ]
)
DEEP_YAML = "priority: " + "[" * 5000 + "]" * 5000
DEEP_JSON = "[" * 100_000 + "]" * 100_000


def _osm_with(tmp_path: Path, node2: str = 'lat="42.505" lon="1.523"', name: str = "x") -> Path:
    """The ladder with node 2's coordinate attributes and way 100's name replaced."""
    p = write_osm(tmp_path / "in.osm", [name, *LADDER[1:]])
    text = p.read_text().replace('lat="42.505" lon="1.523"', node2, 1)
    p.write_text(text)
    return p


def _pbf_cut(tmp_path: Path, fraction: float) -> Path:
    src = geolog.data.path("andorra").read_bytes()
    p = tmp_path / "cut.osm.pbf"
    p.write_bytes(src[: int(len(src) * fraction)])
    return p


def _rules(tmp_path: Path, text: str | bytes) -> Path:
    p = tmp_path / "rules.yaml"
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def _fleet_plan(tmp_path: Path, fleet: object, *, demand: object = 1) -> None:
    net = geolog.read_osm(write_osm(tmp_path / "ladder.osm", LADDER))
    depots = [{"id": "D", "lat": 42.505, "lon": 1.520}]
    stops = [{"id": "S", "lat": 42.509, "lon": 1.523, "demand": [demand]}]
    plan(net, depots, stops, fleet, time_limit_s=0.2)


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


def _strip_nodes(p: Path) -> Path:
    p.write_text("\n".join(x for x in p.read_text().splitlines() if "<node" not in x))
    return p


def _iso(tmp_path: Path, out: Path, *, buffer_m: float) -> None:
    net = geolog.read_osm(write_osm(tmp_path / "ladder.osm", LADDER))
    geolog.routing.isochrones(net, _NODES[1], [60], profile="car", buffer_m=buffer_m)


def _dem() -> geolog.DEM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.GeologWarning)
        return geolog.DEM.open(geolog.data.dem_path("andorra")).clip((1.5, 42.5, 1.55, 42.55))


VAN = {"name": "van", "count": 1, "capacity": [10], "profile": "car", "depot": "D"}

# (case id, action(tmp_path, out), expected error class, message fragment)
API_CASES = [
    # OSM coordinates and tags
    ("osm-lat-91", lambda t, o: geolog.read_osm(_osm_with(t, 'lat="91" lon="1.523"')).save(o),
     errors.OSMError, "out of range"),
    ("osm-lon-999", lambda t, o: geolog.read_osm(_osm_with(t, 'lat="42.5" lon="999"')).save(o),
     errors.OSMError, "coordinate"),
    ("osm-lat-nan", lambda t, o: geolog.read_osm(_osm_with(t, 'lat="nan" lon="1.5"')).save(o),
     errors.OSMError, "coordinate"),
    ("osm-lon-inf", lambda t, o: geolog.read_osm(_osm_with(t, 'lat="42.5" lon="inf"')).save(o),
     errors.OSMError, "coordinate"),
    ("osm-lon-1e308", lambda t, o: geolog.read_osm(_osm_with(t, 'lat="42.5" lon="1e308"')).save(o),
     errors.OSMError, "1e308"),
    ("osm-tag-2000-chars", lambda t, o: geolog.read_osm(_osm_with(t, name="a" * 2000)).save(o),
     errors.OSMError, "too long"),
    ("osm-all-nodes-missing",
     lambda t, o: geolog.read_osm(_strip_nodes(write_osm(t / "in.osm", LADDER))).save(o),
     errors.OSMError, "coordinates"),
    ("osm-pbf-cut-mid-block", lambda t, o: geolog.read_osm(_pbf_cut(t, 0.5)).save(o),
     errors.OSMError, "truncated"),
    ("osm-empty", lambda t, o: geolog.read_osm(_write(t / "e.osm", b"")).save(o),
     errors.OSMError, "empty"),
    ("osm-not-osm", lambda t, o: geolog.read_osm(_write(t / "n.osm", b"hello")).save(o),
     errors.OSMError, "not OSM"),
    ("osm-gz-truncated",
     lambda t, o: geolog.read_osm(_write(t / "c.osm.gz", gzip.compress(b"<osm>" * 9999)[:300])),
     errors.OSMError, "truncated"),
    # rules YAML and area GeoJSON
    ("rules-deep-yaml", lambda t, o: geolog.load_rules(_rules(t, DEEP_YAML)),
     errors.RuleError, "nested deeper"),
    ("rules-400-digit-int", lambda t, o: geolog.load_rules(_rules(t, f"distance_influence: {'9' * 400}")),
     errors.RuleError, "64 bits"),
    ("rules-latin-1", lambda t, o: geolog.load_rules(_rules(t, "# caf\xe9\npriority: []\n".encode("latin-1"))),
     errors.RuleError, "not UTF-8"),
    ("rules-syntax", lambda t, o: geolog.load_rules(_rules(t, "priority: [1, 2\nspeed: {")),
     errors.RuleError, "line 2"),
    ("rules-python-tag", lambda t, o: geolog.load_rules(_rules(t, "priority: !!python/object/apply:os.system [ls]")),
     errors.RuleError, "not valid YAML"),
    ("rules-text-deep", lambda t, o: geolog.load_rules("a:\n" + "".join(" " * i + "- \n" for i in range(1, 300))),
     errors.RuleError, "nested deeper"),
    ("area-deep-json", lambda t, o: geolog.load_rules({"areas": {"z": str(_write(t / "a.geojson", DEEP_JSON.encode()))}}),
     errors.RuleError, "nested deeper"),
    ("area-huge-int", lambda t, o: geolog.load_rules({"areas": {"z": str(_write(t / "a.geojson", b'{"type": "Point", "coordinates": [1' + b"0" * 400 + b", 2]}"))}}),
     errors.RuleError, "64 bits"),
    # fleets and plans
    ("fleet-unknown-profile", lambda t, o: _fleet_plan(t, [VAN | {"profile": "hovercraft"}]),
     errors.InputError, "hovercraft"),
    ("fleet-capacity-400-digits", lambda t, o: _fleet_plan(t, [VAN | {"capacity": [10**400]}]),
     errors.InputError, "beyond"),
    ("fleet-capacity-beyond-int64", lambda t, o: _fleet_plan(t, [VAN | {"capacity": [2**70]}]),
     errors.InputError, "beyond"),
    ("stop-demand-beyond-int64", lambda t, o: _fleet_plan(t, [VAN], demand=2**64),
     errors.InputError, "beyond"),
    ("fleet-yaml-deep", lambda t, o: _fleet_plan(t, _write(t / "f.yaml", DEEP_YAML.encode())),
     errors.InputError, "nested deeper"),
    ("fleet-yaml-latin-1", lambda t, o: _fleet_plan(t, _write(t / "f.yaml", "vehicles: [{name: v\xe9}]".encode("latin-1"))),
     errors.InputError, "not UTF-8"),
    # isochrones and boxes
    *[(f"isochrone-buffer-{b}", partial(_iso, buffer_m=b), errors.InputError, "buffer_m")
      for b in (0, -5, float("nan"), float("inf"))],
    ("dem-clip-infinite-bbox",
     lambda t, o: _dem().clip((-float("inf"), -float("inf"), float("inf"), float("inf"))),
     errors.InputError, "finite"),
    ("map-infinite-bounds",
     lambda t, o: geolog.maps.base_map(bounds=(0, 0, float("inf"), 1)),
     errors.InputError, "finite"),
    # outputs: the old file survives
    ("write-into-missing-folder", lambda t, o: _dem().slope().write(t / "nowhere" / "s.tif"),
     errors.InputError, "does not exist"),
    ("write-under-a-file", lambda t, o: geolog.read_osm(write_osm(t / "in.osm", LADDER)).save(o / "x.parquet"),
     errors.InputError, "not a folder"),
    ("write-over-a-folder", lambda t, o: _dem().slope().write(t),
     errors.InputError, "folder"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "error", "fragment"),
    [pytest.param(a, e, f, id=i) for i, a, e, f in API_CASES],
)
def test_api_bad_input(tmp_path, action, error, fragment):
    out = tmp_path / "out.parquet"
    out.write_bytes(b"the good old file")
    t0 = time.perf_counter()
    with pytest.raises(error) as info:
        action(tmp_path, out)
    assert time.perf_counter() - t0 < 5
    msg = str(info.value)
    assert fragment in msg and "\n" not in msg, msg
    assert out.read_bytes() == b"the good old file"
    assert not [p for p in tmp_path.rglob(".*") if ".geolog-" in p.name]


#: Small files that used to take minutes and gigabytes; each runs in its own process
#: so its peak memory can be measured (os.wait4).
BOMBS = {
    "rules-yaml-alias-bomb": ("rules.yaml", YAML_BOMB.encode(), "geolog.load_rules(P)", "RuleError"),
    "fleet-yaml-alias-bomb": ("fleet.yaml", YAML_BOMB.replace("priority: []", "vehicles: [*i]").encode(),
                              "geolog.planning.inputs._load_fleet_obj(P)", "InputError"),
    "osm-gz-1.5-GB-tag-value": ("bomb.osm.gz", None, "geolog.read_osm(P)", "OSMError"),
    "dem-sparse-60000-squared": ("sparse.tif", None, "geolog.DEM.open(P)", "DEMError"),
}  # fmt: skip


def _gz_bomb(path: Path) -> None:
    """1.4 MB of gzip that inflates to a 1.5 GB tag value."""
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(
            b'<?xml version="1.0"?>\n<osm version="0.6">\n<node id="1" lat="42.5" lon="1.5"/>\n'
            b'<node id="2" lat="42.6" lon="1.5"/>\n<way id="1"><nd ref="1"/><nd ref="2"/>'
            b'<tag k="highway" v="residential"/><tag k="name" v="'
        )
        block = b"a" * 2**24
        for _ in range(90):
            fh.write(block)
        fh.write(b'"/></way></osm>\n')


def _sparse_tif(path: Path) -> None:
    import rasterio
    from affine import Affine

    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=60_000,
        height=60_000,
        count=1,
        dtype="float32",
        crs="EPSG:4326",
        transform=Affine(1 / 60_000, 0, 1, 0, -1 / 60_000, 43),
        tiled=True,
        sparse_ok=True,
        compress="deflate",
        nodata=-32768,
    ):
        pass  # no block written: a few kB on disk
    # fmt: skip


@pytest.mark.parametrize("case", list(BOMBS))
def test_bombs_end_fast_with_a_clear_error(tmp_path, case):
    name, data, call, error = BOMBS[case]
    p = tmp_path / name
    if data is not None:
        p.write_bytes(data)
    elif name.endswith(".gz"):
        _gz_bomb(p)
    else:
        _sparse_tif(p)
    assert p.stat().st_size < 2_000_000
    code = (
        "import resource, time, geolog, geolog.planning.inputs\n"
        # the child's own peak: ru_maxrss starts at the (large) pytest parent's on Linux
        "def peak_mb():\n"
        "    try:\n"
        "        s = open('/proc/self/status').read()\n"
        "        return int(s.split('VmHWM:')[1].split()[0]) // 1024\n"
        "    except (OSError, IndexError):\n"
        "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        f"P = {str(p)!r}\n"
        "t0 = time.perf_counter()\n"
        f"try:\n    {call}\nexcept geolog.errors.GeologError as e:\n"
        "    print(type(e).__name__, round(time.perf_counter() - t0, 3), str(e).count(chr(10)),\n"
        "          peak_mb())\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=60,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert len(res.stdout.split()) == 4, res.stderr.decode()
    kind, seconds, newlines, peak_mb = res.stdout.decode().split()
    assert kind == error, res.stderr.decode()
    assert float(seconds) < 5, f"{case} took {seconds} s"
    assert newlines == "0"
    assert int(peak_mb) < 500, f"{case} peaked at {peak_mb} MB"


# -------------------------------------------------------------------- 3. CLI cases


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    write_osm(d / "ladder.osm", LADDER)
    (d / "bad.yaml").write_text("priority:\n  - if: highway == 'track'\n    multiply_by: [1,\n")
    (d / "bomb.yaml").write_text(YAML_BOMB)
    (d / "fleet.yaml").write_text(
        "vehicles:\n  - {name: v, count: 1, capacity: 5, profile: hovercraft, depot: D}\n"
    )
    pts = '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "%s"%s}, "geometry": {"type": "Point", "coordinates": [%s]}}]}'
    (d / "depots.geojson").write_text(pts % ("D", "", "1.520, 42.505"))
    (d / "stops.geojson").write_text(pts % ("S", ', "demand": 1', "1.523, 42.509"))
    (d / "a-file").write_text("not a folder")
    return d


FROM_TO = ["--from", "42.505,1.520", "--to", "42.509,1.523"]

# (case id, argv with {d} for the fixture folder and {out} for an existing output file)
CLI_CASES = [
    ("no-such-command", ["nosuch"]),
    ("unknown-option", ["route", "{d}/ladder.osm", *FROM_TO, "--bogus", "1"]),
    ("missing-option", ["route", "{d}/ladder.osm", "--to", "42.5,1.5"]),
    ("missing-argument", ["route"]),
    ("option-without-value", ["route", "{d}/ladder.osm", "--from"]),
    ("malformed-number", ["isochrone", "{d}/ladder.osm", "--from", "42.505,1.52", "--buffer-m", "abc", "-o", "{out}"]),
    ("malformed-latlon", ["route", "{d}/ladder.osm", "--from", "north", "--to", "42.5,1.5"]),
    ("unreadable-path", ["info", "{d}/missing.osm.pbf"]),
    ("folder-as-input", ["info", "{d}"]),
    ("output-folder-missing", ["build", "{d}/ladder.osm", "-o", "{d}/nowhere/net.parquet"]),
    ("output-under-a-file", ["build", "{d}/ladder.osm", "-o", "{d}/a-file/net.parquet"]),
    ("brief-output-folder-missing", ["brief", "{d}/ladder.osm", *FROM_TO, "-o", "{d}/nowhere/b.html"]),
    ("output-is-a-folder", ["isochrone", "{d}/ladder.osm", "--from", "42.505,1.52", "-o", "{d}"]),
    ("rules-yaml-syntax", ["route", "{d}/ladder.osm", *FROM_TO, "--rules", "{d}/bad.yaml"]),
    ("rules-yaml-bomb", ["rules", "check", "{d}/bomb.yaml", "{d}/ladder.osm"]),
    ("fleet-unknown-profile", ["plan", "{d}/ladder.osm", "--depots", "{d}/depots.geojson", "--stops",
                               "{d}/stops.geojson", "--fleet", "{d}/fleet.yaml", "-o", "{out}"]),
    *[(f"isochrone-buffer-{b}", ["isochrone", "{d}/ladder.osm", "--from", "42.505,1.52",
                                  "--buffer-m", b, "-o", "{out}"]) for b in ("0", "-5", "nan")],
    ("terrain-infinite-bbox", ["terrain", str(geolog.data.dem_path("andorra")), "--slope", "{out}",
                               "--bbox", "-inf,-inf,inf,inf"]),
    ("osm-bad-coordinate", ["info", "{d}/bad-coord.osm"]),
]  # fmt: skip


@pytest.mark.parametrize("argv", [pytest.param(a, id=i) for i, a in CLI_CASES])
def test_cli_bad_input_is_one_line_and_exit_2(cli_files, tmp_path, capsys, argv):
    d = cli_files
    (d / "bad-coord.osm").write_text(
        (d / "ladder.osm").read_text().replace('lon="1.523"', 'lon="1e308"', 1)
    )
    out = tmp_path / "out.json"
    out.write_text("the good old file")
    code = main([a.format(d=d, out=out) for a in argv])
    cap = capsys.readouterr()
    assert code == 2, cap
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), cap.err
    assert "Traceback" not in cap.err + cap.out
    assert out.read_text() == "the good old file"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    "argv", [["nosuch"], ["route", "x.osm", "--from"], ["info", "/nonexistent/x.osm.pbf"]]
)
def test_cli_usage_errors_in_a_real_process(argv):
    """The console script itself: exit 2, one line, no traceback (typer's bundled click)."""
    res = subprocess.run(
        [sys.executable, "-m", "geolog", *argv], capture_output=True, text=True, timeout=60,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert res.returncode == 2, res
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_cli_escapes_terminal_sequences_from_data(tmp_path, capsys):
    import osmium

    evil = "Evil \x1b[2J\x1b]0;owned\x07 Road\u202e"  # XML cannot hold these; PBF can
    osm = tmp_path / "evil.osm.pbf"
    with osmium.SimpleWriter(str(osm)) as w:
        for obj in osmium.FileProcessor(str(write_osm(tmp_path / "in.osm", LADDER))):
            if obj.is_way() and obj.id == 100:
                obj = obj.replace(tags={"highway": "residential", "name": evil})
            w.add(obj)
    rules = tmp_path / "r.yaml"
    rules.write_text("priority:\n  - if: \"name == 'Evil \\e[31m'\"\n    multiply_by: 0.5\n")
    assert main(["route", str(osm), "--from", "42.505,1.520", "--to", "42.505,1.523"]) == 0
    assert main(["rules", "check", str(rules), str(osm)]) == 0
    cap = capsys.readouterr()
    shown = cap.out + cap.err
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\\x1b[2J" in shown and "\\u202e" in shown  # escaped, still readable


def test_killed_write_leaves_a_temp_file_the_next_write_removes(tmp_path):
    out = tmp_path / "net.parquet"
    out.write_bytes(b"the good old file")
    code = (
        "import os, signal, sys\nfrom geolog._io import atomic_path\n"
        f"with atomic_path({str(out)!r}) as tmp:\n"
        "    tmp.write_bytes(b'half')\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=os.environ | {"PYTHONPATH": str(REPO)})
    assert res.returncode == -9
    stale = [p for p in tmp_path.iterdir() if p.name.startswith(".net.parquet.geolog-")]
    assert len(stale) == 1 and out.read_bytes() == b"the good old file"
    live = tmp_path / f".net.parquet.geolog-{os.getppid()}-inuse.tmp"  # a live writer's
    live.write_bytes(b"in progress")
    geolog.read_osm(write_osm(tmp_path / "in.osm", LADDER)).save(out)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [live.name]
    assert geolog.load(out).edges.shape[0] > 0


def test_web_mercator_dem_gives_ground_slopes(tmp_path):
    """A DEM in EPSG:3857 is reprojected for slope: same slopes as a UTM copy (gdalwarp's)."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src = _dem()
    copies = {}
    for crs in ("EPSG:3857", "EPSG:32631"):
        with warnings.catch_warnings():  # rasterio's own use of affine's old '*'
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            t, w, h = calculate_default_transform(src.crs, crs, *src.shape[::-1], *src.bounds)
        z = np.full((h, w), np.nan, dtype="float32")
        reproject(src.array, z, src_transform=src.transform, src_crs=src.crs, dst_transform=t,
                  dst_crs=crs, src_nodata=np.nan, dst_nodata=np.nan, resampling=Resampling.bilinear)  # fmt: skip
        p = tmp_path / f"{crs[5:]}.tif"
        with rasterio.open(p, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                           crs=crs, transform=t, nodata=np.nan) as ds:  # fmt: skip
            ds.write(z, 1)
        with warnings.catch_warnings():  # the warped copies' empty corners are filled
            warnings.simplefilter("ignore", errors.GeologWarning)
            copies[crs] = geolog.DEM.open(p)
    merc, utm = (np.nanmedian(copies[c].slope().array) for c in ("EPSG:3857", "EPSG:32631"))
    assert merc == pytest.approx(utm, abs=0.3)
    # the raw Mercator grid would give flatter slopes by the 1/cos(lat) cell stretch
    m = copies["EPSG:3857"]
    assert m.cell_size_m[0] == pytest.approx(m.res[0] * np.cos(np.radians(42.525)), rel=0.01)


def test_a_full_disk_leaves_the_old_file(tmp_path):
    """A write that hits a file-size limit (as a full disk would) is an InputError; the old
    file and no temporary file remain. Run in a process with RLIMIT_FSIZE set."""
    out_html, out_net = tmp_path / "map.html", tmp_path / "net.parquet"
    for p in (out_html, out_net):
        p.write_text("the good old file")
    osm = write_osm(tmp_path / "in.osm", LADDER)
    code = (
        "import resource, signal, geolog\nfrom geolog._io import atomic_write_text\n"
        f"net = geolog.read_osm({str(osm)!r})\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))\n"
        f"for f in (lambda: atomic_write_text({str(out_html)!r}, 'x' * 100_000),\n"
        f"          lambda: net.save({str(out_net)!r})):\n"
        "    try:\n        f()\n    except geolog.errors.InputError as e:\n"
        "        print('InputError', 'left unchanged' in str(e))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert res.stdout.split() == ["InputError", "True"] * 2, res.stderr
    assert out_html.read_text() == out_net.read_text() == "the good old file"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
