"""``make demo``: geolog end to end on the bundled Andorra data, offline.

Road network → terrain → a loaded truck's route under route rules → an offline
map briefing → a delivery plan on the terrain-aware travel times. Each step
prints what it did and writes its result under ``out/``.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import geolog
from geolog._html import atomic_write_text

OUT = Path("out")
ANDORRA = geolog.data.path("andorra").parent
SANT_JULIA, EL_SERRAT, PAS_DE_LA_CASA = (42.4637, 1.4913), (42.6180, 1.5400), (42.5445, 1.7330)


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

    step("Terrain: SRTM tile draped along every edge, per direction of travel")
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:  # voids are filled and flagged
        warnings.simplefilter("always", geolog.errors.GeologWarning)
        dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
        net = net.with_terrain(dem)
    for w in caught:
        print(f"note: {w.message}")
    e = net.edges
    print(f"terrain added in {time.perf_counter() - t0:.2f} s; node elevations "
          f"{net.nodes['elevation'].min():.0f}–{net.nodes['elevation'].max():.0f} m")  # fmt: skip
    seg = e[~e["reversed"]]
    km = seg.groupby("grade_class", observed=False)["length_m"].sum() / 1000
    print("km of road by grade class (steepest stretch):", km.round(1).to_dict())
    path = net.save(OUT / "andorra.parquet")
    print(f"saved {path} (fingerprint {net.fingerprint()[:16]})")

    step("Loaded truck across Andorra under route rules (data/andorra/rules/truck_loaded.yaml)")
    rules = ANDORRA / "rules" / "truck_loaded.yaml"
    t0 = time.perf_counter()
    r = geolog.route(net, SANT_JULIA, EL_SERRAT, profile="truck", rules=rules)
    print(f"{r!r}  in {time.perf_counter() - t0:.2f} s")
    print(r.directions()[["instruction", "distance_m"]].head(8).round(0).to_string(index=False))
    print(f"wrote {atomic_write_text(OUT / 'truck_route.geojson', r.to_geojson())}")
    try:
        far = geolog.route(net, SANT_JULIA, PAS_DE_LA_CASA, profile="truck", rules=rules)
        print(f"to Pas de la Casa: {far!r}")
    except geolog.errors.NoRouteError as err:  # the error names the rule that cut the way
        print(f"to Pas de la Casa: {err}")

    step("Offline map briefing of the truck route (one HTML file, opens with no internet)")
    t0 = time.perf_counter()
    brief = geolog.briefing(
        net,
        r,
        title="Loaded truck: Sant Julià de Lòria → El Serrat",
        purpose="Route check for an 18 t relief truck after heavy rain, under the sample rules.",
        rules=rules,
        dem=dem,
        path=OUT / "andorra-briefing.html",
    )
    size_mb = brief.stat().st_size / 1e6
    print(f"wrote {brief.resolve()} ({size_mb:.2f} MB) in {time.perf_counter() - t0:.2f} s")

    step("Delivery plan: 30 sites, 2 depots, trucks + vans on terrain-aware times (PyVRP, 2 s)")
    plan_dir = ANDORRA / "plan"
    t0 = time.perf_counter()
    p = geolog.plan(
        net, plan_dir / "depots.geojson", plan_dir / "stops.geojson", plan_dir / "fleet.yaml",
        time_limit_s=2,
    )  # fmt: skip
    print(f"{p!r}  in {time.perf_counter() - t0:.1f} s")
    print(p.summary().round(2).to_string(index=False))
    print(f"wrote {p.to_file(OUT / 'plan.gpkg')}")
    html = p.to_map().get_root().render()
    print(f"wrote {atomic_write_text(OUT / 'plan.html', html)}")


if __name__ == "__main__":
    main()
