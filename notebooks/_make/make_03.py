"""Generate notebooks/03_route_rules.ipynb (saved without outputs).

Run: .venv/bin/python notebooks/_make/make_03.py
"""

import nbformat as nbf

cells = [
    (
        "md",
        """# 03 · Route rules: one relief trip, three travellers, rules added one by one

*A logistics officer at the southern depot in Sant Julià de Lòria (DEP-SUD) has
to send a loaded 18 t truck up to Engolasters, above Escaldes, after heavy
rain. She wants to know what the truck can actually drive compared with a car
and a runner on foot, what each of her route rules changes, what happens when
a rule closes the only road, which alternatives she has, and how far the
depot reaches in 10, 20 and 30 minutes.*

Everything runs offline on the bundled Andorra extract and SRTM tile; the
sample rules are `data/andorra/rules/truck_loaded.yaml`.""",
    ),
    (
        "code",
        """import copy
import warnings

import geopandas as gpd
import matplotlib.pyplot as plt
import pandas as pd
import yaml

import geolog
from geolog.errors import GeologWarning, NoRouteError

rules_dir = geolog.data.path("andorra").parent / "rules"
with warnings.catch_warnings():
    warnings.simplefilter("ignore", GeologWarning)  # SRTM voids are filled and flagged per edge
    dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
    net = geolog.read_osm(geolog.data.path("andorra")).with_terrain(dem)
    walk = geolog.read_osm(geolog.data.path("andorra"), network="walk").with_terrain(dem)
depot = (42.463704, 1.490886)  # DEP-SUD, Sant Julià de Lòria  (lat, lon)
engolasters = (42.5199, 1.5675)
cols = ["profile", "length_m", "duration_s", "ascent_m", "descent_m", "max_grade", "edges"]
net""",
    ),
    (
        "md",
        """## 1 · The same trip for a car, a loaded truck and someone on foot

`geolog.route` snaps both points onto the nearest road the profile may use
(part-way along the edge, not to the nearest junction) and runs Dijkstra on
the CSR view of the profile's `cost`. The truck's speed comes from its climb
model (power vs mass on the grade); on foot it is Tobler's hiking function.
The walker uses the `walk` network (footpaths and steps included) and obeys
the access tags: stretches of the valley's main road are `foot=no`.""",
    ),
    (
        "code",
        """trips = {p: geolog.route(net, depot, engolasters, profile=p) for p in ("car", "truck")}
try:
    trips["foot"] = geolog.route(walk, depot, engolasters, profile="foot")
except NoRouteError as err:
    print("on foot:", err)
pd.DataFrame([r.summary() for r in trips.values()])[cols].round(3)""",
    ),
    (
        "code",
        """ax = net.plot(plt.subplots(figsize=(7, 6))[1], color="0.8", linewidth=0.5)
for (name, r), color in zip(trips.items(), ["tab:blue", "tab:red", "tab:green"]):
    ax.plot(*r.geometry.xy, color=color, linewidth=2.5, alpha=0.8, label=f"{name}: {r!r}"[:60])
ax.legend(loc="lower right", fontsize=8)
ax.set_title("Sant Julià de Lòria → Engolasters");""",
    ),
    (
        "md",
        """Car and truck follow the valley: in Andorra there is rarely a second
road. The profiles change the time (the truck's climb model slows it on every
ramp), much less the line. On foot there is no way at all in this extract:
the main road out of Sant Julià is tagged `foot=no` and no footpath replaces
it, so geolog says so rather than send a walker where walkers may not go.

## 2 · Adding the rules one by one

The sample rule file has a flood-zone penalty, penalties for tracks and side
streets, speed limits on gravel and steep descents, a `distance_influence`
and a grade ban. We add them one at a time and watch the route and, per rule,
how many of the route's own edges it touched (`geolog.rules.rule_masks`).""",
    ),
    (
        "code",
        """full = yaml.safe_load((rules_dir / "truck_loaded.yaml").read_text())
full["areas"] = {"flood_zone": str(rules_dir / "flood_zone.geojson")}  # absolute: we build dicts here
grade_ban, flood, tracks, side_streets = full["priority"]
steps = {
    "truck profile only": {},
    "+ flood zone: only if no other way": {"priority": [flood], "areas": full["areas"]},
    "+ tracks and side streets": {"priority": [flood, tracks, side_streets], "areas": full["areas"]},
    "+ gravel 30 km/h, brake on descents": {
        "priority": [flood, tracks, side_streets], "speed": full["speed"], "areas": full["areas"]
    },
    "+ distance_influence 30 s/km": {
        "priority": [flood, tracks, side_streets], "speed": full["speed"], "areas": full["areas"],
        "distance_influence": full["distance_influence"],
    },
    "+ no sustained grade > 18 % (the whole file)": {**full, "priority": [grade_ban, flood, tracks, side_streets]},
}
routes, rows = {}, []
for name, rs in steps.items():
    rs = {**rs, "profile": "truck"}
    try:
        r = geolog.route(net, depot, engolasters, rules=rs)
    except NoRouteError as err:
        rows.append({"rules": name, "result": "NO ROUTE: " + str(err).split(": ", 1)[1][:110] + " …"})
        continue
    routes[name] = r
    first = next(iter(routes.values()))
    shared = r.edges.merge(first.edges[["u", "v"]].drop_duplicates(), on=["u", "v"])
    touched = geolog.rules.rule_masks(rs, net).loc[r.edges["edge"]].sum() if len(rs) > 1 else {}
    said = {f"{e.section}[{e.index}]": e.condition for e in geolog.explain(rs, net).itertuples()}
    rows.append(
        {
            "rules": name,
            "km": round(r.length_m / 1000, 2),
            "minutes": round(r.duration_s / 60, 1),
            "same road as first": f"{shared['traversed_m'].sum() / r.length_m:.0%}",
            "result": "; ".join(f"'{said.get(k, k)}': {v} edges" for k, v in dict(touched).items() if v),
        }
    )
pd.set_option("display.max_colwidth", 200)
pd.DataFrame(rows).fillna("")""",
    ),
    (
        "code",
        """ax = net.plot(plt.subplots(figsize=(7, 6))[1], color="0.8", linewidth=0.5)
zone = geolog.rules.load_rules(rules_dir / "flood_closure.yaml").areas["flood_zone"]
gpd.GeoSeries([zone], crs="EPSG:4326").plot(ax=ax, color="tab:blue", alpha=0.3)
for (name, r), lw in zip(routes.items(), [6.5, 5.5, 4.5, 3.5, 2.5, 1.5], strict=False):
    ax.plot(*r.geometry.xy, linewidth=lw, alpha=0.7, label=name)
ax.legend(loc="lower right", fontsize=8)
ax.set_title("The truck's route as rules are added (blue: flood zone)");""",
    ),
    (
        "md",
        """The flood-zone penalty moves the truck off the valley floor next to the
depot; the speed rules cost time, not road. The 18 % grade ban leaves a way
open: with each road's profile estimated from the 90 m SRTM tile and its error
model, no stretch on the way up reads above 18 %, so the last row still has a
route (and the plot all six). What the whole rule file does to the network is
`geolog.explain` — edges matched, km, edges forbidden:""",
    ),
    (
        "code",
        """geolog.explain(rules_dir / "truck_loaded.yaml", net).drop(columns=["value"]).round(1)""",
    ),
    (
        "md",
        """## 3 · When a rule cuts the map

The truck now tows a heavy trailer: no sustained grade above 8 %. That closes
the main road up (the CG-2), and there is no other way. The error names the
rule that closed the way, and the road:""",
    ),
    (
        "code",
        """strict = copy.deepcopy(full)
strict["priority"][0]["if"] = "max_grade > 0.08"  # heavy trailer: 8 % at most
try:
    geolog.route(net, depot, engolasters, rules=strict)
except NoRouteError as err:
    print(err)""",
    ),
    (
        "md",
        """She trusts the engineered, classified roads and scopes the ban to the
rest (tracks, service and residential streets), then routes again:""",
    ),
    (
        "code",
        """scoped = copy.deepcopy(strict)
scoped["priority"][0]["if"] += " and highway not in ('trunk', 'primary', 'secondary')"
truck = geolog.route(net, depot, engolasters, rules=scoped)
truck""",
    ),
    (
        "md",
        """Composing the scenario override `flood_closure.yaml` (valley floor closed
outright) on top of the base rules cuts Sant Julià off from the north
entirely — again the error names the rules:""",
    ),
    (
        "code",
        """closed = geolog.load_rules([rules_dir / "truck_loaded.yaml", rules_dir / "flood_closure.yaml"])
try:
    geolog.route(net, depot, (42.5063, 1.5218), rules=closed)  # to Andorra la Vella
except NoRouteError as err:
    print(err)""",
    ),
    (
        "md",
        """## 4 · Alternatives

`geolog.alternatives` uses the penalty method: the edges of each route found
get dearer and the search runs again; a candidate is kept if at most 70 % of it
runs on roads of an earlier route and it costs at most 1.5× the best.""",
    ),
    (
        "code",
        """alts = geolog.alternatives(net, depot, engolasters, k=3, rules=scoped)
pd.DataFrame([a.summary() for a in alts])[["length_m", "duration_s", "stretch", "overlap"]].round(3)""",
    ),
    (
        "code",
        """ax = net.plot(plt.subplots(figsize=(7, 6))[1], color="0.8", linewidth=0.5)
for i, (a, c) in enumerate(zip(alts, ["tab:red", "tab:orange", "tab:purple"])):
    ax.plot(*a.geometry.xy, color=c, linewidth=4 - i, label=f"route {i + 1}: stretch {a.stretch:.2f}")
ax.legend(loc="lower right")
ax.set_title("Three genuinely different ways up");""",
    ),
    (
        "md",
        """## 5 · What the depot reaches in 10, 20 and 30 minutes

Isochrones run one Dijkstra by travel time under the same rules, cut the
frontier edges at the remaining time, and buffer the reached road stretches
by 50 m. Car against loaded truck:""",
    ),
    (
        "code",
        """budgets = [600, 1200, 1800]
iso_truck = geolog.isochrones(net, depot, budgets, rules=rules_dir / "truck_loaded.yaml")
iso_car = geolog.isochrones(net, depot, budgets, profile="car")
pd.DataFrame(
    {
        "minutes": iso_car["time_s"] / 60,
        "car km reached": iso_car["reached_km"],
        "truck km reached": iso_truck["reached_km"],
    }
).round(1)""",
    ),
    (
        "code",
        """fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, (name, iso) in zip(axes, {"car": iso_car, "loaded truck + rules": iso_truck}.items()):
    net.plot(ax, color="0.8", linewidth=0.5)
    for (_, z), c in zip(iso[::-1].iterrows(), ["#fde0c5", "#f59e72", "#c2410c"]):
        gpd.GeoSeries([z.geometry]).plot(ax=ax, color=c, alpha=0.8)
    ax.plot(depot[1], depot[0], "k*", markersize=12)
    ax.set_title(f"{name}: 10 / 20 / 30 min")""",
    ),
    (
        "md",
        """## 6 · The truck's directions and climb

Directions group consecutive edges by road name/ref and read the turn from the
headings; the elevation profile samples the DEM along the route exactly as the
terrain costing does.""",
    ),
    (
        "code",
        """truck.directions()[["instruction", "distance_m", "duration_s"]].round(0).head(12)""",
    ),
    (
        "code",
        """p = truck.profile()
ax = p.plot(x="distance_m", y="elevation_m", legend=False, figsize=(8, 3))
ax.set_xlabel("distance (m)")
ax.set_ylabel("elevation (m)")
ax.set_title(repr(truck));""",
    ),
    (
        "md",
        """**Caveats.** SRTM3 (90 m) smooths valleys and overstates grades on roads
cut into steep slopes; the sample grade ban is set at 18 % for that reason
(write 10 % on a 5 m lidar DEM). The flood zone is illustrative, not an
official hazard map. Map data © OpenStreetMap contributors (ODbL).""",
    ),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
for kind, src in cells:
    nb.cells.append(nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src))
nbf.write(nb, "notebooks/03_route_rules.ipynb")
