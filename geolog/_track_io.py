"""Reading and cleaning GPS traces: GPX (tracks and routes), CSV and Parquet.

A *trace* is a pandas DataFrame with one row per fix: ``vehicle`` (text),
``time`` (timezone-aware UTC timestamps), ``lat``, ``lon`` (degrees) and,
when the source has it, ``speed_kph``. :func:`read_trace` returns one;
:func:`clean_trace` sorts it, drops duplicate fixes and jumps beyond a
maximum speed, and reports gaps (``trace.attrs["cleaning"]``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._geometry import metric_offsets
from .errors import InputError

__all__ = ["read_trace", "clean_trace", "check_trace", "fix_distances_m", "seconds"]

#: Columns of a trace, in order (``speed_kph`` is optional).
TRACE_COLUMNS = ("vehicle", "time", "lat", "lon")

_SUFFIXES = (".gpx", ".csv", ".parquet")


def fix_distances_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Straight-line distance (metres) from each fix to the next (length n - 1)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if len(lat) < 2:
        return np.zeros(0)
    dx, dy = metric_offsets(np.diff(lon), np.diff(lat), (lat[1:] + lat[:-1]) / 2)
    return np.hypot(dx, dy)


def seconds(times: pd.Series) -> np.ndarray:
    """Seconds of each timestamp since the first one (float array)."""
    if len(times) == 0:
        return np.zeros(0)
    return (times - times.iloc[0]).dt.total_seconds().to_numpy(dtype=float)


def _read_gpx(path: Path) -> pd.DataFrame:
    import gpxpy
    import gpxpy.gpx

    try:
        with open(path, encoding="utf-8") as fh:
            gpx = gpxpy.parse(fh)
    except (gpxpy.gpx.GPXException, ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{path} is not a readable GPX file: {err}") from err
    rows: list[tuple[Any, Any, float, float, float]] = []
    for i, trk in enumerate(gpx.tracks):
        name = trk.name or (path.stem if len(gpx.tracks) == 1 else f"{path.stem}-{i + 1}")
        for seg in trk.segments:
            rows += [(name, p.time, p.latitude, p.longitude, p.speed) for p in seg.points]
    for i, rte in enumerate(gpx.routes):
        name = rte.name or f"{path.stem}-route-{i + 1}"
        rows += [(name, p.time, p.latitude, p.longitude, None) for p in rte.points]
    if not rows:
        raise InputError(f"{path} holds no track or route points; export the trace as a GPX track")
    frame = pd.DataFrame(rows, columns=["vehicle", "time", "lat", "lon", "speed_mps"])
    if frame["time"].isna().any():
        n = int(frame["time"].isna().sum())
        raise InputError(
            f"{path}: {n} of {len(frame)} points have no <time>; map matching needs a "
            "timestamp on every fix (export the track with times, not a planned route)"
        )
    if frame["speed_mps"].notna().any():
        frame["speed_kph"] = pd.to_numeric(frame["speed_mps"]) * 3.6
    return frame.drop(columns="speed_mps")


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path)
        else:
            frame = pd.read_parquet(path)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise InputError(f"{path} cannot be read as a trace table: {err}") from err
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "vehicle" not in frame.columns:
        frame["vehicle"] = path.stem
    if "speed_kph" not in frame.columns:
        if "speed_mps" in frame.columns:
            frame["speed_kph"] = pd.to_numeric(frame["speed_mps"], errors="coerce") * 3.6
        elif "speed" in frame.columns:
            frame["speed_kph"] = pd.to_numeric(frame["speed"], errors="coerce")
    return frame


def read_trace(path: str | os.PathLike, *, vehicle: str | None = None) -> pd.DataFrame:
    """Read a GPS trace from a GPX, CSV or Parquet file.

    Parameters
    ----------
    path
        ``.gpx`` (every track and route; the track name is the vehicle),
        ``.csv`` or ``.parquet`` with columns ``vehicle`` (optional: the file
        name), ``time`` (ISO 8601; without a zone it is taken as UTC),
        ``lat``, ``lon`` (degrees) and optionally ``speed`` (km/h; or
        ``speed_mps`` in m/s).
    vehicle
        Keep only this vehicle's fixes.

    Returns
    -------
    pandas.DataFrame
        The trace, columns ``vehicle``, ``time`` (UTC), ``lat``, ``lon``
        [, ``speed_kph``], in file order (see :func:`clean_trace`).

    Raises
    ------
    InputError
        Unknown suffix, unreadable file, missing columns or timestamps,
        coordinates out of range, or no fix of ``vehicle``.
    """
    p = Path(path)
    if p.suffix.lower() not in _SUFFIXES:
        raise InputError(
            f"{p}: cannot read a trace from {p.suffix or 'a file without suffix'!r}; "
            f"use one of {', '.join(_SUFFIXES)}"
        )
    if not p.is_file():
        raise InputError(f"trace file {p} does not exist")
    frame = _read_gpx(p) if p.suffix.lower() == ".gpx" else _read_table(p)
    trace = check_trace(frame, source=str(p))
    if vehicle is not None:
        trace = trace[trace["vehicle"] == str(vehicle)].reset_index(drop=True)
        if trace.empty:
            raise InputError(f"{p} has no fix of vehicle {vehicle!r}")
    return trace


def check_trace(frame: pd.DataFrame, *, source: str = "the trace") -> pd.DataFrame:
    """Validate a trace table and return it in the standard form (a new frame).

    Raises :class:`~geolog.errors.InputError` naming the first bad row.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"{source} must be a table (DataFrame) of fixes, got {type(frame).__name__}"
        )
    missing = [c for c in ("time", "lat", "lon") if c not in frame.columns]
    if missing:
        raise InputError(
            f"{source} has no {', '.join(map(repr, missing))} column; a trace needs "
            "columns vehicle, time, lat, lon (optionally speed)"
        )
    out = pd.DataFrame(
        {"vehicle": frame["vehicle"].astype(str) if "vehicle" in frame else "vehicle"}
    )
    try:
        out["time"] = pd.to_datetime(frame["time"], utc=True, format="mixed")
    except (ValueError, TypeError) as err:
        raise InputError(
            f"{source}: a time cannot be read ({err}); write times as ISO 8601"
        ) from err
    bad = out["time"].isna().to_numpy()
    if bad.any():
        raise InputError(
            f"{source}: fix {int(np.argmax(bad))} has no timestamp ({int(bad.sum())} fixes "
            "in all); map matching needs a time on every fix"
        )
    for col, lim in (("lat", 90.0), ("lon", 180.0)):
        v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        wrong = ~np.isfinite(v) | (np.abs(v) > lim)
        if wrong.any():
            i = int(np.argmax(wrong))
            raise InputError(
                f"{source}: fix {i} has {col}={frame[col].iloc[i]!r}, not a number within "
                f"±{lim:g}°; are lat and lon swapped or in another CRS?"
            )
        out[col] = v
    if "speed_kph" in frame.columns:
        out["speed_kph"] = pd.to_numeric(frame["speed_kph"], errors="coerce").to_numpy(dtype=float)
    return out.reset_index(drop=True)


