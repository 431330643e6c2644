"""Read OpenStreetMap road networks offline with pyosmium.

One pass over the file: pyosmium's C++ reader keeps node locations in its own
index and hands Python only the highway ways (already carrying their node
coordinates). Everything after that — filtering, splitting at junctions,
geometries, geodesic lengths, directed edge rows — is vectorised with numpy and
shapely over all ways at once.

Network types
-------------
``drive``
    Public roads a motor vehicle may use: motorway … residential, their links,
    ``living_street``, ``unclassified``, ``road``, ``service`` (except parking
    aisles, driveways and emergency access) **and ``track``**. Unlike osmnx's
    ``drive`` type, tracks and service roads stay in: in the mountains and in
    humanitarian work they are often the only way in, and route rules (not the
    reader) decide whether a vehicle may use them. ``path``, ``cycleway``,
    ``footway``, ``bridleway`` and ``pedestrian`` ways are kept where a
    motor-vehicle key opens them (``motor_vehicle=designated``,
    ``motorcar=yes`` …). Access follows the OSM hierarchy, most specific key
    wins (:mod:`geolog._access`): ways whose deciding key among ``access`` <
    ``vehicle`` < ``motor_vehicle`` < ``motorcar`` says ``no`` or ``private``
    are left out, so ``motor_vehicle=no`` + ``motorcar=yes`` stays in.
    ``*:conditional`` restrictions are ignored.
``truck``
    The same with the truck keys ``access`` < ``vehicle`` < ``motor_vehicle``
    < ``goods`` < ``hgv`` (so ``hgv=no`` closes a way, ``hgv=designated``
    opens one), minus ways whose ``maxweight`` (or ``maxweight:hgv``) is
    below the vehicle weight (``truck_weight_t``, default 18 t).
``walk``
    Everything a pedestrian may use (footways, paths, steps, tracks, streets),
    minus motorways, and ways closed by ``access`` < ``foot`` (``foot=no``,
    or ``access=private`` without ``foot=yes``); one-way restrictions do not
    apply to pedestrians.
``all``
    Every ``highway=*`` way except ones that are not roads yet or any more
    (``proposed``, ``construction``, ``abandoned``, ``razed``, ``planned``).

Examples
--------
>>> import geolog
>>> net = geolog.read_osm(geolog.data.path("andorra"), network="drive")
>>> net.edges[["u", "v", "highway", "length_m"]].head()  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
import gzip
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._access import MODES, deciding, explicitly_open, member
from ._io import atomic_path, sha256_file
from ._maxspeed import parse_maxweight_t
from ._restrictions import read_restrictions
from .errors import InputError, OSMError
from .network import Network, geodesic_lengths, nodes_frame

__all__ = ["read_osm", "convert", "NETWORK_TYPES", "EDGE_TAGS"]

logger = logging.getLogger(__name__)

NETWORK_TYPES = ("drive", "truck", "walk", "all")

#: OSM tags kept on every edge (as columns, ``None`` where untagged).
EDGE_TAGS = (
    "highway",
    "name",
    "ref",
    "surface",
    "tracktype",
    "maxspeed",
    "lanes",
    "bridge",
    "tunnel",
    "oneway",
    "access",
    "vehicle",
    "motor_vehicle",
    "motorcar",
    "goods",
    "hgv",
    "foot",
    "maxweight",
    "width",
    "junction",
    "smoothness",
)
# Tags read only to decide membership and direction, not kept.
_FILTER_TAGS = (
    "area",
    "service",
    "maxweight:hgv",
    "sidewalk",
)
_READ_TAGS = EDGE_TAGS + _FILTER_TAGS
#: Highway ways between two progress reports of :func:`read_osm`.
PROGRESS_EVERY = 100_000

_NOT_ROADS = {"proposed", "construction", "abandoned", "razed", "planned", "disused", "no"}
_DRIVE = {
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "road",
    "service",
    "track",
}
#: Paths kept for ``drive`` / ``truck`` only where a motor-vehicle key opens them.
_MOTOR_PATHS = {"path", "cycleway", "footway", "bridleway", "pedestrian"}
_NO_WALK = {"motorway", "motorway_link", "bus_guideway", "raceway", "busway"}
_CLOSED = {"no", "private"}
_DRIVE_SERVICE_EXCLUDED = {"parking_aisle", "driveway", "emergency_access", "private"}
_ONEWAY_FWD = {"yes", "true", "1"}
_ONEWAY_REV = {"-1", "reverse"}
_IMPLIED_ONEWAY_HIGHWAY = {"motorway"}
_IMPLIED_ONEWAY_JUNCTION = {"roundabout", "circular"}


def read_osm(
    path: str | os.PathLike,
    network: str = "drive",
    *,
    truck_weight_t: float = 18.0,
    retain_all: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Network:
    """Build a routable :class:`~geolog.Network` from an OSM file, offline.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2`` file.
    network
        One of ``"drive"``, ``"truck"``, ``"walk"``, ``"all"`` (see the module
        docstring for what each keeps).
    truck_weight_t
        Gross weight of the truck in tonnes, for ``network="truck"``: ways with a
        lower tagged ``maxweight`` are left out.
    retain_all
        Keep every connected piece of the network (default). With ``False`` only
        the largest strongly connected component is kept.
    progress
        Called with a short status line (``"1,200,000 highway ways read"``,
        ``"building edges"`` …) as the read goes on, e.g. to update a progress
        display; the same lines are logged at INFO level on ``geolog.osm``
        every :data:`PROGRESS_EVERY` ways. A read needs at most about 100×
        the PBF size in memory above the imports (README, "Big jobs").

    Returns
    -------
    Network
        Nodes (junctions and dead ends, indexed by OSM node id) and directed
        edges, one row per direction of travel, with geodesic ``length_m``;
        the file's turn restrictions in ``net.restrictions``.

    Raises
    ------
    InputError
        Unknown network type or unsupported file extension.
    OSMError
        Missing, empty, truncated or corrupt file, or no highway of the
        requested type in it.
    """
    if network not in NETWORK_TYPES:
        raise InputError(
            f"network must be one of {', '.join(map(repr, NETWORK_TYPES))}, not {network!r}"
        )
    path = Path(path)
    _check_file(path)
    report = _reporter(path, progress)
    ways = _read_ways(path, report)
    report(f"{len(ways['id']):,} highway ways read; building edges")
    keep = _network_mask(ways["tags"], network, truck_weight_t)
    if not keep.any():
        raise OSMError(
            f"{path}: no highway ways usable for network={network!r} "
            f"({len(keep)} highway ways in the file). Try network='all', or check the extract."
        )
    nodes, edges = _build_edges(ways, keep, directed=network != "walk")
    report(f"{len(edges):,} edges built; checksumming the file")
    meta = {
        "network_type": network,
        "sources": [{"file": path.name, "sha256": sha256_file(path)}],
        "build_options": {"truck_weight_t": truck_weight_t, "retain_all": retain_all},
        "restrictions": read_restrictions(path),
    }
    net = Network(nodes, edges, meta)
    if not retain_all:
        net = net.largest_component()
    logger.info("read %s: %d nodes, %d edges", path.name, len(net.nodes), len(net.edges))
    return net


def convert(src: str | os.PathLike, dst: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Convert an OSM file to another OSM format with pyosmium (format from ``dst``'s name).

    Useful to hand tools that read only XML (osmnx's ``graph_from_xml``) the
    same data geolog reads from PBF. Written atomically.

    Parameters
    ----------
    src, dst
        Input and output paths: ``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``.
    overwrite
        Replace ``dst`` if it exists.
    """
    import osmium

    src, dst = Path(src), Path(dst)
    _check_file(src)
    if dst.exists() and not overwrite:
        raise InputError(f"{dst} exists; pass overwrite=True to replace it")
    if not dst.name.lower().endswith(_SUFFIXES):
        raise InputError(f"{dst}: write .osm.pbf, .osm, .osm.gz or .osm.bz2")
    suffix = "".join(Path(dst.name.lower()).suffixes)  # libosmium picks the format from it
    try:
        with (
            atomic_path(dst, suffix=suffix) as tmp,
            osmium.SimpleWriter(str(tmp), overwrite=True) as w,
        ):
            for obj in osmium.FileProcessor(str(src)):
                w.add(obj)
    except RuntimeError as err:
        raise OSMError(f"{src}: cannot convert ({err})") from err
    return dst


