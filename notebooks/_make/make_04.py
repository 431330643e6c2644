"""Generate notebooks/04_map_briefing.ipynb (saved without outputs)."""

from pathlib import Path

import nbformat as nbf

cells = [
    (
        "md",
        """# 04 · Map briefing: from a route to a file a partner can open in the field

*A logistics cell has worked out a route for a loaded 18 t relief truck from
Sant Julià de Lòria to Encamp under the post-flood rules. The convoy leader
will read it on a laptop at the depot — with no internet. She needs a map she
can pan, the steep stretches, the elevation profile, and the rules the route
was computed under, in one file.*

Everything below runs offline: the maps carry Leaflet inline (vendored in
`geolog/assets/`), and the basemap is the DEM hillshade plus the OSM roads.
Data: OSM extract of Andorra (© OpenStreetMap contributors, ODbL) and the SRTM3
tile N42E001 (NASA/USGS, public domain), both bundled.""",
    ),
    (
        "code",
        """import tempfile
import warnings
from pathlib import Path

import geolog
from geolog import maps

with warnings.catch_warnings():  # SRTM voids are filled and flagged on the edges
    warnings.simplefilter("ignore", geolog.errors.GeologWarning)
    dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
net = geolog.read_osm(geolog.data.path("andorra"), network="drive").with_terrain(dem)
rules = geolog.data.path("andorra").parent / "rules" / "truck_loaded.yaml"
sant_julia, encamp = (42.4630, 1.4910), (42.5345, 1.5806)
route = geolog.route(net, sant_julia, encamp, profile="truck", rules=rules)
route""",
    ),
    (
        "md",
        """## Layer by layer

Start from an empty offline map fitted to the network, with a scale bar. OSM
web tiles are offered as an optional layer that is **off** at opening — the map
must not depend on them.""",
    ),
    (
        "code",
        """m = maps.base_map(net, osm_tiles=True, height=520)
maps.hillshade_layer(dem.clip(tuple(net.edges.total_bounds))).add_to(m)
maps.finish(m)""",
    ),
    (
        "md",
        """Now the roads, coloured by the steepest sustained grade of either direction,
in the route-reconnaissance classes of `geolog.costing` (from 7 % a grade is an
obstruction for loaded vehicles). Hover a road for its name and grade; the
legend follows the layer.""",
    ),
    (
        "code",
        """m = maps.base_map(net, height=520)
maps.hillshade_layer(dem.clip(tuple(net.edges.total_bounds))).add_to(m)
maps.network_layer(net, color_by="grade").add_to(m)
maps.finish(m)""",
    ),
    (
        "md",
        """The same roads by the truck's speed (after applying the profile and rules), and
where the rules forbid the truck (`mobility`: NO-GO where priority is 0).""",
    ),
    (
        "code",
        """truck_net = net.apply(profile="truck", rules=rules)
m = maps.base_map(net, height=520)
maps.network_layer(truck_net, color_by="speed_kph", name="truck speed").add_to(m)
maps.network_layer(truck_net, color_by="mobility", name="truck access", show=False,
                   legend_position="bottomleft").add_to(m)
maps.areas_layer(geolog.load_rules(rules)).add_to(m)
maps.finish(m)""",
    ),
    (
        "md",
        """Off the roads, the terrain itself: slope classes and cross-country mobility
(GO / SLOW-GO / NO-GO from slope alone) for the truck, with the route on top and
the 10- and 20-minute isochrones from the start.""",
    ),
    (
        "code",
        """area = dem.clip((1.44, 42.44, 1.62, 42.56))
iso = geolog.routing.isochrones(net, sant_julia, [600, 1200], profile="truck", rules=rules)
m = maps.base_map(bounds=(1.44, 42.44, 1.62, 42.56), height=520)
maps.hillshade_layer(area).add_to(m)
maps.slope_layer(area, show=False).add_to(m)
maps.mobility_layer(area, "truck").add_to(m)
maps.isochrone_layer(iso, show=False).add_to(m)
maps.route_layer(route, name="truck route").add_to(m)
maps.finish(m)""",
    ),
    (
        "md",
        """## The one-liner

`geolog.map` composes the usual layers: hillshade, roads by grade, routes,
isochrones, rule areas, optional slope/mobility overlays.""",
    ),
    (
        "code",
        """geolog.map(net, route=route, dem=dem, rules=geolog.load_rules(rules), slope=True,
           mobility="truck", height=520)""",
    ),
    (
        "md",
        """## The briefing

One HTML file: title, purpose and the data date (OSM snapshot, DEM), the map
(hillshade, place names, water, built-up areas and road numbers from the same
OSM file, the roads, the routes), the route table, the obstructions merged into
one row per steep stretch of road with its km from the start, turn-by-turn
directions with clock times from the departure, the elevation profile, the
rules (YAML + what each matched), the assumptions of the profile and rules used,
data sources with hashes, the generation time and geolog version. The route and rules are embedded as JSON so anyone can reproduce it.
Open the file in a browser with the network cable unplugged: it works.""",
    ),
    (
        "code",
        """out = Path(tempfile.mkdtemp()) / "andorra-briefing.html"
car = geolog.route(net, sant_julia, encamp, profile="car")
path = geolog.briefing(
    net,
    [route, car],
    labels=["truck under flood rules", "car (for comparison)"],
    title="Relief convoy: Sant Julià de Lòria → Encamp",
    purpose="Shelter kits to Encamp after the flood. Check the steep stretches before departure.",
    dem=dem,
    rules=rules,
    departure="07:00",
    path=out,
)
print(path, f"{path.stat().st_size / 1e6:.2f} MB")""",
    ),
    (
        "md",
        """What is inside: the embedded JSON names the route's ends, profile and rules,
and reloading those rules gives the same content hash as the file we used.""",
    ),
    (
        "code",
        """import json
import re

page = path.read_text(encoding="utf-8")
data = json.loads(re.search(r'id="geolog-data">(.*?)</script>', page, re.S).group(1))
r0 = data["routes"][0]
print(r0["label"], r0["origin"], "->", r0["destination"], r0["profile"],
      f"{r0['length_m'] / 1000:.2f} km, {r0['obstructions']} obstructions")
assert geolog.load_rules(data["rules"]).content_hash() == geolog.load_rules(rules).content_hash()""",
    ),
    ("md", """To look at it inside JupyterLab: the same page, in a frame (no server needed)."""),
    (
        "code",
        """import html

from IPython.display import HTML

# srcdoc needs no file server (IPython.display.IFrame only takes a URL)
HTML(f'<div><iframe srcdoc="{html.escape(page)}" style="width:100%;height:640px;'
     'border:1px solid #ccc"></iframe></div>')""",
    ),
    (
        "md",
        """From the shell, the same in one command:

```
geolog brief data/andorra/andorra.osm.pbf --dem data/andorra/N42E001.hgt.zip \\
    --from 42.4630,1.4910 --to 42.5345,1.5806 --profile truck \\
    --rules data/andorra/rules/truck_loaded.yaml --title "Relief convoy" -o briefing.html
```""",
    ),
]

nb = nbf.v4.new_notebook()
nb.cells = [
    nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
    for kind, src in cells
]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
out = Path(__file__).resolve().parent.parent / "04_map_briefing.ipynb"
nbf.write(nb, out)
print(f"wrote {out}")
