"""Point parsing: the one place a user's point becomes ``(lat, lon)`` floats.

Points are ``(lat, lon)`` pairs in degrees everywhere geolog takes a point
(shapely Points are read as x = longitude, y = latitude). A point out of range
or malformed raises :class:`geolog.errors.InputError` naming it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from .errors import InputError

__all__ = ["parse_point", "parse_points", "parse_latlon_text"]


def parse_point(p: Any, what: str) -> tuple[float, float]:
    """``(lat, lon)`` from a pair of numbers or a shapely Point; ``what`` names it in errors."""
    if isinstance(p, shapely.Point):
        lat, lon = p.y, p.x
    else:
        try:
            lat, lon = (float(c) for c in p)
        except (TypeError, ValueError) as err:
            raise InputError(f"{what} must be a (lat, lon) pair of numbers, got {p!r}") from err
    if not (np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        raise InputError(
            f"{what} {p!r} is not a (lat, lon) in degrees (latitude within ±90, "
            "longitude within ±180); note the order: latitude first"
        )
    return lat, lon


def parse_points(points: Any, role: str, errors: str) -> tuple[list, list[str]]:
    """Points as ``(lat, lon)`` (``None`` where malformed, with ``errors="coerce"``)."""
    if isinstance(points, shapely.Point) or (
        isinstance(points, tuple) and len(points) == 2 and np.isscalar(points[0])
    ):
        raise InputError(f"{role}s must be a sequence of points, got one point {points!r}")
    out, why = [], []
    for i, p in enumerate(points):
        try:
            out.append(parse_point(p, f"{role} {i}"))
            why.append("")
        except InputError as err:
            if errors == "raise":
                raise
            out.append(None)
            why.append(str(err))
    return out, why


def parse_latlon_text(text: str, what: str) -> tuple[float, float]:
    """Parse ``"LAT,LON"`` (degrees) as typed on a command line; ``what`` names the option."""
    parts = text.replace(" ", "").split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(
            f"{what} {text!r} is not LAT,LON in degrees (e.g. 42.5078,1.5211)"
        ) from None
    return parse_point((lat, lon), what)