# --------------------------------------------------------------------------- file checks


_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2", ".xml", ".osm.xml")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise OSMError(f"{path}: no such file")
    if path.is_dir():
        raise OSMError(f"{path}: is a folder, not an OSM file")
    name = path.name.lower()
    if not name.endswith(_SUFFIXES):
        raise InputError(
            f"{path}: unsupported file type; geolog reads .osm.pbf, .osm, .osm.gz and .osm.bz2"
        )
    if path.stat().st_size == 0:
        raise OSMError(f"{path}: file is empty")
    head = _head(path, name)
    if name.endswith(".pbf"):
        # A PBF starts with a 4-byte header length then a BlobHeader naming "OSMHeader".
        if b"OSMHeader" not in head[:64]:
            raise OSMError(f"{path}: not an OSM PBF file (no OSMHeader block); is it corrupt?")
    else:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not text.startswith(b"<"):
            raise OSMError(f"{path}: not OSM XML (does not start with '<'); is it corrupt?")
        if b"<osm" not in head:
            raise OSMError(f"{path}: XML without an <osm> root element; not an OSM file")
        _scan_xml(path, name)


# A lat/lon value with anything but digits, "." and a sign ("1e308", "nan"): libosmium
# reads some of these as 0 without complaint. (No look-behind for the space before
# "lat": it would cost the regex its fast literal search; matches are checked after.)
_BAD_COORD = re.compile(rb"""(lat|lon)=["']([-+]?[0-9.]*[^-+0-9."'][^"'<>]{0,20})""")
#: Longest stretch of OSM XML without a "<" (one element; a tag value is ≤ 255 characters).
MAX_XML_ELEMENT = 2**20


