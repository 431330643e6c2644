"""Plan against actual: detours off the planned roads, arrival delays per stop, ETAs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._snap import cut_lines, metric_edges
from .errors import InputError

__all__ = ["deviations", "planned_geometry", "plan_vs_actual", "PlanProgress"]


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


@dataclass
class PlanProgress:
    """Where a vehicle stands against its plan (see :func:`plan_vs_actual`).

    Attributes
    ----------
    vehicle
        The plan's vehicle name.
    stops : pandas.DataFrame
        One row per planned stop of the vehicle, in planned order: ``id``,
        ``seq``, ``planned_arrival`` (UTC), ``actual_arrival`` (first fix
        of the first stay of a minute or more within ``arrive_m``, else of
        the first pass; NaT when not reached), ``delay_s`` (actual
        minus planned, seconds; positive = late), ``status`` (``arrived`` or
        ``pending``), ``eta`` (pending stops: arrival estimated from the
        current position over the roads, with the planned service times)
        and ``eta_delay_s`` (ETA minus planned arrival).
    deviations : pandas.DataFrame
        Stretches driven off the planned roads (:func:`deviations`).
    position : dict
        The current position: ``time``, ``lat``, ``lon`` (the last fix,
        on its matched road).
    match
        The :class:`~geolog.tracking.MatchResult` compared.
    """

    vehicle: str
    stops: pd.DataFrame
    deviations: pd.DataFrame
    position: dict = field(default_factory=dict)
    match: Any = None

    def summary(self) -> dict:
        """Headline numbers: stops done and pending, mean and worst delay, detours."""
        s = self.stops
        done = s[s["status"] == "arrived"]
        late = np.r_[done["delay_s"].to_numpy(dtype=float), s["eta_delay_s"].dropna().to_numpy()]
        return {
            "vehicle": self.vehicle,
            "arrived": int(len(done)),
            "pending": int((s["status"] == "pending").sum()),
            "mean_delay_s": float(np.mean(done["delay_s"])) if len(done) else None,
            "worst_delay_s": float(np.max(late)) if len(late) else None,
            "detours": int(len(self.deviations)),
            "detour_m": float(self.deviations["length_m"].sum()),
        }


def _arrivals(
    fixes: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, arrive_m: float, dwell_s: float = 60.0
) -> list:
    """Arrival time at each stop, in order (NaT when never).

    The first fix of the first visit within ``arrive_m`` of the stop that
    lasts ``dwell_s`` seconds or more (the vehicle stood there: a delivery),
    else of the first visit: a truck that may not turn back passes its stop
    on the far side of the road, loops round and comes back to stand there.
    """
    from ._geometry import metric_offsets

    dx, dy = metric_offsets(
        fixes["lon"].to_numpy()[:, None] - lon[None, :],
        fixes["lat"].to_numpy()[:, None] - lat[None, :],
        lat[None, :],
    )
    near = np.hypot(dx, dy) <= arrive_m  # (fixes, stops)
    t = (fixes["time"] - fixes["time"].iloc[0]).dt.total_seconds().to_numpy()
    out, after = [], 0
    for k in range(len(lat)):
        hit = after + np.flatnonzero(near[after:, k])
        if len(hit) == 0:
            out.append(pd.NaT)
            continue
        runs = np.split(hit, np.flatnonzero(np.diff(hit) > 1) + 1)  # visits: consecutive fixes
        stay = [r for r in runs if t[r[-1]] - t[r[0]] >= dwell_s]
        after = int((stay or runs)[0][0])
        out.append(fixes["time"].iloc[after])
    return out


def _etas(match: Any, stops: pd.DataFrame, midnight: pd.Timestamp, position: dict) -> list:
    """Arrival estimates at the pending stops from the current position, over the roads."""
    from .routing import route

    pts = list(zip(stops["lat"], stops["lon"], strict=True))
    r = route(match._net, (position["lat"], position["lon"]), pts[-1], via=pts[:-1])
    secs = r.edges.assign(s=r.edges["traversed_s"] + r.edges["turn_s"])  # driving and turning
    legs = secs.groupby("leg")["s"].sum().reindex(range(len(pts)), fill_value=0.0)
    t = position["time"]
    out = []
    for k in range(len(pts)):
        t = t + pd.Timedelta(seconds=float(legs.iloc[k]))
        out.append(t)
        ready = midnight + pd.Timedelta(seconds=float(stops["start_s"].iloc[k]))
        t = max(t, ready) + pd.Timedelta(seconds=float(stops["service_s"].iloc[k]))
    return out


def plan_vs_actual(
    plan: Any,
    match: Any,
    *,
    vehicle: str | None = None,
    day: Any = None,
    arrive_m: float = 75.0,
    tolerance_m: float = 30.0,
) -> PlanProgress:
    """Compare a vehicle's matched trace with its plan: delays, detours, ETAs.

    Parameters
    ----------
    plan
        A :class:`geolog.Plan` (times in seconds after midnight).
    match
        The vehicle's :class:`~geolog.tracking.MatchResult` (so far: a trace
        of a day in progress gives ETAs for the stops still to come).
    vehicle
        The plan's vehicle (default: the trace's vehicle name).
    day
        The plan's date (default: the date of the first fix, UTC).
    arrive_m
        A stop counts as reached at the first fix this close (metres).
    tolerance_m
        Distance from the planned roads before driving counts as a detour.

    Returns
    -------
    PlanProgress
        ``stops`` (planned and actual arrivals, delays, ETAs), ``deviations``,
        ``position`` and ``summary()``.
    """
    vehicle = str(vehicle or match.vehicle)
    it = plan.itinerary
    mine = it[(it["vehicle"].astype(str) == vehicle) & (it["kind"] == "stop")].sort_values("seq")
    if mine.empty:
        raise InputError(
            f"the plan has no stop for vehicle {vehicle!r}; its vehicles are "
            f"{', '.join(map(str, pd.unique(it['vehicle'])))}; pass vehicle=NAME"
        )
    pts = plan.points.iloc[mine["point"].to_numpy()]
    fixes = match.fixes
    midnight = pd.Timestamp(day if day is not None else fixes["time"].iloc[0]).normalize()
    midnight = (
        midnight.tz_localize("UTC") if midnight.tzinfo is None else midnight.tz_convert("UTC")
    )
    stops = pd.DataFrame(
        {
            "id": mine["id"].to_numpy(),
            "seq": mine["seq"].to_numpy(),
            "lat": pts["lat"].to_numpy(),
            "lon": pts["lon"].to_numpy(),
            "start_s": mine["start_s"].to_numpy(dtype=float),
            "service_s": (mine["depart_s"] - mine["start_s"]).to_numpy(dtype=float),
            "planned_arrival": midnight + pd.to_timedelta(mine["arrival_s"].to_numpy(), unit="s"),
        }
    )
    stops["actual_arrival"] = pd.to_datetime(
        _arrivals(fixes, stops["lat"].to_numpy(), stops["lon"].to_numpy(), arrive_m), utc=True
    )
    stops["delay_s"] = (stops["actual_arrival"] - stops["planned_arrival"]).dt.total_seconds()
    reached = stops["actual_arrival"].notna().to_numpy()
    last_hit = int(np.flatnonzero(reached)[-1]) if reached.any() else -1
    stops["status"] = np.where(np.arange(len(stops)) <= last_hit, "arrived", "pending")
    used = fixes[fixes["used"]]
    last = used.iloc[-1] if len(used) else fixes.iloc[-1]
    position = {
        "time": fixes["time"].iloc[-1],
        "lat": float(last.get("matched_lat", last["lat"])),
        "lon": float(last.get("matched_lon", last["lon"])),
    }
    pending = stops["status"] == "pending"
    stops["eta"] = pd.Series(pd.NaT, index=stops.index, dtype="datetime64[ns, UTC]")
    if pending.any():
        stops.loc[pending, "eta"] = _etas(match, stops[pending], midnight, position)
    stops["eta_delay_s"] = (stops["eta"] - stops["planned_arrival"]).dt.total_seconds()
    dev = deviations(match, plan, vehicle=vehicle, tolerance_m=tolerance_m)
    cols = [
        "id",
        "seq",
        "lat",
        "lon",
        "planned_arrival",
        "actual_arrival",
        "delay_s",
        "status",
        "eta",
        "eta_delay_s",
    ]
    return PlanProgress(vehicle, stops[cols], dev, position, match)
