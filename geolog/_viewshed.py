"""Viewsheds through GDAL's ``gdal_viewshed`` program.

Private to :mod:`geolog.risk`. The DEM is reprojected to its metric grid
(:meth:`geolog.DEM.to_metric`), written once to a temporary GeoTIFF, and
``gdal_viewshed`` runs once per observer (in parallel, as an argument list,
never through a shell) with earth curvature and refraction. The outputs are
read back into one boolean stack on the metric grid.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import GeologError, InputError

__all__ = ["Viewshed", "viewshed", "CURVATURE_COEFFICIENT", "gdal_viewshed_path"]

#: GDAL's default curvature-and-refraction coefficient (1 - 1/7 for standard
#: atmospheric refraction): the earth's curvature drop is multiplied by it.
CURVATURE_COEFFICIENT = 0.85714

_NODATA = -32768.0


def colrow(transform: Any, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Fractional (column, row) of points ``x``, ``y`` on a north-up grid."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return (x - transform.c) / transform.a, (y - transform.f) / transform.e


def gdal_viewshed_path() -> str | None:
    """Path of the ``gdal_viewshed`` program (Debian ``gdal-bin``), or ``None``."""
    return shutil.which("gdal_viewshed")


@dataclass(frozen=True)
class Viewshed:
    """Cells visible from each observer, on the DEM's metric grid.

    Attributes
    ----------
    visible : numpy.ndarray
        ``(n_observers, rows, cols)`` bool: True where a target ``target_height_m``
        above the ground at the cell centre is visible from the observer.
    observers : pandas.DataFrame
        ``name``, ``lat``, ``lon``, ``x``, ``y`` (metric CRS, metres) and
        ``ground_m`` (DEM elevation under the observer).
    transform, crs
        Georeferencing of the metric grid.
    height_m, target_height_m, max_distance_m, curvature_coefficient
        The parameters the viewshed was computed with.
    """

    visible: np.ndarray
    observers: pd.DataFrame
    transform: Any
    crs: Any
    height_m: float
    target_height_m: float
    max_distance_m: float | None
    curvature_coefficient: float

    @property
    def combined(self) -> np.ndarray:
        """Cells visible from at least one observer (bool, rows × cols)."""
        return self.visible.any(axis=0)

    @property
    def names(self) -> list[str]:
        """Observer names, in the order of :attr:`visible`."""
        return self.observers["name"].tolist()

    def raster(self, observer: str | int | None = None):
        """The viewshed as a :class:`geolog.terrain.Raster` (1 visible, 0 not).

        Parameters
        ----------
        observer
            Observer name or position; ``None`` for the combined viewshed.
        """
        from .terrain import Raster

        arr = self.combined if observer is None else self.visible[self._index(observer)]
        label = "combined" if observer is None else str(self.names[self._index(observer)])
        return Raster(
            arr.astype(np.uint8), self.transform, self.crs, name=f"visible {label}", units="1"
        )

    def _index(self, observer: str | int) -> int:
        if isinstance(observer, int | np.integer):
            if not 0 <= observer < len(self.names):
                raise InputError(f"no observer number {observer}; there are {len(self.names)}")
            return int(observer)
        if observer not in self.names:
            raise InputError(f"no observer named {observer!r}; observers are {self.names}")
        return self.names.index(observer)

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Visibility at metric points ``x``, ``y``: ``(n_observers, n_points)`` bool.

        Points off the grid are not visible.
        """
        col, row = colrow(self.transform, x, y)
        col, row = np.floor(col).astype(np.int64), np.floor(row).astype(np.int64)
        _, h, w = self.visible.shape
        inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
        out = np.zeros((self.visible.shape[0], len(col)), dtype=bool)
        out[:, inside] = self.visible[:, row[inside], col[inside]]
        return out


