"""Tracking: GPS traces read, cleaned and matched to the road network.

The public face of the tracking module. A *trace* is a table of fixes
(``vehicle``, ``time``, ``lat``, ``lon`` [, ``speed_kph``]) read by
:func:`read_trace` from GPX, CSV or Parquet and cleaned by
:func:`clean_trace`. :func:`match` snaps it onto a :class:`geolog.Network`
with a hidden-Markov map matcher (Newson & Krumm 2009, in
:mod:`geolog._track_hmm`) and returns a :class:`MatchResult`: the edges
driven with entry and exit times and a confidence. :func:`simulate_trace`
drives a route at its profile's speeds with GPS noise and gaps, for tests and
demonstrations.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ._track_io import check_trace, clean_trace, read_trace, seconds
from ._track_match import MATCH_FORMATS, MatchResult
from ._track_plan import PlanProgress, deviations, plan_vs_actual
from ._track_sim import simulate_trace
from ._track_speed import GRADE_BANDS, calibrate_profile, speed_table
from .errors import InputError

__all__ = [
    "read_trace",
    "clean_trace",
    "match",
    "MatchResult",
    "MATCH_FORMATS",
    "simulate_trace",
    "speed_table",
    "calibrate_profile",
    "GRADE_BANDS",
    "deviations",
    "plan_vs_actual",
    "PlanProgress",
]

logger = logging.getLogger(__name__)


def _one_vehicle(trace: pd.DataFrame, vehicle: str | None) -> pd.DataFrame:
    names = pd.unique(trace["vehicle"])
    if vehicle is not None:
        trace = trace[trace["vehicle"] == str(vehicle)]
        if trace.empty:
            raise InputError(
                f"the trace has no fix of vehicle {vehicle!r}; it holds "
                f"{', '.join(map(repr, names[:10]))}"
            )
        return trace
    if len(names) > 1:
        raise InputError(
            f"the trace holds {len(names)} vehicles ({', '.join(map(repr, names[:5]))}"
            f"{' …' if len(names) > 5 else ''}); match one at a time with vehicle=NAME"
        )
    return trace


def _check_order(trace: pd.DataFrame) -> None:
    t = seconds(trace["time"])
    back = np.flatnonzero(np.diff(t) < 0)
    if len(back):
        i = int(back[0]) + 1
        raise InputError(
            f"the trace's times are not in order (fix {i} at {trace['time'].iloc[i]} comes "
            f"before fix {i - 1}; {len(back)} such steps); clean it first with "
            "geolog.tracking.clean_trace(trace), which sorts it and reports what it changed"
        )


#: Fixes reporting less than this speed (km/h) are standing still.
STANDING_KPH = 1.0


def _drop_standing(trace: pd.DataFrame, used: np.ndarray) -> np.ndarray:
    """Drop fixes of a vehicle standing still (reported speed), but the first of each halt.

    GPS noise around a parked vehicle otherwise reads as short drives on
    nearby roads. Traces without a ``speed_kph`` column are left as they are.
    """
    if "speed_kph" not in trace.columns:
        return used
    v = trace["speed_kph"].to_numpy(dtype=float)[used]
    still = np.nan_to_num(v, nan=np.inf) < STANDING_KPH
    first = still & ~np.r_[False, still[:-1]]
    keep = ~still | first
    keep[[0, -1]] = True
    return used[keep]


def match(
    net: Any,
    trace: pd.DataFrame,
    *,
    profile: Any = "car",
    rules: Any = None,
    vehicle: str | None = None,
    sigma_m: float = 20.0,
    beta_m: float = 20.0,
    radius_m: float = 150.0,
    max_candidates: int = 16,
    max_speed_kph: float = 160.0,
    thin_m: float | None = None,
) -> MatchResult:
    """Match a GPS trace onto the roads of a network (hidden-Markov map matching).

    Parameters
    ----------
    net
        A :class:`geolog.Network` (not modified). With terrain, the matched
        edges carry their grades and :func:`speed_table` can band speeds by
        grade.
    trace
        A trace table (:func:`read_trace`, :func:`clean_trace`,
        :func:`simulate_trace`): ``vehicle``, ``time``, ``lat``, ``lon``.
        Times must be in order (run :func:`clean_trace` on a raw trace).
    profile, rules
        The travel profile and rules whose roads the vehicle may use (as in
        :func:`geolog.route`); forbidden roads are never matched.
    vehicle
        The vehicle to match when the trace holds several.
    sigma_m
        GPS error, metres: the standard deviation of the fix-to-road distance.
    beta_m
        Metres: how much the driven distance between two fixes may differ
        from their straight-line distance before a path is unlikely (the
        exponential scale of Newson & Krumm).
    radius_m
        Roads farther than this from a fix (metres) are not candidates; a fix
        with none is reported as ``off network``.
    max_candidates
        Candidate edge rows per fix (both directions of a road count).
    max_speed_kph
        No path between two fixes longer than this speed allows is considered.
    thin_m
        Fixes closer than this to the previous fix used are skipped
        (default ``2 * sigma_m``, as Newson & Krumm). When the trace has
        ``speed_kph``, fixes below 1 km/h after the first of a halt are
        skipped too (a parked vehicle's GPS noise is not driving).

    Returns
    -------
    MatchResult
        ``edges`` (GeoDataFrame: the edges driven with entry/exit times,
        observed speed and confidence), ``fixes``, ``breaks``, ``geometry``,
        ``summary()``, ``to_file(path)``.

    Raises
    ------
    InputError
        No timestamps, unordered times, fewer than two fixes, several
        vehicles without ``vehicle=``, or no fix within ``radius_m`` of a road.

    Examples
    --------
    >>> import geolog
    >>> from geolog.tracking import simulate_trace
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> r = geolog.route(net, (42.5078, 1.5211), (42.5440, 1.5140), profile="car")
    >>> m = geolog.match(net, simulate_trace(r, noise_m=15, seed=1), profile="car")
    >>> m.summary()["segments"]
    1
    """
    from ._route_snap import _context
    from ._track_hmm import hmm_match, thin_fixes, usable_index

    for name, v in (("sigma_m", sigma_m), ("beta_m", beta_m), ("radius_m", radius_m)):
        if not v > 0:
            raise InputError(f"{name} must be > 0 metres, got {v!r}")
    if max_candidates < 1:
        raise InputError(f"max_candidates must be >= 1, got {max_candidates!r}")
    attrs = getattr(trace, "attrs", {})
    trace = _one_vehicle(check_trace(trace), vehicle).reset_index(drop=True)
    trace.attrs = {k: attrs[k] for k in ("cleaning", "gaps") if k in attrs}
    if len(trace) < 2:
        raise InputError(
            f"the trace of {trace['vehicle'].iloc[0] if len(trace) else 'this vehicle'!r} has "
            f"{len(trace)} fix(es); matching needs at least two"
        )
    _check_order(trace)
    ctx = _context(net, profile, rules, "cost")
    lat, lon = trace["lat"].to_numpy(), trace["lon"].to_numpy()
    t_s = seconds(trace["time"])
    used = thin_fixes(lat, lon, 2.0 * sigma_m if thin_m is None else thin_m)
    used = _drop_standing(trace, used)
    hmm = hmm_match(
        ctx.g,
        usable_index(ctx.applied, ctx.g),
        lon[used],
        lat[used],
        t_s[used],
        sigma_m=sigma_m,
        beta_m=beta_m,
        radius_m=radius_m,
        max_candidates=int(max_candidates),
        max_speed_mps=max_speed_kph / 3.6,
    )
    if len(hmm.fix) == 0:
        raise InputError(
            f"no fix of the trace lies within radius_m={radius_m:g} m of a road the profile "
            "allows; is the trace in this network's area, in (lat, lon) degrees?"
        )
    params = {
        "sigma_m": sigma_m,
        "beta_m": beta_m,
        "radius_m": radius_m,
        "max_candidates": int(max_candidates),
        "profile": ctx.applied.meta.get("profile"),
    }
    return MatchResult(ctx.applied, ctx.g, trace, used, hmm, params)
