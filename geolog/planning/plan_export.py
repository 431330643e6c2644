"""A :class:`~geolog.planning.Plan` as layers for partners: routes, legs, stops, depots.

:meth:`Plan.to_file` writes them with :func:`geolog.export.write_layers` (GPX,
KML, GeoJSON, GeoPackage, GeoParquet). Clock times (seconds after midnight in
the plan) become ISO 8601 date-times on the plan's date; durations stay in
seconds (``*_s``) and distances in metres (``*_m``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from .._format import fmt_clock, fmt_duration, fmt_km
from ..export import clock_times, with_node_z

#: Plan columns in seconds after midnight, and the date-time column written for each.
_CLOCK = {"arrival_s": "arrival", "start_s": "start", "depart_s": "depart", "arrive_s": "arrive"}


def _with_times(frame: Any, date: dt.date) -> Any:
    """``frame`` with a date-time column beside each clock column it has."""
    new = {
        _CLOCK[c]: clock_times(frame[c].to_numpy(), date).to_numpy() for c in _CLOCK if c in frame
    }
    return frame.assign(**new)


def _nodes(plan: Any) -> Any:
    return None if plan._net is None else plan._net.nodes


def _vehicle_routes(plan: Any, legs: Any, date: dt.date) -> Any:
    """One row per used vehicle: its legs as one MultiLineString, totals and times."""
    import geopandas as gpd
    import shapely

    rows = []
    for (veh, vtype), part in legs.groupby(["vehicle", "vehicle_type"], sort=False):
        it = plan.itinerary[plan.itinerary["vehicle"] == veh]
        start, end = float(it["depart_s"].iloc[0]), float(it["arrival_s"].iloc[-1])
        n_stops = int((it["kind"] == "stop").sum())
        dist, drive = float(part["distance_m"].sum()), float(part["duration_s"].sum())
        rows.append(
            {
                "name": str(veh),
                "description": (
                    f"{vtype}: {n_stops} stops, {fmt_km(dist)}, {fmt_duration(drive)} driving, "
                    f"{fmt_clock(start)}–{fmt_clock(end)}"
                ),
                "vehicle": veh,
                "vehicle_type": vtype,
                "depot": plan._fleet_by_name[vtype].depot,
                "stops": n_stops,
                "distance_m": dist,
                "duration_s": drive,
                "route_s": end - start,
                "start_s": start,
                "arrive_s": end,
                "geometry": shapely.multilinestrings(
                    [g for g in part.geometry if g is not None and not g.is_empty]
                ),
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return _with_times(frame, date).assign(kind="route")


def plan_layers(plan: Any, date: dt.date) -> dict:
    """``{"routes", "legs", "stops", "depots"}`` GeoDataFrames, lines with z where known."""
    import geopandas as gpd

    legs = plan.routes.copy()
    legs["geometry"] = with_node_z(legs.geometry, _nodes(plan))
    legs = _with_times(
        legs.assign(
            name=[f"{v} leg {i}" for v, i in zip(legs["vehicle"], legs["leg"], strict=True)]
        ),
        date,
    )
    stops = _with_times(plan.stops, date).assign(kind="stop")
    dep = plan._depots_input
    depots = gpd.GeoDataFrame(
        {"id": dep["id"].astype(str), "name": dep["id"].astype(str), "kind": "depot"},
        geometry=gpd.points_from_xy(dep["lon"], dep["lat"]),
        crs="EPSG:4326",
    )
    return {
        "routes": _vehicle_routes(plan, legs, date),
        "legs": legs.assign(kind="leg"),
        "stops": stops,
        "depots": depots,
    }


def plan_gpx_routes(plan: Any, date: dt.date) -> Any:
    """Each vehicle's visits in order (depot, stops, depot) as points for GPX ``<rte>``."""
    import geopandas as gpd

    it = plan.itinerary
    pts = plan.points.iloc[it["point"].to_numpy()]
    # at the depot the vehicle leaves at depart_s; elsewhere it arrives at arrival_s
    first = np.r_[True, it["vehicle"].to_numpy()[1:] != it["vehicle"].to_numpy()[:-1]]
    secs = np.where(first, it["depart_s"].to_numpy(float), it["arrival_s"].to_numpy(float))
    return gpd.GeoDataFrame(
        {
            "route": it["vehicle"].astype(str).to_numpy(),
            "name": it["id"].astype(str).to_numpy(),
            "time": clock_times(secs, date).to_numpy(),
        },
        geometry=gpd.points_from_xy(pts["lon"], pts["lat"]),
        crs="EPSG:4326",
    )


def plan_title(plan: Any) -> str:
    """``"geolog plan: 11 served, 1 unserved, 3 vehicles"``."""
    t = plan.totals
    return (
        f"geolog plan: {t['served']} served, {t['unserved']} unserved, "
        f"{t['vehicles_used']} vehicles"
    )


def plan_description(plan: Any) -> str:
    t = plan.totals
    return (
        f"{t['distance_km']:.1f} km, {t['driving_h']:.2f} h driving, "
        f"{t['route_h']:.2f} h on the road, engine {t['engine']}"
    )
