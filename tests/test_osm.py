"""geolog.osm: reading real extracts, checked against an independent pyosmium pass."""

from __future__ import annotations

import bz2
import gzip
import shutil

import numpy as np
import osmium
import pytest
import shapely
from pyproj import Geod

import geolog
from geolog.errors import GeologError, InputError, OSMError
from geolog.osm import _DRIVE


class _Ways(osmium.SimpleHandler):
    """Independent oracle: every way with its tags and node ids, straight from pyosmium."""

    def __init__(self) -> None:
        super().__init__()
        self.ways: dict[int, tuple[dict, list[int]]] = {}

    def way(self, w) -> None:
        self.ways[w.id] = (dict(w.tags), [n.ref for n in w.nodes])


@pytest.fixture(scope="module")
def andorra_ways() -> dict:
    h = _Ways()
    h.apply_file(str(geolog.data.path("andorra")))
    return h.ways


def test_every_edge_is_a_drivable_highway_way(andorra, andorra_ways):
    edges = andorra.edges
    assert len(edges) > 1000
    for osmid in np.unique(edges["osmid"]):
        tags, _ = andorra_ways[osmid]
        assert "highway" in tags, f"way {osmid} is not a highway"
        hw = tags["highway"].split(";")[0]
        # a drive class, or a path a motor-vehicle key opens (Andorra way 75746410)
        assert hw in _DRIVE or tags.get("motor_vehicle") in ("yes", "designated")
        # the most specific tagged key of access < vehicle < motor_vehicle < motorcar
        said = [tags[k] for k in ("access", "vehicle", "motor_vehicle", "motorcar") if k in tags]
        assert not said or said[-1] not in ("no", "private")
    # Non-highway ways of the file (rivers, boundaries …) never become edges.
    other = {i for i, (t, _) in andorra_ways.items() if "highway" not in t}
    assert other and not other & set(edges["osmid"])


def test_length_is_geodesic_length_of_geometry(andorra):
    geod = Geod(ellps="WGS84")
    expected = np.array([geod.geometry_length(g) for g in andorra.edges.geometry])
    np.testing.assert_allclose(andorra.edges["length_m"], expected, rtol=1e-9, atol=1e-6)
    assert (andorra.edges["length_m"] > 0).all()


def test_geometry_runs_from_u_to_v(andorra):
    e = andorra.edges
    first = shapely.get_point(e.geometry.to_numpy(), 0)
    last = shapely.get_point(e.geometry.to_numpy(), -1)
    nodes = andorra.nodes
    np.testing.assert_array_equal(shapely.get_x(first), nodes.loc[e["u"], "x"].to_numpy())
    np.testing.assert_array_equal(shapely.get_y(last), nodes.loc[e["v"], "y"].to_numpy())


def test_split_at_every_junction(andorra, andorra_ways):
    """No edge passes through a node at which another edge starts or ends."""
    node_xy = set(zip(andorra.nodes["x"], andorra.nodes["y"], strict=True))
    coords, idx = shapely.get_coordinates(andorra.edges.geometry.to_numpy(), return_index=True)
    interior = np.r_[False, idx[1:] == idx[:-1]] & np.r_[idx[1:] == idx[:-1], False]
    hits = [tuple(c) in node_xy for c in coords[interior]]
    assert not any(hits)
    # Every node shared by two kept ways is a network node (independent count).
    kept = set(andorra.edges["osmid"])
    count: dict[int, int] = {}
    for osmid in kept:
        for ref in set(andorra_ways[osmid][1]):
            count[ref] = count.get(ref, 0) + 1
    shared = {ref for ref, c in count.items() if c > 1}
    assert shared <= set(andorra.nodes.index)


def _rows(edges, osmid):
    return edges[edges["osmid"] == osmid]


def test_oneway_ways_have_one_row_in_drawing_direction(andorra, andorra_ways):
    e = andorra.edges
    oneway = [
        i
        for i, (t, _) in andorra_ways.items()
        if t.get("oneway") == "yes" and "name" in t and i in set(e["osmid"])
    ]
    assert len(oneway) >= 5
    for osmid in oneway:
        rows = _rows(e, osmid)
        refs = andorra_ways[osmid][1]
        assert not rows["reversed"].any()
        for u, v in zip(rows["u"], rows["v"], strict=True):
            first_u = refs.index(u)
            assert v in refs[first_u + 1 :], f"way {osmid} travelled against its direction"


