"""Reading and checking the inputs of :func:`geolog.plan`: depots, stops, fleet."""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..errors import InputError
from ..profiles import get_profile

__all__ = ["FLEET_KEYS", "read_sites", "stop_table", "read_fleet", "FleetType"]

#: Keys a vehicle type may carry in a fleet list / YAML file.
FLEET_KEYS = (
    "name",
    "count",
    "capacity",
    "profile",
    "depot",
    "shift_start_s",
    "shift_end_s",
    "max_duration_s",
    "fixed_cost",
)


#: Largest demand, capacity, time or cost accepted: sums of many stay exact in float64
#: and far inside the solvers' 64-bit integers.
MAX_QUANTITY = 1e15


def _too_big(value: Any) -> InputError:
    shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:20]}…"
    return InputError(f"{shown} is beyond {MAX_QUANTITY:.0e}; use a larger unit (t, not g)")


def _num(value: Any) -> float | None:
    """A float, or None for missing (None / NaN / empty string); at most :data:`MAX_QUANTITY`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        f = float(value)
    except OverflowError:
        raise _too_big(value) from None
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a number") from None
    if math.isfinite(f) and abs(f) > MAX_QUANTITY:
        raise _too_big(value)
    return None if math.isnan(f) else f


def read_sites(obj: Any, what: str) -> pd.DataFrame:
    """Depots or stops -> DataFrame with ``id`` (str), ``lat``, ``lon`` + all other columns.

    Accepts a GeoDataFrame of points, a DataFrame / list of dicts with ``lat`` and
    ``lon`` (or a shapely ``geometry``), or a path to a GeoJSON / vector file.
    """
    import geopandas as gpd

    if isinstance(obj, str | os.PathLike):
        p = Path(obj)
        if not p.exists():
            raise InputError(f"{what} file {p} does not exist")
        try:
            obj = gpd.read_file(p)
        except Exception as err:  # pyogrio raises several types
            raise InputError(
                f"{what} file {p} cannot be read as GeoJSON/vector data: {err}"
            ) from err
    if isinstance(obj, gpd.GeoDataFrame):
        g = obj.to_crs("EPSG:4326") if obj.crs is not None else obj
        geom = g.geometry.to_numpy()
        if len(g) and not (shapely.get_type_id(geom) == 0).all():
            raise InputError(f"{what} must be Point geometries")
        df = pd.DataFrame(g.drop(columns=g.geometry.name))
        df["lat"], df["lon"] = shapely.get_y(geom), shapely.get_x(geom)
    elif isinstance(obj, pd.DataFrame):
        df = obj.copy()
    else:
        try:
            rows = [dict(r) for r in obj]
        except (TypeError, ValueError) as err:
            raise InputError(
                f"{what} must be a GeoDataFrame, a DataFrame or a list of dicts with lat/lon"
            ) from err
        df = pd.DataFrame(rows)
    if "geometry" in df.columns and not {"lat", "lon"} <= set(df.columns):
        geom = np.asarray(df["geometry"].to_list())
        df["lat"], df["lon"] = shapely.get_y(geom), shapely.get_x(geom)
        df = df.drop(columns="geometry")
    if df.empty:
        raise InputError(f"no {what} given")
    if not {"lat", "lon"} <= set(df.columns):
        raise InputError(f"{what} need 'lat' and 'lon' columns (degrees) or Point geometries")
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        raise InputError(f"{what} rows {np.flatnonzero(bad)[:5].tolist()} have no valid lat/lon")
    df["lat"], df["lon"] = lat, lon
    for key in ("id", "name"):
        if key in df.columns:
            ids = df[key].astype(str)
            break
    else:
        ids = pd.Series(
            [f"{what[:-1] if what.endswith('s') else what}-{i}" for i in range(len(df))]
        )
    ids = ids.to_numpy(dtype=object)
    dup = pd.Series(ids).duplicated()
    if dup.any():
        raise InputError(
            f"{what} ids must be unique; repeated: {sorted(set(ids[dup.to_numpy()]))[:5]}"
        )
    df = df.drop(columns=["id"], errors="ignore")
    df.insert(0, "id", ids)
    return df.reset_index(drop=True)


def _demand_matrix(df: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    cols = [c for c in df.columns if str(c).startswith("demand_")]
    if cols:
        names = [str(c)[len("demand_") :] for c in cols]
        vals = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        return vals, names
    if "demand" not in df.columns:
        return np.zeros((len(df), 0)), []
    rows = []
    for sid, v in zip(df["id"], df["demand"], strict=True):
        try:
            if isinstance(v, list | tuple | np.ndarray):
                rows.append([np.nan if (f := _num(x)) is None else f for x in v])
            else:
                rows.append([np.nan if (f := _num(v)) is None else f])
        except InputError as err:
            raise InputError(f"stop {sid!r}: demand {err}") from None
    width = {len(r) for r in rows}
    if len(width) != 1:
        raise InputError("every stop must give the same number of demand values")
    k = width.pop()
    return np.asarray(rows, dtype=float).reshape(len(rows), k), [
        f"dim{i}" for i in range(k)
    ] if k > 1 else ["demand"]


def stop_table(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Check stops and return a clean table: demand (n, K), service, windows, penalty, priority."""
    dem, names = _demand_matrix(df)
    ids = df["id"].to_numpy(dtype=object)
    if dem.size and (~np.isfinite(dem)).any():
        bad = ids[(~np.isfinite(dem)).any(axis=1)][:5].tolist()
        raise InputError(f"stops {bad} have a missing or non-numeric demand")
    if dem.size and (dem > MAX_QUANTITY).any():
        bad = ids[(dem > MAX_QUANTITY).any(axis=1)][:5].tolist()
        raise InputError(f"stops {bad}: demand {_too_big(dem.max())}")
    if dem.size and (dem < 0).any():
        bad = ids[(dem < 0).any(axis=1)][:5].tolist()
        raise InputError(
            f"stops {bad} have a negative demand; demands are quantities to deliver (>= 0)"
        )

    def col(name: str, default: float | None) -> np.ndarray:
        if name not in df.columns:
            return np.full(len(df), np.nan if default is None else default, dtype=float)
        out = pd.to_numeric(df[name], errors="coerce").to_numpy(float)
        raw = df[name].to_numpy(dtype=object)
        bad = (
            np.isnan(out)
            & pd.notna(raw)
            & (pd.Series(raw).astype(str).str.strip() != "").to_numpy()
        )
        if bad.any():
            raise InputError(f"stops {ids[bad][:5].tolist()}: column {name!r} is not numeric")
        huge = np.isfinite(out) & (np.abs(out) > MAX_QUANTITY)
        if huge.any():
            raise InputError(f"stops {ids[huge][:5].tolist()}: {name} {_too_big(out[huge][0])}")
        if default is not None:
            out = np.where(np.isnan(out), default, out)
        return out

    service = col("service_s", 0.0)
    tw_start = col("tw_start_s", 0.0)
    tw_end = col("tw_end_s", None)
    penalty = col("penalty", None)
    priority = col("priority", 1.0)
    for name, arr in (("service_s", service), ("tw_start_s", tw_start), ("penalty", penalty)):
        if (arr < 0).any():
            raise InputError(f"stops {ids[arr < 0][:5].tolist()}: {name} must be >= 0")
    if (priority <= 0).any():
        raise InputError(f"stops {ids[priority <= 0][:5].tolist()}: priority must be > 0")
    bad = np.isfinite(tw_end) & (tw_end < tw_start)
    if bad.any():
        raise InputError(
            f"stops {ids[bad][:5].tolist()}: time window ends (tw_end_s) before it starts "
            "(tw_start_s); give both in seconds from the same origin"
        )
    table = pd.DataFrame(
        {
            "id": ids,
            "lat": df["lat"].to_numpy(float),
            "lon": df["lon"].to_numpy(float),
            "service_s": service,
            "tw_start_s": tw_start,
            "tw_end_s": tw_end,
            "penalty": penalty,
            "priority": priority,
        }
    )
    table.attrs["demand"] = dem
    return table, names


