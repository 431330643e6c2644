"""Many-to-many travel matrices: one multi-source Dijkstra and tree sums."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from ._geometry import parse_points
from ._graph import RoutingGraph
from ._matrix_blocks import blocked_values
from ._route_search import _direct
from ._route_snap import DEFAULT_MAX_SNAP_M, _context, _Ctx, _ends, _pname, _Snap, _snap, _starts
from .errors import InputError


class Matrix:
    """Travel-time and distance matrix between snapped points (see :func:`matrix`).

    Attributes
    ----------
    durations_s, distances_m, costs
        ``len(sources) × len(targets)`` numpy arrays: travel time (seconds)
        and length (metres) along the least-cost path from row point to
        column point, and its cost. ``inf`` where no route exists, ``NaN`` in
        the row or column of a point that could not be snapped, 0 from a
        point to itself.
    sources, targets
        DataFrames of the points: ``lat``, ``lon`` as given, ``snapped_lat``,
        ``snapped_lon``, ``snap_distance_m``, ``edge`` (row label snapped to,
        -1 if not snapped), ``node`` (OSM id when snapped to a node, else -1),
        ``reason`` ('' when all is well, else why its row / column is empty).
    points
        ``sources`` (kept for square matrices).
    problems
        The per-point reason table: ``role`` (``"source"`` / ``"target"``;
        ``"point"`` in a square matrix),
        ``index``, ``lat``, ``lon``, ``reason``; empty when every point was
        snapped and reaches (is reached by) some other point.
    """

    def __init__(
        self, durations_s, distances_m, costs, sources, targets, *, profile_name, rules, weight
    ):
        self.durations_s = durations_s
        self.distances_m = distances_m
        self.costs = costs
        self.sources = sources
        self.targets = targets
        self.points = sources
        self.profile_name = profile_name
        self.rules = rules
        self.weight = weight

    @property
    def shape(self) -> tuple[int, int]:
        """``(len(sources), len(targets))``."""
        return self.durations_s.shape

    @property
    def problems(self) -> pd.DataFrame:
        """Points whose row or column is empty, and why."""
        parts = []
        sides = (
            [("point", self.sources)]
            if self.targets is self.sources
            else [("source", self.sources), ("target", self.targets)]
        )
        for role, fr in sides:
            bad = fr[fr["reason"] != ""]
            parts.append(
                pd.DataFrame(
                    {
                        "role": role,
                        "index": bad.index.to_numpy(),
                        "lat": bad["lat"].to_numpy(),
                        "lon": bad["lon"].to_numpy(),
                        "reason": bad["reason"].to_numpy(),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def __len__(self) -> int:
        return len(self.sources)

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per (origin, destination) pair."""
        m, n = self.shape
        i, j = np.meshgrid(np.arange(m), np.arange(n), indexing="ij")
        return pd.DataFrame(
            {
                "origin": i.ravel(),
                "destination": j.ravel(),
                "duration_s": self.durations_s.ravel(),
                "distance_m": self.distances_m.ravel(),
                "cost": self.costs.ravel(),
            }
        )

    def __repr__(self) -> str:
        m, n = self.shape
        reach = np.isfinite(self.durations_s).mean() if m * n else 1.0
        return (
            f"<geolog.Matrix {m}×{n} ({self.profile_name or self.weight}), "
            f"{reach:.0%} of pairs reachable>"
        )


def _matrix_side(
    ctx: _Ctx, points: Any, role: str, max_snap_m: float, errors: str
) -> tuple[list, list[_Snap | None], list[str]]:
    """Parse and snap one side of a matrix: points, snaps and per-point reasons."""
    pts, why = parse_points(points, role, errors)
    if not pts:
        raise InputError(f"matrix needs at least one {role} point")
    names = [f"{role} {i}" for i in range(len(pts))]
    snaps, reasons = _snap(ctx, pts, names, max_snap_m, errors=errors)
    return pts, snaps, [a or b for a, b in zip(why, reasons, strict=True)]


def _points_frame(
    pts: list, snaps: list[_Snap | None], reasons: list[str], applied: Any
) -> pd.DataFrame:
    ids = applied.nodes.index.to_numpy()
    labels = applied.edges.index

    def val(f, default):
        return [default if s is None else f(s) for s in snaps]

    return pd.DataFrame(
        {
            "lat": [np.nan if p is None else p[0] for p in pts],
            "lon": [np.nan if p is None else p[1] for p in pts],
            "snapped_lat": val(lambda s: s.lat, np.nan),
            "snapped_lon": val(lambda s: s.lon, np.nan),
            "snap_distance_m": val(lambda s: s.distance_m, np.nan),
            "edge": val(lambda s: labels[s.rows[0]], -1),
            "node": val(lambda s: int(ids[s.node]) if s.node >= 0 else -1, -1),
            "reason": reasons,
        }
    )


