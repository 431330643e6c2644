"""Benchmark: isochrone areas against the buffered-roads band, Andorra, one run.

Same network (Andorra drive, car profile), same origin (Andorra la Vella,
42.5078, 1.5211), same search:

- **anchor**: ``kind="band"`` — the method geolog used before (and keeps as
  an option): the union of the reached road stretches buffered by 50 m
  (shapely ``union_all`` of the buffers).
- **geolog**: ``kind="area"`` (default) — a time grid of the reached roads,
  closed with radius ``fill_m`` and contoured (scipy distance transforms,
  contourpy).

Both after a warm-up call (the costed network, routing graph, snapping index
and the sampled edge geometries are cached); wall-clock medians. Also one
call with three budgets (10, 20, 30 min), which shares one search and one
grid.

Target (issue 17): 10 minutes from Andorra la Vella <= 30 ms after warm-up.

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/isochrones.py
"""

from __future__ import annotations

import statistics
import time
import warnings

import geolog
from geolog import routing

ORIGIN = (42.5078, 1.5211)  # Andorra la Vella
TARGET_S = 0.030
N_AREA, N_BAND = 50, 5


def _timed(net: geolog.Network, n: int, **kwargs) -> tuple[float, float, object]:
    """(median, min) wall seconds of ``n`` isochrone calls, and the last result."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        iso = routing.isochrones(net, ORIGIN, profile="car", **kwargs)
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), iso


def main() -> None:
    net = geolog.read_osm(geolog.data.path("andorra"), network="drive")
    print(f"{net!r}; origin Andorra la Vella {ORIGIN}, profile car")
    for kind in ("band", "area"):
        routing.isochrones(net, ORIGIN, 600, profile="car", kind=kind)  # warm-up

    band, band_min, b = _timed(net, N_BAND, times_s=600, kind="band")
    area, area_min, a = _timed(net, N_AREA, times_s=600)
    multi, multi_min, m = _timed(net, N_AREA // 5, times_s=[600, 1200, 1800])

    def row(name: str, med: float, low: float, iso, base: float | None = None) -> None:
        ratio = f"{base / med:6.1f}x" if base else ""
        print(
            f"  {name:<44} {1000 * med:8.1f} ms (min {1000 * low:6.1f})  "
            f"{iso['area_km2'].iloc[-1]:7.1f} km²  {ratio}"
        )

    print(f"\n10-minute isochrone (reached {a['reached_km'].iloc[0]:,.1f} directed km of road)")
    row("kind='band', 50 m buffers unioned (anchor)", band, band_min, b)
    row("kind='area' (speed-up vs band)", area, area_min, a, band)
    row("kind='area', 10 + 20 + 30 min in one call", multi, multi_min, m)
    ok = area <= TARGET_S
    print(f"\ntarget: 10 min <= {1000 * TARGET_S:g} ms after warm-up: {'OK' if ok else 'MISSED'}")


if __name__ == "__main__":
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        main()
