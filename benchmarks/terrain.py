"""Benchmark: along-edge terrain (geolog) vs endpoint-only grades (osmnx), Andorra.

Anchor: ``osmnx.elevation.add_node_elevations_raster`` + ``add_edge_grades`` on
``net.to_networkx()`` (grade from the two end nodes only). geolog:
``net.with_terrain(dem)`` (densified to half a DEM cell, every point sampled,
edges chained into roads, every road's profile estimated with the DEM's error
model in one sparse system, posterior draws for the uncertainty, per-direction
ascent/descent/mean/max grade and max_grade_sd/hi). Both libraries are imported
before timing (osmnx, and geolog's terrain modules with scipy.sparse). One run
each, same
network, same tile. osmnx needs a GeoTIFF path, so the (void-filled) DEM is
written to a temporary GeoTIFF first; that write and ``to_networkx()`` are not
timed. Also times the full Andorra build with terrain (read_osm + DEM.open +
with_terrain; target <= 1 s).

Run: flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/terrain.py
"""

from __future__ import annotations

import importlib
import tempfile
import time
import warnings
from pathlib import Path

import geolog
from geolog.errors import GeologWarning


def main() -> None:
    import osmnx as ox

    importlib.import_module("geolog.costing")  # imports are not timed, as for osmnx

    warnings.simplefilter("ignore", GeologWarning)
    osm, tile = geolog.data.path("andorra"), geolog.data.dem_path("andorra")

    t0 = time.perf_counter()
    net = geolog.read_osm(osm, network="drive")
    t1 = time.perf_counter()
    dem = geolog.DEM.open(tile)
    t2 = time.perf_counter()
    hilly = net.with_terrain(dem)
    t3 = time.perf_counter()
    build = t3 - t0
    geolog_terrain = t3 - t2

    G = net.to_networkx()  # not timed
    with tempfile.TemporaryDirectory() as tmp:
        tif = dem.clip(tuple(net.nodes.total_bounds)).write(Path(tmp) / "andorra.tif")  # not timed
        s0 = time.perf_counter()
        G = ox.elevation.add_node_elevations_raster(G, tif, cpus=1)
        G = ox.elevation.add_edge_grades(G, add_absolute=True)
        s1 = time.perf_counter()
    osmnx_time = s1 - s0

    e = hilly.edges
    n_samples = "~{:,}".format(int((e["length_m"] / (0.5 * min(dem.cell_size_m))).sum()))
    print(f"Andorra drive network: {len(net.nodes):,} nodes, {len(e):,} directed edges")
    print(
        f"osmnx add_node_elevations_raster + add_edge_grades (endpoints only): {osmnx_time:.3f} s"
    )
    print(
        f"geolog with_terrain (whole geometry, {n_samples} samples):          {geolog_terrain:.3f} s"
    )
    print(f"ratio osmnx / geolog: {osmnx_time / geolog_terrain:.1f}x")
    print(
        f"full build with terrain: read_osm {t1 - t0:.3f} s + DEM.open {t2 - t1:.3f} s "
        f"+ with_terrain {t3 - t2:.3f} s = {build:.3f} s (target <= 1 s)"
    )
    grades = [abs(d["grade"]) for _, _, d in G.edges(data=True)]
    print(
        f"max |grade|: osmnx endpoint-only {max(grades):.2f}, geolog mean {e['grade'].abs().max():.2f},"
        f" geolog max_grade {e['max_grade'].abs().max():.2f}"
    )


if __name__ == "__main__":
    main()