def _observer_table(observers: Any) -> pd.DataFrame:
    """``name``, ``lat``, ``lon`` from points, a GeoDataFrame or a name → (lat, lon) mapping."""
    import geopandas as gpd
    import shapely

    if isinstance(observers, gpd.GeoSeries | gpd.GeoDataFrame):
        frame = observers if isinstance(observers, gpd.GeoDataFrame) else observers.to_frame()
        if frame.crs is None:
            raise InputError("the observers have no CRS; set one (e.g. .set_crs(4326))")
        g = frame.geometry.to_crs(4326)
        names = (
            frame["name"].astype(str).tolist()
            if "name" in frame
            else [f"observer {i + 1}" for i in range(len(frame))]
        )
        for name, geom in zip(names, g, strict=True):
            if geom is None or geom.is_empty or geom.geom_type != "Point":
                raise InputError(f"observer {name!r} is not a point ({geom}); give one point each")
        return pd.DataFrame({"name": names, "lat": shapely.get_y(g), "lon": shapely.get_x(g)})
    if isinstance(observers, dict):
        items = list(observers.items())
    else:
        pts = list(observers)
        if len(pts) == 2 and all(isinstance(v, int | float) for v in pts):
            pts = [pts]  # one (lat, lon) pair
        items = [(f"observer {i + 1}", p) for i, p in enumerate(pts)]
    rows = []
    for name, p in items:
        try:
            lat, lon = (float(v) for v in p)
        except (TypeError, ValueError):
            raise InputError(f"observer {name!r} is not a (lat, lon) pair: {p!r}") from None
        rows.append((str(name), lat, lon))
    if not rows:
        raise InputError("no observers given; pass at least one (lat, lon) point")
    return pd.DataFrame(rows, columns=["name", "lat", "lon"])


def viewshed(
    dem: Any,
    observers: Any,
    *,
    height_m: float = 2.0,
    target_height_m: float = 2.0,
    max_distance_m: float | None = None,
    curvature_coefficient: float = CURVATURE_COEFFICIENT,
) -> Viewshed:
    """Cells visible from each observer, with earth curvature and refraction.

    Runs GDAL's ``gdal_viewshed`` (Debian package ``gdal-bin``) on the DEM's
    metric grid (:meth:`geolog.DEM.to_metric`), one process per observer, run
    in parallel. A cell counts as visible when a target ``target_height_m``
    above its ground can be seen from ``height_m`` above the observer's ground.

    Parameters
    ----------
    dem
        A :class:`geolog.DEM` (any CRS; it is reprojected to UTM metres).
    observers
        ``(lat, lon)`` pairs, a mapping name → ``(lat, lon)``, or a
        GeoDataFrame / GeoSeries of points (a ``name`` column names them).
    height_m
        Observer eye height above the ground, metres.
    target_height_m
        Height above the ground of what must be seen (a vehicle: 2–3 m), metres.
    max_distance_m
        Observation range in metres; ``None`` for unlimited.
    curvature_coefficient
        Multiplier of the earth-curvature drop: ``0.85714`` (GDAL's default)
        models standard refraction, ``1`` is curvature alone, ``0`` a flat earth.

    Returns
    -------
    Viewshed

    Raises
    ------
    InputError
        An observer is malformed, off the DEM, or over a cell without data;
        a height or distance is negative.
    GeologError
        ``gdal_viewshed`` is not installed or fails.
    """
    for label, value in (("height_m", height_m), ("target_height_m", target_height_m)):
        if not np.isfinite(value) or value < 0:
            raise InputError(f"{label} must be a height in metres >= 0, not {value!r}")
    if max_distance_m is not None and not (np.isfinite(max_distance_m) and max_distance_m > 0):
        raise InputError(f"max_distance_m must be > 0 metres (or None), not {max_distance_m!r}")
    exe = gdal_viewshed_path()
    if exe is None:
        raise GeologError(
            "the gdal_viewshed program is not installed; install GDAL's tools "
            "(Debian/Ubuntu: apt-get install gdal-bin) and try again"
        )
    obs = _observer_table(observers)
    metric = dem.to_metric()
    obs = _place_observers(metric, obs)
    with tempfile.TemporaryDirectory(prefix="geolog-viewshed-") as tmp:
        src = Path(tmp) / "dem.tif"
        _write_dem(metric, src)
        outs = [Path(tmp) / f"vs{i}.tif" for i in range(len(obs))]
        args = [
            _command(exe, src, out, x, y, height_m, target_height_m, max_distance_m,
                     curvature_coefficient)
            for out, x, y in zip(outs, obs["x"], obs["y"], strict=True)
        ]  # fmt: skip
        _run_all(args)
        visible = np.stack([_read_visible(out, metric) for out in outs])
    visible &= np.isfinite(metric.array)[None]
    return Viewshed(
        visible,
        obs,
        metric.transform,
        metric.crs,
        float(height_m),
        float(target_height_m),
        None if max_distance_m is None else float(max_distance_m),
        float(curvature_coefficient),
    )


