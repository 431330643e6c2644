"""Grids derived from a DEM on a metric grid: slope, aspect, hillshade, mobility classes.

:class:`DerivedGrids` is the part of :class:`~geolog.terrain.DEM` that
reprojects to a local metric grid (UTM) and computes Horn (1981) gradients,
as ``gdaldem`` does; mobility thresholds are read from
``geolog/profiles/mobility.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rasterio.crs import CRS

from . import _cache
from ._raster_io import Raster, as_crs, quiet_affine
from .errors import InputError

if TYPE_CHECKING:
    from .terrain import DEM

#: Mobility class codes stored in :meth:`DEM.mobility` rasters (255 = no data).
GO, SLOW_GO, NO_GO = 0, 1, 2
MOBILITY_CLASSES = ("GO", "SLOW-GO", "NO-GO")
MOBILITY_NODATA = 255
MOBILITY_UNITS = "0 GO,1 SLOW-GO,2 NO-GO"
_MOBILITY_YAML = Path(__file__).resolve().parent / "profiles" / "mobility.yaml"


class DerivedGrids:
    """Metric grid and derived rasters of a :class:`~geolog.terrain.DEM` (a mixin)."""

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
        dst_crs = as_crs(crs, what="target")
        if dst_crs.is_geographic:
            raise InputError(f"to_metric needs a projected CRS, got {dst_crs.to_string()}")
        if resolution is None:
            resolution = min(self.cell_size_m)
        rows, cols = self.shape
        with quiet_affine():
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
        out = type(self)(
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
        s = slope_values(*self._gradients(), units=units)
        return self._derived(s, name="slope", units=units)

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
        cls = mobility_classes(self.slope(units="percent").array, mobility_thresholds(vehicle))
        return self._derived(
            cls, nodata=MOBILITY_NODATA, name=mobility_name(vehicle), units=MOBILITY_UNITS
        )


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


def slope_values(gx: np.ndarray, gy: np.ndarray, *, units: str = "degrees") -> np.ndarray:
    """float32 slope from gradients (rise over run): ``"degrees"`` or ``"percent"``."""
    rise = np.hypot(gx, gy)
    s = np.degrees(np.arctan(rise)) if units == "degrees" else 100.0 * rise
    return s.astype(np.float32)


def mobility_classes(slope_pct: np.ndarray, th: Mapping[str, float]) -> np.ndarray:
    """uint8 GO / SLOW-GO / NO-GO codes from slope (percent) and a vehicle's thresholds."""
    cls = np.full(slope_pct.shape, MOBILITY_NODATA, dtype=np.uint8)
    ok = np.isfinite(slope_pct)
    s = slope_pct[ok]
    cls[ok] = np.where(s >= th["no_go_pct"], NO_GO, np.where(s >= th["slow_go_pct"], SLOW_GO, GO))
    return cls


def mobility_name(vehicle: str | Mapping[str, Any]) -> str:
    """``"mobility:truck"`` (``"mobility:custom"`` for a mapping of thresholds)."""
    return f"mobility:{vehicle if isinstance(vehicle, str) else 'custom'}"


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


_cache.register_function("mobility thresholds", _mobility_table)


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