def test_two_way_roads_have_both_directions(andorra, andorra_ways):
    e = andorra.edges
    named = [
        i
        for i, (t, _) in andorra_ways.items()
        if t.get("name") == "Carretera General" and "oneway" not in t and i in set(e["osmid"])
    ]
    assert named
    for osmid in named:
        rows = _rows(e, osmid)
        fwd = set(zip(rows["u"], rows["v"], strict=True))
        assert {(v, u) for u, v in fwd} == fwd
        assert rows["reversed"].sum() * 2 == len(rows)


def test_roundabouts_are_oneway_without_a_oneway_tag(andorra, andorra_ways):
    e = andorra.edges
    rb = [
        i
        for i, (t, _) in andorra_ways.items()
        if t.get("junction") == "roundabout" and "oneway" not in t and i in set(e["osmid"])
    ]
    assert rb
    for osmid in rb:
        assert not _rows(e, osmid)["reversed"].any()


def test_oneway_minus_one_runs_against_drawing(tmp_path):
    osm = tmp_path / "rev.osm"
    osm.write_text(
        """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
 <node id="1" lat="42.50" lon="1.50"/><node id="2" lat="42.51" lon="1.50"/>
 <node id="3" lat="42.52" lon="1.50"/><node id="4" lat="42.51" lon="1.51"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/><tag k="oneway" v="-1"/></way>
 <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="track"/></way>
 <way id="12"><nd ref="3"/><nd ref="4"/><tag k="waterway" v="river"/></way>
</osm>"""
    )
    net = geolog.read_osm(osm)
    e = net.edges.set_index(["osmid", "u", "v"])
    assert set(e.index) == {(10, 2, 1), (10, 3, 2), (11, 2, 4), (11, 4, 2)}
    assert set(net.nodes.index) == {1, 2, 3, 4}
    # walk ignores one-way restrictions
    walk = geolog.read_osm(osm, network="walk")
    assert len(walk.edges) == 6


def test_network_types_nest(andorra):
    path = geolog.data.path("andorra")
    truck = geolog.read_osm(path, network="truck")
    walk = geolog.read_osm(path, network="walk")
    allw = geolog.read_osm(path, network="all")
    drive_ways = set(andorra.edges["osmid"])
    assert set(truck.edges["osmid"]) <= drive_ways  # no way in Andorra opens to hgv only
    assert drive_ways <= set(allw.edges["osmid"])
    assert set(walk.edges["osmid"]) <= set(allw.edges["osmid"])
    assert not walk.edges["highway"].isin(["motorway", "motorway_link"]).any()
    assert walk.edges["highway"].isin(["footway", "path", "steps"]).any()
    # paths only where a motor-vehicle key opens them (GR-11 track, way 75746410)
    paths = andorra.edges[andorra.edges["highway"].isin(["footway", "path", "steps"])]
    assert set(paths["osmid"]) == {75746410}
    assert (paths["motor_vehicle"] == "designated").all()


def test_truck_network_drops_weight_limited_ways(tmp_path):
    osm = tmp_path / "w.osm"
    osm.write_text(
        """<osm version="0.6">
 <node id="1" lat="42.50" lon="1.50"/><node id="2" lat="42.51" lon="1.50"/><node id="3" lat="42.52" lon="1.50"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="secondary"/><tag k="maxweight" v="7.5"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="secondary"/><tag k="hgv" v="no"/></way>
 <way id="12"><nd ref="1"/><nd ref="3"/><tag k="highway" v="secondary"/><tag k="maxweight" v="40000 kg"/></way>
</osm>"""
    )
    assert set(geolog.read_osm(osm, network="truck").edges["osmid"]) == {12}
    assert set(geolog.read_osm(osm, network="truck", truck_weight_t=5).edges["osmid"]) == {10, 12}
    assert set(geolog.read_osm(osm, network="drive").edges["osmid"]) == {10, 11, 12}


