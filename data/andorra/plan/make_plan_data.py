"""Generate data/andorra/plan/{depots,stops}.geojson and fleet.yaml (example inputs).

Villages of Andorra at approximate coordinates, moved onto the nearest road node
of the bundled network so every site sits on a road; demands and windows come
from a fixed random seed. It reads the OSM extract beside it and writes next to
itself, from any current directory: ``python data/andorra/plan/make_plan_data.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

import geolog

OUT = Path(__file__).resolve().parent
OSM = OUT.parent / "andorra.osm.pbf"

DEPOTS = {"DEP-SUD": (42.4637, 1.4913), "DEP-EST": (42.5347, 1.5800)}
SITES = {
    "Andorra la Vella": (42.5063, 1.5218), "Escaldes": (42.5089, 1.5386),
    "Canillo": (42.5667, 1.5981), "Soldeu": (42.5767, 1.6676), "El Tarter": (42.5797, 1.6509),
    "Pas de la Casa": (42.5426, 1.7336), "Grau Roig": (42.5322, 1.7011), "Ordino": (42.5560, 1.5331),
    "La Massana": (42.5450, 1.5148), "Arinsal": (42.5720, 1.4843), "Pal": (42.5486, 1.4899),
    "Erts": (42.5608, 1.4990), "Aixovall": (42.4770, 1.4890), "Santa Coloma": (42.4944, 1.4983),
    "Sispony": (42.5340, 1.5157), "Anyós": (42.5358, 1.5252), "Llorts": (42.5977, 1.5274),
    "El Serrat": (42.6176, 1.5395), "La Cortinada": (42.5762, 1.5186), "Arans": (42.5853, 1.5203),
    "Ransol": (42.5812, 1.6364), "Meritxell": (42.5561, 1.5906), "Prats": (42.5620, 1.5940),
    "Les Bons": (42.5357, 1.5864), "Engolasters": (42.5199, 1.5675), "Juberri": (42.4508, 1.4957),
    "Auvinyà": (42.4614, 1.4825), "Fontaneda": (42.4534, 1.4632), "Bixessarri": (42.4833, 1.4611),
    "Nagol": (42.4700, 1.5050),
}  # fmt: skip


def snap(net, latlon):
    big = net.largest_component()
    xy = big.nodes[["x", "y"]].to_numpy(float)
    k = np.cos(np.deg2rad(42.5))
    _, i = cKDTree(np.c_[xy[:, 0] * k, xy[:, 1]]).query(np.c_[latlon[:, 1] * k, latlon[:, 0]])
    return xy[i, 1], xy[i, 0]


def feature(props, lat, lon):
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
    }


def main():
    net = geolog.read_osm(OSM, network="drive")
    rng = np.random.default_rng(7)
    OUT.mkdir(parents=True, exist_ok=True)
    lat, lon = snap(net, np.array(list(DEPOTS.values())))
    feats = [feature({"id": n}, a, b) for n, a, b in zip(DEPOTS, lat, lon, strict=True)]
    (OUT / "depots.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, indent=1)
    )
    lat, lon = snap(net, np.array(list(SITES.values())))
    feats = []
    for i, (name, a, b) in enumerate(zip(SITES, lat, lon, strict=True)):
        props = {
            "id": f"S{i + 1:02d}",
            "name": name,
            "demand_kg": int(rng.integers(2, 16) * 100),
            "demand_pallets": int(rng.integers(1, 4)),
            "service_s": int(rng.integers(5, 16) * 60),
        }
        if i % 4 == 0:  # a quarter of the sites receive in the morning only
            props["tw_start_s"] = 8 * 3600
            props["tw_end_s"] = 12 * 3600
        feats.append(feature(props, a, b))
    (OUT / "stops.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False, indent=1)
    )
    (OUT / "fleet.yaml").write_text(
        """\
# Example fleet for data/andorra/plan: capacities are [kg, pallets] like the stops'
# demand_kg, demand_pallets; times are seconds after midnight (07:00 = 25200).
vehicles:
  - {name: truck-sud, count: 3, capacity: [6000, 10], profile: truck, depot: DEP-SUD,
     shift_start_s: 25200, shift_end_s: 61200, max_duration_s: 32400, fixed_cost: 1800}
  - {name: van-sud, count: 2, capacity: [1500, 4], profile: car, depot: DEP-SUD,
     shift_start_s: 25200, shift_end_s: 61200, fixed_cost: 600}
  - {name: truck-est, count: 2, capacity: [6000, 10], profile: truck, depot: DEP-EST,
     shift_start_s: 25200, shift_end_s: 61200, max_duration_s: 32400, fixed_cost: 1800}
  - {name: van-est, count: 2, capacity: [1500, 4], profile: car, depot: DEP-EST,
     shift_start_s: 25200, shift_end_s: 61200, fixed_cost: 600}
""",
        encoding="utf-8",
    )
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