def _place_observers(metric: Any, obs: pd.DataFrame) -> pd.DataFrame:
    """Observer positions on the metric grid; raise for one off the DEM or over a void."""
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, metric.crs, always_xy=True)
    x, y = tr.transform(obs["lon"].to_numpy(), obs["lat"].to_numpy())
    col, row = colrow(metric.transform, x, y)
    h, w = metric.shape
    ground = np.full(len(obs), np.nan)
    for i, name in enumerate(obs["name"]):
        r, c = int(np.floor(row[i])), int(np.floor(col[i]))
        if not (0 <= r < h and 0 <= c < w) or not np.isfinite(metric.array[r, c]):
            raise InputError(
                f"observer {name!r} at ({obs['lat'].iloc[i]:.5f}, {obs['lon'].iloc[i]:.5f}) "
                "is off the DEM (or over a cell without elevation); move it inside the DEM "
                "or open a DEM that covers it (points are (lat, lon))"
            )
        ground[i] = float(metric.array[r, c])
    return obs.assign(x=np.asarray(x, dtype=float), y=np.asarray(y, dtype=float), ground_m=ground)


def _write_dem(metric: Any, path: Path) -> None:
    import rasterio

    z = np.where(np.isfinite(metric.array), metric.array, _NODATA).astype(np.float32)
    profile = {
        "driver": "GTiff",
        "height": z.shape[0],
        "width": z.shape[1],
        "count": 1,
        "dtype": "float32",
        "crs": metric.crs,
        "transform": metric.transform,
        "nodata": _NODATA,
    }
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(z, 1)


def _command(
    exe: str,
    src: Path,
    out: Path,
    x: float,
    y: float,
    height_m: float,
    target_height_m: float,
    max_distance_m: float | None,
    cc: float,
) -> list[str]:
    return [
        exe, "-q", "-b", "1", "-f", "GTiff",
        "-ox", repr(float(x)), "-oy", repr(float(y)),
        "-oz", repr(float(height_m)), "-tz", repr(float(target_height_m)),
        "-md", repr(float(max_distance_m or 0.0)), "-cc", repr(float(cc)),
        "-vv", "1", "-iv", "0", "-ov", "0",
        str(src), str(out),
    ]  # fmt: skip


def _run_all(commands: list[list[str]]) -> None:
    """Run the commands side by side; raise with GDAL's message if one fails."""
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    failed = []
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            failed.append(err.strip().splitlines()[-1] if err.strip() else f"exit {p.returncode}")
    if failed:
        raise GeologError(f"gdal_viewshed failed: {failed[0]}")


def _read_visible(path: Path, metric: Any) -> np.ndarray:
    """The viewshed output placed on the full metric grid (it may be clipped to the range)."""
    import rasterio

    with rasterio.open(path) as ds:
        arr = ds.read(1)
        t = ds.transform
    out = np.zeros(metric.shape, dtype=bool)
    c0, r0 = colrow(metric.transform, t.c, t.f)
    r0, c0 = int(round(r0)), int(round(c0))
    h, w = arr.shape
    rs, cs = max(r0, 0), max(c0, 0)
    re, ce = min(r0 + h, metric.shape[0]), min(c0 + w, metric.shape[1])
    if re > rs and ce > cs:
        out[rs:re, cs:ce] = arr[rs - r0 : re - r0, cs - c0 : ce - c0] == 1
    return out
