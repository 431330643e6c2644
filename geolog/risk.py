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


# ----------------------------------------------------------------------------- critical links


def _sites(ctx: Any, sites: Any, max_snap_m: float) -> pd.DataFrame:
    """Site names and their graph node positions (the nearer end of the snapped road)."""
    from . import routing

    if hasattr(sites, "geometry") and hasattr(sites, "crs"):
        g = sites.geometry.to_crs(4326)
        names = sites["name"].astype(str).tolist() if "name" in sites else None
        pts = [(p.y, p.x) if p is not None and not p.is_empty else None for p in g]
    elif isinstance(sites, dict):
        names, pts = [str(k) for k in sites], list(sites.values())
    else:
        pts, names = list(sites), None
    names = names or [f"site {i + 1}" for i in range(len(pts))]
    if len(pts) < 2:
        raise InputError(f"critical links need at least two sites, got {len(pts)}")
    parsed = [routing._parse_point(p, f"site {n!r}") for n, p in zip(names, pts, strict=True)]
    snaps = routing._snap_all(ctx, parsed, [f"site {n!r}" for n in names], max_snap_m)
    g = ctx.g
    node = []
    for s in snaps:
        r, f = int(s.rows[0]), float(s.fracs[0])
        node.append(s.node if s.node >= 0 else int(g.upos[r] if f < 0.5 else g.vpos[r]))
    return pd.DataFrame({"name": names, "node": node, "snap_m": [s.distance_m for s in snaps]})


def _second_best(g: Any) -> np.ndarray:
    """Per CSR entry, the weight of the next-best parallel row (inf if none)."""
    ok = np.flatnonzero(np.isfinite(g.w))
    key = g.upos[ok] * g.n + g.vpos[ok]
    order = np.lexsort((g.w[ok], key))
    key, w = key[order], g.w[ok][order]
    nxt = np.r_[key[1:] == key[:-1], False]
    first = np.r_[True, key[1:] != key[:-1]]
    second = np.where(nxt, np.r_[w[1:], np.inf], np.inf)[first]
    idx = np.searchsorted(g.keys, key[first])
    out = np.full(len(g.keys), np.inf)
    out[idx] = second
    return out


def _path_entries(g: Any, pred: np.ndarray, src: int, targets: np.ndarray) -> np.ndarray:
    """CSR entries on the shortest-path tree from ``src`` to ``targets``."""
    seen = np.zeros(g.n, dtype=bool)
    seen[src] = True
    tails, heads = [], []
    for t in targets:
        node = int(t)
        while not seen[node] and pred[node] >= 0:
            seen[node] = True
            tails.append(int(pred[node]))
            heads.append(node)
            node = int(pred[node])
    return g.entries_for_pairs(np.array(tails, np.int64), np.array(heads, np.int64))


def _links(g: Any, rows: np.ndarray) -> np.ndarray:
    """Road links of edge rows: each named by the lower row of it and its twin, unique."""
    return np.unique(np.where((g.twin[rows] >= 0) & (g.twin[rows] < rows), g.twin[rows], rows))


def _without_link(g: Any, second: np.ndarray, r: int) -> tuple[Any, np.ndarray]:
    """The CSR with link ``r`` (row and twin) lost, and the CSR entries that changed.

    Each entry the link realised falls back to its next-best parallel edge
    (``second``, from :func:`_second_best`), or to no edge.
    """
    from scipy.sparse import csr_array

    pair = [r] + ([int(g.twin[r])] if g.twin[r] >= 0 else [])
    ent = g.entries_for_pairs(g.upos[pair], g.vpos[pair])
    ent = ent[(ent >= 0) & np.isin(g.entry_row[np.maximum(ent, 0)], pair)]
    data = g.data.copy()
    data[ent] = second[ent]
    return csr_array((data, g.indices, g.indptr), shape=(g.n, g.n)), ent


