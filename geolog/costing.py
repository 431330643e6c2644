"""Along-edge terrain: elevation profiles, ascent, descent and grades per direction.

:func:`add_terrain` drapes every edge of a :class:`~geolog.network.Network` on a
:class:`~geolog.terrain.DEM`, all edges at once:

1. each edge geometry is put in a canonical orientation (so that the two rows
   of a two-way road are computed from bit-identical inputs and mirror each
   other exactly) and densified with :func:`shapely.segmentize` to at most half
   a DEM cell, in the DEM's own grid units;
2. all points of all edges are sampled bilinearly in **one** call;
3. the profile is lightly smoothed by a centred moving average of width
   ``smooth_window_m`` (default: one DEM cell, ≈ 93 m on SRTM3), evaluated
   exactly on the piecewise-linear profile; the window shrinks symmetrically
   near the ends, so both end values stay the node elevations;
4. per direction of travel: ``ascent_m`` / ``descent_m`` (sum of rises / falls
   of the smoothed profile), ``grade`` (signed mean, (elev(v) − elev(u)) /
   length), ``max_grade`` (the steepest stretch of ``max_grade_window_m``,
   default two DEM cells, signed in the direction of travel), ``grade_class``
   (route reconnaissance classes) and ``terrain_filled``.

Bridges and tunnels (``bridge``/``tunnel`` tag set and not ``"no"``) are not
draped: their profile is the straight line between their end elevations, and
nodes that only touch bridges/tunnels get elevations interpolated along the
structure from its ends.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from .errors import DEMError, GeologWarning, InputError
from .terrain import DEM

if TYPE_CHECKING:
    import geopandas as gpd

    from .network import Network

__all__ = [
    "add_terrain",
    "elevation_profile",
    "grade_classes",
    "GRADE_CLASSES",
    "GRADE_CLASS_BINS",
    "OBSTRUCTION_GRADE",
]

logger = logging.getLogger(__name__)

#: Route-reconnaissance grade classes (percent of |max_grade|) and their lower bounds.
GRADE_CLASSES = ("<5%", "5-7%", "7-10%", "10-14%", ">=14%")
GRADE_CLASS_BINS = (0.05, 0.07, 0.10, 0.14)
#: Grades from 7 % are obstructions to traffic in NATO route classification.
OBSTRUCTION_GRADE = 0.07

_EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG = math.pi / 180 * _EARTH_RADIUS_M


@dataclass
class _Profiles:
    """Densified, sampled, smoothed profiles of many edges, in canonical orientation."""

    edge: np.ndarray  # sample -> edge position (0..n-1), samples grouped by edge
    starts: np.ndarray  # edge -> first sample
    ends: np.ndarray  # edge -> last sample (inclusive)
    s: np.ndarray  # distance along the edge (m), canonical direction
    z_raw: np.ndarray  # bilinear samples
    z: np.ndarray  # smoothed
    filled: np.ndarray  # sample touched a void-filled cell
    x: np.ndarray  # sample coordinates in the DEM grid CRS
    y: np.ndarray
    flipped: np.ndarray  # edge: canonical orientation is against travel direction
    length: np.ndarray  # edge length (m)


def _canonical_flip(coords: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """True where an edge's reversed coordinate sequence sorts first.

    Compares (first point, second point) with (last point, second-to-last
    point) lexicographically, so a geometry and its reverse get opposite
    answers (closed loops included) and both rows of a road use one orientation.
    """
    a0, b0 = coords[starts], coords[ends]
    a1, b1 = coords[np.minimum(starts + 1, ends)], coords[np.maximum(ends - 1, starts)]
    keys_f = np.column_stack([a0, a1])
    keys_r = np.column_stack([b0, b1])
    diff = keys_r != keys_f
    first = np.argmax(diff, axis=1)
    rows = np.arange(len(starts))
    return diff.any(axis=1) & (keys_r[rows, first] < keys_f[rows, first])


def _group_bounds(index: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(index, minlength=n)
    if (counts == 0).any():
        raise InputError(f"{int((counts == 0).sum())} edges have an empty geometry")
    ends = np.cumsum(counts) - 1
    return ends - counts + 1, ends


def _interp_at(G, z, I_cum, q, lo, hi):
    """Value and running integral of the piecewise-linear profile at global positions q.

    ``lo``/``hi`` bound the sample index (inclusive) of each query's edge.
    """
    j = np.searchsorted(G, q, side="right") - 1
    j = np.clip(j, lo, np.maximum(hi - 1, lo))
    j1 = np.minimum(j + 1, hi)
    span = G[j1] - G[j]
    t = np.divide(q - G[j], span, out=np.zeros_like(q), where=span > 0)
    zq = z[j] + t * (z[j1] - z[j])
    Iq = I_cum[j] + 0.5 * (z[j] + zq) * (q - G[j])
    return zq, Iq


def _profiles(
    geoms: np.ndarray,
    lengths: np.ndarray,
    dem: DEM,
    *,
    smooth_window_m: float,
    z_ends: tuple[np.ndarray, np.ndarray] | None = None,
    travel_z_ends: bool = True,
) -> _Profiles:
    """Densify, sample (one call), smooth every geometry. See module docstring."""
    n = len(geoms)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    starts, ends = _group_bounds(idx, n)
    if not dem.crs.is_geographic:
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", dem.crs.to_wkt(), always_xy=True)
        coords = np.column_stack(tr.transform(coords[:, 0], coords[:, 1]))
    flipped = _canonical_flip(coords, starts, ends)
    # reverse the coordinate order inside flipped groups
    pos = np.arange(len(idx)) - starts[idx]
    perm = np.where(flipped[idx], ends[idx] - pos, np.arange(len(idx)))
    canon = shapely.linestrings(coords[perm], indices=idx)
    dense = shapely.segmentize(canon, 0.5 * min(dem.res))
    pts, e = shapely.get_coordinates(dense, return_index=True)
    s0, s1 = _group_bounds(e, n)
    x, y = pts[:, 0], pts[:, 1]

    # distance along each edge, metres, rescaled to the network's length_m
    dx, dy = np.diff(x), np.diff(y)
    if dem.crs.is_geographic:
        lat_mid = np.radians(0.5 * (y[1:] + y[:-1]))
        seg = np.hypot(dx * np.cos(lat_mid), dy) * _M_PER_DEG
    else:
        seg = np.hypot(dx, dy)
    seg[e[1:] != e[:-1]] = 0.0
    cum = np.r_[0.0, np.cumsum(seg)]
    s = cum - cum[s0][e]
    total = s[s1]
    scale = np.divide(lengths, total, out=np.ones(n), where=total > 0)
    s = s * scale[e]

    z_raw, filled = dem._sample(x, y, grid_xy=True)
    if z_ends is not None:
        za, zb = z_ends  # in travel direction; swap for flipped edges
        if travel_z_ends:
            za, zb = np.where(flipped, zb, za), np.where(flipped, za, zb)
        z_raw = z_raw.copy()
        z_raw[s0] = za
        z_raw[s1] = zb
    z = _smooth(z_raw, s, e, s0, s1, lengths, smooth_window_m)
    return _Profiles(e, s0, s1, s, z_raw, z, filled, x, y, flipped, np.asarray(lengths, float))


def _global_axis(s, e, lengths):
    """Monotonic global coordinate: each edge's distances shifted past the previous edges."""
    offset = np.r_[0.0, np.cumsum(lengths + 1.0)][:-1]
    return s + offset[e], offset


