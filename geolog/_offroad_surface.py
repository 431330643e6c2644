"""The off-road cost surface: :class:`OffroadSurface` and :func:`offroad_surface` (see :mod:`geolog.offroad`)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from . import _cache
from ._offroad_landcover import LandcoverTable, load_table, rasterize_classes, read_landcover
from .errors import InputError

__all__ = ["OffroadSurface", "offroad_surface", "DEFAULT_NEIGHBOURS"]

#: Cell neighbourhood of the off-road graph: 16 = 8 adjacent + 8 knight's moves (r.walk -k).
DEFAULT_NEIGHBOURS = 16

#: Surfaces of DEMs opened from files with file land cover (or none), no barriers, the
#: shipped table: ``route(..., offroad=True)`` in a loop builds each one once.
_SURFACES = _cache.LRU("off-road surfaces", 4)


@dataclass(frozen=True, eq=False)
class OffroadSurface:
    """Off-road movement on a metric DEM grid for one travel profile.

    Build it with :func:`offroad_surface`. Arrays are on the metric grid of
    ``dem`` (row 0 to the north).

    Attributes
    ----------
    dem
        The DEM on its metric grid (metres).
    profile
        The travel profile (:class:`geolog.profiles.Profile`).
    mode
        ``"foot"`` (Tobler) or ``"vehicle"``.
    base_kph
        Open-ground speed on the flat (km/h): 0.6 × Tobler's 5.04 on foot,
        the table's ``speed_kph`` for a vehicle.
    max_up, max_down
        Steepest climb and descent crossed (fractions).
    landcover
        Land-cover class code per cell (uint8, codes index ``table.classes``).
    factor
        Speed factor per cell after land cover, barriers and slope NO-GO
        (0 = impassable).
    table
        The land-cover table used.
    neighbours
        8 or 16.
    off_path_factor
        On foot, the share of Tobler's on-path speed kept off path (0.6).
    steep
        True on cells whose slope exceeds the profile's limit (NO-GO).
    """

    dem: Any
    profile: Any
    mode: str
    base_kph: float
    max_up: float
    max_down: float
    landcover: np.ndarray
    factor: np.ndarray
    table: LandcoverTable
    neighbours: int = DEFAULT_NEIGHBOURS
    off_path_factor: float = 1.0
    steep: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def transform(self) -> Affine:
        """Affine transform of the metric grid."""
        return self.dem.transform

    @property
    def crs(self) -> CRS:
        """The metric CRS."""
        return self.dem.crs

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.dem.shape

    def speed_kph(self, grade: Any) -> np.ndarray:
        """Open-ground speed (km/h) against grade (fraction, direction of travel)."""
        g = np.asarray(grade, dtype=float)
        if self.mode == "foot":
            from ._speed_models import tobler_kph

            return self.off_path_factor * tobler_kph(g)
        return np.minimum(self.base_kph, self.profile.grade_speed_kph(g))

    def pace(self):
        """Minutes per kilometre on level ground in each cell (inf where impassable), a Raster.

        The cost surface as an analyst reads it; :func:`geolog.maps.offroad_layer`
        draws it.
        """
        from ._raster_io import Raster

        with np.errstate(divide="ignore"):
            pace = 60.0 / (self.base_kph * self.factor)
        pace = np.where(np.isfinite(self.dem.array), pace, np.nan).astype(np.float32)
        return Raster(pace, self.transform, self.crs, name="pace", units="min/km")

    def why_blocked(self, row: int, col: int) -> str:
        """Why a cell is slow or impassable: its land-cover class, slope NO-GO or a barrier."""
        name = self.table.classes[self.landcover[row, col]]
        if self.table.factors[self.mode][self.landcover[row, col]] == 0:
            return f"land cover '{name}', impassable {'on foot' if self.mode == 'foot' else 'for vehicles'}"
        if self.steep is not None and self.steep[row, col]:
            return f"slope beyond {max(self.max_up, self.max_down):.0%} (NO-GO)"
        if self.factor[row, col] == 0:
            return "inside a barrier"
        return f"land cover '{name}', speed factor {self.factor[row, col]:.2f}"

    def class_shares(self) -> dict[str, float]:
        """Share of the DEM's valid cells in each land-cover class (fractions summing to 1)."""
        valid = np.isfinite(self.dem.array)
        counts = np.bincount(self.landcover[valid], minlength=len(self.table.classes))
        return {c: float(n / valid.sum()) for c, n in zip(self.table.classes, counts, strict=True)}

    # -- points and windows ------------------------------------------------
    def to_grid(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        """Metric x, y (CRS units) of WGS 84 points."""
        from pyproj import Transformer

        key = "fwd"
        if key not in self._cache:
            self._cache[key] = Transformer.from_crs("EPSG:4326", self.crs.to_wkt(), always_xy=True)
        return self._cache[key].transform(np.asarray(lon, float), np.asarray(lat, float))

    def to_lonlat(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """WGS 84 longitude, latitude of metric x, y."""
        from pyproj import Transformer

        key = "inv"
        if key not in self._cache:
            self._cache[key] = Transformer.from_crs(self.crs.to_wkt(), "EPSG:4326", always_xy=True)
        return self._cache[key].transform(np.asarray(x, float), np.asarray(y, float))

    def cells(self, points: list[tuple[float, float]], names: list[str]) -> np.ndarray:
        """``(n, 2)`` row, column of ``(lat, lon)`` points; an off-DEM point raises.

        Raises
        ------
        InputError
            A point lies outside the DEM or on a void.
        """
        lat = np.array([p[0] for p in points], dtype=float)
        lon = np.array([p[1] for p in points], dtype=float)
        x, y = self.to_grid(lon, lat)
        r, c = self.rc_of(x, y)
        rows, cols = self.shape
        for i, name in enumerate(names):
            if not (0 <= r[i] < rows and 0 <= c[i] < cols) or not np.isfinite(
                self.dem.array[r[i], c[i]]
            ):
                w, s, e, n = self.dem_bounds_lonlat()
                raise InputError(
                    f"{name} ({lat[i]:.5f}, {lon[i]:.5f}) lies off the DEM "
                    f"{self.dem.source!r} (about lat {s:.3f}..{n:.3f}, lon {w:.3f}..{e:.3f}); "
                    "open a DEM that covers it (DEM.open([...]) mosaics tiles)"
                )
        return np.column_stack([r, c])

    def dem_bounds_lonlat(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the metric grid in degrees."""
        w, s, e, n = self.dem.bounds
        lon, lat = self.to_lonlat([w, e, w, e], [s, s, n, n])
        return float(min(lon)), float(min(lat)), float(max(lon)), float(max(lat))

    def xy_of(self, rows: Any, cols: Any) -> tuple[np.ndarray, np.ndarray]:
        """Metric x, y of cell centres."""
        t = self.transform
        x = t.c + (np.asarray(cols, float) + 0.5) * t.a
        return x, t.f + (np.asarray(rows, float) + 0.5) * t.e

    def rc_of(self, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Row, column (int64) of the cells holding metric points ``x``, ``y``."""
        t = self.transform
        col = np.floor((np.asarray(x, float) - t.c) / t.a).astype(np.int64)
        return np.floor((np.asarray(y, float) - t.f) / t.e).astype(np.int64), col


def _profile_entry(table: LandcoverTable, prof: Any) -> dict[str, Any]:
    entry = table.profiles.get(prof.name)
    if entry is None and prof.grade_model.get("model") == "tobler":
        entry = table.profiles.get("foot")
    if entry is None:
        raise InputError(
            f"profile {prof.name!r} has no off-road entry in the land-cover table "
            f"{table.source} (it has {', '.join(table.profiles) or 'none'}); add one under "
            "'profiles', e.g. {model: vehicle, speed_kph: 15}"
        )
    return entry


def _landcover_codes(landcover: Any, dem: Any, table: LandcoverTable) -> np.ndarray:
    """Class codes on ``dem``'s grid from an OSM file, a Network, a frame or a raster."""
    import geopandas as gpd

    if landcover is None:
        return np.zeros(dem.shape, dtype=np.uint8)
    if hasattr(landcover, "edges") and hasattr(landcover, "meta"):  # a Network
        from ._basemap import osm_source

        src = osm_source(landcover)
        if src is None:
            raise InputError(
                "the network's OSM file cannot be found for the land cover; pass "
                "landcover='path/to/file.osm.pbf' (or landcover=None for open ground)"
            )
        landcover = src
    if isinstance(landcover, gpd.GeoDataFrame):
        if "landcover" not in landcover.columns:
            raise InputError("a land-cover frame needs a 'landcover' column of class names")
        frame = landcover if "width_m" in landcover else landcover.assign(width_m=0.0)
        return rasterize_classes(frame, table, dem.shape, dem.transform, dem.crs)
    if hasattr(landcover, "array") and hasattr(landcover, "transform"):
        return _raster_codes(landcover.array, landcover.transform, landcover.crs, dem, table)
    p = os.fspath(landcover)
    if p.lower().endswith((".tif", ".tiff", ".vrt")):
        import rasterio

        with rasterio.open(p) as src:
            return _raster_codes(src.read(1), src.transform, src.crs, dem, table)
    frame = read_landcover(p, table=table)
    return rasterize_classes(frame, table, dem.shape, dem.transform, dem.crs)


def _raster_codes(arr: Any, transform: Any, crs: Any, dem: Any, table: LandcoverTable):
    """Class codes from a raster of codes (table order), resampled by nearest neighbour."""
    from rasterio.warp import Resampling, reproject

    a = np.asarray(arr)
    bad = np.unique(a[(a < 0) | (a >= len(table.classes))])
    if bad.size:
        raise InputError(
            f"land-cover raster holds class codes {bad[:10].tolist()} the table {table.source} "
            f"does not define (codes 0..{len(table.classes) - 1}: {', '.join(table.classes)}); "
            "recode the raster or add classes to the table"
        )
    out = np.zeros(dem.shape, dtype=np.uint8)
    reproject(
        a.astype(np.uint8),
        out,
        src_transform=transform,
        src_crs=crs,
        dst_transform=dem.transform,
        dst_crs=dem.crs,
        resampling=Resampling.nearest,
    )
    return out


def _barrier_factor(barriers: Any, dem: Any, default: float) -> np.ndarray:
    """Speed factor from barrier polygons (``factor`` column, else ``default``); 1 elsewhere."""
    import geopandas as gpd
    from rasterio.features import rasterize

    out = np.ones(dem.shape, dtype=float)
    if barriers is None:
        return out
    if hasattr(barriers, "areas") and not isinstance(barriers, gpd.GeoDataFrame):
        barriers = list(barriers.areas.values())  # a RuleSet: its named areas
    frame = barriers if isinstance(barriers, gpd.GeoDataFrame | gpd.GeoSeries) else None
    if frame is None:
        frame = gpd.GeoSeries(list(barriers), crs="EPSG:4326")
    if isinstance(frame, gpd.GeoSeries):
        frame = gpd.GeoDataFrame(geometry=frame)
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    f = frame[~(frame.geometry.isna() | frame.geometry.is_empty)].to_crs(dem.crs)
    fac = f["factor"].to_numpy(float) if "factor" in f else np.full(len(f), float(default))
    if ((fac < 0) | (fac > 1) | ~np.isfinite(fac)).any():
        raise InputError("barrier factors must lie in 0..1 (0 = impassable, 0.5 = half speed)")
    for v in np.unique(fac):  # one burn per factor value
        geoms = f.geometry.values[fac == v]
        m = rasterize(geoms, out_shape=dem.shape, transform=dem.transform, all_touched=True)
        out = np.where(m > 0, np.minimum(out, v), out)
    return out


def offroad_surface(
    dem: Any,
    *,
    profile: Any = "foot",
    landcover: Any = None,
    barriers: Any = None,
    barrier_factor: float = 0.0,
    table: str | os.PathLike[str] | dict | None = None,
    neighbours: int = DEFAULT_NEIGHBOURS,
) -> OffroadSurface:
    """The off-road cost surface of a DEM for one travel profile.

    Parameters
    ----------
    dem
        A :class:`geolog.DEM` (reprojected to its metric grid here; cached).
    profile
        Travel profile name or object (``"foot"``, the default and for
        ``None``, ``"tracked"``, ``"truck"``, ``"car"``); its off-road speed
        comes from the table's ``profiles``.
    landcover
        ``None`` (open ground everywhere), an OSM file (``.osm.pbf``) or a
        Network (its OSM file) to read land cover from, a GeoDataFrame with a
        ``landcover`` column of class names, or a raster (GeoTIFF path or a
        :class:`geolog.terrain.Raster`) of class codes in table order.
    barriers
        Polygons (GeoDataFrame / GeoSeries / shapely geometries, EPSG:4326):
        threat zones (:func:`geolog.risk.threat_zones`), closed areas, water;
        or a rule set (:func:`geolog.load_rules`), whose named areas are taken.
        A ``factor`` column gives each one's speed factor (0 = impassable,
        0.5 = half speed); else ``barrier_factor``. Every cell a barrier
        touches takes its factor (the lowest where barriers overlap).
    barrier_factor
        Factor of barriers without a ``factor`` column (default 0: impassable).
    table
        Land-cover table (YAML path or dict); default ``geolog/profiles/offroad.yaml``.
    neighbours
        8 or 16 (default): the moves of the routing graph.

    Returns
    -------
    OffroadSurface

    Raises
    ------
    InputError
        Unknown profile entry, land-cover classes or codes the table lacks,
        a bad neighbourhood or barrier factor.

    Examples
    --------
    >>> import geolog
    >>> dem = geolog.DEM.open(geolog.data.dem_path("andorra"))  # doctest: +SKIP
    >>> s = geolog.offroad_surface(dem, profile="foot")  # doctest: +SKIP
    """
    from .profiles import get_profile

    if neighbours not in (8, 16):
        raise InputError(f"neighbours must be 8 or 16, got {neighbours!r}")
    if not 0 <= barrier_factor <= 1:
        raise InputError(f"barrier_factor must lie in 0..1, got {barrier_factor!r}")
    prof = get_profile("foot" if profile is None else profile)
    key = _surface_key(dem, prof, landcover, barriers, table, neighbours)
    if key is not None and (hit := _SURFACES.get(key)) is not None:
        return hit
    surface = _build(dem, prof, landcover, barriers, barrier_factor, table, neighbours)
    return surface if key is None else _SURFACES.put(key, surface)


def _surface_key(dem, prof, landcover, barriers, table, neighbours) -> tuple | None:
    """Cache key for surfaces rebuilt alike from files; None when not cacheable."""
    paths = getattr(dem, "paths", ())
    if not paths or barriers is not None or table is not None:
        return None
    if landcover is None:
        lc = None
    elif isinstance(landcover, str | os.PathLike) and os.path.isfile(landcover):
        st = os.stat(landcover)
        lc = (os.path.realpath(landcover), st.st_mtime, st.st_size)
    else:
        return None
    return (paths, dem.shape, tuple(dem.transform), prof.content_hash(), lc, neighbours)


def _build(dem, prof, landcover, barriers, barrier_factor, table, neighbours) -> OffroadSurface:
    """The surface itself (see :func:`offroad_surface`)."""
    from ._terrain_grids import horn_gradients

    tab = load_table(table)
    entry = _profile_entry(tab, prof)
    metric = dem.to_metric()
    if entry["model"] == "tobler":
        mode, off = "foot", float(entry.get("off_path_factor", 0.6))
        base = off * 6.0 * math.exp(-3.5 * 0.05)
        max_up = max_down = float(entry.get("max_grade", 1.0))
    else:
        mode, off, base = "vehicle", 1.0, float(entry["speed_kph"])
        max_up = float(
            prof.max_grade if prof.max_grade is not None else entry.get("max_grade", 0.6)
        )
        max_down = float(prof.max_descent_grade if prof.max_descent_grade is not None else max_up)
    codes = _landcover_codes(landcover, metric, tab)
    factor = tab.factors[mode][codes] * _barrier_factor(barriers, metric, barrier_factor)
    gx, gy = horn_gradients(np.asarray(metric.array, float), *metric.res)
    with np.errstate(invalid="ignore"):
        steep = np.hypot(gx, gy) > max(max_up, max_down)
    factor = np.where(steep | ~np.isfinite(metric.array), 0.0, factor)
    for a in (codes, factor, steep):  # shared through the cache: read-only
        a.flags.writeable = False
    return OffroadSurface(
        metric, prof, mode, base, max_up, max_down, codes, factor, tab, neighbours, off, steep
    )
