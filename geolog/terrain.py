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
Rasters larger than memory go through Dask chunks with overlap
(:func:`slope`, :func:`map_overlap` in :mod:`geolog._raster_chunks`).

This module holds :class:`DEM` (opening, mosaicking, void filling, sampling,
clipping); the grid base class and tile checks are in
:mod:`geolog._raster_io`, the derived grids in :mod:`geolog._terrain_grids`
and the product error model in :mod:`geolog._elevation_error`. Every name is
importable from here.

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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ._elevation_error import ElevationError, check_error, elevation_error
from ._geometry import metres_per_degree
from ._raster_chunks import map_overlap, mobility, open_chunked, slope
from ._raster_io import (
    MAX_DEM_CELLS,
    Raster,
    check_crs,
    check_size,
    gdal_uri,
    ground_scale,
    is_wgs84_like,
    quiet_affine,
)
from ._terrain_grids import (
    GO,
    MOBILITY_CLASSES,
    NO_GO,
    SLOW_GO,
    DerivedGrids,
    horn_gradients,
    mobility_thresholds,
    utm_crs,
)
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
    "horn_gradients",
    "MAX_DEM_CELLS",
    "slope",
    "mobility",
    "map_overlap",
    "open_chunked",
]

logger = logging.getLogger(__name__)


class DEM(DerivedGrids, Raster):
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
        self._vertical_error_m = check_error(vertical_error_m)
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
        uris = [gdal_uri(f) for f in files]
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
                check_crs(ds.crs, f)
            crs0 = datasets[0].crs
            for f, ds in zip(files[1:], datasets[1:], strict=True):
                if ds.crs != crs0:
                    raise DEMError(
                        f"tile {f} is in {ds.crs.to_string()} but {files[0]} is in "
                        f"{crs0.to_string()}; reproject the tiles to one CRS first"
                    )
            nodata = datasets[0].nodata
            check_size(files, datasets)
            try:
                if len(datasets) == 1:
                    raw = datasets[0].read(1)
                    transform = datasets[0].transform
                else:
                    from rasterio.merge import merge

                    with quiet_affine():
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
            kx, ky = ground_scale(self.crs, *self._centre_lonlat())
            return (self.res[0] / kx, self.res[1] / ky)
        east, north = metres_per_degree((self.bounds[1] + self.bounds[3]) / 2)
        return (self.res[0] * float(east), self.res[1] * north)

    def _centre_lonlat(self) -> tuple[float, float]:
        w, s, e, n = self.bounds
        if not is_wgs84_like(self.crs):
            from rasterio.warp import transform_bounds

            w, s, e, n = transform_bounds(self.crs, "EPSG:4326", w, s, e, n)
        return (w + e) / 2, (s + n) / 2

    def _is_metric(self) -> bool:
        """Projected, in metres, and true to scale within 1 % at the centre (UTM, LAEA…)."""
        if self.crs.is_geographic:
            return False
        kx, ky = ground_scale(self.crs, *self._centre_lonlat())
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
        from ._geometry import lonlat_arrays

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
