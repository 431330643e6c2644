"""``make demo``: geolog end to end on the bundled Andorra data, offline.

Each step prints what it did; later features add steps here.
"""

from __future__ import annotations

import time
from pathlib import Path

import geolog

OUT = Path("out")


def step(title: str) -> None:
    print(f"\n== {title}")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    step("Andorra road network from OpenStreetMap (offline, pyosmium)")
    t0 = time.perf_counter()
    net = geolog.read_osm(geolog.data.path("andorra"), network="drive")
    print(f"{net!r}  built in {time.perf_counter() - t0:.2f} s")
    s = net.summary()
    print(f"{s['segments']:,} road segments, {s['length_km']:,.1f} km; bbox {s['bbox']}")
    print(s["km_by_highway"].round(1).to_string())
    path = net.save(OUT / "andorra.parquet")
    print(f"saved {path} (fingerprint {net.fingerprint()[:16]})")


if __name__ == "__main__":
    main()
