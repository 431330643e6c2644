"""The elevation error model: a DEM product's published vertical and horizontal errors.

Used by :mod:`geolog.drape` to weigh DEM samples when it estimates road
profiles; reached as :attr:`geolog.terrain.DEM.error`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from .terrain import DEM


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


def check_error(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"vertical_error_m must be a number of metres > 0, got {value!r}")
    return v
