"""Benchmark: map matching 10,000 GPS fixes on Andorra — geolog.match vs Leuven.MapMatching.

One process, one simulated trace: a car tour through Andorra (driven three
times) simulated by
``geolog.tracking.simulate_trace`` (route + GPS noise sigma = 20 m), sampled
so the whole tour is 10,000 fixes. The truth is the edge each fix was on.

- **geolog**: ``geolog.match(net, trace, profile="car")`` (hidden-Markov
  matching, Newson & Krumm 2009, on the routing CSR), timed with warm caches
  (the routing graph and snapping index are built once per network).
- **kept matcher**: Leuven.MapMatching 1.1 ``DistanceMatcher`` (HMM with
  non-emitting states; pure Python) on an ``InMemMap`` of the same roads the
  car profile allows, every edge's shape vertices as map nodes, in the
  network's metric frame (no rtree: the package is not installed). It is
  far slower, so it runs on the first ``LEUVEN_PREFIX`` fixes and its time is
  scaled linearly to 10,000 (stated in the output). Map building is not timed.

Edge recovery on the prefix (both matchers) and on the whole trace (geolog):
share of the true edges (edges with at least one fix on them) in the matched
path. Targets (issue 18): geolog <= 2 s, >= 10x the kept matcher, equal or
better recovery.

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/tracking.py
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import shapely

import geolog
from geolog.tracking import simulate_trace

N_FIXES = 10_000
LEUVEN_PREFIX = 1_000
NOISE_M = 20.0
TOUR = [
    (42.5078, 1.5211),
    (42.5440, 1.5140),
    (42.5676, 1.5977),
    (42.4640, 1.4920),
    (42.5350, 1.5800),
    (42.5078, 1.5211),
]
LOOPS = 3  # the tour three times: about one fix a second, as a vehicle tracker sends
TARGET_S, TARGET_RATIO = 2.0, 10.0


def _trace(net):
    loop = [
        geolog.route(net, a, b, profile="car") for a, b in zip(TOUR[:-1], TOUR[1:], strict=True)
    ]
    routes = loop * LOOPS
    total_s = sum(r.duration_s for r in routes)
    tr = simulate_trace(routes, interval_s=total_s / (N_FIXES - 1), noise_m=NOISE_M, seed=7)
    return tr.iloc[:N_FIXES].copy(), routes


def _recall(truth: list, got: set) -> float:
    t = set(truth)
    return len(t & got) / len(t)


def _leuven_map(net):
    """An InMemMap of the car-routable edges: every shape vertex a node, metric frame."""
    from leuvenmapmatching.map.inmem import InMemMap

    from geolog._route_snap import _context, _core
    from geolog._snap import metric_edges

    ctx = _context(net, "car", None, "cost")
    rows = _core(ctx.g)[2]
    _, geoms_m = metric_edges(ctx.applied)
    coords, gid = shapely.get_coordinates(geoms_m[rows], return_index=True)
    node_ids = ctx.applied.nodes.index.to_numpy()
    labels = ctx.applied.edges.index.to_numpy()
    m = InMemMap("andorra", use_latlon=False, use_rtree=False, index_edges=True)
    pair_edge = {}
    start = np.searchsorted(gid, np.arange(len(rows)))
    end = np.r_[start[1:], len(gid)]
    for k, r in enumerate(rows):
        ids = [int(node_ids[ctx.g.upos[r]])]
        ids += [10**12 + int(r) * 10_000 + j for j in range(1, end[k] - start[k] - 1)]
        ids.append(int(node_ids[ctx.g.vpos[r]]))
        for j, nid in enumerate(ids):
            x, y = coords[start[k] + j]
            m.add_node(nid, (float(y), float(x)))
        for a, b in zip(ids[:-1], ids[1:], strict=True):
            m.add_edge(a, b)
            pair_edge[(a, b)] = labels[r]
    return m, pair_edge


def _leuven(m, pair_edge, frame, trace):
    from leuvenmapmatching.matcher.distance import DistanceMatcher

    xy = frame.fwd(trace[["lon", "lat"]].to_numpy())
    path = [(float(y), float(x)) for x, y in xy]
    matcher = DistanceMatcher(
        m,
        max_dist=150,
        max_dist_init=150,
        min_prob_norm=0.0001,
        # noise twice sigma: with obs_noise = sigma its lattice dies after ~150 fixes of
        # this trace (recovery 62 %); these settings match every fix (tried on 300 fixes)
        obs_noise=NOISE_M * 2,
        obs_noise_ne=NOISE_M * 4,
        dist_noise=NOISE_M * 2,
        non_emitting_states=True,
        max_lattice_width=8,
    )
    t0 = time.perf_counter()
    _, last = matcher.match(path)
    dt = time.perf_counter() - t0
    nodes = matcher.path_pred_onlynodes
    got = {pair_edge[p] for p in zip(nodes[:-1], nodes[1:], strict=False) if p in pair_edge}
    return dt, got, last


def main() -> None:
    warnings.simplefilter("ignore", geolog.errors.GeologWarning)
    net = geolog.read_osm(geolog.data.path("andorra"), network="drive")
    tr, routes = _trace(net)
    truth = list(tr["true_edge"])
    print(
        f"trace: {len(tr):,} fixes over {sum(r.length_m for r in routes) / 1000:.1f} km, "
        f"sigma {NOISE_M:g} m, one fix every {(tr['time'].iloc[1] - tr['time'].iloc[0]).total_seconds():.2f} s"
    )
    geolog.match(net, tr.iloc[:100], profile="car")  # warm: routing graph and snapping index
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = geolog.match(net, tr, profile="car")
        times.append(time.perf_counter() - t0)
    g_s = min(times)
    g_rec = _recall(truth, set(res.edges["edge"]))
    print(
        f"geolog.match: {g_s:.3f} s for {len(tr):,} fixes (best of 3), "
        f"edge recovery {g_rec:.1%}, {res.summary()['breaks']} break(s)"
    )

    try:
        import leuvenmapmatching  # noqa: F401
    except ImportError as err:
        print(f"SKIPPED leuvenmapmatching: {err}")
        return
    from geolog._snap import metric_edges

    lm, pair_edge = _leuven_map(net)
    frame, _ = metric_edges(net.apply("car"))
    pre = tr.iloc[:LEUVEN_PREFIX]
    l_s, l_got, last = _leuven(lm, pair_edge, frame, pre)
    g_pre = geolog.match(net, pre, profile="car")
    t_pre = truth[:LEUVEN_PREFIX]
    scaled = l_s * len(tr) / LEUVEN_PREFIX
    print(
        f"leuvenmapmatching DistanceMatcher: {l_s:.2f} s for the first {LEUVEN_PREFIX:,} fixes "
        f"(matched up to fix {last}), scaled to {len(tr):,}: {scaled:.1f} s"
    )
    print(
        f"edge recovery on the prefix: geolog {_recall(t_pre, set(g_pre.edges['edge'])):.1%}, "
        f"leuven {_recall(t_pre, l_got):.1%}"
    )
    ratio = scaled / g_s
    print(f"ratio (leuven scaled / geolog): {ratio:.0f}x")
    ok = g_s <= TARGET_S and ratio >= TARGET_RATIO
    print(f"targets (<= {TARGET_S:g} s, >= {TARGET_RATIO:g}x): {'met' if ok else 'NOT met'}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