def _scan_xml(path: Path, name: str, chunk: int = 2**22) -> None:
    """Stream an OSM XML file once for what libosmium reads wrongly or too slowly.

    Finds coordinates that are not plain decimals and elements longer than
    :data:`MAX_XML_ELEMENT` bytes (a raw ``<`` cannot occur inside an attribute
    value, so a longer gap is a giant tag value, which libosmium's parser
    accumulates in quadratic time).
    """
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    last_lt, offset, tail = 0, 0, b""
    try:
        with opener(path, "rb") as fh:
            while block := fh.read(chunk):
                lt = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("<"))
                marks = np.r_[last_lt, offset + lt, offset + len(block)]
                gaps = np.diff(marks)
                if gaps.max() > MAX_XML_ELEMENT:
                    raise OSMError(
                        f"{path}: the XML element at byte {marks[gaps.argmax()]:,} is longer than "
                        f"{MAX_XML_ELEMENT // 2**20} MB (a tag value of OSM holds at most 255 "
                        "characters); the file is corrupt or hostile"
                    )
                if len(lt):
                    last_lt = offset + int(lt[-1])
                text = tail + block
                m = next(
                    (
                        m
                        for m in _BAD_COORD.finditer(text)
                        if text[m.start() - 1 : m.start()].isspace()
                    ),
                    None,
                )
                if m:
                    raise OSMError(
                        f'{path}: {m.group(1).decode()}="{m.group(2).decode(errors="replace")}" '
                        f"is not a coordinate; {_COORD_RULE}"
                    )
                tail = block[-64:]
                offset += len(block)
    except (OSError, EOFError, ValueError) as err:
        if isinstance(err, OSMError):
            raise
        raise OSMError(
            f"{path}: cannot decompress ({err}); the file is corrupt or truncated"
        ) from err


def _head(path: Path, name: str) -> bytes:
    opener = gzip.open if name.endswith(".gz") else bz2.open if name.endswith(".bz2") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(4096)
    except (OSError, EOFError, ValueError) as err:
        raise OSMError(
            f"{path}: cannot decompress ({err}); the file is corrupt or truncated"
        ) from err


# --------------------------------------------------------------------------- reading


