"""Benchmark: turn-aware routing on Liechtenstein and Porto — geolog vs networkx and igraph, one run.

Same network (drive, car profile plus a small rule set), same cost column,
same 1,000 random node pairs inside the largest strongly connected piece:

- **route query with snapping**: ``geolog.route`` between the nodes'
  coordinates (snapping, the contraction hierarchy's search on the turn
  graph, the ``Route``) vs networkx's ``bidirectional_dijkstra`` on a ``DiGraph`` with
  the minimum cost per node pair (the strongest networkx baseline) and
  igraph's ``get_shortest_path`` (C Dijkstra) on the same edges. geolog's
  costs are checked against networkx's: equal, or higher only where an OSM
  turn restriction forbids networkx's path.
- **growth**: the median time of one ``geolog.route`` query for trips under
  5 km on Liechtenstein (4.4 k nodes) and on Porto (64 k nodes), timed in
  alternating rounds: as a user gets it (Porto's 151 k states are above the
  eager size, so its first queries run A*) and with Porto's hierarchy
  prepared (``geolog.prepare``).
- **matrix**: ``geolog.matrix`` of 500 random points (turn-aware) vs 500
  ``networkx.single_source_dijkstra_path_length`` calls (costs only).
- **apply**: ``geolog.rules.apply`` of the profile + rules to every edge,
  cache cleared before each of 5 runs (median); and the per-rule-set turn
  graph build (:mod:`geolog._turns`) and contraction hierarchy
  (:mod:`geolog._turn_ch`) on top of it.

Times are CPU seconds of this process (``time.process_time``): the machine
is shared, and wall-clock time there measures the neighbours as much as the
code; every tool runs single-threaded.

Targets (issue 17): route >= 5x networkx and >= 2x igraph; Porto's median
< 2x Liechtenstein's for trips under 5 km; 500x500 matrix <= 0.6 s;
applying a rule set <= 50 ms.

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/routing.py
"""

from __future__ import annotations

import os
import statistics
import time
import warnings

import networkx as nx
import numpy as np

import geolog
from geolog import routing
from geolog._graph import graph_for
from geolog._turn_search import hierarchy
from geolog._turns import turn_graph

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
N_ROUTES, N_MATRIX, N_SHORT = 1000, 500, 300
TARGET_NX, TARGET_IG, TARGET_GROWTH = 5.0, 2.0, 2.0
TARGET_MATRIX_S, TARGET_APPLY_S = 0.6, 0.050


def _digraph(applied) -> nx.DiGraph:
    """networkx DiGraph of the usable edges, the minimum cost per node pair."""
    e = applied.edges[np.isfinite(applied.edges["cost"])]
    e = e.sort_values("cost").drop_duplicates(["u", "v"])
    D = nx.DiGraph()
    D.add_weighted_edges_from(
        zip(e["u"].tolist(), e["v"].tolist(), e["cost"].tolist(), strict=True), weight="cost"
    )
    return D


def _short_trips(net, rng, n: int) -> list[tuple]:
    """``n`` random trips whose route is under 5 km (3.5 km at most as the crow flies)."""
    applied = geolog.rules.apply(net, "car", RULES)
    D = _digraph(applied)
    big = np.array(sorted(max(nx.strongly_connected_components(D), key=len)))
    xy = applied.nodes.loc[big, ["y", "x"]].to_numpy()
    k = np.cos(np.radians(xy[:, 0].mean()))
    trips = []
    while len(trips) < n:
        i = rng.integers(len(big))
        d = np.hypot((xy[:, 0] - xy[i, 0]) * 111_195, (xy[:, 1] - xy[i, 1]) * 111_195 * k)
        near = np.flatnonzero((d > 300) & (d < 3500))
        if not len(near):
            continue
        a, b = tuple(xy[i]), tuple(xy[rng.choice(near)])
        if routing.route(net, a, b, profile="car", rules=RULES).length_m < 5000:
            trips.append((a, b))
    return trips


