"""Many-to-many travel matrices on the turn graph: the contraction hierarchy's buckets, or one
compiled Dijkstra per source."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._geometry import parse_points
from ._graph import RoutingGraph
from ._matrix_blocks import blocked_values
from ._route_snap import DEFAULT_MAX_SNAP_M, _context, _Ctx, _pname, _Snap, _snap
from ._turn_search import end_rows, hierarchy, many, start_rows
from ._turns import turn_graph
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
    """Many-to-many travel times and distances, turn-aware.

    One compiled Dijkstra per source on the turn graph (turn restrictions
    and turn costs hold), stopping once every target is settled, summing
    time (turn seconds included) and length along the least-cost path.
    Sources go in blocks sized to ``max_memory_mb``, run in this process, on
    ``n_jobs`` local processes or on a Dask ``client``
    (:mod:`geolog._matrix_blocks`); the result is the same however it is cut.
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
        the sources are cut into blocks so that all blocks in flight stay
        under it — about 48 bytes per source per graph node for one Dijkstra
        per source, 48 bytes per source per target with the contraction
        hierarchy's buckets; only the target columns are kept. Default: a
        quarter of the memory available, at most 1024. The result does not
        depend on it.
    n_jobs
        Local threads solving blocks side by side (the compiled searches
        release the GIL). Default ``None``: with the contraction hierarchy
        this thread only (a block's sources share the targets' buckets, so
        more blocks would build them again); without it all cores when the
        matrix is big enough (sources × (graph nodes + targets) ≥ 200,000)
        to pay for splitting it, else this thread only; ``-1``: all cores;
        ``1``: this thread only. Results are identical for any value.
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
    # a matrix big enough builds the contraction hierarchy once, before the blocks split it;
    # with it a source holds its rows of the result, not labels for the whole graph
    h = hierarchy(turn_graph(g), sources=sum(s is not None for s in ssn))
    if h is not None and n_jobs is None and client is None:
        n_jobs = 1  # a block's sources share its buckets: more blocks would build them again
    cost, dur, dis = blocked_values(
        _matrix_values,
        g,
        ssn,
        tsn,
        max_memory_mb=max_memory_mb,
        n_jobs=n_jobs,
        client=client,
        per_source_nodes=len(tsn) if h is not None else None,
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
    """Cost, duration and distance between snapped sources and targets (NaN where unsnapped).

    The per-block kernel: :func:`geolog._turn_search.many` (the contraction
    hierarchy's buckets, or one compiled Dijkstra per source that stops once
    every target is settled), with time and length summed along the
    least-cost path; then the
    pairs on one shared edge (or at one node), whose direct stretch may beat
    any path through the graph.
    """
    M, N = len(ssn), len(tsn)
    cost = np.full((M, N), np.nan)
    dur = np.full((M, N), np.nan)
    dis = np.full((M, N), np.nan)
    si = [i for i, s in enumerate(ssn) if s is not None]
    tj = [j for j, s in enumerate(tsn) if s is not None]
    if not si or not tj:
        return cost, dur, dis
    src = [ssn[i] for i in si]
    tgt = [tsn[j] for j in tj]
    c, t, d = many(g, turn_graph(g), src, tgt)
    _direct_pairs(g, src, tgt, c, t, d)
    cost[np.ix_(si, tj)] = c
    dur[np.ix_(si, tj)] = t
    dis[np.ix_(si, tj)] = d
    return cost, dur, dis


def _side_rows(g: RoutingGraph, snaps: list[_Snap], rows_of) -> pd.DataFrame:
    parts = [rows_of(g, s) for s in snaps]
    return pd.DataFrame(
        {
            "k": np.repeat(np.arange(len(snaps)), [len(p[0]) for p in parts]),
            "row": np.concatenate([p[0] for p in parts]).astype(np.int64),
            "frac": np.concatenate([p[1] for p in parts]).astype(float),
        }
    )


def _direct_pairs(
    g: RoutingGraph, src: list[_Snap], tgt: list[_Snap], c: np.ndarray, t: np.ndarray, d: np.ndarray
) -> None:
    """Settle, in place, the pairs on one shared edge (ahead along it) or at one node."""
    a = _side_rows(g, src, start_rows)
    b = _side_rows(g, tgt, end_rows)
    m = a.merge(b, on="row", suffixes=("_a", "_b"))
    m = m[m["frac_b"].to_numpy() >= m["frac_a"].to_numpy()]
    if len(m):
        r = m["row"].to_numpy()
        df = m["frac_b"].to_numpy() - m["frac_a"].to_numpy()
        m = m.assign(c=df * g.w[r], t=df * np.nan_to_num(g.time[r]), d=df * g.length[r])
        m = m.sort_values("c").drop_duplicates(["k_a", "k_b"])
        i, j = m["k_a"].to_numpy(), m["k_b"].to_numpy()
        better = m["c"].to_numpy() <= c[i, j]
        i, j = i[better], j[better]
        c[i, j] = m["c"].to_numpy()[better]
        t[i, j] = m["t"].to_numpy()[better]
        d[i, j] = m["d"].to_numpy()[better]
    sn = np.array([s.node for s in src])
    tn = np.array([s.node for s in tgt])
    i, j = np.nonzero((sn[:, None] >= 0) & (sn[:, None] == tn[None, :]))
    c[i, j] = t[i, j] = d[i, j] = 0.0
