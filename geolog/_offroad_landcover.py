"""Land cover for cross-country movement: the class table and the OSM reader.

The table (``geolog/profiles/offroad.yaml``, or the analyst's copy) maps OSM
tags to land-cover classes, each class to a speed factor on foot and for
vehicles, and each travel profile to its open-ground off-road speed.
:func:`read_landcover` reads the polygons and lines the table names from an
OSM file with pyosmium; :func:`rasterize_classes` burns them onto a grid
(class codes in table order, later classes win).
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _cache
from ._io import read_osm_cached
from ._yaml import parse_yaml, read_text
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

logger = logging.getLogger(__name__)

#: The table shipped with geolog.
DEFAULT_TABLE = Path(__file__).resolve().parent / "profiles" / "offroad.yaml"
_MODES = ("foot", "vehicle")


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key
class LandcoverTable:
    """A checked land-cover table (see ``geolog/profiles/offroad.yaml``).

    Attributes
    ----------
    classes
        Class names in burn order (code = position; ``open`` first).
    factors
        ``{"foot": array, "vehicle": array}``: speed factor per class code (0–1).
    tags
        ``(key, value) -> class`` for areas; value ``"*"`` matches any value.
    lines
        ``(key, value) -> (class, width_m)`` for linear features.
    profiles
        Off-road movement per profile name (``model``, ``speed_kph`` …).
    source
        Where the table came from.
    """

    classes: tuple[str, ...]
    factors: dict[str, np.ndarray]
    tags: dict[tuple[str, str], str]
    lines: dict[tuple[str, str], tuple[str, float]]
    profiles: dict[str, dict[str, Any]]
    source: str

    def code(self, name: str) -> int:
        """The class code of ``name``."""
        return self.classes.index(name)


def _fail(source: str, what: str) -> InputError:
    return InputError(
        f"land-cover table {source}: {what}; see geolog/profiles/offroad.yaml for the layout"
    )


def _factor(source: str, cls: str, mode: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise _fail(source, f"class {cls!r}: {mode} factor must be a number 0-1, got {v!r}")
    return float(v)


def _key_value(source: str, key: Any) -> tuple[str, str]:
    k, sep, v = str(key).partition("=")
    if not sep or not k or not v:
        raise _fail(source, f"tag {key!r} must be written key=value (or key=*)")
    return k, v


def _check_class(source: str, classes: tuple[str, ...], name: Any, where: str) -> str:
    if name not in classes:
        raise _fail(
            source,
            f"{where} names unknown land-cover class {name!r}; "
            f"known classes: {', '.join(classes)} (add it under 'classes')",
        )
    return str(name)


def parse_table(data: Any, source: str) -> LandcoverTable:
    """Check a table mapping (parsed YAML) and build a :class:`LandcoverTable`."""
    if not isinstance(data, dict) or not isinstance(data.get("classes"), dict):
        raise _fail(source, "it needs a 'classes' mapping")
    raw = data["classes"]
    if "open" not in raw:
        raise _fail(source, "'classes' must define 'open' (ground no polygon covers)")
    classes = ("open", *[str(c) for c in raw if c != "open"])
    factors = {m: np.zeros(len(classes)) for m in _MODES}
    for i, c in enumerate(classes):
        spec = raw[c]
        if not isinstance(spec, dict) or set(spec) != set(_MODES):
            raise _fail(source, f"class {c!r} needs exactly 'foot' and 'vehicle' factors")
        for m in _MODES:
            factors[m][i] = _factor(source, c, m, spec[m])
    tags = {
        _key_value(source, k): _check_class(source, classes, v, f"tag {k!r}")
        for k, v in (data.get("tags") or {}).items()
    }
    lines = {}
    for k, v in (data.get("lines") or {}).items():
        if not (isinstance(v, list) and len(v) == 2 and isinstance(v[1], int | float)):
            raise _fail(source, f"line {k!r} must be [class, width_m]")
        lines[_key_value(source, k)] = (_check_class(source, classes, v[0], f"line {k!r}"), v[1])
    profiles = data.get("profiles") or {}
    for name, p in profiles.items():
        if not isinstance(p, dict) or p.get("model") not in ("tobler", "vehicle"):
            raise _fail(source, f"profile {name!r} needs model: tobler or model: vehicle")
    return LandcoverTable(classes, factors, tags, lines, dict(profiles), source)


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, _stamp: tuple[float, int]) -> LandcoverTable:
    text = read_text(path, what="land-cover table")
    return parse_table(parse_yaml(text, where=path), path)


_cache.register_function("land-cover tables", _load_cached)


def load_table(table: str | os.PathLike[str] | dict | LandcoverTable | None) -> LandcoverTable:
    """A land-cover table from a YAML path, a dict, a table, or ``None`` (the shipped one).

    Raises
    ------
    InputError
        The file is missing or malformed, or names an unknown class.
    """
    if isinstance(table, LandcoverTable):
        return table
    if isinstance(table, dict):
        return parse_table(table, "<dict>")
    p = Path(table) if table is not None else DEFAULT_TABLE
    if not p.is_file():
        raise InputError(f"{p}: no such land-cover table; copy {DEFAULT_TABLE} and edit it")
    st = p.stat()
    return _load_cached(str(p.resolve()), (st.st_mtime, st.st_size))


def _match(tags: Any, table: dict[tuple[str, str], Any]) -> Any:
    """The last table entry (in table order) whose key=value the OSM tags carry."""
    hit = None
    for (k, v), what in table.items():
        val = tags.get(k)
        if val is not None and (v == "*" or val == v):
            hit = what
    return hit


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, _stamp: tuple[float, int], table: LandcoverTable) -> Any:
    import geopandas as gpd
    import osmium
    import shapely

    wkb = osmium.geom.WKBFactory()
    keys = sorted({k for k, _ in table.tags} | {k for k, _ in table.lines})
    fp = (
        osmium.FileProcessor(path)
        .with_locations()
        .with_areas()
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    cls: list[str] = []
    geoms: list[bytes] = []
    widths: list[float] = []
    for obj in fp:
        try:
            if obj.is_area():
                c = _match(obj.tags, table.tags)
                if c is not None:
                    cls.append(c)
                    geoms.append(wkb.create_multipolygon(obj))
                    widths.append(0.0)
            elif obj.is_way():
                hit = _match(obj.tags, table.lines)
                if hit is not None:
                    cls.append(hit[0])
                    geoms.append(wkb.create_linestring(obj))
                    widths.append(float(hit[1]))
        except RuntimeError as err:  # an incomplete geometry at the extract's edge
            logger.debug("land cover: skipping %s: %s", obj, err)
    return gpd.GeoDataFrame(
        {"landcover": cls, "width_m": widths},
        geometry=shapely.from_wkb(geoms) if geoms else [],
        crs="EPSG:4326",
    )


def read_landcover(
    path: str | os.PathLike[str], *, table: str | os.PathLike[str] | dict | None = None
) -> gpd.GeoDataFrame:
    """Land-cover polygons and lines of an OSM file, classed by the table's tags.

    Parameters
    ----------
    path
        An ``.osm.pbf`` / ``.osm`` file (the one the roads came from).
    table
        Land-cover table (YAML path or dict); default the shipped one.

    Returns
    -------
    geopandas.GeoDataFrame
        ``landcover`` (class name), ``width_m`` (0 for areas; the burn width
        of a line) and geometry (EPSG:4326). Cached per file and table.

    Raises
    ------
    InputError
        The file does not exist or pyosmium cannot read it.
    """
    tab = load_table(table)
    frame = read_osm_cached(
        path, _read_cached, tab, what="the land cover", hint="; pass the roads' .osm.pbf"
    )
    return frame.copy()


_cache.register_function("land-cover reads", _read_cached)


def rasterize_classes(
    frame: gpd.GeoDataFrame, table: LandcoverTable, shape: tuple[int, int], transform: Any, crs: Any
) -> np.ndarray:
    """Class codes (uint8, table order; 0 = open) on a grid; later classes overwrite earlier.

    A cell takes an area's class when its centre lies inside the area
    (GDAL's rule); lines, buffered to their width, mark every cell they touch.
    """
    import shapely
    from rasterio.features import rasterize

    out = np.zeros(shape, dtype=np.uint8)
    if len(frame) == 0:
        return out
    unknown = sorted(set(frame["landcover"]) - set(table.classes))
    if unknown:
        raise InputError(
            f"land-cover classes {unknown} are not in the table {table.source} "
            f"(known: {', '.join(table.classes)}); add them under 'classes' or recode the raster"
        )
    f = frame.to_crs(crs)
    is_line = f.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    half = f["width_m"].to_numpy(dtype=float) / 2.0
    geoms = f.geometry.to_numpy().copy()
    geoms[is_line] = shapely.buffer(geoms[is_line], half[is_line])
    code = f["landcover"].map({c: i for i, c in enumerate(table.classes)}).to_numpy()
    for c in range(1, len(table.classes)):
        for lines in (False, True):
            sel = (code == c) & (is_line == lines)
            if sel.any():
                rasterize(
                    geoms[sel],
                    out=out,
                    transform=transform,
                    default_value=c,
                    all_touched=lines,
                )
    return out