def _reporter(path: Path, progress: Callable[[str], None] | None) -> Callable[[str], None]:
    """Status lines go to the log and, if given, to the caller's ``progress``."""

    def report(status: str) -> None:
        logger.info("%s: %s", path.name, status)
        if progress is not None:
            progress(status)

    return report


def _read_ways(path: Path, report: Callable[[str], None]) -> dict:
    """One pyosmium pass: highway ways with their node ids and coordinates.

    libosmium decodes the file, keeps node locations in its index and filters
    the highway ways in C++; per way, Python takes the node ids, the wanted
    tags and a WKB line built by osmium (coordinates of *all* way nodes, so
    they stay aligned with the ids). Ways whose nodes lack a location (cut off
    by the extract) fall back to reading each node and are split later.
    """
    import osmium

    way_ids: list[int] = []
    tags: list[list] = []
    refs: list[int] = []
    counts: list[int] = []
    wkbs: list[str | None] = []
    partial: dict[
        int, tuple[list[float], list[float]]
    ] = {}  # way index -> lon, lat (NaN = missing)
    keys = _READ_TAGS
    make_line = osmium.geom.WKBFactory().create_linestring
    all_nodes = osmium.geom.ALL
    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in fp:
            # pyosmium 4's buffer accessors: one C++ call per node, no wrapper objects.
            data = way._pyosmium_data
            nodelist = data.nodes()
            get = nodelist.get
            n = nodelist.size(data)
            refs.extend([get(data, i).ref for i in range(n)])
            counts.append(n)
            tag = data.tags_get_value_by_key
            tags.append([tag(k, None) for k in keys])
            way_ids.append(way.id)
            if len(way_ids) % PROGRESS_EVERY == 0:
                report(f"{len(way_ids):,} highway ways read")
            try:
                wkbs.append(make_line(way.nodes, all_nodes))
            except (osmium.InvalidLocationError, RuntimeError):
                wkbs.append(None)
                locs = [get(data, i).location for i in range(n)]
                _check_in_range(path, [get(data, i).ref for i in range(n)], locs)
                partial[len(wkbs) - 1] = (
                    [p.lon if p.valid() else np.nan for p in locs],
                    [p.lat if p.valid() else np.nan for p in locs],
                )
    except RuntimeError as err:  # libosmium reports corrupt input as RuntimeError subclasses
        raise OSMError(
            f"{path}: cannot read OSM data ({err}); the file is corrupt or truncated"
        ) from err
    except osmium.InvalidLocationError as err:
        raise OSMError(f"{path}: {err}; {_COORD_RULE}") from err
    except ValueError as err:  # libosmium: "OSM tag value is too long" (> 1024 characters)
        raise OSMError(f"{path}: {err}; OSM allows at most 255 characters per value") from err
    if not way_ids:
        raise OSMError(f"{path}: no highway ways in this file; is it a road extract?")
    counts_a = np.asarray(counts, dtype=np.int64)
    lon = np.full(counts_a.sum(), np.nan)
    lat = np.full(counts_a.sum(), np.nan)
    whole = np.array([w is not None for w in wkbs])
    starts = np.r_[0, np.cumsum(counts_a)[:-1]]
    if whole.any():
        xy = _wkb_line_coords([w for w in wkbs if w is not None], counts_a[whole])
        at = np.repeat(whole, counts_a)
        lon[at], lat[at] = xy[:, 0], xy[:, 1]
    for k, (lo, la) in partial.items():
        lon[starts[k] : starts[k] + counts_a[k]] = lo
        lat[starts[k] : starts[k] + counts_a[k]] = la
    if np.isfinite(lon).sum() < 2:
        raise OSMError(
            f"{path}: none of the {len(way_ids)} highway ways has nodes with coordinates in "
            "the file; export the extract with its nodes (osmium extract keeps them)"
        )
    return {
        "id": np.asarray(way_ids, dtype=np.int64),
        "tags": pd.DataFrame(tags, columns=list(keys)),
        "counts": counts_a,
        "refs": np.asarray(refs, dtype=np.int64),
        "lon": lon,
        "lat": lat,
        "valid": np.isfinite(lon),
    }


