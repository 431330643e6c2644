"""Offline base map drawn from the same OSM file as the roads.

:func:`read_basemap` reads place names (``place=*`` nodes), water (rivers and
streams, lakes and reservoirs), built-up areas (residential, commercial,
industrial and retail land use) and forest from an ``.osm.pbf``/``.osm`` file
with pyosmium; :func:`basemap_layer` draws them, with road refs from the
network as labels, as one Leaflet layer in its own panes: areas and rivers
under the data (z-index 350; data at 400), labels over the roads (450) so
names stay legible, taking no clicks. The hillshade lies under both (pane
``geolog-relief``, 150), so the base map reads over the relief.

Text from OSM (place names, refs) reaches the page only as JSON written by
:func:`geolog._html.script_json` and is put on the map with the DOM's
``textContent`` — never parsed as HTML or as a template.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _cache
from ._io import read_osm_cached
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from .network import Network

__all__ = ["Basemap", "read_basemap", "basemap_layer", "resolve_basemap", "osm_source"]

logger = logging.getLogger(__name__)

#: ``place=*`` values drawn, with the label class (major labels show at every zoom).
PLACE_CLASS = {
    "city": "major",
    "town": "major",
    "village": "mid",
    "suburb": "mid",
    "hamlet": "minor",
    "neighbourhood": "minor",
    "locality": "minor",
    "isolated_dwelling": "minor",
}
_WATER_LINES = {"river": 2.2, "canal": 1.8, "stream": 1.0}
_BUILT_UP = {"residential", "commercial", "industrial", "retail"}
_FOREST = {("landuse", "forest"), ("natural", "wood")}
_WATER_AREAS = {("natural", "water"), ("landuse", "reservoir"), ("waterway", "riverbank")}
_STYLES = {
    "water": {"color": "#3b83bd", "weight": 0.6, "fillColor": "#8cc4ea", "fillOpacity": 0.85},
    "built": {"color": "#b07a4f", "weight": 0.5, "fillColor": "#d9a77a", "fillOpacity": 0.45},
    "forest": {"color": "#4b8b3b", "weight": 0, "fillColor": "#5fa052", "fillOpacity": 0.28},
}
_RIVER_COLOR = "#3b83bd"
_KINDS = {"water", "built", "forest", *_WATER_LINES}
_OSM_SUFFIXES = (".osm", ".pbf", ".osm.gz", ".osm.bz2", ".o5m", ".opl")
_TOLERANCE_DEG = 5e-5  # about 5 m: display simplification of areas and rivers
_MIN_REF_KM = 3.0  # a road ref is labelled on its longest stretch and each other one this long


@dataclass(frozen=True)
class Basemap:
    """Context features of an OSM file, in EPSG:4326.

    Attributes
    ----------
    places
        Points with ``name`` and ``place`` (the OSM value).
    water_lines
        Rivers, canals and streams (``kind`` column).
    areas
        Polygons with ``kind`` in ``"water"``, ``"built"``, ``"forest"``.
    timestamp
        The file's replication timestamp (ISO 8601, UTC) or, when the header
        has none, the newest object timestamp seen; ``None`` if unknown.
    source
        The file name.
    """

    places: gpd.GeoDataFrame
    water_lines: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    timestamp: str | None
    source: str
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.places) + len(self.water_lines) + len(self.areas)


def _iso(ts: Any) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, _dt.datetime):
        if ts.year < 1971:
            return None
        return ts.astimezone(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    s = str(ts).strip()
    return s or None


def _area_kind(tags: Any) -> str | None:
    if tags.get("landuse") in _BUILT_UP:
        return "built"
    for k, v in _WATER_AREAS:
        if tags.get(k) == v:
            return "water"
    for k, v in _FOREST:
        if tags.get(k) == v:
            return "forest"
    return None


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, _stamp: tuple[float, int]) -> Basemap:
    import geopandas as gpd
    import osmium
    import shapely

    wkb = osmium.geom.WKBFactory()
    places: list[tuple[str, str, Any]] = []
    lines: list[tuple[str, bytes]] = []
    areas: list[tuple[str, bytes]] = []
    newest: _dt.datetime | None = None
    keys = ("place", "waterway", "natural", "landuse")
    fp = (
        osmium.FileProcessor(path)
        .with_locations()
        .with_areas()
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    for obj in fp:
        ts = getattr(obj, "timestamp", None)
        if ts is not None and (newest is None or ts > newest):
            newest = ts
        tags = obj.tags
        try:
            if obj.is_node():
                cls = PLACE_CLASS.get(tags.get("place", ""))
                name = tags.get("name")
                if cls and name:
                    places.append((name, tags.get("place"), (obj.location.lon, obj.location.lat)))
            elif obj.is_way():
                kind = tags.get("waterway")
                if kind in _WATER_LINES:
                    lines.append((kind, wkb.create_linestring(obj)))
            elif obj.is_area():
                kind = _area_kind(tags)
                if kind:
                    areas.append((kind, wkb.create_multipolygon(obj)))
        except RuntimeError as err:  # an invalid or incomplete geometry in the extract
            logger.debug("basemap: skipping %s: %s", obj, err)
    header = osmium.io.Reader(path, osmium.osm.osm_entity_bits.NOTHING)
    try:
        stamp = header.header().get("osmosis_replication_timestamp") or None
    finally:
        header.close()

    def frame(kinds: list[str], geoms: Any, **cols: Any) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame({"kind": kinds, **cols}, geometry=geoms, crs="EPSG:4326")

    pl = gpd.GeoDataFrame(
        {"name": [p[0] for p in places], "place": [p[1] for p in places]},
        geometry=shapely.points([p[2] for p in places]) if places else [],
        crs="EPSG:4326",
    )
    wl = frame([k for k, _ in lines], shapely.from_wkb([g for _, g in lines]) if lines else [])
    ar = frame([k for k, _ in areas], shapely.from_wkb([g for _, g in areas]) if areas else [])
    return Basemap(pl, wl, ar, _iso(stamp) or _iso(newest), Path(path).name)


def read_basemap(path: str | os.PathLike[str]) -> Basemap:
    """Read the base-map features of an OSM file (cached per file and modification time).

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2`` file.

    Returns
    -------
    Basemap

    Raises
    ------
    InputError
        The file does not exist or pyosmium cannot read it.
    """
    return read_osm_cached(path, _read_cached, what="the base map")


def osm_source(net: Network | None) -> Path | None:
    """The OSM file a network was read from, if it can be found on this machine.

    ``net.meta["sources"]`` records the file name and SHA-256; the file is
    looked for beside the working directory and in the bundled data
    (:data:`geolog.data.DATA_DIR`) and used only if its hash matches.
    """
    from .data import DATA_DIR

    sources = (getattr(net, "meta", None) or {}).get("sources") or []
    for src in sources:
        name, digest = src.get("file"), src.get("sha256")
        if not name or not digest or not str(name).endswith(_OSM_SUFFIXES):
            continue
        cands = [Path(name), *Path(DATA_DIR).glob(f"*/{Path(name).name}")]
        for c in cands:
            if c.is_file() and _sha_cached(str(c.resolve()), c.stat().st_mtime) == digest:
                return c
    return None


@functools.lru_cache(maxsize=32)
def _sha_cached(path: str, _mtime: float) -> str:
    from ._io import sha256_file

    return sha256_file(path)


_cache.register_function("base maps", _read_cached)
_cache.register_function("source checksums", _sha_cached)


def resolve_basemap(basemap: Any, net: Network | None) -> Basemap | None:
    """``True``/``None``: the network's own OSM file if found; ``False``: none; a path or a :class:`Basemap`."""
    if basemap is False:
        return None
    if isinstance(basemap, Basemap):
        return basemap
    if basemap is None or basemap is True:
        src = osm_source(net)
        if src is None:
            if basemap is True:
                raise InputError(
                    "basemap=True but the network's OSM file was not found; pass its path: "
                    "basemap='region.osm.pbf'"
                )
            return None
        return read_basemap(src)
    return read_basemap(basemap)


