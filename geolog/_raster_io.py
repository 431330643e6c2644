"""Raster grids and reading elevation tiles: the georeferenced grid, CRS and file checks.

:class:`Raster` is the grid every terrain product is (a :class:`~geolog.terrain.DEM`
is one); the helpers below are what :meth:`geolog.terrain.DEM.open` uses to
read tiles safely (zips in place, size and CRS checks).
"""

from __future__ import annotations

import logging
import math
import os
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from ._io import atomic_path
from .errors import DEMError, InputError

logger = logging.getLogger("geolog.terrain")

RASTER_SUFFIXES = (".hgt", ".tif", ".tiff", ".vrt", ".dem", ".img", ".asc", ".bil")


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
        self.crs = as_crs(crs, what="raster")
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


@contextmanager
def quiet_affine() -> Iterator[None]:
    """Silence affine's "use @" pending deprecation raised inside rasterio 1.4 (not ours, harmless)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        yield


def as_crs(crs: Any, *, what: str) -> CRS:
    try:
        out = crs if isinstance(crs, CRS) else CRS.from_user_input(crs)
    except Exception as err:  # rasterio raises CRSError, pyproj others
        raise DEMError(f"cannot understand the {what} CRS {crs!r}: {err}") from err
    return out


def is_wgs84_like(crs: CRS) -> bool:
    return crs.is_geographic and crs.to_epsg() == 4326


#: Most cells :meth:`DEM.open` reads (1.5e8 float32 cells ≈ 0.6 GB, ~12 000² cells;
#: the working copies for void filling and slope need a few times that).
MAX_DEM_CELLS = 150_000_000


def check_size(files: list[Path], datasets: list) -> None:
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


def ground_scale(crs: CRS, lon: float, lat: float) -> tuple[float, float]:
    """Map units per ground metre along x and y of a projected CRS at a point."""
    from pyproj import CRS as PCRS
    from pyproj import Proj

    pcrs = PCRS.from_wkt(crs.to_wkt())
    units = [a.unit_conversion_factor for a in pcrs.axis_info[:2]] or [1.0, 1.0]
    f = Proj(pcrs).get_factors(lon, lat)
    if not (math.isfinite(f.parallel_scale) and math.isfinite(f.meridional_scale)):
        return (math.nan, math.nan)
    return (f.parallel_scale / units[0], f.meridional_scale / units[-1])


def check_crs(crs: CRS | None, path: Path) -> None:
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


def gdal_uri(path: Path) -> str:
    """The GDAL path of a tile; zips are opened in place with /vsizip/."""
    if not path.exists():
        raise DEMError(f"elevation tile {path} does not exist")
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.lower().endswith(RASTER_SUFFIXES)]
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