_COORD_RULE = "OSM coordinates are plain decimal degrees, latitude -90…90 and longitude -180…180"
_UNDEFINED = 2**31 - 1  # osmium's coordinate of a node missing from the file


def _check_in_range(path: Path, refs: list[int], locs: list) -> None:
    """A node present in the file with an out-of-range location is an error, not a gap."""
    for ref, loc in zip(refs, locs, strict=True):
        if not loc.valid() and loc.x != _UNDEFINED and loc.y != _UNDEFINED:
            raise OSMError(
                f"{path}: node {ref} has coordinates out of range "
                f"(lon {loc.x / 1e7:g}, lat {loc.y / 1e7:g}); {_COORD_RULE}"
            )


def _wkb_line_coords(hex_lines: list[str], counts: np.ndarray) -> np.ndarray:
    """Coordinates of many hex WKB LineStrings as one ``(n, 2)`` array, without GEOS.

    osmium writes plain little-endian 2-D WKB: 1 byte order, 4 bytes type, 4
    bytes point count, then 16 bytes per point. Dropping the 9 header bytes of
    every line leaves the doubles back to back.
    """
    buf = np.frombuffer(bytes.fromhex("".join(hex_lines)), dtype=np.uint8)
    sizes = 9 + 16 * counts
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    if buf[starts].min() != 1 or (buf[starts + 1] != 2).any():  # little-endian LineString
        return shapely.get_coordinates(shapely.from_wkb(hex_lines))
    keep = np.ones(len(buf), dtype=bool)
    keep[(starts[:, None] + np.arange(9)).ravel()] = False
    return buf[keep].view("<f8").reshape(-1, 2)


# --------------------------------------------------------------------------- filtering


def _first_value(s: pd.Series) -> pd.Series:
    """Merged tags like ``"primary;secondary"`` keep their first value."""
    return s.str.split(";").str[0].str.strip()


def _network_mask(tags: pd.DataFrame, network: str, truck_weight_t: float) -> np.ndarray:
    hw = _first_value(tags["highway"].fillna(""))
    keep = (~hw.isin(_NOT_ROADS) & hw.ne("") & tags["area"].ne("yes")).to_numpy()
    if network == "all":
        return keep
    # the most specific access key of the mode decides (geolog._access)
    keys = MODES["foot" if network == "walk" else "motorcar" if network == "drive" else "hgv"]
    decided = deciding(tags, keys)
    closed = member(decided[0], _CLOSED)
    if network == "walk":
        return keep & ~hw.isin(_NO_WALK).to_numpy() & ~closed
    roads = hw.isin(_DRIVE).to_numpy() | (
        hw.isin(_MOTOR_PATHS).to_numpy() & explicitly_open(tags, keys, decided)
    )
    parking = (hw.eq("service") & tags["service"].isin(_DRIVE_SERVICE_EXCLUDED)).to_numpy()
    motor = keep & roads & ~closed & ~parking
    if network == "drive":
        return motor
    weight = np.fmin(parse_maxweight_t(tags["maxweight"]), parse_maxweight_t(tags["maxweight:hgv"]))
    return motor & ~(weight < truck_weight_t)


# --------------------------------------------------------------------------- splitting


