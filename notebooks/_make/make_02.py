"""Generate notebooks/02_terrain.ipynb (saved without outputs)."""

from pathlib import Path

import nbformat as nbf

cells = [
    (
        "md",
        """# 02 · Terrain: how steep is the road, really?

*A logistics officer plans truck convoys through the Pyrenees of Andorra. The
map shows roads; it does not show that a 1 km stretch between two valley
junctions climbs over a spur and back. She needs slope and mobility maps for
cross-country options, and honest per-direction grades for every road.*

Data: the SRTM3 tile N42E001 (≈ 90 m cells, public domain) and the OSM extract
of Andorra (© OpenStreetMap contributors), both bundled.""",
    ),
    (
        "code",
        """import warnings

import matplotlib.pyplot as plt
import numpy as np

import geolog
from geolog.costing import elevation_profile, steepest_stretch

tile = geolog.data.dem_path("andorra")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", geolog.errors.GeologWarning)
    dem = geolog.DEM.open(tile)
for w in caught:
    print("warning:", w.message)
net = geolog.read_osm(geolog.data.path("andorra"), network="drive")
west, south, east, north = net.nodes.total_bounds
area = dem.clip((west, south, east, north))
print(dem, "| source:", dem.source)""",
    ),
    (
        "md",
        """## Voids: shown, then filled

SRTM has holes (nodata −32768) on steep, shadowed slopes — exactly where roads
climb. Read naively they become a 32 km deep pit. geolog fills them by
interpolation (`rasterio.fill.fillnodata`) and keeps a `filled_mask`, so every
edge that rests on filled data is flagged `terrain_filled`.""",
    ),
    (
        "code",
        """fig, axes = plt.subplots(1, 2, figsize=(12, 5))
extent = (area.bounds[0], area.bounds[2], area.bounds[1], area.bounds[3])
raw = np.where(area.filled_mask, np.nan, area.array)
axes[0].imshow(raw, extent=extent, cmap="terrain")
ys, xs = np.nonzero(area.filled_mask)
t = area.transform
axes[0].scatter(t.c + (xs + 0.5) * t.a, t.f + (ys + 0.5) * t.e, s=2, c="red")
axes[0].set_title(f"raw tile: {int(area.filled_mask.sum())} void cells (red)")
im = axes[1].imshow(area.array, extent=extent, cmap="terrain")
axes[1].set_title("filled")
fig.colorbar(im, ax=axes[1], label="elevation (m)")
plt.show()""",
    ),
    (
        "md",
        """## Slope, hillshade and mobility classes

Derived on a metric grid (UTM 31N): slope by Horn's method (as `gdaldem slope`),
a hillshade, and GO / SLOW-GO / NO-GO per vehicle with thresholds from
`geolog/profiles/mobility.yaml` (slope only — soil, vegetation and obstacles are
not in it).""",
    ),
    (
        "code",
        """from matplotlib.colors import ListedColormap

slope = area.slope(units="percent")
shade = area.hillshade()
fig, axes = plt.subplots(1, 3, figsize=(16, 5))
axes[0].imshow(shade.array, cmap="gray")
axes[0].set_title("hillshade")
im = axes[1].imshow(slope.array, cmap="magma", vmax=100)
fig.colorbar(im, ax=axes[1], label="slope (%)")
axes[1].set_title("slope")
mob = area.mobility("truck").array.astype(float)
mob[mob == 255] = np.nan
axes[2].imshow(mob, cmap=ListedColormap(["#2ca02c", "#ffbf00", "#d62728"]), vmin=0, vmax=2)
axes[2].set_title("truck mobility: green GO, amber SLOW-GO, red NO-GO")
for ax in axes:
    ax.set_axis_off()
plt.show()
for vehicle in ("truck", "tracked", "foot"):
    m = area.mobility(vehicle).array
    ok = m != 255
    share = [100 * np.mean(m[ok] == k) for k in range(3)]
    print(f"{vehicle:8s} GO {share[0]:4.1f} %  SLOW-GO {share[1]:4.1f} %  NO-GO {share[2]:4.1f} %")""",
    ),
    (
        "md",
        """## Draping the roads: an estimate, with its error

`net.with_terrain(dem)` densifies every edge to half a DEM cell and samples all
points in one call, then works on **whole roads**: the edges of each OSM way are
chained in drawing order and ways are joined where the road continues.

A DEM sample is the road's height plus an error. geolog says how large that
error is (`dem.error`, from the product's published accuracy) and **estimates**
each road's profile: the profile that best fits the samples given that a road's
grade changes slowly (a smoothing spline, Eilers 2003), all roads in one sparse
system, every junction one shared unknown, bridges and tunnels straight. Each
**direction of travel** then gets its ascent, descent, mean grade, steepest
stretch (`max_grade`), and how sure that is (`max_grade_sd`, `max_grade_hi`).""",
    ),
    (
        "code",
        """print(dem.error)
hilly = net.with_terrain(dem)
e = hilly.edges
t = hilly.meta["terrain"]
print(f"smoothing length {t['smooth_window_m']:.0f} m, max_grade over {t['max_grade_window_m']:.0f} m")
print(e["grade_class"].value_counts().sort_index())
print(f"{e['terrain_filled'].sum()} edges rest partly on filled voids")""",
    ),
    (
        "md",
        """## Before and after on Andorra's main roads

"Before" is the DEM read as it is (`smooth_window_m=0`: raw samples, each edge
between the raw samples at its nodes). "After" is the estimate. A 12 % rule for
a loaded 40 t truck should not close CG-2 over Envalira, which such trucks drive
every day.""",
    ),
    (
        "code",
        """raw = net.with_terrain(dem, smooth_window_m=0).edges
main = e["ref"].astype(str).str.fullmatch(r"CG-\\d")
fig, ax = plt.subplots(figsize=(8, 3.5))
bins = np.linspace(0, 0.4, 41)
ax.hist(100 * raw.loc[main, "max_grade"].abs(), bins=100 * bins, alpha=0.5, label="raw DEM")
ax.hist(100 * e.loc[main, "max_grade"].abs(), bins=100 * bins, alpha=0.5, label="estimate")
ax.axvline(12, color="k", linestyle=":")
ax.set_xlabel("|max_grade| on CG-1 … CG-6 (%)")
ax.set_ylabel("directed edges")
ax.legend()
plt.show()
for label, frame in (("raw DEM", raw), ("estimate", e)):
    over = frame["max_grade"] > 0.12
    refs = sorted(frame.loc[over & main, "ref"].unique())
    print(f"{label:9s}: {int(over.sum()):4d} directed edges over 12 %, on main roads {int((over & main).sum())} ({', '.join(refs)})")
print(f"cautious screen, max_grade_hi > 12 %: {int((e['max_grade_hi'] > 0.12).sum())} edges the DEM cannot clear")""",
    ),
    (
        "md",
        """## The Envalira climb, with its band

The car route from Andorra la Vella to Port d'Envalira, against the published
figures (27.5 km, about +1,380 m, 5 % on average, about 9 % at its steepest
kilometre; sources in `data/SOURCES.md`). The band is ± 2 sd of the estimated
road height; grey dots are the raw DEM samples along the same road.""",
    ),
    (
        "code",
        """r = geolog.route(hilly, (42.5078, 1.5211), (42.5400, 1.7217), profile="car")
prof = elevation_profile(hilly, list(r.edges["edge"]))
d, z, sd = prof["distance_m"].to_numpy(), prof["elevation_m"].to_numpy(), prof["elevation_sd_m"].to_numpy()
samples = dem.sample(prof["lon"].to_numpy(), prof["lat"].to_numpy())


fig, ax = plt.subplots(figsize=(11, 4))
ax.scatter(d / 1000, samples, s=2, c="gray", label="raw DEM samples")
ax.fill_between(d / 1000, z - 2 * sd, z + 2 * sd, color="tab:blue", alpha=0.3, label="± 2 sd")
ax.plot(d / 1000, z, color="tab:blue", label="estimated road profile")
ax.set_xlabel("km from Andorra la Vella")
ax.set_ylabel("elevation (m)")
ax.legend()
plt.show()
re = hilly.edges.loc[r.edges["edge"]]
print(f"{d[-1] / 1000:.1f} km, net gain {z[-1] - z[0]:.0f} m, ascent {r.ascent_m:.0f} m")
km, _ = steepest_stretch(prof, 1000)
short, at = steepest_stretch(prof, 200)
print(f"steepest km {100 * km:.1f} %, steepest 200 m {100 * short:.1f} % (at km {at / 1000:.1f})")
print(f"max_grade {100 * re['max_grade'].max():.1f} % (sd {100 * re.loc[re['max_grade'].idxmax(), 'max_grade_sd']:.1f} points)")
raw_prof = prof.assign(elevation_m=samples)
print(f"raw samples: steepest 200 m {100 * steepest_stretch(raw_prof, 200)[0]:.1f} %")""",
    ),
    (
        "md",
        """The estimate keeps the long-scale shape (gain, steepest kilometre) and no
longer invents 16 % ramps from the DEM's noise. What it cannot do is see a ramp
shorter than the DEM resolves: on SRTM3 `max_grade_hi` is about 10 points above
`max_grade` — a screen for roads to check, not a routing answer. With a finer
DEM (drop a LiDAR GeoTIFF into `DEM.open`) the smoothing length shrinks to tens
of metres and short ramps stay sharp.""",
    ),
    ("md", "### The steepest roads (by their steepest sustained stretch, segments over 200 m)"),
    (
        "code",
        """long = e[e["length_m"] > 200].copy()
long["max_grade_pct"] = (100 * long["max_grade"]).round(1)
long["grade_pct"] = (100 * long["grade"]).round(1)
cols = ["name", "ref", "highway", "length_m", "ascent_m", "descent_m", "grade_pct", "max_grade_pct"]
long.sort_values("max_grade", ascending=False)[cols].head(10).round(1)""",
    ),
    (
        "code",
        """worst = long["max_grade"].idxmax()
prof = elevation_profile(hilly, [worst])
ax = prof.plot(x="distance_m", y="elevation_m", legend=False, figsize=(8, 3))
ax.set_ylabel("elevation (m)")
ax.set_title(f"edge {worst}: {e.loc[worst, 'highway']}, max grade {100 * e.loc[worst, 'max_grade']:.0f} %")
plt.show()""",
    ),
    (
        "md",
        """## Along the edge vs endpoint-only (osmnx's method)

osmnx's `add_edge_grades` divides the elevation difference of the two end nodes
by the length. Same network, same tile: where do the two disagree?""",
    ),
    (
        "code",
        """import osmnx as ox
import tempfile, pathlib

G = net.to_networkx()
with tempfile.TemporaryDirectory() as tmp:
    tif = area.write(pathlib.Path(tmp) / "andorra.tif")
    G = ox.elevation.add_node_elevations_raster(G, tif, cpus=1)
    G = ox.elevation.add_edge_grades(G)
ox_grade = np.array([d["grade"] for _, _, d in G.edges(data=True)])
print(f"osmnx endpoint grade: max |grade| {np.nanmax(np.abs(ox_grade)):.2f}")
u, v, d = max(G.edges(data=True), key=lambda t: abs(t[2]["grade"]))
rise = G.nodes[v]["elevation"] - G.nodes[u]["elevation"]
print(f"  that edge: {d['length']:.1f} m long, end elevations differ by {rise:.0f} m")
print(f"geolog mean grade:    max |grade| {e['grade'].abs().max():.2f}, max_grade {e['max_grade'].abs().max():.2f}")""",
    ),
    (
        "md",
        """On long edges the two mean grades are close (both are (elev v − elev u) /
length; geolog's node elevations are the estimate, osmnx's the raw samples). On
**short edges** they part: the steepest osmnx edge above is a few metres long,
and its two ends sit on a steep hillside in different 90 m cells tens of metres
apart in height — its grade is the hillside's slope, not the road's. geolog
gives an edge shorter than the grade window the grade of its road over the
window centred on it.""",
    ),
    (
        "code",
        """z = hilly.nodes["elevation"]
endpoint = (z.reindex(e["v"]).to_numpy() - z.reindex(e["u"]).to_numpy()) / e["length_m"]
main = e["highway"].isin(["trunk", "primary", "secondary"])
fig, ax = plt.subplots(figsize=(8, 4))
ax.scatter(e.loc[main, "length_m"], 100 * endpoint[main].abs(), s=4, c="lightgray",
           label="endpoint-only grade")
ax.scatter(e.loc[main, "length_m"], 100 * e.loc[main, "max_grade"].abs(), s=4, c="crimson",
           label="geolog max_grade")
ax.set_xscale("log")
ax.set_xlabel("edge length (m)")
ax.set_ylabel("|grade| (%)")
ax.set_title("main roads: short edges no longer read the hillside")
ax.legend()
plt.show()
for label, g in (("endpoint-only", endpoint[main].abs()), ("geolog max_grade", e.loc[main, "max_grade"].abs())):
    print(f"{label:17s} p90 {100 * np.percentile(g, 90):4.1f} %   edges over 30 %: {int((g > 0.3).sum())}")
cg1 = e.loc[e["ref"] == "CG-1", "max_grade"].abs()
print(f"CG-1 (main valley road): 90 % of its edges under {100 * np.percentile(cg1, 90):.1f} %")""",
    ),
    (
        "md",
        """The other difference is what lies between the ends: **total climb**
versus **net climb**. An edge that climbs over a spur and comes back down has a
small net rise but a large ascent. Endpoint-only methods see only the net rise.""",
    ),
    (
        "code",
        """net_rise = (e["ascent_m"] - e["descent_m"]).abs()
hidden = e["ascent_m"] + e["descent_m"] - net_rise  # climbing that endpoints cannot see
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
sc = axes[0].scatter(e["length_m"], hidden, c=e["max_grade"].abs(), s=4, cmap="viridis", vmax=0.2)
axes[0].set_xscale("log")
axes[0].set_xlabel("edge length (m)")
axes[0].set_ylabel("up-and-down climbing missed by endpoints (m)")
fig.colorbar(sc, ax=axes[0], label="|max_grade|")
big = hidden > 20
e[~big].plot(ax=axes[1], color="lightgray", linewidth=0.5)
e[big].plot(ax=axes[1], color="crimson", linewidth=1.5)
axes[1].set_title(f"{int(big.sum())} edges hide > 20 m of climbing between their ends")
axes[1].set_axis_off()
plt.show()
print(f"climbing invisible to endpoint-only grades, summed over the network: "
      f"{hidden.sum() / 4000:.1f} km up (and as much down), counting each road once")""",
    ),
    (
        "md",
        """**Why they disagree.** Long edges in the valleys follow the slope side
and pass over spurs and ravines between junctions: their ends sit at similar
heights, so endpoint grades call them flat, while a loaded truck climbs and
brakes all the way. Short edges are the opposite: a 90 m DEM cannot resolve a
10 m edge, so endpoint grades explode. geolog measures the steepest stretch
of the road's estimated profile over the window the DEM supports (`max_grade`)
and leaves bridges and tunnels straight.

Limits: SRTM3's ≈ 90 m cells blur narrow valleys, hairpins and cuttings, and a
ramp shorter than ≈ 200 m reads flatter than it is (`max_grade_hi` says how much
steeper it could be). Short one-way slivers at junctions (a piece shorter than
the window) are measured on the roads that continue them; one with no
continuation (a dead end, a crossover at right angles) keeps its own end-to-end
grade. A finer DEM (drop it into
`DEM.open`) helps.""",
    ),
]

nb = nbf.v4.new_notebook()
nb["cells"] = [
    nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
    for kind, src in cells
]
nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
out = Path(__file__).resolve().parents[1] / "02_terrain.ipynb"
nbf.write(nb, out)
print("wrote", out)