def test_compressed_and_plain_xml_read_the_same(tmp_path):
    bz = geolog.data.path("west-oakland")
    plain = tmp_path / "wo.osm"
    gz = tmp_path / "wo.osm.gz"
    with bz2.open(bz, "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    with open(plain, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    a, b, c = (geolog.read_osm(p) for p in (bz, plain, gz))
    assert len(a.edges) > 0
    assert a.edges.drop(columns="geometry").equals(b.edges.drop(columns="geometry"))
    assert b.edges.drop(columns="geometry").equals(c.edges.drop(columns="geometry"))


def test_monaco_gzip_reads():
    net = geolog.read_osm(geolog.data.path("monaco"))
    assert len(net.edges) > 500 and net.edges["length_m"].sum() > 50_000


# ---------------------------------------------------------------- bad input


BAD = {
    "missing.osm.pbf": None,
    "empty.osm.pbf": b"",
    "random.osm.pbf": bytes(range(256)) * 4,
    "html.osm": b"<html><body>not osm</body></html>",
    "text.osm": b"hello world",
    "broken.osm.gz": b"\x1f\x8b\x08\x00garbage",
    "nohighway.osm": b'<osm version="0.6"><node id="1" lat="1" lon="1"/></osm>',
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_files_raise_osm_error(tmp_path, name):
    p = tmp_path / name
    if BAD[name] is not None:
        p.write_bytes(BAD[name])
    with pytest.raises(OSMError) as err:
        geolog.read_osm(p)
    assert name in str(err.value)


def test_truncated_pbf(tmp_path):
    data = geolog.data.path("andorra").read_bytes()
    p = tmp_path / "trunc.osm.pbf"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(OSMError, match="corrupt or truncated"):
        geolog.read_osm(p)


def test_no_highways_for_network_type(tmp_path):
    p = tmp_path / "foot.osm"
    p.write_text(
        """<osm version="0.6"><node id="1" lat="42.5" lon="1.5"/><node id="2" lat="42.6" lon="1.5"/>
 <way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way></osm>"""
    )
    with pytest.raises(OSMError, match="network='drive'"):
        geolog.read_osm(p)
    assert len(geolog.read_osm(p, network="walk").edges) == 2


def test_bad_options(tmp_path):
    with pytest.raises(InputError, match="network must be one of"):
        geolog.read_osm(geolog.data.path("andorra"), network="boat")
    p = tmp_path / "roads.csv"
    p.write_text("a,b")
    with pytest.raises(InputError, match="unsupported file type"):
        geolog.read_osm(p)
    assert issubclass(OSMError, GeologError) and issubclass(OSMError, OSError)


@pytest.mark.parametrize("suffix", [".osm", ".osm.gz", ".osm.bz2", ".osm.pbf"])
def test_convert_keeps_the_network(tmp_path, suffix):
    src = geolog.data.path("west-oakland")
    dst = geolog.osm.convert(src, tmp_path / f"wo{suffix}")
    assert geolog.read_osm(dst).fingerprint() == geolog.read_osm(src).fingerprint()
    with pytest.raises(InputError, match="exists"):
        geolog.osm.convert(src, dst)
    assert [p.name for p in tmp_path.iterdir()] == [dst.name]


def test_wkb_coordinates_without_geos_match_shapely():
    from geolog.osm import _wkb_line_coords

    rng = np.random.default_rng(5)
    lines = [shapely.LineString(rng.uniform(-180, 180, (n, 2))) for n in (2, 3, 7, 2, 40)]
    hexes = [shapely.to_wkb(g, hex=True, byte_order=1) for g in lines]
    got = _wkb_line_coords(hexes, np.array([len(g.coords) for g in lines]))
    np.testing.assert_array_equal(got, shapely.get_coordinates(lines))
    # big-endian input falls back to GEOS and still agrees
    big = [shapely.to_wkb(g, hex=True, byte_order=0) for g in lines]
    np.testing.assert_array_equal(
        _wkb_line_coords(big, np.array([len(g.coords) for g in lines])),
        shapely.get_coordinates(lines),
    )


# ----------------------------------------------------------------------------- access hierarchy
# tags -> is the way kept by network drive / truck / walk, and usable by the
# car / truck profiles (OSM wiki Key:access: the most specific tagged key decides)
ACCESS_CASES = [
    # tags                                                       drive  truck  walk   car    truck_p
    ({"highway": "residential"},                                 True,  True,  True,  True,  True),
    ({"highway": "residential", "access": "no"},                 False, False, False, False, False),
    ({"highway": "residential", "access": "no", "motor_vehicle": "yes"}, True, True, False, True, True),
    ({"highway": "primary", "motor_vehicle": "no", "motorcar": "yes"},   True, False, True, True, False),
    ({"highway": "residential", "access": "private", "motorcar": "destination"}, True, False, False, True, False),
    ({"highway": "residential", "hgv": "no"},                    True,  False, True,  True,  False),
    ({"highway": "residential", "vehicle": "no", "motor_vehicle": "yes"}, True, True, True, True, True),
    ({"highway": "residential", "access": "yes", "motor_vehicle": "no"},  False, False, True, False, False),
    ({"highway": "path", "motor_vehicle": "designated"},         True,  True,  True,  True,  True),
    ({"highway": "path"},                                        False, False, True,  False, False),
    ({"highway": "cycleway", "motorcar": "yes"},                 True,  False, True,  True,  False),
    ({"highway": "footway", "access": "yes"},                    False, False, True,  False, False),
    ({"highway": "residential", "motor_vehicle": "no", "hgv": "yes"},    False, True, True, False, True),
    ({"highway": "residential", "access": "no", "foot": "yes"},  False, False, True,  False, False),
    ({"highway": "residential", "goods": "no"},                  True,  False, True,  True,  False),
    ({"highway": "residential", "goods": "no", "hgv": "yes"},    True,  True,  True,  True,  True),
    ({"highway": "residential", "motor_vehicle": "private;no"},  False, False, True,  False, False),
    ({"highway": "track", "motor_vehicle": "agricultural"},      True,  True,  True,  False, False),
    ({"highway": "residential", "motor_vehicle:conditional": "no @ (Mo-Fr 07:00-09:00)"}, True, True, True, True, True),
    ({"highway": "residential", "motorcar": "No"},               False, True,  True,  False, True),
    ({"highway": "residential", "vehicle": "no"},                False, False, True,  False, False),
    ({"highway": "service", "access": "delivery", "hgv": "designated"},  True, True, True, True, True),
]  # fmt: skip


@pytest.fixture(scope="module")
def access_file(tmp_path_factory):
    """One two-node way per case, far apart, in an OSM XML file."""
    from xml.sax.saxutils import quoteattr

    parts = ['<osm version="0.6">']
    for i, (tags, *_) in enumerate(ACCESS_CASES):
        lat = 42.5 + 0.01 * i
        parts.append(f'<node id="{2 * i + 1}" lat="{lat}" lon="1.5"/>')
        parts.append(f'<node id="{2 * i + 2}" lat="{lat}" lon="1.501"/>')
        tag_xml = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        parts.append(
            f'<way id="{100 + i}"><nd ref="{2 * i + 1}"/><nd ref="{2 * i + 2}"/>{tag_xml}</way>'
        )
    parts.append("</osm>")
    path = tmp_path_factory.mktemp("access") / "access.osm"
    path.write_text("\n".join(parts))
    return path


@pytest.mark.parametrize("column, network", [(1, "drive"), (2, "truck"), (3, "walk")])
def test_access_hierarchy_per_network_type(access_file, column, network):
    kept = set(geolog.read_osm(access_file, network=network).edges["osmid"])
    for i, case in enumerate(ACCESS_CASES):
        assert (100 + i in kept) == case[column], (network, case[0])


@pytest.mark.parametrize("column, profile", [(4, "car"), (5, "truck")])
def test_access_hierarchy_per_profile(access_file, column, profile):
    import warnings

    net = geolog.read_osm(access_file, network="all")
    with warnings.catch_warnings():  # the truck's climb model wants terrain; not needed here
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        applied = geolog.rules.apply(net, profile)
    usable = applied.edges.groupby("osmid")["cost"].min().lt(np.inf)
    for i, case in enumerate(ACCESS_CASES):
        assert bool(usable.get(100 + i, False)) == case[column], (profile, case[0])


def test_liechtenstein_landstrasse_is_kept_and_routable(liechtenstein):
    """Way 239794985: primary, motor_vehicle=no + motorcar=yes: open to cars."""
    e = liechtenstein.edges
    land = e[e["osmid"] == 239794985]
    assert len(land) and (land["name"] == "Landstrasse").all()
    mid = land.geometry.iloc[len(land) // 2].interpolate(0.5, normalized=True)
    far = liechtenstein.largest_component().nodes.iloc[0]
    r = geolog.route(liechtenstein, (mid.y, mid.x), (far["y"], far["x"]), profile="car")
    assert r.snapped["distance_m"].iloc[0] < 1 and r.length_m > 0
    assert 239794985 in set(r.edges["osmid"])
