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

    step("Delivery plan: 30 sites, 2 depots, trucks + vans (PyVRP, 2 s)")
    import warnings

    plan_dir = geolog.data.path("andorra").parent / "plan"
    with warnings.catch_warnings():  # no DEM in this step: trucks plan on flat grades
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        p = geolog.plan(
            net, plan_dir / "depots.geojson", plan_dir / "stops.geojson",
            plan_dir / "fleet.yaml", time_limit_s=2,
        )  # fmt: skip
    print(p)
    print(p.summary().round(2).to_string(index=False))
    print(f"wrote {p.to_geojson(OUT / 'plan.geojson')}")

    step("Loaded truck across Andorra under route rules (data/andorra/rules/truck_loaded.yaml)")
    rules = geolog.data.path("andorra").parent / "rules" / "truck_loaded.yaml"
    with warnings.catch_warnings():  # SRTM voids are filled and flagged on the edges
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        tnet = net.with_terrain(geolog.DEM.open(geolog.data.dem_path("andorra")))
    south, north = (42.4637, 1.4913), (42.6180, 1.5400)  # Sant Julia de Loria -> El Serrat
    t0 = time.perf_counter()
    r = geolog.route(tnet, south, north, profile="truck", rules=rules)
    print(f"{r!r}  in {time.perf_counter() - t0:.2f} s")
    print(r.directions()[["instruction", "distance_m"]].head(8).round(0).to_string(index=False))
    from geolog._html import atomic_write_text

    print(f"wrote {atomic_write_text(OUT / 'truck_route.geojson', r.to_geojson())}")
    try:  # to Pas de la Casa the rules leave no way: the error names the rule
        geolog.route(tnet, south, (42.5445, 1.7330), profile="truck", rules=rules)
    except geolog.errors.NoRouteError as err:
        print(f"to Pas de la Casa: {err}")

    step("Offline map briefing of the truck route (one HTML file, opens with no internet)")
    t0 = time.perf_counter()
    brief = geolog.briefing(
        tnet,
        r,
        title="Loaded truck: Sant Julià de Lòria → El Serrat",
        purpose="Route check for an 18 t relief truck after heavy rain, under the sample rules.",
        rules=rules,  # the hillshade DEM is re-opened from tnet.meta
        path=OUT / "andorra-briefing.html",
    )
    size_mb = brief.stat().st_size / 1e6
    print(f"wrote {brief.resolve()} ({size_mb:.2f} MB) in {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
