"""Elevation rasters: open, mosaic, fill voids, sample, and derive terrain grids.

:class:`DEM` opens one or many elevation tiles (SRTM ``.hgt``, ``.hgt.zip`` read
in place through GDAL's ``/vsizip/``, GeoTIFF, VRT), mosaics them with
:func:`rasterio.merge.merge`, fills voids (SRTM nodata −32768) by interpolation
with :func:`rasterio.fill.fillnodata` and keeps a ``filled_mask`` so later
results can say which values rest on filled data. Nodata is never read as an
elevation.

Derived grids are computed on a local metric grid (UTM via
:func:`rasterio.warp.reproject`): slope (Horn 1981, the method of
``gdaldem slope``), aspect, hillshade and vehicle mobility classes
GO / SLOW-GO / NO-GO with thresholds read from ``geolog/profiles/mobility.yaml``.

Examples
--------
>>> import warnings, geolog
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", geolog.errors.GeologWarning)
...     dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
>>> 900 < float(dem.sample([1.5218], [42.5063])[0]) < 1200  # Andorra la Vella
True
"""

from __future__ import annotations

import logging
import math
import os
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ._io import atomic_path
from .errors import DEMError, GeologWarning, InputError

__all__ = [
    "DEM",
    "Raster",
    "GO",
    "SLOW_GO",
    "NO_GO",
    "MOBILITY_CLASSES",
    "mobility_thresholds",
    "utm_crs",
    "ElevationError",
    "elevation_error",
]

logger = logging.getLogger(__name__)

#: Mobility class codes stored in :meth:`DEM.mobility` rasters (255 = no data).
GO, SLOW_GO, NO_GO = 0, 1, 2
MOBILITY_CLASSES = ("GO", "SLOW-GO", "NO-GO")
_MOBILITY_NODATA = 255

_RASTER_SUFFIXES = (".hgt", ".tif", ".tiff", ".vrt", ".dem", ".img", ".asc", ".bil")
_MOBILITY_YAML = Path(__file__).resolve().parent / "profiles" / "mobility.yaml"

# mean Earth radius used for cell sizes in metres on geographic grids (IUGG)
_EARTH_RADIUS_M = 6_371_008.8