def _clip(gdf: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    if not len(gdf):
        return gdf
    w, s, e, n = bounds
    return gdf.cx[w:e, s:n]


def _pad(bounds: tuple[float, ...], frac: float = 0.15) -> tuple[float, float, float, float]:
    w, s, e, n = map(float, bounds)
    dx, dy = (e - w) * frac + 0.005, (n - s) * frac + 0.005
    return w - dx, s - dy, e + dx, n + dy


def _collection(gdf: gpd.GeoDataFrame) -> str:
    """A GeoJSON FeatureCollection text with property ``k`` (the kind), built without a parse.

    The text holds only shapely's numeric GeoJSON and kinds from this module's
    fixed sets (checked), so it is safe inside ``<script>`` as it is.
    """
    import shapely

    if not len(gdf):
        return '{"type":"FeatureCollection","features":[]}'
    kinds = gdf["kind"].astype(str).to_numpy()
    if not set(kinds) <= _KINDS:
        raise ValueError(f"unexpected base-map kinds {set(kinds) - _KINDS}")
    geoms = shapely.set_precision(
        shapely.simplify(gdf.geometry.values, _TOLERANCE_DEG, preserve_topology=True), 1e-5
    )
    keep = ~shapely.is_empty(geoms)
    feats = ",".join(
        f'{{"type":"Feature","geometry":{g},"properties":{{"k":"{k}"}}}}'
        for g, k in zip(shapely.to_geojson(geoms[keep]), kinds[keep], strict=True)
    )
    return f'{{"type":"FeatureCollection","features":[{feats}]}}'


def _ref_labels(net: Network | None, bounds: tuple[float, ...]) -> list[list[Any]]:
    """Labels ``[lat, lon, ref]``: each ref's longest stretch and every other one ≥ 3 km."""
    if net is None or "ref" not in net.edges.columns or not len(net.edges):
        return []
    cache = getattr(net, "_cache", {})
    if "basemap_ref_labels" not in cache:
        cache["basemap_ref_labels"] = _all_ref_labels(net)
    w, s, e, n = bounds
    return [x for x in cache["basemap_ref_labels"] if w <= x[1] <= e and s <= x[0] <= n]


def _all_ref_labels(net: Network) -> list[list[Any]]:
    import shapely

    e = net.edges[net.edges["ref"].notna() & (net.edges["ref"].astype(str).str.len() > 0)]
    out: list[list[Any]] = []
    for ref, grp in e.groupby(e["ref"].astype(str).str.split(";").str[0].str.strip()):
        merged = shapely.line_merge(shapely.union_all(grp.geometry.values))
        parts = shapely.get_parts(merged)
        length_km = shapely.length(parts) * 111.32  # rough, only to skip short bits
        keep = length_km >= min(_MIN_REF_KM, length_km.max())
        for part in parts[keep]:
            pt = shapely.line_interpolate_point(part, 0.5, normalized=True)
            out.append([round(pt.y, 5), round(pt.x, 5), ref])
    return out


def basemap_layer(
    basemap: Basemap,
    *,
    net: Network | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    name: str = "base map (OSM)",
    show: bool = True,
) -> Any:
    """The base map as one Leaflet layer drawn under the data.

    Parameters
    ----------
    basemap
        From :func:`read_basemap`.
    net
        Its ``ref`` column labels the roads (longest stretch of each ref, and
        every other one ≥ 3 km).
    bounds
        ``(west, south, east, north)`` degrees to keep (padded by 15 %);
        default the network's extent, else everything.
    name
        Name in the layer control.
    show
        On at opening.
    """
    from ._leaflet import BasemapLayer
    from ._map_base import OSM_ATTRIBUTION

    if bounds is None and net is not None and len(net.edges):
        bounds = tuple(net.edges.total_bounds)
    box = _pad(bounds) if bounds is not None else (-180.0, -90.0, 180.0, 90.0)
    places = _clip(basemap.places, box)
    rank = places["place"].map(PLACE_CLASS).fillna("minor").to_numpy()
    key = ("geojson", box)
    if key not in basemap._cache:
        basemap._cache[key] = {
            "areas": _collection(_clip(basemap.areas, box)),
            "lines": _collection(_clip(basemap.water_lines, box)),
        }
    geo = basemap._cache[key]
    data = {
        "styles": _STYLES,
        "river": {"color": _RIVER_COLOR, "widths": _WATER_LINES},
        "places": [
            [round(p.y, 5), round(p.x, 5), str(nm), str(r)]
            for p, nm, r in zip(places.geometry, places["name"], rank, strict=True)
        ],
        "refs": _ref_labels(net, box),
    }
    return BasemapLayer(data, geo, name=name, attribution=OSM_ATTRIBUTION, show=show)


def add_basemap(
    m: Any,
    basemap: Any,
    net: Network | None,
    bounds: tuple[float, float, float, float] | None = None,
) -> Basemap | None:
    """Resolve ``basemap`` (see :func:`resolve_basemap`) and add its layer to ``m``; returns it."""
    bm = resolve_basemap(basemap, net)
    if bm is not None and len(bm):
        basemap_layer(bm, net=net, bounds=bounds).add_to(m)
    return bm