@dataclass(frozen=True)
class FleetType:
    """One checked vehicle type of the fleet."""

    name: str
    count: int
    capacity: tuple[float, ...]
    profile: str
    depot: str
    shift_start_s: float
    shift_end_s: float | None
    max_duration_s: float | None
    fixed_cost: float

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in FLEET_KEYS}


def _load_fleet_obj(fleet: Any) -> list:
    from .._yaml import parse_yaml, read_text

    if isinstance(fleet, str | os.PathLike) and (
        isinstance(fleet, os.PathLike) or "\n" not in str(fleet)
    ):
        p = Path(fleet)
        if not p.exists():
            raise InputError(f"fleet file {p} does not exist")
        text = read_text(p, what="fleet file")
        where = str(p)
    elif isinstance(fleet, str):
        text, where = fleet, "fleet YAML"
    else:
        text, where = None, "fleet"
    if text is not None:
        fleet = parse_yaml(text, where=where)
    if isinstance(fleet, dict):
        if "vehicles" not in fleet:
            raise InputError(f"{where}: expected a list of vehicle types or a 'vehicles:' list")
        fleet = fleet["vehicles"]
    if isinstance(fleet, pd.DataFrame):
        fleet = fleet.to_dict("records")
    if not isinstance(fleet, list | tuple) or not fleet:
        raise InputError(f"{where}: expected a non-empty list of vehicle types")
    return list(fleet)