class Raster:
    """A single-band north-up grid with its georeferencing.

    Parameters
    ----------
    array
        2-D array, row 0 to the north.
    transform
        Affine transform of the cell corners (``rasterio`` convention).
    crs
        Coordinate reference system of ``transform``.
    nodata
        Value marking missing cells (``None`` for float grids, where NaN is used).
    name, units
        What the values are (``"slope"``, ``"percent"`` …), written as band tags.
    """

    def __init__(
        self,
        array: np.ndarray,
        transform: Affine,
        crs: CRS | str | int,
        *,
        nodata: float | None = None,
        name: str = "",
        units: str = "",
    ) -> None:
        array = np.asarray(array).view()  # a view: freezing it leaves the caller's array alone
        if array.ndim != 2 or min(array.shape) < 2:
            raise InputError(
                f"a raster needs a 2-D array of at least 2 x 2 cells, got shape {array.shape}"
            )
        if not isinstance(transform, Affine) or transform.b != 0 or transform.d != 0:
            raise DEMError(
                f"raster transform {transform!r} is rotated or not an Affine; "
                "warp it to a north-up grid first (gdalwarp)"
            )
        if transform.a <= 0 or transform.e >= 0:
            raise DEMError(
                f"raster transform {transform!r} is not north-up (positive x step, "
                "negative y step); warp it to a north-up grid first (gdalwarp)"
            )
        self.array = array
        self.array.flags.writeable = False
        self.transform = transform
        self.crs = _as_crs(crs, what="raster")
        self.nodata = nodata
        self.name = name
        self.units = units

    # -- geometry --------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.array.shape  # type: ignore[return-value]

    @property
    def res(self) -> tuple[float, float]:
        """Cell size (x, y) in CRS units (degrees or metres), both positive."""
        return (self.transform.a, -self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the outer cell edges, in CRS units."""
        west, north = self.transform.c, self.transform.f
        rows, cols = self.shape
        return (west, north + rows * self.transform.e, west + cols * self.transform.a, north)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.name or ''} {self.shape[1]}x{self.shape[0]} "
            f"{self.crs.to_string()} res={self.res[0]:.6g}>"
        )

    # -- output ----------------------------------------------------------------
    def write(self, path: str | os.PathLike[str], *, compress: str = "deflate") -> Path:
        """Write the grid as a GeoTIFF, atomically (temp file, then rename).

        Parameters
        ----------
        path
            Destination ``.tif``; an existing file is replaced only once the new
            one is complete.
        compress
            GeoTIFF compression.

        Returns
        -------
        Path
            The written path.
        """
        import rasterio

        path = Path(path)
        with atomic_path(path, suffix=".tmp.tif", mkdir=False) as tmp:
            profile = {
                "driver": "GTiff",
                "width": self.shape[1],
                "height": self.shape[0],
                "count": 1,
                "dtype": self.array.dtype.name,
                "crs": self.crs,
                "transform": self.transform,
                "compress": compress,
            }
            if self.nodata is not None:
                profile["nodata"] = self.nodata
            elif self.array.dtype.kind == "f":
                profile["nodata"] = float("nan")
            with rasterio.open(tmp, "w", **profile) as dst:
                dst.write(self.array, 1)
                dst.update_tags(1, name=self.name, units=self.units)
        logger.info("wrote %s (%s, %dx%d)", path, self.name, self.shape[1], self.shape[0])
        return path


class DEM(Raster):
    """A digital elevation model: elevations in metres on a north-up grid.

    Build one with :meth:`DEM.open` from files, or directly from an array (for
    synthetic terrain). The object is immutable: every method returns a new
    grid.

    Parameters
    ----------
    array
        Elevations in metres, row 0 to the north; NaN where there is no data.
    transform, crs
        Georeferencing of the cell corners (cell centres sit half a cell inside).
    filled_mask
        True where the value was interpolated into a void; default all False.
    source
        Attribution / provenance text (file names, product).
    paths
        Files the DEM was read from (recorded by :func:`geolog.costing.add_terrain`
        so that elevation profiles can be recomputed later).
    vertical_error_m
        Random vertical error (1 sigma, metres) of the elevations; default: the
        product's published figure, recognised from the file names and the cell
        size (see :func:`elevation_error` and :attr:`error`).

    Attributes
    ----------
    array : numpy.ndarray
        float32 elevations in metres (read-only).
    filled_mask : numpy.ndarray
        bool, True on void-filled cells.
    """

    def __init__(
        self,
        array: np.ndarray,
        transform: Affine,
        crs: CRS | str | int,
        *,
        filled_mask: np.ndarray | None = None,
        source: str = "array",
        paths: Sequence[str] = (),
        vertical_error_m: float | None = None,
    ) -> None:
        super().__init__(
            np.asarray(array, dtype=np.float32), transform, crs, name="elevation", units="m"
        )
        if filled_mask is None:
            filled_mask = np.zeros(self.shape, dtype=bool)
        filled_mask = np.asarray(filled_mask, dtype=bool).view()
        if filled_mask.shape != self.shape:
            raise InputError(
                f"filled_mask shape {filled_mask.shape} differs from the array's {self.shape}"
            )
        filled_mask.flags.writeable = False
        self.filled_mask = filled_mask
        self.source = source
        self.paths = tuple(str(p) for p in paths)
        self._vertical_error_m = _check_error(vertical_error_m)
        self._metric: DEM | None = None
        self._horn_cache: tuple[np.ndarray, np.ndarray] | None = None
        if not np.isfinite(self.array).any():
            raise DEMError(f"DEM {source!r} holds no valid elevation at all")

    # -- construction ------------------------------------------------------------
    @classmethod
    def open(
        cls,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        max_search_distance: float = 100.0,
        vertical_error_m: float | None = None,
    ) -> DEM:
        """Open one or several elevation tiles as one DEM.

        Parameters
        ----------
        paths
            One path or a list of paths: ``.hgt``, ``.hgt.zip`` (read in place),
            GeoTIFF, VRT, or anything else GDAL reads. Several tiles are
            mosaicked; they must share one CRS.
        max_search_distance
            How far (in cells) void filling looks for valid data. Voids farther
            than this from any data stay without data (and count as not covered).
        vertical_error_m
            Random vertical error (1 sigma, metres) to use instead of the
            product's published figure (see :attr:`DEM.error`).

        Returns
        -------
        DEM
            float32 elevations; voids filled; ``filled_mask`` marks filled cells.

        Raises
        ------
        DEMError
            Missing or unreadable file, corrupt zip, no or unknown CRS, tiles in
            different CRSs, or tiles holding no valid elevation at all.

        Warns
        -----
        GeologWarning
            When voids were filled, with how many cells.

        Examples
        --------
        >>> import warnings, geolog
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        ...     dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
        >>> dem.shape, int(dem.filled_mask.sum()) > 0
        ((1201, 1201), True)
        """
        import rasterio
        from rasterio.errors import RasterioError

        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        files = [Path(p) for p in paths]
        if not files:
            raise DEMError("DEM.open got no paths; give at least one elevation tile")
        uris = [_gdal_uri(f) for f in files]
        datasets = []
        try:
            for f, uri in zip(files, uris, strict=True):
                try:
                    ds = rasterio.open(uri)
                except RasterioError as err:
                    raise DEMError(
                        f"cannot read {f} as an elevation raster ({err}); give a .hgt, "
                        ".hgt.zip, GeoTIFF or VRT file"
                    ) from err
                datasets.append(ds)
                _check_crs(ds.crs, f)
            crs0 = datasets[0].crs
            for f, ds in zip(files[1:], datasets[1:], strict=True):
                if ds.crs != crs0:
                    raise DEMError(
                        f"tile {f} is in {ds.crs.to_string()} but {files[0]} is in "
                        f"{crs0.to_string()}; reproject the tiles to one CRS first"
                    )
            nodata = datasets[0].nodata
            _check_size(files, datasets)
            try:
                if len(datasets) == 1:
                    raw = datasets[0].read(1)
                    transform = datasets[0].transform
                else:
                    from rasterio.merge import merge

                    with _quiet_affine():
                        mosaic, transform = merge(datasets, nodata=nodata)
                    raw = mosaic[0]
            except MemoryError as err:
                raise DEMError(
                    f"{', '.join(map(str, files))}: not enough memory to read the grid; "
                    "clip it to your area first (gdal_translate -projwin)"
                ) from err
            except RasterioError as err:
                raise DEMError(
                    f"cannot read the pixels of {', '.join(map(str, files))} ({err}); "
                    "the file is probably truncated or corrupt, download it again"
                ) from err
            crs = crs0
            drivers = sorted({ds.driver for ds in datasets})
        finally:
            for ds in datasets:
                ds.close()

        valid = np.isfinite(raw) if raw.dtype.kind == "f" else np.ones(raw.shape, dtype=bool)
        if nodata is not None and not math.isnan(nodata):
            valid &= raw != nodata
        names = ", ".join(f.name for f in files)
        if not valid.any():
            raise DEMError(
                f"{names} holds no valid elevation (every cell is nodata {nodata}); "
                "use another tile or source"
            )
        z = raw.astype(np.float32)
        z[~valid] = np.nan
        n_void = int((~valid).sum())
        filled = np.zeros(z.shape, dtype=bool)
        if n_void:
            from rasterio.fill import fillnodata

            z = fillnodata(
                z, mask=valid.astype(np.uint8), max_search_distance=max_search_distance
            ).astype(np.float32)
            z[~valid & ~np.isfinite(z)] = np.nan
            filled = ~valid & np.isfinite(z)
            n_filled = int(filled.sum())
            left = n_void - n_filled
            msg = (
                f"{names}: filled {n_filled} void cells ({100 * n_void / z.size:.2f} % of the "
                f"grid) by interpolation; edges over them are flagged terrain_filled"
            )
            if left:
                msg += f"; {left} cells farther than {max_search_distance:g} cells from data stay empty"
            warnings.warn(msg, GeologWarning, stacklevel=2)
        source = f"{names} ({'/'.join(drivers)})"
        logger.info("opened DEM %s: %dx%d, %d voids", source, z.shape[1], z.shape[0], n_void)
        return cls(
            z,
            transform,
            crs,
            filled_mask=filled,
            source=source,
            paths=[str(f) for f in files],
            vertical_error_m=vertical_error_m,
        )

    # -- geometry helpers ----------------------------------------------------------
    @property
    def cell_size_m(self) -> tuple[float, float]:
        """Approximate cell size (x, y) in metres on the ground at the grid centre.

        For a projected CRS the map cell is divided by the projection's scale at
        the centre (Web Mercator cells are ``1 / cos(lat)`` too large).
        """
        if not self.crs.is_geographic:
            kx, ky = _ground_scale(self.crs, *self._centre_lonlat())
            return (self.res[0] / kx, self.res[1] / ky)
        lat = math.radians((self.bounds[1] + self.bounds[3]) / 2)
        k = math.pi / 180 * _EARTH_RADIUS_M
        return (self.res[0] * k * math.cos(lat), self.res[1] * k)

    def _centre_lonlat(self) -> tuple[float, float]:
        w, s, e, n = self.bounds
        if not _is_wgs84_like(self.crs):
            from rasterio.warp import transform_bounds

            w, s, e, n = transform_bounds(self.crs, "EPSG:4326", w, s, e, n)
        return (w + e) / 2, (s + n) / 2

    def _is_metric(self) -> bool:
        """Projected, in metres, and true to scale within 1 % at the centre (UTM, LAEA…)."""
        if self.crs.is_geographic:
            return False
        kx, ky = _ground_scale(self.crs, *self._centre_lonlat())
        return abs(kx - 1) < 0.01 and abs(ky - 1) < 0.01

    @property
    def error(self) -> ElevationError:
        """The DEM's error model (product, vertical and horizontal error, resolution).

        Recognised from the file names and the cell size (see
        :func:`elevation_error`); a ``vertical_error_m`` given to the
        constructor or :meth:`open` replaces the product's vertical figure.
        """
        return elevation_error(self)

    def _error_sd(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vertical error (1 sigma, m) at points of the grid CRS, terrain slope included.

        ``sqrt(vertical² + (horizontal × tan slope)²)``: a DEM value that sits a
        few metres off the road on a hillside is off by that distance times the
        slope. The slope is the gradient of the bilinear surface of the cell
        the point falls in (NaN outside the DEM).
        """
        err = self.error
        t = self.transform
        rows, cols = self.shape
        col = np.clip((np.asarray(x, dtype=float) - t.c) / t.a - 0.5, 0.0, cols - 1.0)
        row = np.clip((np.asarray(y, dtype=float) - t.f) / t.e - 0.5, 0.0, rows - 1.0)
        c0 = np.minimum(np.floor(col).astype(np.intp), cols - 2)
        r0 = np.minimum(np.floor(row).astype(np.intp), rows - 2)
        tx, ty = col - c0, row - r0
        a = self.array
        z00, z01 = a[r0, c0].astype(float), a[r0, c0 + 1].astype(float)
        z10, z11 = a[r0 + 1, c0].astype(float), a[r0 + 1, c0 + 1].astype(float)
        cx, cy = self.cell_size_m
        gx = ((z01 - z00) * (1 - ty) + (z11 - z10) * ty) / cx
        gy = ((z10 - z00) * (1 - tx) + (z11 - z01) * tx) / cy
        tan = np.hypot(gx, gy)
        return np.hypot(err.vertical_error_m, err.horizontal_error_m * tan)

    def _to_grid_xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Longitude/latitude (WGS 84) to this DEM's CRS."""
        if self.crs.is_geographic:
            return lon, lat
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", self.crs.to_wkt(), always_xy=True)
        return tr.transform(lon, lat)

    def clip(self, bbox: Sequence[float], *, margin_cells: int = 2) -> DEM:
        """Cut the DEM to a box.

        Parameters
        ----------
        bbox
            (west, south, east, north) in degrees (WGS 84).
        margin_cells
            Extra cells kept around the box, so bilinear sampling and slope at
            its edge still have neighbours.

        Returns
        -------
        DEM
            A new, smaller DEM (same grid, same cells).

        Raises
        ------
        DEMError
            The box does not overlap the DEM.
        """
        west, south, east, north = map(float, bbox)
        if not all(map(math.isfinite, (west, south, east, north))):
            raise InputError(
                f"bbox {tuple(bbox)!r} must be finite degrees (west, south, east, north)"
            )
        if not (west < east and south < north):
            raise InputError(f"bbox {bbox!r} must be (west, south, east, north) with west<east")
        # beyond the globe is the globe's edge
        west, east = max(west, -180.0), min(east, 180.0)
        south, north = max(south, -90.0), min(north, 90.0)
        if not self.crs.is_geographic:
            from rasterio.warp import transform_bounds

            west, south, east, north = transform_bounds(
                "EPSG:4326", self.crs, west, max(south, -85.0), east, min(north, 85.0)
            )
        t = self.transform
        c0, r0 = (west - t.c) / t.a, (north - t.f) / t.e
        c1, r1 = (east - t.c) / t.a, (south - t.f) / t.e
        rows, cols = self.shape
        c0 = max(int(math.floor(c0)) - margin_cells, 0)
        r0 = max(int(math.floor(r0)) - margin_cells, 0)
        c1 = min(int(math.ceil(c1)) + margin_cells, cols)
        r1 = min(int(math.ceil(r1)) + margin_cells, rows)
        if c1 - c0 < 2 or r1 - r0 < 2:
            raise DEMError(
                f"bbox {tuple(bbox)} does not overlap DEM {self.source} "
                f"(bounds {tuple(round(b, 5) for b in self.bounds)}); use a tile covering it"
            )
        return DEM(
            self.array[r0:r1, c0:c1],
            self.transform @ Affine.translation(c0, r0),
            self.crs,
            filled_mask=self.filled_mask[r0:r1, c0:c1],
            source=self.source,
            paths=self.paths,
            vertical_error_m=self._vertical_error_m,
        )

    # -- sampling -------------------------------------------------------------------
    def sample(self, lon: Any, lat: Any) -> np.ndarray:
        """Bilinear elevation at points, vectorised.

        Interpolates between cell centres (for SRTM ``.hgt``, pixel-is-point,
        the grid nodes themselves). Within the outer half cell the edge value
        is extended; outside the DEM bounds the result is NaN.

        Parameters
        ----------
        lon, lat
            Longitudes and latitudes in degrees (WGS 84), array-likes of one shape.
            Longitude comes first here (x, y as in rasterio); by keyword the
            order does not matter: ``dem.sample(lat=lats, lon=lons)``. For
            ``(lat, lon)`` points as everywhere else in geolog, use
            :meth:`sample_points`.

        Returns
        -------
        numpy.ndarray
            float64 elevations in metres, NaN outside the DEM.
        """
        z, _ = self._sample(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return z

    def sample_points(self, points: Any) -> np.ndarray:
        """Bilinear elevation (metres) at ``(lat, lon)`` points, as :meth:`sample`.

        Parameters
        ----------
        points
            ``(lat, lon)`` pairs in degrees (a sequence or an ``(n, 2)``
            array), one pair, shapely Points or a GeoSeries.

        Returns
        -------
        numpy.ndarray
            One elevation per point (metres), NaN outside the DEM.

        """
        from ._points import lonlat_arrays

        lon, lat = lonlat_arrays(points)
        return self.sample(lon, lat)

    def _sample(
        self, lon: np.ndarray, lat: np.ndarray, *, grid_xy: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bilinear sample; also return whether any contributing cell was filled."""
        x, y = (lon, lat) if grid_xy else self._to_grid_xy(lon, lat)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        t = self.transform
        rows, cols = self.shape
        col = (x - t.c) / t.a - 0.5
        row = (y - t.f) / t.e - 0.5
        eps = 1e-9
        inside = (col >= -0.5 - eps) & (col <= cols - 0.5 + eps)
        inside &= (row >= -0.5 - eps) & (row <= rows - 0.5 + eps)
        col = np.clip(np.where(inside, col, 0.0), 0.0, cols - 1.0)
        row = np.clip(np.where(inside, row, 0.0), 0.0, rows - 1.0)
        c0 = np.minimum(np.floor(col).astype(np.intp), cols - 2)
        r0 = np.minimum(np.floor(row).astype(np.intp), rows - 2)
        tx = col - c0
        ty = row - r0
        a = self.array
        z00 = a[r0, c0].astype(float)
        z01 = a[r0, c0 + 1].astype(float)
        z10 = a[r0 + 1, c0].astype(float)
        z11 = a[r0 + 1, c0 + 1].astype(float)
        z = (z00 * (1 - tx) + z01 * tx) * (1 - ty) + (z10 * (1 - tx) + z11 * tx) * ty
        z = np.where(inside, z, np.nan)
        f = self.filled_mask
        filled = (
            (f[r0, c0] & ((1 - tx) * (1 - ty) > 0))
            | (f[r0, c0 + 1] & (tx * (1 - ty) > 0))
            | (f[r0 + 1, c0] & ((1 - tx) * ty > 0))
            | (f[r0 + 1, c0 + 1] & (tx * ty > 0))
        ) & inside
        return z, filled

    # -- metric grid and derived rasters --------------------------------------------
    def to_metric(
        self, crs: CRS | str | int | None = None, *, resolution: float | None = None
    ) -> DEM:
        """Reproject to a metric grid (local UTM zone by default), bilinear.

        Parameters
        ----------
        crs
            Target projected CRS; default the UTM zone of the DEM's centre.
        resolution
            Cell size in metres; default about the source cell size.

        Returns
        -------
        DEM
            The reprojected DEM (NaN outside the source footprint); the filled
            mask is carried over by nearest neighbour. With no arguments a DEM
            already on a metric grid (projected, in metres, true to scale within
            1 %, e.g. UTM) is returned as is; one in Web Mercator (EPSG:3857),
            feet or another distorting projection is reprojected to UTM, so
            slopes come from ground distances. The default result is cached.
        """
        default = crs is None and resolution is None
        if default and self._is_metric():
            return self
        if default and self._metric is not None:
            return self._metric
        from rasterio.warp import Resampling, calculate_default_transform, reproject

        if crs is None:
            crs = utm_crs(*self._centre_lonlat())
        dst_crs = _as_crs(crs, what="target")
        if dst_crs.is_geographic:
            raise InputError(f"to_metric needs a projected CRS, got {dst_crs.to_string()}")
        if resolution is None:
            resolution = min(self.cell_size_m)
        rows, cols = self.shape
        with _quiet_affine():
            dst_t, dst_w, dst_h = calculate_default_transform(
                self.crs, dst_crs, cols, rows, *self.bounds, resolution=resolution
            )
        z = np.full((dst_h, dst_w), np.nan, dtype=np.float32)
        reproject(
            np.ascontiguousarray(self.array),
            z,
            src_transform=self.transform,
            src_crs=self.crs,
            src_nodata=np.nan,
            dst_transform=dst_t,
            dst_crs=dst_crs,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
        f = np.zeros((dst_h, dst_w), dtype=np.uint8)
        reproject(
            self.filled_mask.astype(np.uint8),
            f,
            src_transform=self.transform,
            src_crs=self.crs,
            dst_transform=dst_t,
            dst_crs=dst_crs,
            resampling=Resampling.nearest,
        )
        out = DEM(
            z,
            dst_t,
            dst_crs,
            filled_mask=f.astype(bool) & np.isfinite(z),
            source=self.source,
            paths=self.paths,
            vertical_error_m=self.error.vertical_error_m,
        )
        if default:
            self._metric = out
        return out

    def _gradients(self) -> tuple[np.ndarray, np.ndarray]:
        """Horn (1981) gradients dz/d(east), dz/d(north) on the metric grid (NaN border)."""
        m = self.to_metric()
        if m._horn_cache is None:
            m._horn_cache = horn_gradients(m.array, *m.res)
        return m._horn_cache

    def _derived(self, array: np.ndarray, **kw: Any) -> Raster:
        m = self.to_metric()
        return Raster(array, m.transform, m.crs, **kw)

    def slope(self, *, units: str = "degrees") -> Raster:
        """Slope by Horn's (1981) method, as ``gdaldem slope``, on the metric grid.

        Parameters
        ----------
        units
            ``"degrees"`` or ``"percent"`` (100 × rise / run).

        Returns
        -------
        Raster
            float32 slope on :meth:`to_metric`'s grid; NaN on the one-cell border
            and outside the DEM footprint.
        """
        if units not in ("degrees", "percent"):
            raise InputError(f"units must be one of 'degrees', 'percent', got {units!r}")
        gx, gy = self._gradients()
        rise = np.hypot(gx, gy)
        s = np.degrees(np.arctan(rise)) if units == "degrees" else 100.0 * rise
        return self._derived(s.astype(np.float32), name="slope", units=units)

    def aspect(self) -> Raster:
        """Aspect: compass direction (degrees clockwise from north) the slope faces.

        Returns
        -------
        Raster
            float32 in [0, 360) on the metric grid, the downslope direction
            (a slope rising to the east faces west: 270); NaN where flat.
        """
        gx, gy = self._gradients()
        a = np.degrees(np.arctan2(-gx, -gy)) % 360.0
        a[(gx == 0) & (gy == 0)] = np.nan
        return self._derived(a.astype(np.float32), name="aspect", units="degrees")

    def hillshade(self, *, azimuth: float = 315.0, altitude: float = 45.0) -> Raster:
        """Lambertian hillshade, lit from ``azimuth``/``altitude`` (degrees) like gdaldem's default.

        Returns
        -------
        Raster
            uint8 brightness 1–255 on the metric grid (0 = no data).
        """
        gx, gy = self._gradients()
        az, alt = math.radians(azimuth), math.radians(altitude)
        light = np.array(
            [math.sin(az) * math.cos(alt), math.cos(az) * math.cos(alt), math.sin(alt)]
        )
        norm = np.sqrt(1.0 + gx * gx + gy * gy)
        shade = (-gx * light[0] - gy * light[1] + light[2]) / norm
        out = np.where(np.isfinite(shade), 1 + np.round(254 * np.clip(shade, 0, 1)), 0)
        return self._derived(out.astype(np.uint8), nodata=0, name="hillshade", units="1-255")

    def mobility(self, vehicle: str | Mapping[str, Any] = "truck") -> Raster:
        """Cross-country mobility class from slope: 0 GO, 1 SLOW-GO, 2 NO-GO.

        Parameters
        ----------
        vehicle
            A vehicle name from ``geolog/profiles/mobility.yaml`` (``"truck"``,
            ``"hmmwv"``, ``"tracked"``, ``"foot"`` …) or a mapping with
            ``slow_go_pct`` and ``no_go_pct`` (slope in percent).

        Returns
        -------
        Raster
            uint8 classes on the metric grid; 255 = no data. GO where slope <
            ``slow_go_pct``, NO-GO where slope ≥ ``no_go_pct``, SLOW-GO between.
            Slope only: soil, vegetation and obstacles are not considered.
        """
        th = mobility_thresholds(vehicle)
        s = self.slope(units="percent").array
        cls = np.full(s.shape, _MOBILITY_NODATA, dtype=np.uint8)
        ok = np.isfinite(s)
        cls[ok] = np.where(
            s[ok] >= th["no_go_pct"], NO_GO, np.where(s[ok] >= th["slow_go_pct"], SLOW_GO, GO)
        )
        name = vehicle if isinstance(vehicle, str) else "custom"
        return self._derived(
            cls, nodata=_MOBILITY_NODATA, name=f"mobility:{name}", units="0 GO,1 SLOW-GO,2 NO-GO"
        )


# -- error model ----------------------------------------------------------------------


@dataclass(frozen=True)
class ElevationError:
    """What is known of a DEM's errors, as used to estimate road profiles.

    Attributes
    ----------
    product
        The recognised product (``"SRTM3"``, ``"SRTM1"``, ``"Copernicus GLO-30"``,
        ``"Copernicus GLO-90"``, ``"LiDAR"``, ``"10 m national DEM"``) or
        ``"unknown (by resolution)"`` wording.
    vertical_error_m
        Random vertical error, 1 sigma, metres (point to point: what grades see).
    horizontal_error_m
        Horizontal position error, 1 sigma, metres; on a slope it adds
        ``horizontal × tan(slope)`` of vertical error.
    resolution_m
        Horizontal resolution, metres (the larger cell side).
    reference
        Where the figures come from.
    """

    product: str
    vertical_error_m: float
    horizontal_error_m: float
    resolution_m: float
    reference: str

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (for ``net.meta``)."""
        return {
            "product": self.product,
            "vertical_error_m": self.vertical_error_m,
            "horizontal_error_m": self.horizontal_error_m,
            "resolution_m": round(self.resolution_m, 3),
            "reference": self.reference,
        }


# 90 % linear errors (LE90) are divided by 1.645 and 90 % circular errors
# (CE90) by 2.146 to give 1 sigma.
_SRTM_REF = (
    "Rodriguez et al. 2006, PE&RS 72(3) 249-260: SRTM relative height error 8.7 m, "
    "geolocation 8.8 m (Eurasia, 90 %)"
)
_PRODUCTS: dict[str, tuple[float, float, str]] = {
    # product: (vertical sigma m, horizontal sigma m, reference)
    "SRTM3": (8.7 / 1.645, 8.8 / 1.645, _SRTM_REF),
    "SRTM1": (8.7 / 1.645, 8.8 / 1.645, _SRTM_REF),
    "Copernicus GLO-30": (
        4.0 / 1.645,
        6.0 / 2.146,
        "Copernicus DEM product handbook: relative vertical accuracy < 2 m (slope <= 20 %), "
        "< 4 m (steeper), LE90; horizontal < 6 m CE90 (steep-terrain figure used)",
    ),
    "Copernicus GLO-90": (
        4.0 / 1.645,
        6.0 / 2.146,
        "Copernicus DEM product handbook (as GLO-30)",
    ),
    "10 m national DEM": (
        1.0,
        1.0,
        "typical photogrammetric 1:25,000 national DEMs (RMSE about 1 m)",
    ),
    "LiDAR": (
        0.2,
        0.5,
        "USGS Lidar Base Specification / ASPRS 2014: QL2 bare earth RMSEz <= 10 cm; "
        "doubled for gridding and road edges",
    ),
}


_COPERNICUS_NAMES = (
    "copernicus",
    "dsm_cog",
    "glo30",
    "glo-30",
    "glo_30",
    "cop30",
    "glo90",
    "glo-90",
    "glo_90",
    "cop90",
)


def elevation_error(dem: DEM) -> ElevationError:
    """Recognise a DEM's product and its published error figures.

    From the file names (``Copernicus_DSM``/``GLO``/``COP`` → Copernicus) and
    the cell size: 3 arc-seconds → SRTM3 (or GLO-90), 1 arc-second → SRTM1
    (or GLO-30); a projected grid of ≤ 5 m → LiDAR, ≤ 15 m → a 10 m national
    DEM; anything else is treated like the SRTM product of its resolution
    (the cautious choice). A ``vertical_error_m`` given to the DEM wins.

    Parameters
    ----------
    dem
        The DEM.

    Returns
    -------
    ElevationError
    """
    res_m = float(max(dem.cell_size_m))
    names = " ".join([dem.source, *(os.path.basename(p) for p in dem.paths)]).lower()
    copernicus = any(k in names for k in _COPERNICUS_NAMES)
    arcsec = 3600 * max(dem.res) if dem.crs.is_geographic else None
    if arcsec is not None and abs(arcsec - 3) < 0.2:
        product = "Copernicus GLO-90" if copernicus else "SRTM3"
    elif arcsec is not None and abs(arcsec - 1) < 0.1:
        product = "Copernicus GLO-30" if copernicus else "SRTM1"
    elif copernicus:
        product = "Copernicus GLO-30"
    elif res_m <= 5.0 * 1.01:  # nominal sizes; ground cells differ by the scale factor (< 1 %)
        product = "LiDAR"
    elif res_m <= 15.0 * 1.01:
        product = "10 m national DEM"
    else:
        product = "SRTM1" if res_m < 60 else "SRTM3"
        product = f"unknown {res_m:.0f} m grid (treated as {product})"
    key = product.split("(treated as ")[-1].rstrip(")")
    sv, sh, ref = _PRODUCTS[key]
    if dem._vertical_error_m is not None:
        sv, ref = dem._vertical_error_m, "given (vertical_error_m)"
    return ElevationError(product, float(sv), float(sh), res_m, ref)


def _check_error(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"vertical_error_m must be a number of metres > 0, got {value!r}")
    return v


# -- helpers --------------------------------------------------------------------------


def horn_gradients(z: np.ndarray, xres: float, yres: float) -> tuple[np.ndarray, np.ndarray]:
    """Horn (1981) third-order finite differences, as in ``gdaldem``.

    Parameters
    ----------
    z
        Elevations (metres), row 0 to the north.
    xres, yres
        Cell sizes in metres (positive).

    Returns
    -------
    tuple of numpy.ndarray
        dz/d(east) and dz/d(north) (rise over run, unitless); NaN on the
        one-cell border and next to NaN cells.
    """
    z = np.asarray(z, dtype=float)
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    gx = np.full(z.shape, np.nan)
    gy = np.full(z.shape, np.nan)
    gx[1:-1, 1:-1] = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * xres)
    # rows run north -> south: (top row - bottom row) is the rise to the north
    gy[1:-1, 1:-1] = ((a + 2 * b + c) - (g + 2 * h + i)) / (8 * yres)
    return gx, gy


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS 84 / UTM zone CRS containing a point (EPSG 326xx north, 327xx south)."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@cache
def _mobility_table() -> dict[str, dict[str, Any]]:
    import yaml

    with open(_MOBILITY_YAML, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return data["vehicles"]


def mobility_thresholds(vehicle: str | Mapping[str, Any]) -> dict[str, float]:
    """Slope thresholds (percent) of a vehicle: ``{"slow_go_pct", "no_go_pct"}``.

    Parameters
    ----------
    vehicle
        Name in ``geolog/profiles/mobility.yaml`` or a mapping with both keys.

    Raises
    ------
    InputError
        Unknown vehicle name, missing key, or thresholds out of order.
    """
    if isinstance(vehicle, str):
        table = _mobility_table()
        if vehicle not in table:
            raise InputError(
                f"unknown vehicle {vehicle!r}; choose one of {', '.join(map(repr, table))} "
                "or pass a mapping with slow_go_pct and no_go_pct"
            )
        spec: Mapping[str, Any] = table[vehicle]
    else:
        spec = vehicle
    try:
        slow, nogo = float(spec["slow_go_pct"]), float(spec["no_go_pct"])
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(
            f"vehicle {vehicle!r} needs numeric slow_go_pct and no_go_pct (slope percent)"
        ) from err
    if not 0 < slow <= nogo:
        raise InputError(
            f"vehicle {vehicle!r}: need 0 < slow_go_pct <= no_go_pct, got {slow}, {nogo}"
        )
    return {"slow_go_pct": slow, "no_go_pct": nogo}


@contextmanager
def _quiet_affine() -> Iterator[None]:
    """Silence affine's "use @" pending deprecation raised inside rasterio 1.4 (not ours, harmless)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        yield


def _as_crs(crs: Any, *, what: str) -> CRS:
    try:
        out = crs if isinstance(crs, CRS) else CRS.from_user_input(crs)
    except Exception as err:  # rasterio raises CRSError, pyproj others
        raise DEMError(f"cannot understand the {what} CRS {crs!r}: {err}") from err
    return out


def _is_wgs84_like(crs: CRS) -> bool:
    return crs.is_geographic and crs.to_epsg() == 4326


#: Most cells :meth:`DEM.open` reads (1.5e8 float32 cells ≈ 0.6 GB, ~12 000² cells;
#: the working copies for void filling and slope need a few times that).
MAX_DEM_CELLS = 150_000_000


def _check_size(files: list[Path], datasets: list) -> None:
    """Refuse grids too large to hold (a sparse 60 000² GeoTIFF is a few kB on disk)."""
    xres, yres = (abs(r) for r in datasets[0].res)
    w = min(ds.bounds.left for ds in datasets)
    e = max(ds.bounds.right for ds in datasets)
    s = min(ds.bounds.bottom for ds in datasets)
    n = max(ds.bounds.top for ds in datasets)
    cells = ((e - w) / xres) * ((n - s) / yres)
    if not math.isfinite(cells) or cells > MAX_DEM_CELLS:
        raise DEMError(
            f"{', '.join(f.name for f in files)}: the grid has {cells:,.0f} cells, more than "
            f"geolog reads at once ({MAX_DEM_CELLS:,}); clip it to your area first "
            "(gdal_translate -projwin) or use a coarser resolution"
        )


def _ground_scale(crs: CRS, lon: float, lat: float) -> tuple[float, float]:
    """Map units per ground metre along x and y of a projected CRS at a point."""
    from pyproj import CRS as PCRS
    from pyproj import Proj

    pcrs = PCRS.from_wkt(crs.to_wkt())
    units = [a.unit_conversion_factor for a in pcrs.axis_info[:2]] or [1.0, 1.0]
    f = Proj(pcrs).get_factors(lon, lat)
    if not (math.isfinite(f.parallel_scale) and math.isfinite(f.meridional_scale)):
        return (math.nan, math.nan)
    return (f.parallel_scale / units[0], f.meridional_scale / units[-1])


def _check_crs(crs: CRS | None, path: Path) -> None:
    if crs is None or not crs.to_wkt():
        raise DEMError(
            f"{path} has no readable coordinate reference system; assign one "
            "(gdal_edit.py -a_srs EPSG:4326) or use a GeoTIFF/.hgt with georeferencing"
        )
    try:
        crs.to_wkt()
        ok = crs.is_geographic or crs.is_projected
    except Exception as err:
        raise DEMError(f"{path} has a CRS geolog cannot use ({err})") from err
    if not ok:
        raise DEMError(f"{path} has a CRS that is neither geographic nor projected: {crs}")


def _gdal_uri(path: Path) -> str:
    """The GDAL path of a tile; zips are opened in place with /vsizip/."""
    if not path.exists():
        raise DEMError(f"elevation tile {path} does not exist")
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(_RASTER_SUFFIXES)]
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise DEMError(
            f"{path} is not a readable zip archive ({err}); it is corrupt or truncated, "
            "download it again"
        ) from err
    if bad is not None:
        raise DEMError(f"{path}: member {bad!r} is corrupt (CRC mismatch); download it again")
    if not members:
        raise DEMError(f"{path} holds no elevation raster (.hgt, .tif, .vrt …); check the archive")
    if len(members) > 1:
        logger.warning("%s holds %d rasters; using %s", path, len(members), members[0])
    return f"/vsizip/{path.resolve()}/{members[0]}"
