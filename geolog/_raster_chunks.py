"""Rasters larger than memory: per-chunk functions with overlap on Dask arrays.

:func:`map_overlap` applies any neighbourhood function of a metric grid
(``func(block, xres, yres)``, block in, same-shape block out) chunk by chunk
through :func:`dask.array.map_overlap`: each chunk is read with ``depth``
cells of its neighbours around it and trimmed back afterwards, so cells at
chunk edges see the same neighbours as in one whole array and the result
equals the in-memory one cell for cell. The outer edge is padded with NaN,
as the in-memory grids leave their border NaN. :func:`slope` is the slope
of :meth:`geolog.terrain.DEM.slope` computed this way; cost surfaces and other
DEM derivatives plug in their own ``func``. Needs ``pip install 'geolog[dask]'``
(dask and rioxarray).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_path
from ._raster_io import Raster, quiet_affine
from ._terrain_grids import (
    MOBILITY_NODATA,
    MOBILITY_UNITS,
    horn_gradients,
    mobility_classes,
    mobility_name,
    mobility_thresholds,
    slope_values,
)
from .errors import InputError

BlockFunc = Callable[..., np.ndarray]
DEFAULT_CHUNKS = 1024


def _require_dask() -> None:
    try:
        import dask.array  # noqa: F401
        import rioxarray  # noqa: F401
    except ImportError as err:
        raise InputError(
            "chunked rasters need Dask and rioxarray: pip install 'geolog[dask]'"
        ) from err


def open_chunked(src: Any, *, chunks: int | tuple[int, int] = DEFAULT_CHUNKS) -> Any:
    """A metric raster as a lazy, chunked :class:`xarray.DataArray` (y, x), NaN for nodata.

    Parameters
    ----------
    src
        A :class:`~geolog.terrain.DEM` (reprojected to its metric grid, in
        memory), a :class:`~geolog.terrain.Raster` on a metric grid, a path to
        a single-band GeoTIFF / VRT on a projected CRS in metres (read lazily,
        block by block), or a 2-D ``xarray.DataArray`` carrying a CRS
        (``.rio.crs``).
    chunks
        Chunk size in cells: one number for square chunks or ``(rows, cols)``.

    Returns
    -------
    xarray.DataArray
        Dask-backed, with the CRS and transform (``.rio``) of the grid.
    """
    _require_dask()
    import rioxarray
    import xarray as xr

    chunks = _chunk_shape(chunks)
    if hasattr(src, "to_metric"):
        src = src.to_metric()
    if isinstance(src, Raster):
        arr = np.asarray(src.array, dtype=float) if src.nodata is None else _masked(src)
        xs = src.transform.c + src.transform.a * (np.arange(src.shape[1]) + 0.5)
        ys = src.transform.f + src.transform.e * (np.arange(src.shape[0]) + 0.5)
        da = xr.DataArray(arr, dims=("y", "x"), coords={"y": ys, "x": xs})
        da = da.rio.write_crs(src.crs).rio.write_transform(src.transform)
    elif isinstance(src, str | os.PathLike):
        if not Path(src).exists():
            raise InputError(f"raster {src} does not exist")
        with quiet_affine():
            da = rioxarray.open_rasterio(
                src, masked=True, chunks={"band": 1, "y": chunks[0], "x": chunks[1]}
            )
        if da.sizes.get("band", 1) != 1:
            raise InputError(f"{src} has {da.sizes['band']} bands; give a single-band raster")
        da = da.squeeze("band", drop=True)
    elif isinstance(src, xr.DataArray):
        da = src
    else:
        raise InputError(
            f"expected a DEM, Raster, raster path or xarray.DataArray, not {type(src).__name__}"
        )
    crs = da.rio.crs
    if crs is None or not crs.is_projected or abs(crs.linear_units_factor[1] - 1.0) > 1e-9:
        raise InputError(
            f"{src!s:.80}: chunked terrain needs a grid in metres on a projected CRS, got "
            f"{crs.to_string() if crs else 'no CRS'}; reproject it first "
            "(DEM.open(path).to_metric().write(...) or gdalwarp -t_srs EPSG:326xx)"
        )
    return da.chunk({"y": chunks[0], "x": chunks[1]})


def _masked(r: Raster) -> np.ndarray:
    a = np.asarray(r.array, dtype=float)
    return np.where(a == r.nodata, np.nan, a)


def _chunk_shape(chunks: Any) -> tuple[int, int]:
    c = (chunks, chunks) if np.isscalar(chunks) else tuple(chunks)
    if len(c) != 2 or not all(isinstance(v, int | np.integer) and v >= 3 for v in c):
        raise InputError(f"chunks must be a number of cells ≥ 3 or (rows, cols), not {chunks!r}")
    return int(c[0]), int(c[1])


def map_overlap(
    src: Any,
    func: BlockFunc,
    *,
    depth: int = 1,
    chunks: int | tuple[int, int] = DEFAULT_CHUNKS,
    dtype: Any = np.float32,
    nodata: float | None = None,
    name: str = "",
    units: str = "",
    out: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> Any:
    """Apply a neighbourhood function to a metric raster chunk by chunk, exact at chunk edges.

    Parameters
    ----------
    src
        The grid (see :func:`open_chunked`: DEM, Raster, GeoTIFF path or DataArray).
    func
        ``func(block, xres, yres, **kwargs) -> array`` of the block's shape;
        ``block`` is float64 elevations (or values) with NaN for nodata,
        ``xres``, ``yres`` the cell size in metres.
    depth
        Cells of overlap the function needs on each side (1 for a 3 × 3 window).
    chunks
        Chunk size in cells (``(rows, cols)`` or one number).
    dtype
        Output dtype.
    nodata
        Value marking missing cells of an integer output (float outputs use NaN).
    name, units
        Written as attributes (and band tags with ``out``).
    out
        If given, the result is also written there as a tiled GeoTIFF, chunk
        by chunk (atomically: a good file is never replaced by a half one).

    Returns
    -------
    xarray.DataArray
        The lazy result (``.compute()`` / ``.values`` evaluates it;
        ``.rio.to_raster(path)`` writes it), on the input's grid.
    """
    import dask.array as dsa
    import xarray as xr

    if not isinstance(depth, int) or depth < 0:
        raise InputError(f"depth must be a whole number of cells ≥ 0, not {depth!r}")
    da = open_chunked(src, chunks=chunks)
    with quiet_affine():
        xres, yres = (abs(float(v)) for v in da.rio.resolution())
    data = da.data.astype(float)
    res = dsa.map_overlap(
        partial(_apply, func, (xres, yres), np.dtype(dtype), kwargs),
        data,
        depth=depth,
        boundary=np.nan,
        trim=True,
        dtype=dtype,
        meta=np.array((), dtype=dtype),
    )
    with quiet_affine():
        result = (
            xr.DataArray(
                res,
                dims=("y", "x"),
                coords={"y": da["y"].values, "x": da["x"].values},
                attrs={"name": name, "units": units},
            )
            .rio.write_crs(da.rio.crs)
            .rio.write_transform(da.rio.transform())
        )
    if np.dtype(dtype).kind == "f":
        result = result.rio.write_nodata(np.nan, encoded=False)
    elif nodata is not None:
        result = result.rio.write_nodata(nodata, encoded=False)
    if out is not None:
        write_chunked(result, out)
    return result


def _apply(func: BlockFunc, res: tuple, out_dtype: np.dtype, kwargs: dict, block: np.ndarray):
    return np.asarray(func(block, *res, **kwargs)).astype(out_dtype, copy=False)


def write_chunked(result: Any, path: str | os.PathLike[str]) -> Path:
    """Write a chunked DataArray as a tiled GeoTIFF block by block, atomically."""
    path = Path(path)
    with atomic_path(path, suffix=".tmp.tif", mkdir=False) as tmp, quiet_affine():
        result.rio.to_raster(tmp, tiled=True, compress="deflate", lock=True)
    return path


def _slope_block(z: np.ndarray, xres: float, yres: float, *, slope_units: str) -> np.ndarray:
    return slope_values(*horn_gradients(z, xres, yres), units=slope_units)


def slope(
    src: Any,
    *,
    units: str = "degrees",
    chunks: int | tuple[int, int] = DEFAULT_CHUNKS,
    out: str | os.PathLike[str] | None = None,
) -> Any:
    """Slope (Horn 1981) of a DEM too big for memory, through Dask chunks with overlap.

    Equals :meth:`geolog.terrain.DEM.slope` cell for cell (NaN on the outer
    border and next to missing cells).

    Parameters
    ----------
    src
        A DEM (reprojected to its metric grid in memory), or a path to a
        GeoTIFF / VRT of elevations in metres on a projected CRS (read
        lazily), or a DataArray with a CRS.
    units
        ``"degrees"`` or ``"percent"``.
    chunks
        Chunk size in cells; memory per task is about 30 bytes per cell of a chunk.
    out
        Optional GeoTIFF written chunk by chunk.

    Returns
    -------
    xarray.DataArray
        Lazy float32 slope; ``.compute()`` it on the current Dask scheduler
        (a ``dask.distributed.Client`` if one is active).

    Examples
    --------
    >>> import warnings, numpy as np, geolog
    >>> from geolog import terrain
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", geolog.errors.GeologWarning)
    ...     dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
    >>> s = terrain.slope(dem, chunks=512)
    >>> np.array_equal(s.values, dem.slope().array, equal_nan=True)
    True
    """
    if units not in ("degrees", "percent"):
        raise InputError(f"units must be one of 'degrees', 'percent', got {units!r}")
    return map_overlap(
        src,
        _slope_block,
        depth=1,
        chunks=chunks,
        name="slope",
        units=units,
        out=out,
        slope_units=units,
    )


def _mobility_block(z: np.ndarray, xres: float, yres: float, *, th: dict[str, float]) -> np.ndarray:
    return mobility_classes(slope_values(*horn_gradients(z, xres, yres), units="percent"), th)


def mobility(
    src: Any,
    vehicle: Any = "truck",
    *,
    chunks: int | tuple[int, int] = DEFAULT_CHUNKS,
    out: str | os.PathLike[str] | None = None,
) -> Any:
    """Mobility classes (0 GO, 1 SLOW-GO, 2 NO-GO, 255 no data) through Dask chunks.

    Equals :meth:`geolog.terrain.DEM.mobility` cell for cell; ``src``,
    ``chunks`` and ``out`` as in :func:`slope`, ``vehicle`` as in
    :meth:`~geolog.terrain.DEM.mobility`.

    Returns
    -------
    xarray.DataArray
        Lazy uint8 classes.
    """
    return map_overlap(
        src,
        _mobility_block,
        depth=1,
        chunks=chunks,
        dtype=np.uint8,
        nodata=MOBILITY_NODATA,
        name=mobility_name(vehicle),
        units=MOBILITY_UNITS,
        out=out,
        th=mobility_thresholds(vehicle),
    )
