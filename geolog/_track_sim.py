"""Simulated GPS traces: drive routes at their profile's speeds, sample, add noise and gaps.

Shared by the tests, the benchmark and the tracking notebook, so every one of
them checks the matcher against a known truth: the route's edges and times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .errors import InputError

__all__ = ["simulate_trace"]


def _truth(
    routes: Sequence[Any],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """Metric pieces, their durations (s), lengths (m), turn seconds after each piece
    and the edge labels driven, in order."""
    from ._snap import cut_lines

    pieces, dur, length, turns, labels = [], [], [], [], []
    for r in routes:
        idx = r._edge_index
        pieces.append(cut_lines(idx.geoms_m[r.rows], r.f0, r.f1))
        dur.append(r._frac * r._g.time[r.rows])
        length.append(r._frac * r._g.length[r.rows])
        turns.append(r.turn_after_s)
        labels += list(r._net.edges.index[r.rows])
    cat = np.concatenate
    return cat(pieces), cat(dur), cat(length), cat(turns), labels


def simulate_trace(
    route: Any,
    *,
    interval_s: float = 1.0,
    noise_m: float = 15.0,
    start: Any = "2026-01-01T08:00:00Z",
    vehicle: str = "vehicle-1",
    gaps: Sequence[tuple[float, float]] = (),
    stops_s: Sequence[float] = (),
    seed: int = 0,
) -> pd.DataFrame:
    """A GPS trace of a vehicle driving ``route`` at the route's travel times.

    The vehicle drives each edge at its profile speed and spends the
    profile's turn seconds at each junction (standing, as a simplification),
    so the trace takes the route's ``duration_s``.

    Parameters
    ----------
    route
        A :class:`geolog.Route`, or a list of routes driven one after the
        other (a day's tour). The speed on each edge is the one the route's
        profile gives it (``travel_time_s``), so matching the trace and
        measuring speeds recovers the profile.
    interval_s
        Seconds between fixes.
    noise_m
        Standard deviation of the GPS error per axis (east, north), metres.
    start
        Time of the first fix (ISO 8601 text or a timestamp; UTC if no zone).
    vehicle
        Value of the ``vehicle`` column.
    gaps
        ``(from_s, to_s)`` windows (seconds after ``start``) with no fix: a
        tunnel, a dead receiver.
    stops_s
        Halt times (seconds): the vehicle stands ``stops_s[i]`` seconds at the
        end of route ``i`` (a delivery), sending fixes in place.
    seed
        Seed of the noise (the same seed gives the same trace).

    Returns
    -------
    pandas.DataFrame
        ``vehicle``, ``time`` (UTC), ``lat``, ``lon``, and the truth:
        ``speed_kph`` (true speed) and ``true_edge`` (label of the edge the
        vehicle was on; the routes' ``edges["edge"]`` list every edge driven).
    """
    routes = list(route) if isinstance(route, list | tuple) else [route]
    if not routes:
        raise InputError("simulate_trace needs at least one route")
    if interval_s <= 0 or noise_m < 0:
        raise InputError("interval_s must be > 0 and noise_m >= 0")
    pieces, dur, length, turns, labels = _truth(routes)
    halts = turns.copy()  # the profile's turn seconds, spent at each junction
    ends = np.cumsum([len(r.rows) for r in routes]) - 1
    for i, h in enumerate(list(stops_s)[: len(routes)]):
        halts[ends[i]] += float(h)
    # each piece: drive for dur, then stand for its halt
    t_end_drive = np.cumsum(dur + halts) - halts
    t_start = t_end_drive - dur
    total = float(t_end_drive[-1] + halts[-1])
    t = np.arange(0.0, total + 1e-9, interval_s)
    for a, b in gaps:
        t = t[(t < a) | (t > b)]
    i = np.clip(np.searchsorted(t_end_drive, t, side="left"), 0, len(pieces) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.clip((t - t_start[i]) / np.where(dur[i] > 0, dur[i], 1.0), 0.0, 1.0)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(pieces[i], f, normalized=True))
    rng = np.random.default_rng(seed)
    xy = xy + rng.normal(0.0, noise_m, size=xy.shape)
    ll = routes[0]._edge_index.frame.inv(xy)
    moving = (t >= t_start[i]) & (t <= t_end_drive[i])
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(moving & (dur[i] > 0), length[i] / dur[i] * 3.6, 0.0)
    out = pd.DataFrame(
        {
            "vehicle": vehicle,
            "time": pd.Timestamp(start).tz_localize("UTC")
            if pd.Timestamp(start).tzinfo is None
            else pd.Timestamp(start).tz_convert("UTC"),
            "lat": ll[:, 1],
            "lon": ll[:, 0],
            "speed_kph": v,
        }
    )
    out["time"] = out["time"] + pd.to_timedelta(t, unit="s")
    out["true_edge"] = np.asarray(labels)[i]
    return out
