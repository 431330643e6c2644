"""Benchmark: cross-country movement on the Andorra tile (geolog.offroad) vs skimage's MCP.

Anchor: ``skimage.graph.MCP_Geometric`` (isotropic: one cost per cell, 8
neighbours) over the whole metric Andorra tile from one cell, costs = the
foot surface's seconds per metre. geolog: (1) one hybrid road/off-road foot
route across a 10 × 10 km box (off-road fields from both ends on the
cropped 16-neighbour anisotropic cell graph, one road Dijkstra, the road
route, the parts); (2) a 60-minute off-road foot isochrone (search and
polygons); (3) the same anisotropic field over the whole tile with 8 and
16 neighbours, for a like-for-like cost of anisotropy (not what routes do:
they crop). The surface (DEM reprojection, OSM
land cover, slope NO-GO) is built once beforehand and timed on its own; the
road network is read beforehand (not timed). Best of 3 runs each, the
anchor too. Targets: hybrid route and isochrone ≤ 1 s each.

Run: flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/offroad.py
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np

import geolog
from geolog.errors import GeologWarning

ORIGIN = (42.4637, 1.4913)  # Sant Julià de Lòria
DESTINATION = (42.5500, 1.6100)  # about 9.6 km north, 9.7 km east: a 10 x 10 km box


def best(fn, n: int = 3) -> tuple[float, object]:
    """Fastest of ``n`` runs (seconds) and the last result."""
    times, out = [], None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    from scipy.sparse.csgraph import dijkstra
    from skimage.graph import MCP_Geometric

    from geolog import _offroad_search

    warnings.simplefilter("ignore", GeologWarning)
    osm = geolog.data.path("andorra")
    dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
    net = geolog.read_osm(osm, network="walk").with_terrain(dem)  # not timed
    t = time.perf_counter()
    surf = geolog.offroad_surface(dem, profile="foot", landcover=osm)
    t_surface = time.perf_counter() - t
    rows, cols = surf.shape
    print(f"Andorra tile on its metric grid: {cols} x {rows} cells of {surf.dem.res[0]:.1f} m")
    print(f"surface (reprojection, OSM land cover, slope NO-GO): {t_surface:.2f} s (once)")

    with np.errstate(divide="ignore"):
        costs = np.where(surf.factor > 0, 3.6 / (surf.base_kph * surf.factor), -1.0)
    start = (rows // 2, cols // 2)
    t_mcp, _ = best(lambda: MCP_Geometric(costs).find_costs([start]))
    print(f"anchor  skimage MCP_Geometric, isotropic, whole tile: {t_mcp:.3f} s")

    t_route, r = best(lambda: geolog.hybrid_route(net, surf, ORIGIN, DESTINATION))
    print(
        f"geolog  hybrid route 10x10 km: {t_route:.3f} s ({t_route / t_mcp:.2f}x anchor; "
        f"target <= 1 s) -> {r.length_m / 1000:.1f} km, {r.duration_s / 3600:.2f} h, "
        f"{r.offroad_m / 1000:.2f} km off-road"
    )
    t_iso, iso = best(lambda: geolog.offroad_isochrones(surf, ORIGIN, [3600]))
    print(
        f"geolog  60-min off-road isochrone: {t_iso:.3f} s ({t_iso / t_mcp:.2f}x anchor; "
        f"target <= 1 s) -> {iso['area_km2'].iloc[0]:.1f} km2"
    )

    def whole_tile(s) -> np.ndarray:
        rc = np.array([[0, 0], [rows - 1, cols - 1]])
        win = _offroad_search.window(s, rc, 0.0)
        return dijkstra(win.graph, indices=start[0] * cols + start[1])

    for n in (8, 16):
        s = dataclasses.replace(surf, neighbours=n, _cache={})
        t_full, _ = best(lambda s=s: whole_tile(s))
        print(
            f"geolog  anisotropic {n}-neighbour field, whole tile (graph + Dijkstra): "
            f"{t_full:.3f} s ({t_full / t_mcp:.2f}x anchor)"
        )


if __name__ == "__main__":
    main()