def read_fleet(fleet: Any, depot_ids: list[str], n_dims: int) -> list[FleetType]:
    """Check a fleet (list of dicts, ``{'vehicles': [...]}``, YAML text or file)."""
    items = _load_fleet_obj(fleet)
    out: list[FleetType] = []
    names: set[str] = set()
    for i, raw in enumerate(items):
        if isinstance(raw, FleetType):
            raw = raw.as_dict()
        if not isinstance(raw, dict):
            raise InputError(f"fleet entry {i} must be a mapping of {', '.join(FLEET_KEYS)}")
        unknown = [k for k in raw if k not in FLEET_KEYS]
        if unknown:
            hint = difflib.get_close_matches(str(unknown[0]), FLEET_KEYS, n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            raise InputError(
                f"fleet entry {i}: unknown key {unknown[0]!r}{extra} (allowed: {', '.join(FLEET_KEYS)})"
            )
        name = str(raw.get("name", f"vehicle{i}"))
        if name in names:
            raise InputError(f"fleet: vehicle type name {name!r} is used twice")
        names.add(name)
        try:
            count = raw.get("count", 1)
            if isinstance(count, bool) or int(count) != count or int(count) < 1:
                raise ValueError
            count = int(count)
        except (TypeError, ValueError):
            raise InputError(
                f"fleet {name!r}: count must be a whole number >= 1, not {raw.get('count')!r}"
            ) from None
        cap = raw.get("capacity", [] if n_dims == 0 else None)
        if cap is None:
            raise InputError(f"fleet {name!r}: capacity is missing ({n_dims} value(s) expected)")
        cap_l = list(cap) if isinstance(cap, list | tuple) else [cap]
        if n_dims == 0 and len(cap_l) == 1:
            cap_l = []
        if len(cap_l) != n_dims:
            raise InputError(
                f"fleet {name!r}: capacity has {len(cap_l)} value(s) but stops have {n_dims} demand dimension(s)"
            )
        try:
            capv = tuple(_num(c) for c in cap_l)
        except InputError as err:
            raise InputError(f"fleet {name!r}: capacity {err}") from None
        if any(c is None for c in capv):
            raise InputError(f"fleet {name!r}: capacity {cap!r} has a missing value")
        if any(not math.isfinite(c) or c < 0 for c in capv):
            raise InputError(f"fleet {name!r}: capacity must be finite and >= 0")
        depot = raw.get("depot")
        if depot is None:
            if len(depot_ids) > 1:
                raise InputError(
                    f"fleet {name!r}: say which depot it starts from (one of {depot_ids})"
                )
            depot = depot_ids[0]
        depot = str(depot)
        if depot not in depot_ids:
            raise InputError(f"fleet {name!r}: unknown depot {depot!r}; depots are {depot_ids}")
        try:
            start = _num(raw.get("shift_start_s")) or 0.0
            end = _num(raw.get("shift_end_s"))
            maxd = _num(raw.get("max_duration_s"))
            fixed = _num(raw.get("fixed_cost")) or 0.0
        except InputError as err:
            raise InputError(f"fleet {name!r}: {err}") from None
        if start < 0 or fixed < 0 or (maxd is not None and maxd <= 0):
            raise InputError(
                f"fleet {name!r}: shift start, fixed cost must be >= 0, max duration > 0"
            )
        if end is not None and end <= start:
            raise InputError(
                f"fleet {name!r}: shift_end_s ({end:g}) must be after shift_start_s ({start:g})"
            )
        profile = str(raw.get("profile", "car"))
        try:
            get_profile(profile)
        except InputError as err:
            raise InputError(f"fleet {name!r}: {err}") from None
        out.append(FleetType(name, count, capv, profile, depot, start, end, maxd, fixed))
    return out