def _alternate(first, second, rounds: int = 5) -> tuple[float, float]:
    """Median seconds of one geolog.route over each ``(net, trips)``, timed in alternating rounds.

    The trips were drawn beforehand (drawing scans every node and would
    flush the processor's caches before each query); each round times a
    slice of the first network's trips back to back, then a slice of the
    second's, so a machine that speeds up or slows down during the run
    weighs on both alike.
    """
    times: tuple[list, list] = ([], [])
    for r in range(rounds):
        for (net, trips), out in zip((first, second), times, strict=True):
            for a, b in trips[r::rounds]:
                t = time.process_time()
                routing.route(net, a, b, profile="car", rules=RULES)
                out.append(time.process_time() - t)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    import igraph as ig

    t0 = time.process_time()
    net = geolog.read_osm(geolog.data.path("liechtenstein"), network="drive")
    print(f"{net!r} read in {time.process_time() - t0:.2f} s")

    # --- apply: profile + rules over every edge, uncached; then the turn graph
    times, tg_times, ch_times = [], [], []
    for _ in range(5):
        geolog.clear_cache("costed networks", "rule area masks", "routing graphs")
        t = time.process_time()
        applied = geolog.rules.apply(net, "car", RULES)
        times.append(time.process_time() - t)
        t = time.process_time()
        tg = turn_graph(graph_for(applied, "cost"))
        tg_times.append(time.process_time() - t)
        t = time.process_time()
        hierarchy(tg, build_now=True)
        ch_times.append(time.process_time() - t)
    t_apply, t_tg = statistics.median(times), statistics.median(tg_times)
    t_ch = statistics.median(ch_times)

    D = _digraph(applied)
    big = np.array(sorted(max(nx.strongly_connected_components(D), key=len)))
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
    pts = [(tuple(xy.loc[u]), tuple(xy.loc[v])) for u, v in pairs]

    # --- route queries (warm: the first call compiles/loads the search and builds the graphs)
    t = time.process_time()
    routing.route(net, *pts[0], profile="car", rules=RULES)
    t_first = time.process_time() - t
    t = time.process_time()
    for a, b in pts:
        routing.route(net, a, b, profile="car", rules=RULES)
    t_geolog = time.process_time() - t

    t = time.process_time()
    ref = [nx.bidirectional_dijkstra(D, int(u), int(v), weight="cost")[0] for u, v in pairs]
    t_nx = time.process_time() - t

    pos = ids.get_indexer(pairs.ravel()).reshape(-1, 2)
    t = time.process_time()
    for a, b in pos:
        gi.get_shortest_path(int(a), int(b), weights=gw)
    t_ig = time.process_time() - t

    # correctness (untimed): node to node, so no point snaps onto a road crossing above
    # its node; equal to networkx, or dearer only where a turn restriction bites
    ours = [
        routing.route_nodes(net, int(u), int(v), profile="car", rules=RULES).cost for u, v in pairs
    ]
    ours_a, ref_a = np.array(ours), np.array(ref)
    rel = (ours_a - ref_a) / np.maximum(ref_a, 1e-9)
    cheaper = int((rel < -1e-9).sum())
    dearer = int((rel > 1e-9).sum())

    # --- growth: short trips on Liechtenstein and Porto
    li_trips = _short_trips(net, np.random.default_rng(7), N_SHORT)
    porto = geolog.read_osm(geolog.data.path("porto"), network="drive")
    po_trips = _short_trips(porto, np.random.default_rng(7), N_SHORT)
    n_li, n_po = len(li_trips), len(po_trips)
    med_li, med_po = _alternate((net, li_trips), (porto, po_trips))
    t = time.process_time()
    po_info = geolog.prepare(porto, profile="car", rules=RULES)  # the hierarchy, built now
    t_po_ch = time.process_time() - t
    med_li_ch, med_po_ch = _alternate((net, li_trips), (porto, po_trips))

    # --- matrix
    mpts = [tuple(xy.loc[n]) for n in rng.choice(big, size=N_MATRIX, replace=False)]
    routing.matrix(net, mpts[:3], profile="car", rules=RULES)
    t, w = time.process_time(), time.perf_counter()
    m = routing.matrix(net, mpts, profile="car", rules=RULES)  # threads on all cores
    t_matrix, w_matrix = time.process_time() - t, time.perf_counter() - w
    src = [int(n) for n in rng.choice(big, size=N_MATRIX, replace=False)]
    t = time.process_time()
    for s in src:
        nx.single_source_dijkstra_path_length(D, s, weight="cost")
    t_nx_matrix = time.process_time() - t

    def row(name: str, secs: float, base: float | None = None) -> None:
        per = 1000 * secs / N_ROUTES
        ratio = f"{base / secs:6.1f}x" if base else ""
        print(f"  {name:<50} {secs:8.3f} s  {per:7.3f} ms/route CPU  {ratio}")

    print(f"\n{N_ROUTES} random routes (same pairs, same cost column), one run")
    row("networkx bidirectional_dijkstra, DiGraph (anchor)", t_nx)
    row("igraph get_shortest_path", t_ig, t_nx)
    row("geolog.route, lat/lon + snapping, turn-aware", t_geolog, t_nx)
    print(
        f"  geolog vs igraph: {t_ig / t_geolog:.1f}x; first query (load + build): {t_first:.2f} s"
    )
    print(
        f"  costs: {N_ROUTES - dearer - cheaper} equal to networkx, {dearer} dearer "
        f"(a turn restriction forbids networkx's path), {cheaper} cheaper"
    )
    print(f"\nmedian geolog.route for trips under 5 km ({n_li} / {n_po} trips)")
    print(f"  Liechtenstein ({len(net.nodes):,} nodes)  {1000 * med_li:7.3f} ms")
    print(
        f"  Porto         ({len(porto.nodes):,} nodes) {1000 * med_po:7.3f} ms"
        f"  growth {med_po / med_li:.2f}x  (A*: {po_info['states']:,} states, hierarchy not yet"
        " paid for)"
    )
    print(
        f"  Porto, hierarchy prepared    {1000 * med_po_ch:7.3f} ms  growth {med_po_ch / med_li_ch:.2f}x"
        f" (Liechtenstein {1000 * med_li_ch:.3f} ms that round; geolog.prepare: {t_po_ch:.1f} s"
        f" CPU, {po_info['shortcuts']:,} shortcuts)"
    )
    print(f"\n{N_MATRIX}x{N_MATRIX} matrix (durations + distances, turn-aware)")
    print(
        f"  geolog.matrix, wall ({os.cpu_count()} cores; one thread by default with the hierarchy) {w_matrix:8.3f} s"
        f"   CPU {t_matrix:.3f} s"
    )
    print(
        f"  networkx {N_MATRIX} x single_source_dijkstra (anchor)  {t_nx_matrix:8.3f} s"
        f"  ratio {t_nx_matrix / t_matrix:.1f}x (CPU to CPU); reachable pairs "
        f"{np.isfinite(m.durations_s).mean():.1%}"
    )
    print(
        f"\napply profile + {len(RULES['priority']) + len(RULES['speed'])} rules to "
        f"{len(net.edges):,} edges: {1000 * t_apply:.1f} ms (median of 5, uncached); "
        f"turn graph ({tg.n:,} states, {len(tg.indices):,} turns): {1000 * t_tg:.1f} ms; "
        f"contraction hierarchy: {1000 * t_ch:.0f} ms ({tg._work['ch'].shortcuts:,} shortcuts)"
    )
    checks = {
        f"route >= {TARGET_NX:g}x networkx": t_nx / t_geolog >= TARGET_NX,
        f"route >= {TARGET_IG:g}x igraph": t_ig / t_geolog >= TARGET_IG,
        f"Porto/Liechtenstein < {TARGET_GROWTH:g}x": med_po / med_li < TARGET_GROWTH,
        f"matrix <= {TARGET_MATRIX_S:g} s (wall)": w_matrix <= TARGET_MATRIX_S,
        f"apply <= {1000 * TARGET_APPLY_S:g} ms": t_apply <= TARGET_APPLY_S,
    }
    print("\ntargets: " + "; ".join(f"{k}: {'OK' if v else 'MISSED'}" for k, v in checks.items()))
    if cheaper:
        raise SystemExit("geolog found routes cheaper than networkx's optimum")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        main()
