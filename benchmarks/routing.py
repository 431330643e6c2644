"""Benchmark: routing on Liechtenstein — geolog vs networkx, osmnx and igraph, one run.

Same network (Liechtenstein drive, car profile plus a small rule set), same
cost column, same 1,000 random node pairs inside the largest strongly
connected piece:

- **route query**: ``geolog.routing.route_nodes`` (node to node; also
  ``geolog.route`` between the nodes' coordinates, which adds snapping and
  partial edges) vs ``networkx.shortest_path(G, u, v, weight="cost")``
  (bidirectional Dijkstra) and ``osmnx.routing.shortest_path`` on the
  osmnx-compatible ``applied.to_networkx()`` graph with forbidden edges
  removed, and igraph's ``get_shortest_path`` (C Dijkstra) on the same edges.
  Every geolog cost is checked against networkx.
- **matrix**: ``geolog.matrix`` of 500 random points vs 500
  ``networkx.single_source_dijkstra_path_length`` calls (costs only — geolog
  also sums distance and time along each path).
- **apply**: ``geolog.rules.apply`` of the profile + rules to every edge,
  cache cleared before each of 5 runs (median).

Targets (issue 5): route query >= 5x faster than networkx; 500x500 matrix
<= 1 s; applying a rule set <= 50 ms.

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/routing.py
"""

from __future__ import annotations

import statistics
import time
import warnings

import networkx as nx
import numpy as np

import geolog
from geolog import routing

RULES = {
    "priority": [
        {"if": "highway in ('track', 'service')", "multiply_by": 0.5},
        {"if": "surface in ('gravel', 'unpaved', 'dirt')", "multiply_by": 0.7},
        {"else_if": "highway == 'residential'", "multiply_by": 0.8},
    ],
    "speed": [
        {"if": "maxspeed_kph > 0 and highway == 'primary'", "limit_to": 70},
        {"if": "surface in ('gravel', 'unpaved')", "limit_to": 30},
    ],
    "distance_influence": 20,
}
N_ROUTES, N_MATRIX = 1000, 500
TARGET_RATIO, TARGET_MATRIX_S, TARGET_APPLY_S = 5.0, 1.0, 0.050