def critical_links(
    net: Any,
    sites: Any,
    *,
    profile: Any = None,
    rules: Any = None,
    weight: str = "travel_time_s",
    top: int | None = None,
    max_snap_m: float = 500.0,
):
    """Road links whose loss raises total site-to-site travel time most or cuts sites off.

    A link is one road segment, both directions (a bridge, a pass). Only
    links on a current shortest path between two sites can change any
    site-to-site time, so only they are tried: for each, its CSR entries get
    the next-best parallel weight and the shortest paths are recomputed
    (``scipy.sparse.csgraph.dijkstra``) from the sites whose paths used it.
    Cost: ``O(C · k · (E + V log V))`` for ``C`` candidate links (at most the
    edges on the ``k·(k-1)`` site paths, in practice a few hundred) and ``k``
    sites, against ``O(E · k · (E + V log V))`` for trying every edge.

    Parameters
    ----------
    net
        A :class:`geolog.Network`.
    sites
        Key sites: ``(lat, lon)`` pairs, a mapping name → ``(lat, lon)``, or a
        GeoDataFrame of points (``name`` column optional).
    profile, rules
        Travel profile and route rules (``None`` for both: ``net`` is already costed).
    weight
        Edge column summed along paths, seconds by default (``travel_time_s``).
    top
        Keep this many links (all candidates when ``None``).
    max_snap_m
        A site farther than this from a usable road raises ``InputError``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per link, worst first (most site pairs cut, then most added
        time): ``rank``, ``edge`` and ``twin`` (row labels of both directions,
        -1 if one-way), ``name``, ``highway``, ``length_m``, ``added_s`` (extra
        total travel time over the pairs that stay connected, in ``weight``
        units), ``cut_pairs`` (ordered site pairs no longer connected),
        ``cut_off`` (those pairs as ``"A → B"`` text) and ``geometry``.
        ``attrs["sites"]`` holds the sites with their snapped node,
        ``attrs["total_s"]`` the total site-to-site time before any loss.
    """
    import geopandas as gpd
    from scipy.sparse.csgraph import dijkstra

    from . import routing

    ctx = routing._context(net, profile, rules, weight)
    g = ctx.g
    site = _sites(ctx, sites, max_snap_m)
    src = site["node"].to_numpy()
    k = len(src)
    base, pred = dijkstra(g.csr, indices=src, return_predecessors=True)
    base = base[:, src]
    off = ~np.eye(k, dtype=bool)
    ok = off & np.isfinite(base)
    # candidate CSR entries, and which sources' trees use each
    used = np.zeros((k, len(g.keys)), dtype=bool)
    for i in range(k):
        used[i, _path_entries(g, pred[i], int(src[i]), src)] = True
    second = _second_best(g)
    records = []
    for r in _links(g, g.entry_row[np.flatnonzero(used.any(axis=0))]):
        mat, ent = _without_link(g, second, int(r))
        who = np.flatnonzero(used[:, ent].any(axis=1))
        new = base.copy()
        new[who] = dijkstra(mat, indices=src[who])[:, src]
        cut = ok & ~np.isfinite(new)
        added = float(np.sum(np.where(ok & ~cut, new - base, 0.0)))
        records.append((int(r), added, cut))
    return _link_table(ctx.applied, g, site, records, base, ok, top, gpd)


def _link_table(applied, g, site, records, base, ok, top, gpd):
    names = site["name"].tolist()
    labels = g.edge_labels.to_numpy()
    e = applied.edges
    rows = np.array([r for r, _, _ in records], dtype=np.int64)
    added = np.array([a for _, a, _ in records], dtype=float)
    ncut = np.array([int(c.sum()) for _, _, c in records], dtype=np.int64)
    cut_text = [
        ", ".join(f"{names[i]} → {names[j]}" for i, j in zip(*np.nonzero(c), strict=True))
        for _, _, c in records
    ]
    order = np.lexsort((-added, -ncut)) if len(rows) else np.zeros(0, np.int64)
    if top is not None:
        order = order[:top]
    rows = rows[order]
    twin = g.twin[rows]
    table = gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(rows) + 1),
            "edge": labels[rows],
            "twin": np.where(twin >= 0, labels[np.maximum(twin, 0)], -1),
            "name": e["name"].to_numpy()[rows] if "name" in e else "",
            "highway": e["highway"].to_numpy()[rows] if "highway" in e else "",
            "length_m": g.length[rows],
            "added_s": added[order],
            "cut_pairs": ncut[order],
            "cut_off": [cut_text[i] for i in order],
        },
        geometry=e.geometry.to_numpy()[rows],
        crs=e.crs,
    )
    table.attrs["sites"] = site
    table.attrs["total_s"] = float(base[ok].sum())
    return table


# ----------------------------------------------------------------------------- contingency


def _stretches(net: Any, route: Any, segments: Any) -> list[tuple[str, np.ndarray]]:
    """``(label, positions in route.rows)`` of the stretches to close one at a time."""
    e = route._net.edges
    rows = route.rows
    if isinstance(segments, str) and segments in ("road", "threat"):
        if segments == "threat":
            if "exposure_m" not in net.edges.columns:
                raise InputError(
                    "segments='threat' needs exposure columns: pass net.with_threats(zones)"
                )
            exp = net.edges["exposure_m"].reindex(e.index).to_numpy(dtype=float)
            flag = exp[rows] > 0
            key = np.cumsum(np.r_[True, flag[1:] != flag[:-1]])
            key = np.where(flag, key, -1)
        else:
            name = (
                e["name"].fillna("").astype(str).to_numpy()[rows]
                if "name" in e
                else np.full(len(rows), "")
            )
            key = np.cumsum(np.r_[True, name[1:] != name[:-1]])
        out = []
        for kv in pd.unique(key):
            if kv < 0:
                continue
            pos = np.flatnonzero(key == kv)
            out.append((_road(e, rows[pos]), pos))
        return out
    labels = segments["edge"] if isinstance(segments, pd.DataFrame) else segments
    route_labels = e.index.to_numpy()[rows]
    out = []
    for lab in pd.Index(labels).tolist():
        pos = np.flatnonzero(np.isin(route_labels, [lab, *_twin_labels(route, lab)]))
        if len(pos):
            out.append((_road(e, rows[pos]), pos))
    return out