def matrix(
    net: Any,
    sources: Any,
    targets: Any = None,
    *,
    profile: Any = None,
    rules: Any = None,
    weight: str = "cost",
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    errors: str = "coerce",
    max_memory_mb: float | None = None,
    n_jobs: int | None = None,
    client: Any = None,
) -> Matrix:
    """Many-to-many travel times and distances (multi-source Dijkstra).

    One :func:`scipy.sparse.csgraph.dijkstra` call per block of sources (each
    a virtual source node on its snapped edge, or its node), then lengths and
    times are summed along each shortest-path tree by pointer doubling, all
    vectorised. Blocks are sized to ``max_memory_mb`` and run on ``n_jobs``
    local processes or a Dask ``client`` (:mod:`geolog._matrix_blocks`).
    Entry ``[i, j]`` equals ``route(net, sources[i], targets[j], ...)``.

    Parameters
    ----------
    sources
        Sequence of ``(lat, lon)`` or shapely Points (the rows).
    targets
        The columns; ``None`` (default): the sources (a square matrix).
    errors
        ``"coerce"`` (default): a point that is malformed or farther than
        ``max_snap_m`` from every routable road gets ``NaN`` in its row /
        column, and its reason in ``Matrix.problems``; unreachable pairs are
        ``inf``. ``"raise"``: such a point raises ``InputError``.
    max_memory_mb
        Working-set budget (megabytes) for the sources being solved at once:
        the sources are cut into blocks so that Dijkstra's arrays and the
        tree sums of all blocks in flight (about 48 bytes per source per graph
        node) stay under it; only the target columns are kept. Default: a
        quarter of the memory available, at most 1024. The result does not
        depend on it.
    n_jobs
        Local worker processes solving blocks side by side. Default ``None``:
        all cores when the matrix is big enough (sources × (graph nodes +
        targets) ≥ 4 million) to pay for starting them, else this process
        only; ``-1``: all cores; ``1``: this process only. Results are
        identical for any value.
    client
        A ``dask.distributed.Client``: the blocks run as tasks on its cluster
        (the graph is scattered to each worker once); needs
        ``pip install 'geolog[dask]'``. ``n_jobs`` is then ignored.
    Other parameters as in :func:`route`.

    Returns
    -------
    Matrix

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> m = geolog.matrix(net, [(42.5078, 1.5211), (42.5440, 1.5140)], [(42.5345, 1.5807)])
    >>> m.shape
    (2, 1)
    """
    if errors not in ("coerce", "raise"):
        raise InputError(f"errors must be 'coerce' or 'raise', not {errors!r}")
    ctx = _context(net, profile, rules, weight)
    applied, g = ctx.applied, ctx.g
    square = targets is None
    spts, ssn, sre = _matrix_side(ctx, sources, "source", max_snap_m, errors)
    if square:
        tpts, tsn, tre = spts, ssn, sre
    else:
        tpts, tsn, tre = _matrix_side(ctx, targets, "target", max_snap_m, errors)
    cost, dur, dis = blocked_values(
        _matrix_values, g, ssn, tsn, max_memory_mb=max_memory_mb, n_jobs=n_jobs, client=client
    )
    # a snapped point that reaches no target / is reached by no source
    reach = np.isfinite(cost)
    if square:
        np.fill_diagonal(reach, False)
    sok = np.array([s is not None for s in ssn])
    tok = np.array([s is not None for s in tsn])
    for i in np.flatnonzero(sok & ~reach.any(axis=1)):
        if (tok.sum() - (1 if square else 0)) > 0:
            sre[i] = (
                "no route from it to any target (cut off from them under this profile and rules)"
            )
    for j in np.flatnonzero(tok & ~reach.any(axis=0)):  # (tre is sre when square)
        if (sok.sum() - (1 if square else 0)) > 0 and not tre[j]:
            tre[j] = (
                "no route to it from any source (cut off from them under this profile and rules)"
            )
    sfr = _points_frame(spts, ssn, sre, applied)
    tfr = sfr if square else _points_frame(tpts, tsn, tre, applied)
    return Matrix(
        dur,
        dis,
        cost,
        sfr,
        tfr,
        profile_name=_pname(applied, profile),
        rules=rules,
        weight=weight,
    )


