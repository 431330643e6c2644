"""Plan against actual: where a matched trace left the planned roads."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._snap import cut_lines, metric_edges
from .errors import InputError

__all__ = ["deviations", "planned_geometry"]


def planned_geometry(planned: Any, vehicle: str | None = None) -> Any:
    """The planned road path as a (Multi)LineString in lon/lat.

    ``planned`` is a :class:`geolog.Route`, a shapely line, or a
    :class:`geolog.Plan` (its legs of ``vehicle``).
    """
    if hasattr(planned, "routes") and hasattr(planned, "itinerary"):
        legs = planned.routes
        if vehicle is not None:
            legs = legs[legs["vehicle"].astype(str) == str(vehicle)]
        if legs.empty:
            raise InputError(
                f"the plan has no legs of vehicle {vehicle!r}; its vehicles are "
                f"{', '.join(map(str, pd.unique(planned.routes['vehicle'])))}"
            )
        return shapely.union_all(legs.geometry.to_numpy())
    geom = getattr(planned, "geometry", planned)
    if not isinstance(geom, shapely.Geometry) or geom.is_empty:
        raise InputError("planned must be a Route, a Plan or a non-empty line geometry")
    return geom


def deviations(
    match: Any,
    planned: Any,
    *,
    vehicle: str | None = None,
    tolerance_m: float = 30.0,
    min_length_m: float = 200.0,
) -> pd.DataFrame:
    """Stretches of a matched trace off the planned roads (detours).

    Parameters
    ----------
    match
        A :class:`~geolog.tracking.MatchResult`.
    planned
        What was planned: a :class:`geolog.Route`, a line, or a
        :class:`geolog.Plan` (with ``vehicle``, default the match's vehicle).
    tolerance_m
        A matched edge with more than half its driven length farther than
        this (metres) from the planned path is off plan.
    min_length_m
        Shorter off-plan stretches (metres) are matching noise at junctions,
        not detours, and are not listed.

    Returns
    -------
    pandas.DataFrame
        One row per detour: ``from_time``, ``to_time``, ``duration_s``,
        ``length_m``, ``edges``, ``roads`` (names or classes driven, text)
        and ``geometry`` (lon/lat line of the detour).
    """
    if not tolerance_m > 0:
        raise InputError(f"tolerance_m must be > 0 metres, got {tolerance_m!r}")
    if vehicle is None and hasattr(planned, "itinerary"):
        vehicle = match.vehicle
    plan_ll = planned_geometry(planned, vehicle)
    frame, _ = metric_edges(match._net)
    zone = shapely.buffer(frame.to_m(np.array([plan_ll]))[0], tolerance_m)
    e = match.edges
    h = match._hmm
    _, geoms_m = metric_edges(match._net)
    pieces = cut_lines(geoms_m[h.piece_row], h.piece_f0, h.piece_f1)
    length = shapely.length(pieces)
    outside = shapely.length(shapely.difference(pieces, zone))
    off = (outside > 0.5 * length) & (length > 0)
    d = np.diff(np.r_[0, off.astype(np.int8), 0])
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    rows = []
    for a, b in zip(starts, ends, strict=True):
        part = e.iloc[a:b]
        names = part["name"] if "name" in part.columns else part["highway"]
        names = names.where(names.notna() & (names.astype(str) != ""), part["highway"])
        rows.append(
            {
                "from_time": part["entry_time"].iloc[0],
                "to_time": part["exit_time"].iloc[-1],
                "duration_s": float(part["duration_s"].sum()),
                "length_m": float(part["traversed_m"].sum()),
                "edges": int(b - a),
                "roads": ", ".join(dict.fromkeys(map(str, names))),
                "geometry": shapely.line_merge(shapely.union_all(part.geometry.to_numpy())),
            }
        )
    cols = ["from_time", "to_time", "duration_s", "length_m", "edges", "roads", "geometry"]
    out = pd.DataFrame(rows, columns=cols)
    return out[out["length_m"] >= min_length_m].reset_index(drop=True)