def _twin_labels(route: Any, label: Any) -> list:
    e = route._net.edges
    pos = e.index.get_indexer([label])[0]
    if pos < 0:
        raise InputError(f"no edge labelled {label!r} in the route's network")
    t = int(route._g.twin[pos])
    return [e.index[t]] if t >= 0 else []


def _road(e: pd.DataFrame, rows: np.ndarray) -> str:
    name = e["name"].to_numpy()[rows[0]] if "name" in e else None
    if isinstance(name, str) and name:
        return name
    hw = e["highway"].to_numpy()[rows[0]] if "highway" in e else "road"
    return f"unnamed {hw} (edge {e.index[rows[0]]})"


def contingency(net: Any, route: Any, *, segments: Any = "road"):
    """For each stretch of a route, the best detour if it is closed.

    Each stretch (and the opposite direction of its roads) is closed in turn
    and the route is recomputed between the same snapped points under the
    same profile, rules and weight.

    Parameters
    ----------
    net
        The network whose threat columns mark the stretches for
        ``segments="threat"`` (e.g. ``net.with_threats(zones)``); detours are
        computed on the costed network the route was found on.
    route
        A :class:`geolog.Route`.
    segments
        What to close one at a time: ``"road"`` (default: each run of edges with
        the same street name), ``"threat"`` (each run of edges inside a threat
        zone; the route must be on a network from :func:`with_threats`), or
        the output of :func:`critical_links` / a list of edge labels (each
        link that the route uses).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per stretch: ``stretch`` (road name), ``from_m`` (distance
        from the start, metres), ``length_m``, ``detour_exists``,
        ``extra_s`` / ``extra_m`` / ``extra_cost`` (detour minus route:
        seconds, metres and routing weight; NaN without a detour — a route on
        ``risk_cost`` may find a detour that is faster but more exposed, so
        ``extra_s`` can be negative while ``extra_cost`` is not), ``via`` (main roads of the detour not on the
        route; without a detour, why), ``advice`` (one line for a briefing) and the detour
        ``geometry`` (empty without one).
    """
    import geopandas as gpd
    import shapely

    from . import routing

    if not isinstance(route, routing.Route):
        raise InputError(f"contingency needs a geolog Route, not {type(route).__name__}")
    g, costed = route._g, route._net
    along = np.r_[0.0, np.cumsum(route._frac * g.length[route.rows])]
    recs = []
    for label, pos in _stretches(net, route, segments):
        closed = route.rows[pos]
        closed = np.r_[closed, g.twin[closed][g.twin[closed] >= 0]]
        w = g.w.copy()
        w[closed] = np.inf
        legs = [
            routing._solve(g, a, b, w)
            for a, b in zip(route._snaps[:-1], route._snaps[1:], strict=True)
        ]
        length = float(np.sum(route._frac[pos] * g.length[route.rows[pos]]))
        if any(leg is None for leg in legs):
            ends = pos[0] == 0 or pos[-1] == len(route.rows) - 1
            why = "the start or end of the route is on it" if ends else ""
            recs.append(
                (
                    label,
                    along[pos[0]],
                    length,
                    False,
                    np.nan,
                    np.nan,
                    np.nan,
                    why,
                    shapely.LineString(),
                )
            )
            continue
        det = routing.Route(costed, g, legs, route._snaps, profile_name=route.profile_name,
                            rules=route.rules, weight=route.weight)  # fmt: skip
        via = _via(costed.edges, det, route)
        recs.append((label, along[pos[0]], length, True, det.duration_s - route.duration_s,
                     det.length_m - route.length_m, det.cost - route.cost, via,
                     det.geometry))  # fmt: skip
    cols = [
        "stretch",
        "from_m",
        "length_m",
        "detour_exists",
        "extra_s",
        "extra_m",
        "extra_cost",
        "via",
        "geometry",
    ]
    frame = pd.DataFrame(recs, columns=cols)
    frame["advice"] = [
        f"if {r.stretch} is closed, go via {r.via or 'a parallel street'} ({r.extra_s / 60:+.0f} min)"
        if r.detour_exists
        else f"if {r.stretch} is closed, there is no detour under these rules"
        + (f" ({r.via})" if r.via else "")
        for r in frame.itertuples()
    ]
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


def _via(e: pd.DataFrame, detour: Any, route: Any) -> str:
    """The longest named roads of the detour that the route does not use."""
    if "name" not in e:
        return ""
    names = e["name"].fillna("").astype(str).to_numpy()
    on_route = set(names[route.rows])
    d = pd.Series(detour._frac * detour._g.length[detour.rows], index=names[detour.rows])
    d = d[[n not in on_route and n != "" for n in d.index]]
    top = d.groupby(level=0).sum().sort_values(ascending=False).head(2)
    return " and ".join(top.index)