def _matrix_values(
    g: RoutingGraph, ssn: list[_Snap | None], tsn: list[_Snap | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost, duration and distance between snapped sources and targets (NaN where unsnapped)."""
    M, N = len(ssn), len(tsn)
    cost = np.full((M, N), np.nan)
    dur = np.full((M, N), np.nan)
    dis = np.full((M, N), np.nan)
    si = [i for i, s in enumerate(ssn) if s is not None]
    tj = [j for j, s in enumerate(tsn) if s is not None]
    if not si or not tj:
        return cost, dur, dis
    n = g.n
    starts = [_starts(g, ssn[i], g.w) for i in si]
    csr = g.with_sources([s[0] for s in starts], [s[1] for s in starts])
    dist, pred = dijkstra(csr, indices=n + np.arange(len(si)), return_predecessors=True)
    L, T = _tree_sums(g, pred, starts)
    c = np.full((len(si), len(tj)), np.inf)
    d = np.full((len(si), len(tj)), np.inf)
    t = np.full((len(si), len(tj)), np.inf)
    for k, j in enumerate(tj):
        tn, tc, tr, tf = _ends(g, tsn[j], g.w)
        for node, extra, r, f in zip(tn, tc, tr, tf, strict=True):
            cand = dist[:, node] + extra
            better = cand < c[:, k]
            c[better, k] = cand[better]
            t[better, k] = T[better, node] + (f * g.time[r] if r >= 0 else 0.0)
            d[better, k] = L[better, node] + (f * g.length[r] if r >= 0 else 0.0)
    # pairs on the same edge: the direct stretch may beat any detour
    for a, i in enumerate(si):
        for k, j in enumerate(tj):
            direct = _direct(ssn[i], tsn[j], g.w)
            if direct is not None and direct[0] <= c[a, k]:
                cc, r, fa, fb = direct
                c[a, k] = cc
                t[a, k] = (fb - fa) * g.time[r]
                d[a, k] = (fb - fa) * g.length[r]
    cost[np.ix_(si, tj)] = c
    dur[np.ix_(si, tj)] = t
    dis[np.ix_(si, tj)] = d
    return cost, dur, dis


def _tree_sums(
    g: RoutingGraph, pred: np.ndarray, starts: list[tuple[np.ndarray, ...]], *, chunk: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Length and time from each source to every node along its shortest-path tree.

    Each node's value is the value of the edge from its predecessor, found in
    the per-node in-edge table; then pointer doubling sums the values up the
    tree in ``log2(depth)`` vectorised gathers. Done in chunks of sources so
    the working set stays in cache. ``starts`` are the sources' entry terms
    (:func:`_starts`).
    """
    m, N = pred.shape
    n = g.n
    deg, src, entry = g.incoming()
    ent_val = g.length[g.entry_row] + 1j * np.nan_to_num(g.time[g.entry_row], nan=0.0)
    W = N + 1
    out = np.zeros((m, N), dtype=complex)
    for c0 in range(0, m, chunk):
        pc = pred[c0 : c0 + chunk]
        mc = len(pc)
        vals = np.zeros((mc, W), dtype=complex)
        sub = pc[:, :n]
        for d in range(src.shape[1]):
            cols = np.flatnonzero(deg > d)
            hit = sub[:, cols] == src[cols, d]
            r, c = np.nonzero(hit)
            vals[r, cols[c]] = ent_val[entry[cols[c], d]]
        # edges out of the virtual sources: the rest of the snapped edge (the
        # cheaper start row when both directions lead to the same node); a
        # point at a node enters the graph there at no cost
        for i in range(mc):
            sn, sc, sr, sf = starts[c0 + i]
            for k in np.argsort(-sc):  # cheapest written last
                r, f, v = int(sr[k]), float(sf[k]), int(sn[k])
                if pc[i, v] == n + c0 + i:
                    vals[i, v] = (
                        (1.0 - f) * (g.length[r] + 1j * np.nan_to_num(g.time[r])) if r >= 0 else 0
                    )
        P = np.where(pc >= 0, pc, N).astype(np.int64)
        fp = (np.arange(mc, dtype=np.int64)[:, None] * W + np.c_[P, np.full(mc, N)]).ravel()
        flat = vals.ravel()
        while True:
            nxt = fp[fp]
            if np.array_equal(nxt, fp):
                break
            flat += flat[fp]
            fp = nxt
        out[c0 : c0 + mc] = flat.reshape(mc, W)[:, :N]
    timev = out.imag if not np.isnan(g.time).any() else np.full(out.shape, np.nan)
    return out.real, timev
