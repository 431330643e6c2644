"""Benchmark geolog's planning engines on CVRPLIB, and time a 30-site Andorra plan.

Run (one benchmark at a time on the shared machine)::

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/vrp.py

Part 1 solves every ``data/cvrplib/*.vrp`` instance with both engines
(``pyvrp``, ``ortools``) at the same time limit and prints each gap to the best
known solution (``best_known.json``) and the mean gap per engine. Distances
follow the CVRPLIB convention (EUC_2D rounded to the nearest integer); the cost
is recomputed from the matrix, independently of the engine's own objective.

Part 2 times ``geolog.plan`` end to end (travel-time matrices + solve) for ~30
sites in Andorra from two depots with trucks and light vehicles.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geolog.distribution import ENGINES, solve_cvrp  # noqa: E402

CVRPLIB = ROOT / "data" / "cvrplib"


def route_cost(matrix: np.ndarray, routes: list[list[int]], depot: int) -> int:
    """Independent cost: rounded matrix summed over depot -> stops -> depot."""
    total = 0
    for r in routes:
        path = [depot, *r, depot]
        total += int(np.rint(matrix[path[:-1], path[1:]]).sum())
    return total


def bench_cvrplib(time_limit_s: float) -> dict[str, list[float]]:
    import vrplib

    best = json.loads((CVRPLIB / "best_known.json").read_text())
    gaps: dict[str, list[float]] = {e: [] for e in ENGINES}
    print(f"CVRPLIB, {time_limit_s:g} s per instance and engine")
    print(f"{'instance':<14}{'best':>8}" + "".join(f"{e:>12}{'gap %':>8}" for e in ENGINES))
    for path in sorted(CVRPLIB.glob("*.vrp")):
        inst = vrplib.read_instance(str(path), compute_edge_weights=True)
        name = path.stem
        m = np.asarray(inst["edge_weight"], dtype=float)
        depot = int(np.atleast_1d(inst["depot"])[0])
        demand = np.asarray(inst["demand"])
        # all demands must be delivered: check feasibility independently
        row = f"{name:<14}{best[name]:>8}"
        for engine in ENGINES:
            routes, cost = solve_cvrp(
                m,
                demand,
                int(inst["capacity"]),
                depot=depot,
                time_limit_s=time_limit_s,
                engine=engine,
            )
            visited = sorted(c for r in routes for c in r)
            assert visited == [i for i in range(len(m)) if i != depot], "not every client once"
            assert all(demand[r].sum() <= inst["capacity"] for r in routes), "over capacity"
            indep = route_cost(m, routes, depot)
            assert indep == cost, (indep, cost)
            gap = 100.0 * (indep - best[name]) / best[name]
            gaps[engine].append(gap)
            row += f"{indep:>12}{gap:>8.2f}"
        print(row, flush=True)
    print(
        f"{'mean gap %':<22}"
        + "".join(f"{'':>12}{statistics.mean(gaps[e]):>8.2f}" for e in ENGINES)
    )
    print(f"{'max gap %':<22}" + "".join(f"{'':>12}{max(gaps[e]):>8.2f}" for e in ENGINES))
    return gaps


def bench_andorra(time_limit_s: float) -> None:
    import warnings

    import geolog
    from geolog.errors import GeologWarning

    plan_dir = geolog.data.path("andorra").parent / "plan"
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeologWarning)  # SRTM voids filled
        dem = geolog.DEM.open([geolog.data.dem_path("andorra")])
        net = geolog.read_osm(geolog.data.path("andorra"), network="drive").with_terrain(dem)
    t1 = time.perf_counter()
    print(f"\nAndorra: network + terrain {t1 - t0:.2f} s (not part of the plan timing)")
    print(
        f"{'engine':<9}{'total s':>9}{'matrix s':>10}{'solve s':>9}{'geom s':>8}"
        f"{'served':>8}{'km':>8}{'drive h':>9}{'cost':>9}"
    )
    for engine in ENGINES:
        t1 = time.perf_counter()
        p = geolog.plan(
            net,
            plan_dir / "depots.geojson",
            plan_dir / "stops.geojson",
            plan_dir / "fleet.yaml",
            time_limit_s=time_limit_s,
            engine=engine,
        )
        t2 = time.perf_counter()
        tm, tot = p.timings, p.totals
        print(
            f"{engine:<9}{t2 - t1:>9.2f}{tm['matrix_s']:>10.2f}{tm['solve_s']:>9.2f}"
            f"{tm['geometry_s']:>8.2f}{tot['served']:>8}{tot['distance_km']:>8.1f}"
            f"{tot['driving_h']:>9.2f}{tot['cost']:>9}"
        )
    print(
        f"({len(p.stops)} sites, 2 depots, {sum(f['count'] for f in p.fleet)} vehicles, "
        f"solve limit {time_limit_s:g} s; first call includes applying the profiles)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    ap.add_argument("--plan-time-limit", type=float, default=5.0, help="seconds for Andorra")
    ap.add_argument("--skip-andorra", action="store_true")
    ap.add_argument("--skip-cvrplib", action="store_true")
    args = ap.parse_args()
    if not args.skip_cvrplib:
        bench_cvrplib(args.time_limit)
    if not args.skip_andorra:
        bench_andorra(args.plan_time_limit)


if __name__ == "__main__":
    main()