def _running_integral(G, z, e):
    area = 0.5 * (z[1:] + z[:-1]) * np.diff(G)
    area[e[1:] != e[:-1]] = 0.0
    return np.r_[0.0, np.cumsum(area)]


def _smooth(z, s, e, s0, s1, lengths, window_m):
    """Centred moving average of width ``window_m`` on the piecewise-linear profile.

    The half-width shrinks to the distance to the nearer end, so the window
    stays centred and the end values are kept; NaN samples propagate.
    """
    if window_m <= 0 or len(z) == 0:
        return z.copy()
    G, offset = _global_axis(s, e, lengths)
    h = np.minimum(0.5 * window_m, np.minimum(s, lengths[e] - s))
    h = np.maximum(h, 0.0)
    I_cum = _running_integral(G, z, e)
    lo, hi = s0[e], s1[e]
    _, Ip = _interp_at(G, z, I_cum, G + h, lo, hi)
    _, Im = _interp_at(G, z, I_cum, G - h, lo, hi)
    out = np.divide(Ip - Im, 2 * h, out=z.astype(float), where=h > 1e-9)
    return out


def _per_edge_terrain(p: _Profiles, window_m: float) -> dict[str, np.ndarray]:
    """Ascent, descent and steepest stretch per edge, canonical orientation."""
    n = len(p.starts)
    e, z = p.edge, p.z
    dz = np.diff(z)
    same = e[1:] == e[:-1]
    dz = np.where(same, dz, 0.0)
    ascent = np.bincount(e[1:], weights=np.maximum(dz, 0.0), minlength=n)
    descent = np.bincount(e[1:], weights=np.maximum(-dz, 0.0), minlength=n)
    # steepest stretch of length window_m: from every sample that has room for it
    G, _ = _global_axis(p.s, e, p.length)
    I_cum = _running_integral(G, z, e)
    room = p.s + window_m <= p.length[e] + 1e-9
    zq, _ = _interp_at(G, z, I_cum, G + window_m, p.starts[e], p.ends[e])
    g = np.where(room, (zq - z) / window_m, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups handled below
        gmax = np.fmax.reduceat(g, p.starts)
        gmin = np.fmin.reduceat(g, p.starts)
    mean = np.divide(z[p.ends] - z[p.starts], p.length, out=np.zeros(n), where=p.length > 0)
    # a climb and a descent equally steep (to 1e-9): keep the climb, whichever row this is
    steep = np.where(np.abs(gmin) > np.abs(gmax) + 1e-9, gmin, gmax)
    # the whole edge is a stretch too; edges shorter than the window have only that one
    steep = np.where(np.isnan(steep) | (np.abs(mean) > np.abs(steep)), mean, steep)
    filled = np.bincount(e, weights=p.filled, minlength=n) > 0
    outside = np.bincount(e, weights=~np.isfinite(p.z_raw), minlength=n) > 0
    return {
        "ascent": ascent,
        "descent": descent,
        "max_grade": steep,
        "filled": filled,
        "outside": outside,
    }


def _structure_mask(edges: pd.DataFrame) -> np.ndarray:
    """Bridges and tunnels: tag present and not 'no'."""
    mask = np.zeros(len(edges), dtype=bool)
    for col in ("bridge", "tunnel"):
        if col in edges.columns:
            v = edges[col]
            mask |= (v.notna() & (v.astype(str).str.lower() != "no")).to_numpy(dtype=bool)
    return mask


def _interpolate_structure_nodes(
    z_nodes: np.ndarray, u: np.ndarray, v: np.ndarray, lengths: np.ndarray, structure: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes touched only by bridges/tunnels: elevation interpolated along the structure.

    Nodes with no road edge and at least two structure neighbours get the
    solution of the discrete Laplace equation (weights 1/length) with the
    other nodes fixed, which on a chain is linear interpolation by distance.
    Returns the new elevations and the mask of nodes that were interpolated.
    """
    n = len(z_nodes)
    on_road = np.zeros(n, dtype=bool)
    on_road[u[~structure]] = True
    on_road[v[~structure]] = True
    on_struct = np.zeros(n, dtype=bool)
    on_struct[u[structure]] = True
    on_struct[v[structure]] = True
    su, sv = u[structure], v[structure]
    keep = su != sv
    su, sv = su[keep], sv[keep]
    # interior nodes of a structure: no road edge and >= 2 distinct structure neighbours
    # (a structure's dead end stays on the terrain)
    pairs = np.unique(np.column_stack([np.minimum(su, sv), np.maximum(su, sv)]), axis=0)
    deg = np.bincount(pairs.ravel(), minlength=n)
    free = on_struct & ~on_road & (deg >= 2)
    if not free.any():
        return z_nodes, free
    w = 1.0 / np.maximum(lengths[structure][keep], 0.01)
    # work on the structure nodes only (a few hundred): dense numpy, no scipy import
    local = np.flatnonzero(on_struct)
    k = len(local)
    if k > 4000:
        logger.warning("%d bridge/tunnel nodes: too many to interpolate, kept on the terrain", k)
        return z_nodes, np.zeros(n, dtype=bool)
    li = np.full(n, -1, dtype=np.int64)
    li[local] = np.arange(k)
    # symmetric weights; both rows of a two-way structure add to the same link
    W = np.zeros((k, k))
    np.add.at(W, (li[su], li[sv]), w)
    np.add.at(W, (li[sv], li[su]), w)
    is_free = free[local]
    # a free node whose structure component has no fixed node keeps its sampled value
    reach = ~is_free
    while True:
        grown = reach | ((W > 0) @ reach)
        if (grown == reach).all():
            break
        reach = grown
    fi = np.flatnonzero(is_free & reach)
    if len(fi) == 0:
        return z_nodes, np.zeros(n, dtype=bool)
    fx = np.flatnonzero(~is_free)
    A = np.diag(W[fi].sum(axis=1)) - W[np.ix_(fi, fi)]
    b = W[np.ix_(fi, fx)] @ z_nodes[local[fx]]
    out = z_nodes.copy()
    out[local[fi]] = np.linalg.solve(A, b)
    mask = np.zeros(n, dtype=bool)
    mask[local[fi]] = True
    return out, mask


def grade_classes(max_grade: Any) -> pd.Categorical:
    """Route-reconnaissance grade classes of grades (fractions), by magnitude.

    ``'<5%'``, ``'5-7%'``, ``'7-10%'``, ``'10-14%'``, ``'>=14%'``; from 7 % a
    grade is an obstruction to traffic (NATO route classification, US Army
    FM 3-34.170 route reconnaissance).
    """
    g = np.abs(np.asarray(max_grade, dtype=float))
    codes = np.searchsorted(np.asarray(GRADE_CLASS_BINS), g, side="right")
    return pd.Categorical.from_codes(codes, categories=list(GRADE_CLASSES), ordered=True)


def _coerce_dem(dem: Any) -> DEM:
    if isinstance(dem, DEM):
        return dem
    if isinstance(dem, (str, os.PathLike)) or (
        isinstance(dem, Sequence) and all(isinstance(p, (str, os.PathLike)) for p in dem)
    ):
        return DEM.open(dem)
    raise InputError(f"dem must be a geolog.DEM or path(s) to elevation tiles, got {type(dem)!r}")


def _cell_m(dem: DEM) -> float:
    return float(max(dem.cell_size_m))


def add_terrain(
    net: Network,
    dem: DEM | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    smooth_window_m: float | None = None,
    max_grade_window_m: float | None = None,
) -> Network:
    """Drape a network on a DEM: per-direction ascent, descent and grades.

    Parameters
    ----------
    net
        The road network (not modified).
    dem
        A :class:`~geolog.terrain.DEM` or path(s) to open with :meth:`DEM.open`.
    smooth_window_m
        Width (metres) of the centred moving average applied to each sampled
        profile; default one DEM cell (the larger cell side in metres, ≈ 93 m
        for SRTM3). ``0`` disables smoothing.
    max_grade_window_m
        Length (metres) of the stretch over which ``max_grade`` is measured;
        default two DEM cells (≈ 185 m on SRTM3). It must be at least one cell:
        shorter stretches are below the DEM's resolution. Two cells halve the
        noise: SRTM's relative height error (≈ 6 m) over one 93 m cell alone is
        a ±6 % grade. Edges shorter than the window use their mean grade.

    Returns
    -------
    Network
        A new Network. Nodes gain ``elevation`` (m, bilinear at the node,
        interpolated along bridges/tunnels for nodes only they touch); edges
        gain ``ascent_m``, ``descent_m`` (m, ≥ 0), ``grade`` (signed mean,
        fraction), ``max_grade`` (steepest stretch, signed in the direction of
        travel, fraction), ``grade_class`` (ordered categorical, see
        :func:`grade_classes`) and ``terrain_filled`` (bool: the edge's samples
        touched void-filled cells). ``meta["terrain"]`` records the DEM source
        and these parameters.

    Raises
    ------
    DEMError
        If the DEM does not cover every node and edge (the message says how
        many fall outside).

    Examples
    --------
    >>> import warnings, geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", geolog.errors.GeologWarning)
    ...     hilly = net.with_terrain(geolog.DEM.open(geolog.data.dem_path("andorra")))
    >>> bool((hilly.edges["ascent_m"] >= 0).all())
    True
    """
    dem = _coerce_dem(dem)
    cell = _cell_m(dem)
    window = cell if smooth_window_m is None else float(smooth_window_m)
    steep_window = 2 * cell if max_grade_window_m is None else float(max_grade_window_m)
    if not (window >= 0 and math.isfinite(window)):
        raise InputError(f"smooth_window_m must be a finite number >= 0, got {smooth_window_m!r}")
    if not (steep_window > 0 and math.isfinite(steep_window)):
        raise InputError(f"max_grade_window_m must be > 0, got {max_grade_window_m!r}")
    nodes, edges = net.nodes, net.edges
    if len(edges) == 0:
        raise InputError("the network has no edges to add terrain to")

    # nodes
    z_nodes, f_nodes = dem._sample(
        nodes["x"].to_numpy(dtype=float), nodes["y"].to_numpy(dtype=float)
    )
    u = nodes.index.get_indexer(edges["u"].to_numpy())
    v = nodes.index.get_indexer(edges["v"].to_numpy())
    if (u < 0).any() or (v < 0).any():
        raise InputError("some edges reference nodes missing from the nodes frame")
    lengths = edges["length_m"].to_numpy(dtype=float)
    structure = _structure_mask(edges)

    # edges: one densify + one sampling call for everything
    p = _profiles(
        edges.geometry.to_numpy(),
        lengths,
        dem,
        smooth_window_m=window,
        z_ends=(z_nodes[u], z_nodes[v]),
    )
    t = _per_edge_terrain(p, steep_window)
    _check_coverage(dem, z_nodes, t["outside"] & ~structure, nodes, edges)

    z_nodes, interp = _interpolate_structure_nodes(z_nodes, u, v, lengths, structure)
    za, zb = z_nodes[u], z_nodes[v]

    # back to the direction of travel
    fl = p.flipped
    ascent = np.where(fl, t["descent"], t["ascent"])
    descent = np.where(fl, t["ascent"], t["descent"])
    max_grade = np.where(fl, -t["max_grade"], t["max_grade"])
    grade = np.divide(zb - za, lengths, out=np.zeros(len(edges)), where=lengths > 0)
    # bridges and tunnels: the straight line between their end elevations
    dz = zb - za
    ascent = np.where(structure, np.maximum(dz, 0.0), ascent)
    descent = np.where(structure, np.maximum(-dz, 0.0), descent)
    max_grade = np.where(structure, grade, max_grade)
    filled = np.where(structure, f_nodes[u] | f_nodes[v], t["filled"])

    new_edges = edges.assign(
        ascent_m=ascent,
        descent_m=descent,
        grade=grade,
        max_grade=max_grade,
        grade_class=grade_classes(max_grade),
        terrain_filled=filled.astype(bool),
    )
    new_nodes = nodes.assign(elevation=z_nodes)
    meta = dict(net.meta)
    meta["terrain"] = {
        "dem_source": dem.source,
        "dem_paths": list(dem.paths),
        "dem_crs": dem.crs.to_string(),
        "dem_cell_m": [round(c, 3) for c in dem.cell_size_m],
        "sample_spacing": f"<= half a DEM cell ({0.5 * min(dem.res):.6g} grid units)",
        "smooth": "centred moving average on the piecewise-linear profile, ends kept",
        "smooth_window_m": window,
        "max_grade_window_m": steep_window,
        "structures": "bridge/tunnel edges: straight line between end elevations",
        "edges_on_filled_cells": int(filled.sum()),
        "structure_nodes_interpolated": int(interp.sum()),
    }
    if dem.paths:
        from .network import sha256_file

        sources = list(meta.get("sources", []))
        for path in dem.paths:
            entry = {"file": os.path.basename(path), "role": "dem"}
            if os.path.exists(path):
                entry["sha256"] = sha256_file(path)
            if entry not in sources:
                sources.append(entry)
        meta["sources"] = sources
    logger.info(
        "terrain: %d edges, %d samples, %d edges on filled cells",
        len(edges),
        len(p.z),
        int(filled.sum()),
    )
    return net.replace(nodes=new_nodes, edges=new_edges, meta=meta)


def _check_coverage(
    dem: DEM,
    z_nodes: np.ndarray,
    edge_outside: np.ndarray,
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
) -> None:
    node_out = ~np.isfinite(z_nodes)
    if not node_out.any() and not edge_outside.any():
        return
    w, s, e, n = (round(b, 4) for b in nodes.total_bounds)
    db = tuple(round(b, 4) for b in dem.bounds)
    if node_out.all():
        raise DEMError(
            f"DEM {dem.source} (bounds {db}) does not cover the network at all "
            f"(network bbox {w}, {s}, {e}, {n}); use the tile(s) covering the network"
        )
    raise DEMError(
        f"DEM {dem.source} (bounds {db}) covers the network only partly: "
        f"{int(node_out.sum())} of {len(nodes)} nodes ({100 * node_out.mean():.1f} %) and "
        f"{int(edge_outside.sum())} of {len(edges)} edges ({100 * edge_outside.mean():.1f} %) "
        f"fall outside its data (network bbox {w}, {s}, {e}, {n}); add the neighbouring "
        "tiles (DEM.open([...]) mosaics them) or clip the network to the DEM"
    )


@lru_cache(maxsize=4)
def _open_quiet(paths: tuple[str, ...]) -> DEM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeologWarning)  # reported when the network was built
        return DEM.open(list(paths))


def elevation_profile(
    net_or_edges: Network | gpd.GeoDataFrame,
    edge_ids: Sequence[Any],
    *,
    dem: DEM | None = None,
    smooth_window_m: float | None = None,
) -> pd.DataFrame:
    """Distance–elevation profile along a sequence of edges (e.g. a route).

    The profile is computed exactly as :func:`add_terrain` computes ascent and
    descent (same densification, smoothing, straight bridges/tunnels), so its
    rises sum to the edges' ``ascent_m``.

    Parameters
    ----------
    net_or_edges
        A Network with terrain, or its edges frame.
    edge_ids
        Row labels of ``edges``, in travel order.
    dem
        The DEM; default: re-open the files recorded in ``net.meta["terrain"]``.
    smooth_window_m
        Smoothing window; default the one recorded in ``net.meta["terrain"]``.

    Returns
    -------
    pandas.DataFrame
        ``distance_m`` (from the start of the first edge), ``elevation_m``,
        ``edge`` (row label), ``lon``, ``lat``; joints between edges appear once.

    Raises
    ------
    InputError
        Unknown edge labels.
    DEMError
        No DEM given and none recorded, or the DEM does not cover the edges.
    """
    meta = getattr(net_or_edges, "meta", {}) or {}
    edges = getattr(net_or_edges, "edges", net_or_edges)
    terrain = meta.get("terrain", {})
    ids = list(edge_ids)
    cols = ["distance_m", "elevation_m", "edge", "lon", "lat"]
    if not ids:
        return pd.DataFrame({c: [] for c in cols})
    missing = [i for i in ids if i not in edges.index]
    if missing:
        raise InputError(f"edge ids {missing[:5]} are not rows of the edges frame")
    if dem is None:
        paths = tuple(terrain.get("dem_paths") or ())
        if not paths:
            raise DEMError(
                "no DEM recorded on this network; pass dem=geolog.DEM.open(...) "
                "or build the network with net.with_terrain(dem)"
            )
        dem = _open_quiet(paths)
    if smooth_window_m is None:
        smooth_window_m = terrain.get("smooth_window_m", _cell_m(dem))
    rows = edges.loc[ids]
    lengths = rows["length_m"].to_numpy(dtype=float)
    z_ends = None
    nodes = getattr(net_or_edges, "nodes", None)
    if nodes is not None and "elevation" in nodes.columns:
        zn = nodes["elevation"]
        z_ends = (
            zn.reindex(rows["u"].to_numpy()).to_numpy(dtype=float),
            zn.reindex(rows["v"].to_numpy()).to_numpy(dtype=float),
        )
    p = _profiles(
        rows.geometry.to_numpy(),
        lengths,
        dem,
        smooth_window_m=float(smooth_window_m),
        z_ends=z_ends,
    )
    if (~np.isfinite(p.z)).any():
        raise DEMError(f"DEM {dem.source} does not cover all of edges {ids[:5]}…")
    structure = _structure_mask(rows)
    e = p.edge
    z = p.z.copy()
    za, zb = z[p.starts], z[p.ends]
    frac = np.divide(p.s, p.length[e], out=np.zeros_like(p.s), where=p.length[e] > 0)
    z = np.where(structure[e], za[e] + frac * (zb - za)[e], z)
    # canonical -> travel orientation
    pos = np.arange(len(e)) - p.starts[e]
    order = np.where(p.flipped[e], p.ends[e] - pos, np.arange(len(e)))
    s = np.where(p.flipped[e], p.length[e] - p.s[order], p.s[order])
    z, x, y = z[order], p.x[order], p.y[order]
    if not dem.crs.is_geographic:
        from pyproj import Transformer

        tr = Transformer.from_crs(dem.crs.to_wkt(), "EPSG:4326", always_xy=True)
        x, y = tr.transform(x, y)
    offset = np.r_[0.0, np.cumsum(lengths)][:-1]
    keep = np.ones(len(e), dtype=bool)
    keep[p.starts[1:]] = False  # the joint is the previous edge's last point
    label = np.asarray(rows.index)[e]
    out = pd.DataFrame(
        {
            "distance_m": (s + offset[e])[keep],
            "elevation_m": z[keep],
            "edge": label[keep],
            "lon": np.asarray(x)[keep],
            "lat": np.asarray(y)[keep],
        }
    )
    return out