def main() -> None:
    import igraph as ig
    import osmnx as ox

    t0 = time.perf_counter()
    net = geolog.read_osm(geolog.data.path("liechtenstein"), network="drive")
    print(f"{net!r} read in {time.perf_counter() - t0:.2f} s")

    # --- apply: profile + rules over every edge, uncached
    times = []
    for _ in range(5):
        geolog.clear_cache("costed networks", "rule area masks")  # the network's views stay
        t = time.perf_counter()
        applied = geolog.rules.apply(net, "car", RULES)
        times.append(time.perf_counter() - t)
    t_apply = statistics.median(times)

    # --- oracle graphs (same cost column, forbidden edges removed)
    G = applied.to_networkx()
    G.remove_edges_from(
        [(u, v, k) for u, v, k, c in G.edges(keys=True, data="cost") if not np.isfinite(c)]
    )
    big = np.array(sorted(max(nx.strongly_connected_components(G), key=len)))
    rng = np.random.default_rng(2024)
    pairs = rng.choice(big, size=(N_ROUTES, 2))
    ids = applied.nodes.index
    e = applied.edges[np.isfinite(applied.edges["cost"])]
    gi = ig.Graph(
        n=len(ids),
        edges=np.column_stack([ids.get_indexer(e["u"]), ids.get_indexer(e["v"])]).tolist(),
        directed=True,
    )
    gw = e["cost"].to_numpy()
    xy = applied.nodes[["y", "x"]]

    # --- route queries (warm: the first call builds the CSR view and the index)
    routing.route_nodes(net, *pairs[0], profile="car", rules=RULES)
    routing.route(net, tuple(xy.loc[pairs[0][0]]), tuple(xy.loc[pairs[0][1]]), rules=RULES)

    t = time.perf_counter()
    ours = [routing.route_nodes(net, u, v, profile="car", rules=RULES).cost for u, v in pairs]
    t_geolog = time.perf_counter() - t

    pts = [(tuple(xy.loc[u]), tuple(xy.loc[v])) for u, v in pairs]
    t = time.perf_counter()
    for a, b in pts:
        routing.route(net, a, b, profile="car", rules=RULES)
    t_geolog_pts = time.perf_counter() - t

    t = time.perf_counter()
    nx_paths = [nx.shortest_path(G, u, v, weight="cost") for u, v in pairs]
    t_nx = time.perf_counter() - t

    t = time.perf_counter()
    for u, v in pairs:
        ox.routing.shortest_path(G, u, v, weight="cost")
    t_ox = time.perf_counter() - t

    pos = ids.get_indexer(pairs.ravel()).reshape(-1, 2)
    t = time.perf_counter()
    for a, b in pos:
        gi.get_shortest_path(int(a), int(b), weights=gw)
    t_ig = time.perf_counter() - t

    # correctness: every geolog cost equals networkx's
    ref = np.array([nx.path_weight(G, p, "cost") if len(p) > 1 else 0.0 for p in nx_paths])
    worst = np.max(np.abs(np.array(ours) - ref) / np.maximum(ref, 1e-9))

    # --- matrix
    mpts = [tuple(xy.loc[n]) for n in rng.choice(big, size=N_MATRIX, replace=False)]
    routing.matrix(net, mpts[:3], profile="car", rules=RULES)
    t = time.perf_counter()
    m = routing.matrix(net, mpts, profile="car", rules=RULES)
    t_matrix = time.perf_counter() - t
    src = [int(n) for n in rng.choice(big, size=N_MATRIX, replace=False)]
    t = time.perf_counter()
    for s in src:
        nx.single_source_dijkstra_path_length(G, s, weight="cost")
    t_nx_matrix = time.perf_counter() - t

    def row(name: str, secs: float, base: float | None = None) -> None:
        per = 1000 * secs / N_ROUTES
        ratio = f"{base / secs:6.1f}x" if base else ""
        print(f"  {name:<46} {secs:8.3f} s  {per:7.3f} ms/route  {ratio}")

    print(f"\n{N_ROUTES} random routes (same pairs, same cost column), one run")
    row("networkx shortest_path (anchor)", t_nx)
    row("osmnx routing.shortest_path", t_ox)
    row("igraph get_shortest_path", t_ig)
    row("geolog route_nodes  (speed-up vs networkx)", t_geolog, t_nx)
    row("geolog route, lat/lon + snapping", t_geolog_pts, t_nx)
    print(f"  max relative cost difference geolog vs networkx: {worst:.2e}")
    print(f"\n{N_MATRIX}x{N_MATRIX} matrix (durations + distances)")
    print(f"  geolog.matrix                                  {t_matrix:8.3f} s")
    print(
        f"  networkx {N_MATRIX} x single_source_dijkstra (anchor)  {t_nx_matrix:8.3f} s"
        f"  ratio {t_nx_matrix / t_matrix:.1f}x; reachable pairs "
        f"{np.isfinite(m.durations_s).mean():.1%}"
    )
    print(
        f"\napply profile + {len(RULES['priority']) + len(RULES['speed'])} rules to "
        f"{len(net.edges):,} edges: {1000 * t_apply:.1f} ms (median of 5, uncached)"
    )
    ok_ratio = t_nx / t_geolog >= TARGET_RATIO
    ok_matrix = t_matrix <= TARGET_MATRIX_S
    ok_apply = t_apply <= TARGET_APPLY_S
    print(
        f"\ntargets: route >= {TARGET_RATIO:g}x networkx: {'OK' if ok_ratio else 'MISSED'}; "
        f"matrix <= {TARGET_MATRIX_S:g} s: {'OK' if ok_matrix else 'MISSED'}; "
        f"apply <= {1000 * TARGET_APPLY_S:g} ms: {'OK' if ok_apply else 'MISSED'}"
    )
    if worst > 1e-6:
        raise SystemExit("geolog and networkx disagree on some route costs")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        main()
