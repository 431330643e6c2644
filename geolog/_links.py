"""Critical links and contingency detours on the routing graph.

Private to :mod:`geolog.risk`, which re-exports :func:`critical_links` and
:func:`contingency`. Both work on the CSR view of the routing graph
(:mod:`geolog._graph`) with scipy's Dijkstra.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["critical_links", "contingency"]


# ----------------------------------------------------------------------------- critical links


def _sites(ctx: Any, sites: Any, max_snap_m: float) -> pd.DataFrame:
    """Site names and their graph node positions (the nearer end of the snapped road)."""
    from . import routing
    from ._geometry import parse_point

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
    parsed = [parse_point(p, f"site {n!r}") for n, p in zip(names, pts, strict=True)]
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