def _build_edges(
    ways: dict, keep: np.ndarray, *, directed: bool
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    counts = ways["counts"]
    way_of = np.repeat(np.arange(len(counts)), counts)  # way index of every way-node
    sel = keep[way_of]
    way_of = way_of[sel]
    ref = ways["refs"][sel]
    lon = ways["lon"][sel]
    lat = ways["lat"][sel]
    valid = ways["valid"][sel]

    # Nodes without a location (cut off by the extract) break the way in two.
    # Consecutive duplicates of the same node are dropped.
    new_way = np.r_[True, way_of[1:] != way_of[:-1]]
    part = np.cumsum(new_way | np.r_[False, ~valid[:-1]])
    dup = np.r_[False, (ref[1:] == ref[:-1]) & (part[1:] == part[:-1])]
    m = valid & ~dup
    way_of, part, ref, lon, lat = way_of[m], part[m], ref[m], lon[m], lat[m]
    # Renumber parts and drop parts with a single node.
    start = np.r_[True, part[1:] != part[:-1]]
    pid = np.cumsum(start) - 1
    plen = np.bincount(pid)
    m = plen[pid] >= 2
    way_of, ref, lon, lat, pid = way_of[m], ref[m], lon[m], lat[m], pid[m]
    start = np.r_[True, pid[1:] != pid[:-1]]
    end = np.r_[pid[1:] != pid[:-1], True]

    # Junctions: nodes used more than once (by any kept way, or twice by one),
    # plus the ends of every way part.
    uniq, inv, cnt = np.unique(ref, return_inverse=True, return_counts=True)
    node_mask = (cnt[inv] > 1) | start | end
    split = node_mask & ~start & ~end  # interior junctions: end one edge, start the next

    # Duplicate every interior split node so each edge owns its end points.
    rep = np.where(split, 2, 1)
    idx = np.repeat(np.arange(len(ref)), rep)
    second = np.zeros(len(idx), dtype=bool)
    first_of_rep = np.r_[True, idx[1:] != idx[:-1]]
    second[~first_of_rep] = True  # the second copy of a split node starts a new edge
    starts = start[idx] & first_of_rep | second
    eid = np.cumsum(starts) - 1
    x, y, r = lon[idx], lat[idx], ref[idx]
    n_edges = eid[-1] + 1
    e_first = np.flatnonzero(starts)
    e_last = np.r_[e_first[1:] - 1, len(idx) - 1]

    coords = np.column_stack([x, y])
    length = geodesic_lengths(coords, eid, n_edges)
    geoms = shapely.linestrings(coords, indices=eid)
    # Reversed lines straight from the reversed coordinate array (edge ids descending).
    rgeoms = shapely.linestrings(coords[::-1], indices=(n_edges - 1 - eid)[::-1])[::-1]
    widx = way_of[idx][e_first]
    u = r[e_first]
    v = r[e_last]

    tags = ways["tags"].iloc[widx].reset_index(drop=True)
    fwd = pd.DataFrame({"u": u, "v": v, "osmid": ways["id"][widx]})
    for col in EDGE_TAGS:  # pandas string dtype; untagged is missing (NaN)
        fwd[col] = tags[col].astype("str").array
    fwd["highway"] = _first_value(tags["highway"]).astype("str").array
    fwd["reversed"] = False
    fwd["length_m"] = length

    # Direction of travel.
    ow = tags["oneway"].fillna("").str.lower()
    implied = tags["highway"].isin(_IMPLIED_ONEWAY_HIGHWAY) | tags["junction"].isin(
        _IMPLIED_ONEWAY_JUNCTION
    )
    if directed:
        only_rev = ow.isin(_ONEWAY_REV).to_numpy()
        only_fwd = (
            ow.isin(_ONEWAY_FWD) | (implied & ow.ne("no") & ~ow.isin(_ONEWAY_REV))
        ).to_numpy()
    else:
        only_rev = only_fwd = np.zeros(len(fwd), dtype=bool)
    has_fwd = ~only_rev
    has_rev = ~only_fwd
    rev = fwd[has_rev].copy()
    rev["u"], rev["v"] = fwd["v"][has_rev].to_numpy(), fwd["u"][has_rev].to_numpy()
    rev["reversed"] = True
    # Interleave: each segment's forward row, then its reverse row, in file order.
    order_key = np.r_[np.flatnonzero(has_fwd) * 2, np.flatnonzero(has_rev) * 2 + 1]
    edges = pd.concat([fwd[has_fwd], rev], ignore_index=True)
    geom = np.r_[geoms[has_fwd], rgeoms[has_rev]]
    order = np.argsort(order_key, kind="stable")
    edges = edges.iloc[order].reset_index(drop=True)
    edges = gpd.GeoDataFrame(edges, geometry=geom[order], crs="EPSG:4326")

    node_ids = np.unique(np.r_[u, v])
    pos = np.searchsorted(uniq, node_ids)
    first_seen = np.full(len(uniq), -1)
    first_seen[inv[::-1]] = np.arange(len(inv))[::-1]
    nx_ = lon[first_seen[pos]]
    ny_ = lat[first_seen[pos]]
    return nodes_frame(node_ids, nx_, ny_), edges
