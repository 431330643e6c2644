"""Risk, exposure and contingency on a costed road network.

- **Threat zones** (:func:`threat_zones`, :func:`with_threats`): polygons, or
  points with a ``radius_m``, each with a ``level`` (``low`` / ``medium`` /
  ``high`` or a number 0–1) and optionally ``valid_from`` / ``valid_to``.
  Every edge gains the metres (and, on a costed network, seconds) it runs
  inside each level — columns the route rules can read
  (``exposure_high_m > 0``) — and a ``risk_cost`` routing weight.
- **Viewsheds** (:func:`viewshed`, :func:`with_visibility`): GDAL's
  ``gdal_viewshed`` on the DEM's metric grid, with curvature and refraction;
  edges gain the metres and share of their length in view.
- **Exposure report** (:func:`exposure_report`): per segment of a route, the
  metres and seconds inside each threat level and in view of each observer.
- **Critical links** (:func:`critical_links`) and **contingency routes**
  (:func:`contingency`): which road links hurt most when lost, and the
  best detour around each stretch of a route.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._links import contingency, critical_links
from ._viewshed import CURVATURE_COEFFICIENT, Viewshed, viewshed
from .errors import InputError

__all__ = [
    "LEVELS",
    "LEVEL_WEIGHTS",
    "CURVATURE_COEFFICIENT",
    "Viewshed",
    "viewshed",
    "threat_zones",
    "with_threats",
    "with_visibility",
    "exposure_report",
    "critical_links",
    "contingency",
]

#: Threat levels, lowest first; numeric levels (0–1] fall into thirds.
LEVELS = ("low", "medium", "high")
#: Weight of a metre inside each level in ``threat_score_m`` (and so ``risk_cost``).
LEVEL_WEIGHTS = {"low": 1 / 3, "medium": 2 / 3, "high": 1.0}


# ----------------------------------------------------------------------------- threat zones


def _zone_name(zones: pd.DataFrame, i: int) -> str:
    label = zones.index[i]
    if "name" in zones.columns and isinstance(zones["name"].iloc[i], str):
        return f"zone {zones['name'].iloc[i]!r} (row {label})"
    return f"zone row {label}"


def _level_names(zones: pd.DataFrame) -> np.ndarray:
    if "level" not in zones.columns:
        raise InputError(
            "threat zones need a 'level' column (low / medium / high, or a number 0-1); "
            f"the columns are {[c for c in zones.columns if c != zones.geometry.name]}"
        )
    out = []
    for i, v in enumerate(zones["level"].tolist()):
        if isinstance(v, str) and v.strip().lower() in LEVELS:
            out.append(v.strip().lower())
            continue
        num = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
        if pd.isna(num) or not 0 < num <= 1:
            raise InputError(
                f"{_zone_name(zones, i)} has level {v!r}; give low, medium, high "
                "or a number in (0, 1]"
            )
        out.append(LEVELS[min(int(np.ceil(num * 3)) - 1, 2)])
    return np.array(out, dtype=object)


def _window(zones: pd.DataFrame, depart: Any) -> np.ndarray:
    """True for the zones in force at ``depart`` (all zones when it is ``None``)."""
    n = len(zones)
    if depart is None:
        return np.ones(n, dtype=bool)
    try:
        t = pd.Timestamp(depart)
    except (TypeError, ValueError):
        raise InputError(f"depart {depart!r} is not a date and time (ISO 8601)") from None
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    keep = np.ones(n, dtype=bool)
    for col, after in (("valid_from", True), ("valid_to", False)):
        if col not in zones.columns:
            continue
        try:
            s = pd.to_datetime(zones[col], utc=True)
        except (TypeError, ValueError) as err:
            raise InputError(
                f"threat zones: column {col!r} holds a value that is not a date: {err}"
            ) from None
        ok = s.isna().to_numpy() | ((s <= t) if after else (s > t)).to_numpy()
        keep &= ok
    return keep


def threat_zones(zones: Any, *, depart: Any = None, crs: Any = None):
    """Check and normalise threat zones.

    Parameters
    ----------
    zones
        A GeoDataFrame or a file path geopandas reads (GeoJSON, GeoPackage …).
        Columns: ``level`` (required: ``low`` / ``medium`` / ``high``, or a
        number in (0, 1] binned in thirds), ``name`` (optional),
        ``radius_m`` (metres, required for point zones), ``valid_from`` /
        ``valid_to`` (optional, ISO dates; empty = open-ended).
    depart
        Departure time of the routes assessed: only zones whose validity window
        contains it are kept (``valid_from <= depart < valid_to``). ``None``
        keeps every zone (the cautious reading).
    crs
        Metric CRS to return the zones in (point zones are buffered there);
        ``None`` keeps EPSG:4326 and buffers in the local UTM zone.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``level`` (one of :data:`LEVELS`) and polygon ``geometry``.

    Raises
    ------
    InputError
        No ``level`` column or a zone without a valid level; an empty, invalid
        or non-areal geometry; a point zone without a positive ``radius_m``.
    """
    import geopandas as gpd
    import shapely

    if not isinstance(zones, gpd.GeoDataFrame):
        try:
            zones = gpd.read_file(zones)
        except Exception as err:  # noqa: BLE001 - any reader failure is the user's file
            raise InputError(f"cannot read threat zones {zones!r}: {err}") from None
    if zones.crs is None:
        raise InputError("the threat zones have no CRS; set one (e.g. zones.set_crs(4326))")
    levels = _level_names(zones)
    geoms = zones.geometry.to_numpy()
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            raise InputError(
                f"{_zone_name(zones, i)} has an empty geometry; draw the zone or drop it"
            )
        if not g.is_valid:
            raise InputError(
                f"{_zone_name(zones, i)} has an invalid geometry ({shapely.is_valid_reason(g)}); "
                "repair it (e.g. shapely.make_valid) and try again"
            )
        if g.geom_type not in ("Polygon", "MultiPolygon", "Point", "MultiPoint"):
            raise InputError(
                f"{_zone_name(zones, i)} is a {g.geom_type}; zones are polygons or points with radius_m"
            )
    names = [
        str(zones["name"].iloc[i]) if "name" in zones.columns else f"zone {zones.index[i]}"
        for i in range(len(zones))
    ]
    out = gpd.GeoDataFrame({"name": names, "level": levels}, geometry=geoms, crs=zones.crs)
    out = out[_window(zones, depart)]
    metric = crs if crs is not None else (out.estimate_utm_crs() if len(out) else 3857)
    m = out.to_crs(metric)
    pts = shapely.get_type_id(m.geometry.to_numpy()) == shapely.GeometryType.POINT
    pts |= shapely.get_type_id(m.geometry.to_numpy()) == shapely.GeometryType.MULTIPOINT
    if pts.any():
        if "radius_m" not in zones.columns:
            raise InputError("point threat zones need a 'radius_m' column (metres)")
        radius = pd.to_numeric(zones.loc[out.index, "radius_m"], errors="coerce").to_numpy()
        bad = pts & ~(radius > 0)
        if bad.any():
            i = int(zones.index.get_indexer([out.index[np.flatnonzero(bad)[0]]])[0])
            raise InputError(f"{_zone_name(zones, i)} is a point without a positive radius_m")
        geo = m.geometry.to_numpy().copy()
        geo[pts] = shapely.buffer(geo[pts], radius[pts], quad_segs=16)
        m = m.set_geometry(geo)
    return m if crs is not None else m.to_crs(4326)


def _level_unions(zones_m) -> dict[str, Any]:
    """Per level, the union of its zones (metric CRS); only levels that occur."""
    import shapely

    return {
        lv: shapely.union_all(zones_m.geometry[zones_m["level"] == lv].to_numpy())
        for lv in LEVELS
        if (zones_m["level"] == lv).any()
    }


def _inside_m(geoms: np.ndarray, area: Any) -> np.ndarray:
    """Metres of each line inside ``area`` (metric CRS), via an STRtree prefilter."""
    import shapely

    out = np.zeros(len(geoms))
    if area is None or area.is_empty or len(geoms) == 0:
        return out
    hit = shapely.STRtree(geoms).query(area, predicate="intersects")
    out[hit] = shapely.length(shapely.intersection(geoms[hit], area))
    return out


def _exposure_m(geoms: np.ndarray, unions: dict[str, Any]) -> dict[str, np.ndarray]:
    """``exposure_<level>_m``, ``exposure_m`` (any zone) and ``threat_score_m`` per line.

    The score counts each metre once, at the highest level it is in.
    """
    import shapely

    cols = {f"exposure_{lv}_m": _inside_m(geoms, unions.get(lv)) for lv in LEVELS}
    present = [unions[lv] for lv in LEVELS if lv in unions]
    cols["exposure_m"] = _inside_m(geoms, shapely.union_all(present) if present else None)
    score = np.zeros(len(geoms))
    higher = None
    for lv in reversed(LEVELS):
        if lv not in unions:
            continue
        only = unions[lv] if higher is None else shapely.difference(unions[lv], higher)
        score += LEVEL_WEIGHTS[lv] * _inside_m(geoms, only)
        higher = unions[lv] if higher is None else shapely.union(higher, unions[lv])
    cols["threat_score_m"] = score
    return cols


def _seconds(metres: np.ndarray, length: np.ndarray, time: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(metres > 0, metres / np.where(length > 0, length, 1.0) * time, 0.0)


def with_threats(
    net: Any,
    zones: Any,
    *,
    depart: Any = None,
    risk_weight: float = 1.0,
    profile: Any = None,
    rules: Any = None,
) -> Any:
    """Add threat exposure columns (and a ``risk_cost`` weight) to every edge.

    Parameters
    ----------
    net
        A :class:`geolog.Network`.
    zones
        Threat zones (see :func:`threat_zones`).
    depart
        Departure time of the routes: zones not valid at that time are ignored;
        ``None`` applies every zone.
    risk_weight
        Seconds of detour accepted per metre of (level-weighted) exposure:
        ``risk_cost = cost + risk_weight · threat_score_m``. ``1`` accepts 1 s
        more travel to avoid 1 m inside a high-threat zone (3 m inside a low one).
    profile, rules
        If given, the profile and rules are applied *after* the exposure
        columns are added, so rules can read them (``exposure_high_m > 0``).

    Returns
    -------
    Network
        A new network whose edges gain ``exposure_low_m``, ``exposure_medium_m``,
        ``exposure_high_m`` (metres inside each level; overlapping levels count
        in each), ``exposure_m`` (inside any zone) and ``threat_score_m``
        (metres weighted by :data:`LEVEL_WEIGHTS`, each metre at its highest
        level). On a costed network (``travel_time_s``, ``cost``: after
        ``net.apply(...)`` or with ``profile``/``rules``) also
        ``exposure_<level>_s`` (seconds inside each level, at the edge's speed)
        and ``risk_cost`` (a routing weight: ``weight="risk_cost"``).
        ``meta["threats"]`` records the zones used, ``depart`` and ``risk_weight``.
    """
    if not np.isfinite(risk_weight) or risk_weight < 0:
        raise InputError(f"risk_weight must be >= 0 seconds per metre, not {risk_weight!r}")
    crs = net.metric_crs()
    zm = threat_zones(zones, depart=depart, crs=crs)
    geoms = net.edges.geometry.to_crs(crs).to_numpy()
    cols = _exposure_m(geoms, _level_unions(zm))
    meta = dict(net.meta)
    meta["threats"] = {
        "zones": zm["name"].tolist(),
        "depart": None if depart is None else str(pd.Timestamp(depart)),
        "risk_weight": float(risk_weight),
    }
    out = net.replace(edges=net.edges.assign(**cols), meta=meta)
    if profile is not None or rules is not None:
        out = out.apply(profile, rules)
    return _add_risk_cost(out, risk_weight)


def _add_risk_cost(net: Any, risk_weight: float) -> Any:
    e = net.edges
    if "travel_time_s" not in e.columns or "cost" not in e.columns:
        return net
    length = e["length_m"].to_numpy(dtype=float)
    time = e["travel_time_s"].to_numpy(dtype=float)
    cols = {
        f"exposure_{lv}_s": _seconds(e[f"exposure_{lv}_m"].to_numpy(float), length, time)
        for lv in LEVELS
    }
    cols["risk_cost"] = e["cost"].to_numpy(dtype=float) + risk_weight * e[
        "threat_score_m"
    ].to_numpy(dtype=float)
    return net.replace(edges=e.assign(**cols))


# ----------------------------------------------------------------------------- visibility


def _sample_points(geoms: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Midpoints of equal pieces (≤ ``spacing`` metres) of each line: ``(line, x, y)``."""
    import shapely

    length = shapely.length(geoms)
    k = np.maximum(np.ceil(length / spacing), 1).astype(np.int64)
    line = np.repeat(np.arange(len(geoms)), k)
    start = np.repeat(np.cumsum(k) - k, k)
    t = (np.arange(k.sum()) - start + 0.5) / k[line]
    pts = shapely.line_interpolate_point(geoms[line], t, normalized=True)
    return line, shapely.get_x(pts), shapely.get_y(pts)


def _visible_fraction(geoms: np.ndarray, vs: Viewshed) -> np.ndarray:
    """``(n_observers, n_lines)``: share of each line's length in view of each observer."""
    spacing = max(min(abs(vs.transform.a), abs(vs.transform.e)) / 2.0, 0.5)
    line, x, y = _sample_points(geoms, spacing)
    seen = vs.sample(x, y)
    k = np.bincount(line, minlength=len(geoms)).astype(float)
    hits = np.stack([np.bincount(line, weights=s, minlength=len(geoms)) for s in seen])
    return hits / np.maximum(k, 1.0)


def with_visibility(net: Any, vs: Viewshed) -> Any:
    """Add the share and metres of every edge in view of the observers.

    Each edge is cut into pieces of half a cell; a piece counts as visible when
    the viewshed cell under its midpoint is (cells off the DEM are not).

    Parameters
    ----------
    net
        A :class:`geolog.Network`.
    vs
        A :class:`Viewshed` from :func:`viewshed`.

    Returns
    -------
    Network
        A new network whose edges gain ``visible_frac`` (0–1, in view of any
        observer), ``visible_m`` (metres in view) and ``observers_seeing``
        (how many observers see some of the edge). Rules can read them
        (``visible_m > 200``).
    """
    if not isinstance(vs, Viewshed):
        raise InputError(
            f"with_visibility needs a Viewshed from geolog.viewshed(), not {type(vs).__name__}"
        )
    geoms = net.edges.geometry.to_crs(vs.crs).to_numpy()
    per = _visible_fraction(geoms, Viewshed(vs.combined[None], vs.observers.iloc[:1], vs.transform,
                                            vs.crs, vs.height_m, vs.target_height_m,
                                            vs.max_distance_m, vs.curvature_coefficient))[0]  # fmt: skip
    each = _visible_fraction(geoms, vs)
    length = net.edges["length_m"].to_numpy(dtype=float)
    edges = net.edges.assign(
        visible_frac=per, visible_m=per * length, observers_seeing=(each > 0).sum(axis=0)
    )
    return net.replace(edges=edges)


# ----------------------------------------------------------------------------- exposure report


def exposure_report(
    route: Any, *, zones: Any = None, viewshed: Viewshed | None = None, depart: Any = None
) -> pd.DataFrame:
    """Metres and seconds of a route inside each threat level and in view, per segment.

    Parameters
    ----------
    route
        A :class:`geolog.Route`, or a :class:`geolog.Plan` (every vehicle's legs).
    zones
        Threat zones (see :func:`threat_zones`); ``None`` for none.
    viewshed
        A :class:`Viewshed`; ``None`` for none.
    depart
        Departure time: only zones valid then count.

    Returns
    -------
    pandas.DataFrame
        One row per travelled segment (the part of each edge the route uses):
        ``edge``, ``name``, ``traversed_m``, ``traversed_s``, then for each
        level ``exposure_<level>_m`` / ``_s`` and ``exposure_m`` (exact
        intersection of the segment with the zones), then for each observer
        ``visible_<name>_m`` / ``_s``; ``vehicle`` first for a plan. Sum the
        columns for the route's totals.
    """
    import geopandas as gpd

    segs = _segments(route)
    if segs.empty:
        return pd.DataFrame(segs.drop(columns="geometry"))
    crs = segs.estimate_utm_crs()
    geoms = segs.geometry.to_crs(crs).to_numpy()
    metres = segs["traversed_m"].to_numpy(dtype=float)
    secs = segs["traversed_s"].to_numpy(dtype=float)
    keep = [c for c in ("vehicle", "edge", "name", "traversed_m", "traversed_s") if c in segs]
    out = pd.DataFrame(segs[keep])
    if zones is not None:
        zm = threat_zones(zones, depart=depart, crs=crs)
        cols = _exposure_m(geoms, _level_unions(zm))
        for lv in LEVELS:
            out[f"exposure_{lv}_m"] = cols[f"exposure_{lv}_m"]
            out[f"exposure_{lv}_s"] = _seconds(cols[f"exposure_{lv}_m"], metres, secs)
        out["exposure_m"] = cols["exposure_m"]
    if viewshed is not None:
        g = gpd.GeoSeries(segs.geometry.to_numpy(), crs=4326).to_crs(viewshed.crs).to_numpy()
        frac = _visible_fraction(g, viewshed)
        for name, f in zip(viewshed.names, frac, strict=True):
            out[f"visible_{name}_m"] = f * metres
            out[f"visible_{name}_s"] = f * secs
    return out.reset_index(drop=True)


def _segments(route: Any):
    """The travelled segments of a Route or a Plan as a GeoDataFrame (EPSG:4326)."""
    import geopandas as gpd

    if hasattr(route, "rows") and hasattr(route, "edges"):
        e = route.edges
        cols = ["edge", "name", "traversed_m", "traversed_s"]
        return gpd.GeoDataFrame(e.reindex(columns=cols), geometry=e.geometry.to_numpy(), crs=e.crs)
    legs = getattr(route, "routes", None)
    if not isinstance(legs, gpd.GeoDataFrame):
        raise InputError(
            f"exposure_report needs a geolog Route or Plan, not {type(route).__name__}"
        )
    legs = legs.to_crs(4326)
    out = pd.DataFrame(
        {
            "vehicle": legs["vehicle"].to_numpy(),
            "edge": -1,
            "name": [f"{a} → {b}" for a, b in zip(legs["from_id"], legs["to_id"], strict=True)],
            "traversed_m": legs["distance_m"].to_numpy(dtype=float),
            "traversed_s": legs["duration_s"].to_numpy(dtype=float),
        }
    )
    return gpd.GeoDataFrame(out, geometry=legs.geometry.to_numpy(), crs=4326)
