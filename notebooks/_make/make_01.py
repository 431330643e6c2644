"""Generate notebooks/01_road_network.ipynb (saved without outputs)."""

import nbformat as nbf

cells = [
    (
        "md",
        """# 01 · The road network: Andorra from OpenStreetMap, offline

*An analyst for a humanitarian logistics cell has been handed an OpenStreetMap
extract of Andorra and no internet. Before anything else she needs to know what
road network she is working with: how many kilometres of what, where the
one-way streets are, and whether it is the same network osmnx would give her.*

geolog reads the file with pyosmium in one pass and keeps only the roads of the
chosen network type.""",
    ),
    (
        "code",
        """import time

import matplotlib.pyplot as plt

import geolog

path = geolog.data.path("andorra")
t0 = time.perf_counter()
net = geolog.read_osm(path, network="drive")
build_s = time.perf_counter() - t0
print(f"{net!r} in {build_s:.2f} s")""",
    ),
    (
        "md",
        "## What is in it\n\nKilometres by road class count each road segment once (a two-way road has two directed edge rows).",
    ),
    (
        "code",
        """s = net.summary()
print(f"{s['nodes']:,} nodes, {s['edges']:,} directed edges, {s['segments']:,} segments, {s['length_km']:.0f} km")
print("bbox (lon/lat):", s["bbox"])
s["km_by_highway"].round(1).to_frame()""",
    ),
    (
        "code",
        """net.edges[["u", "v", "osmid", "highway", "name", "ref", "surface", "oneway", "length_m"]].head()""",
    ),
    ("md", "Where the provenance lives: every network records the source file and its SHA-256."),
    ("code", """net.meta"""),
    (
        "md",
        """## A map of the network

Main roads in dark colours, tracks dashed grey. Tracks stay in geolog's `drive`
network (osmnx drops them): in the mountains they are often the only way in,
and route rules decide who may use them.""",
    ),
    (
        "code",
        """fig, ax = plt.subplots(figsize=(9, 7))
edges = net.edges
main = edges[edges["highway"].isin(["primary", "secondary", "trunk", "tertiary"])]
tracks = edges[edges["highway"] == "track"]
rest = edges.drop(main.index).drop(tracks.index)
rest.plot(ax=ax, color="#999", linewidth=0.6)
tracks.plot(ax=ax, color="#b08a5a", linewidth=0.6, linestyle="--")
main.plot(ax=ax, column="highway", linewidth=1.6, legend=True, cmap="viridis")
ax.set_title("Andorra, drive network (© OpenStreetMap contributors)")
ax.set_axis_off()""",
    ),
    (
        "md",
        """## Compared with osmnx on the same file

osmnx reads OSM XML only, so convert the PBF once with pyosmium
(`geolog.osm.convert`). `ox.graph_from_xml` keeps **every** way of the file as a
graph edge — rivers, power lines, administrative boundaries — so its "road"
network includes edges many kilometres long that no vehicle can drive.""",
    ),
    (
        "code",
        """import tempfile
from pathlib import Path

import osmnx as ox

xml = geolog.osm.convert(path, Path(tempfile.mkdtemp()) / "andorra.osm")
t0 = time.perf_counter()
G = ox.graph_from_xml(xml, retain_all=True)
osmnx_s = time.perf_counter() - t0
ox_edges = ox.graph_to_gdfs(G, nodes=False)
print(f"osmnx: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges in {osmnx_s:.1f} s")
print(f"geolog: {len(net.nodes):,} nodes, {len(net.edges):,} edges in {build_s:.2f} s")""",
    ),
    (
        "code",
        """# osmnx's edges that are not roads at all (no highway tag on the way)
not_road = ox_edges[ox_edges["highway"].isna()] if "highway" in ox_edges else ox_edges
print(f"{len(not_road):,} osmnx edges are not roads; the longest:")
ox_edges.sort_values("length", ascending=False)[["highway", "name", "length"]].head(8)""",
    ),
    (
        "md",
        """And the other way round: geolog's interop gives osmnx tools a graph with
only the roads, in osmnx's own format (`crs`, node `x`/`y`, edge `length`,
`geometry`, `street_count`).""",
    ),
    (
        "code",
        """H = net.to_networkx()
stats = ox.stats.basic_stats(H)
print(f"osmnx stats on geolog's graph: {stats['n']:,} nodes, {stats['street_length_total'] / 1000:.0f} km of streets")""",
    ),
    (
        "md",
        """## Keep it: save and load

One GeoParquet file holds edges, nodes and the metadata. Writes are atomic; the
same input gives the same fingerprint, so a colleague can check she routes on
exactly the network you did.""",
    ),
    (
        "code",
        """out = Path(tempfile.mkdtemp()) / "andorra.parquet"
net.save(out)
back = geolog.load(out)
print(out.stat().st_size // 1024, "KiB")
assert back.fingerprint() == net.fingerprint()
back.fingerprint()[:16]""",
    ),
    (
        "md",
        """## The largest connected piece

Routing between two points needs a path both ways; the largest strongly
connected component is what most analyses start from.""",
    ),
    (
        "code",
        """core = net.largest_component()
print(f"largest strongly connected component: {len(core.nodes):,} of {len(net.nodes):,} nodes")""",
    ),
]

nb = nbf.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
for kind, src in cells:
    nb.cells.append(nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src))
nbf.write(nb, "notebooks/01_road_network.ipynb")