def _spikes(lat: np.ndarray, lon: np.ndarray, t: np.ndarray, max_mps: float) -> np.ndarray:
    """Fixes reached and left faster than ``max_mps`` (a single-fix jump)."""
    d = fix_distances_m(lat, lon)
    dt = np.diff(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        fast = d / np.where(dt > 0, dt, np.nan) > max_mps
    fast = np.nan_to_num(fast, nan=0).astype(bool)
    into = np.r_[False, fast]
    out_of = np.r_[fast, False]
    # a jump is fast in and fast out; the last fix only needs a fast arrival
    last = np.zeros(len(lat), bool)
    if len(lat) >= 2:
        last[-1] = into[-1]
    return (into & out_of) | last


def _clean_one(v: pd.DataFrame, max_mps: float, gap_s: float) -> tuple[pd.DataFrame, dict]:
    n0 = len(v)
    unsorted = int((np.diff(seconds(v["time"])) < 0).sum())
    v = v.sort_values("time", kind="stable")
    dup = v.duplicated(subset=["time"], keep="first").to_numpy()
    v = v[~dup]
    jumps = 0
    for _ in range(3):  # a jump of two fixes shows once the first is gone
        t = seconds(v["time"])
        spike = _spikes(v["lat"].to_numpy(), v["lon"].to_numpy(), t, max_mps)
        if not spike.any():
            break
        jumps += int(spike.sum())
        v = v[~spike]
    dt = np.diff(seconds(v["time"]))
    gi = np.flatnonzero(dt > gap_s)
    d = fix_distances_m(v["lat"].to_numpy(), v["lon"].to_numpy())
    gaps = pd.DataFrame(
        {
            "vehicle": v["vehicle"].iloc[0] if len(v) else "",
            "start": v["time"].iloc[gi].to_numpy(),
            "end": v["time"].iloc[gi + 1].to_numpy(),
            "duration_s": dt[gi],
            "distance_m": d[gi],
        }
    )
    report = {"fixes": n0, "unsorted": unsorted, "duplicates": int(dup.sum()), "jumps": jumps}
    return v, {**report, "kept": len(v), "gaps": gaps}


def clean_trace(
    trace: pd.DataFrame, *, max_speed_kph: float = 180.0, gap_s: float = 120.0
) -> pd.DataFrame:
    """Sort a trace by vehicle and time, drop duplicates and jumps, report gaps.

    Parameters
    ----------
    trace
        A trace (:func:`read_trace`, or any table with ``time``, ``lat``,
        ``lon`` [, ``vehicle``]); not modified.
    max_speed_kph
        A fix reached from the previous one *and* left to the next faster
        than this (km/h) is a GPS jump and is dropped.
    gap_s
        Consecutive fixes more than this many seconds apart are a gap
        (reported, not filled).

    Returns
    -------
    pandas.DataFrame
        The cleaned trace; ``attrs["cleaning"]`` holds per vehicle the counts
        (``fixes``, ``unsorted``, ``duplicates`` dropped, ``jumps`` dropped,
        ``kept``) and ``attrs["gaps"]`` one record per gap (``vehicle``,
        ``start``, ``end``, ``duration_s``, ``distance_m``;
        ``pandas.DataFrame(trace.attrs["gaps"])`` makes it a table).
    """
    if max_speed_kph <= 0 or gap_s <= 0:
        raise InputError("max_speed_kph and gap_s must be > 0")
    trace = check_trace(trace)
    parts, reports, gaps = [], {}, []
    for name, v in trace.groupby("vehicle", sort=True):
        v, rep = _clean_one(v, max_speed_kph / 3.6, gap_s)
        parts.append(v)
        gaps.append(rep.pop("gaps"))
        reports[str(name)] = rep
    out = pd.concat(parts, ignore_index=True) if parts else trace.iloc[:0]
    out.attrs["cleaning"] = reports
    table = pd.concat(gaps, ignore_index=True) if gaps else pd.DataFrame()
    # plain records: pandas compares attrs when frames are combined
    out.attrs["gaps"] = table.to_dict("records")
    return out
