"""Briefing page assembly: the map (folium), the embedded JSON and the HTML page itself."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._basemap import add_basemap
from ._html import escape, script_json

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

logger = logging.getLogger(__name__)


_PAGE_CSS = """
:root { --ink: #1d2a33; --muted: #5b6b75; --line: #d9e0e4; --accent: #1f5f8b; --warn: #b03a2e; }
html, body { height: auto; margin: 0; padding: 0; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 0 20px 40px; }
header.top { border-bottom: 3px solid var(--accent); padding: 18px 0 10px; margin-bottom: 10px; }
header.top h1 { margin: 0 0 4px; font-size: 26px; }
.purpose { font-size: 16px; margin: 6px 0; white-space: pre-wrap; }
.meta { color: var(--muted); font-size: 13px; }
nav.toc a { margin-right: 14px; color: var(--accent); font-size: 13px; }
main > section { margin: 22px 0; }
h2 { font-size: 19px; border-bottom: 1px solid var(--line); padding-bottom: 3px; }
h3 { font-size: 16px; margin: 14px 0 6px; }
.map-frame { position: relative; height: 560px; border: 1px solid var(--line); }
table.data { border-collapse: collapse; margin: 6px 0 12px; font-size: 13.5px; }
table.data th, table.data td { border: 1px solid var(--line); padding: 3px 8px; text-align: left;
  vertical-align: top; }
table.data th { background: #f2f5f7; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.obstruction td { background: #fbeaea; }
.flag { color: var(--warn); font-weight: 600; }
pre.yaml { background: #f6f8fa; border: 1px solid var(--line); padding: 8px 10px; overflow-x: auto;
  font-size: 12.5px; white-space: pre-wrap; }
.note { color: var(--muted); font-size: 13px; }
svg.profile { max-width: 900px; display: block; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: middle;
  margin-right: 4px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { font-size: 10.5pt; }
  nav.toc, .leaflet-control-zoom, .leaflet-control-layers { display: none !important; }
  main { max-width: none; padding: 0; }
  .map-frame { height: 15cm; page-break-inside: avoid; }
  .leaflet-control-attribution { font-size: 7pt; }
  main > section { page-break-inside: avoid; }
  table.data { page-break-inside: auto; }
  tr { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def route_json(route: Any, summary: dict, label: str) -> dict:
    d: dict[str, Any] = {"label": label, **summary}
    f = getattr(route, "summary", None)
    if callable(f):
        d.update(f())
    for k in ("origin", "destination", "via"):
        v = getattr(route, k, None)
        if v is not None:
            d[k] = v
    f = getattr(route, "to_geojson", None)
    if callable(f):
        try:
            gj = f()
            d["geojson"] = gj if isinstance(gj, Mapping) else json.loads(gj)
        except Exception as err:  # noqa: BLE001
            logger.info("route.to_geojson failed: %s", err)
    if "geojson" not in d and getattr(route, "geometry", None) is not None:
        import shapely

        d["geometry"] = json.loads(shapely.to_geojson(shapely.set_precision(route.geometry, 1e-6)))
    return d


def render_map(
    net: Network | None,
    routes: list[Any],
    labels: list[str],
    dem: Any,
    rules: Any,
    osm_tiles: bool,
    basemap: Any = None,
    *,
    extra_layers: Sequence[Any] = (),
) -> tuple[str, str, str]:
    """(header, body html, script) of the briefing map, rendered by folium.

    ``extra_layers`` (folium layers, e.g. threat zones) go above the roads and
    rule areas, under the routes.
    """
    import shapely
    from branca.element import Figure

    from . import maps

    b = shapely.bounds(np.array([r.geometry for r in routes]))
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    pad_x, pad_y = max((e - w) * 0.15, 0.005), max((n - s) * 0.15, 0.005)
    view = (w - pad_x, s - pad_y, e + pad_x, n + pad_y)
    m = maps.base_map(None, bounds=view, osm_tiles=osm_tiles, height="100%")
    if dem is not None:
        nb = tuple(net.edges.total_bounds) if net is not None and len(net.edges) else view
        d = dem
        if hasattr(dem, "clip"):
            try:
                d = dem.clip(nb)
            except Exception as err:  # noqa: BLE001
                logger.info("not clipping the DEM: %s", err)
        maps.hillshade_layer(d).add_to(m)
    add_basemap(m, basemap, net)
    if net is not None and len(net.edges):
        has_terrain = "max_grade" in net.edges.columns or "grade" in net.edges.columns
        maps.network_layer(
            net, color_by="grade" if has_terrain else "highway", name="roads"
        ).add_to(m)
    if rules is not None and maps._rule_areas(rules):
        maps.areas_layer(rules).add_to(m)
    for layer in extra_layers:
        layer.add_to(m)
    for i, (r, lab) in enumerate(zip(routes, labels, strict=True)):
        maps.route_layer(
            r, name=lab, color=None if i == 0 else maps._CAT[i % len(maps._CAT)]
        ).add_to(m)
    maps.finish(m, collapsed=True)
    fig = Figure()
    fig.add_child(m)
    fig.render()
    header = fig.header.render()
    body = fig.html.render()
    script = fig.script.render()
    script += (
        f"\nwindow.geologMap = {m.get_name()};\nwindow.geologMapReady = true;\n"
        "window.geologMapReadyAt = performance.now();\n"
    )
    return header, body, script


def data_date(basemap: Any, dem: Any) -> str:
    """'Data: OpenStreetMap <file> as of <date> · elevation <source>' for the page header."""
    parts = []
    if basemap is not None:
        when = f" as of {basemap.timestamp[:10]}" if basemap.timestamp else ""
        parts.append(f"OpenStreetMap {basemap.source}{when}")
    src = getattr(dem, "source", None) if dem is not None else None
    if src:
        parts.append(f"elevation {src}")
    return "Data: " + " · ".join(parts) if parts else ""


def render_page(
    *,
    title: str,
    purpose: str,
    generated: str,
    version: str,
    map_parts: tuple[str, str, str],
    data_date: str = "",
    sections: dict[str, str],
    data: dict,
) -> str:
    """The whole HTML page.

    ``title``, ``purpose``, ``generated`` and ``version`` are escaped here;
    ``map_parts`` (folium's header, body, script) and ``sections`` are HTML
    already escaped by their builders; ``data`` goes into the
    ``application/json`` script through :func:`geolog._html.script_json`.
    """
    map_header, map_body, map_script = map_parts
    risk = sections.get("risk", "")
    risk_toc = '<a href="#risk">Risks</a>' if risk else ""
    risk_section = (
        f'<section id="risk"><h2>Risks and contingencies</h2>{risk}</section>\n' if risk else ""
    )
    tracking = sections.get("tracking", "")
    tracking_toc = '<a href="#tracking">Tracking</a>' if tracking else ""
    tracking_section = (
        f'<section id="tracking"><h2>Tracking: plan against actual</h2>{tracking}</section>\n'
        if tracking
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="geolog {escape(version)}">
<title>{escape(title)}</title>
{map_header}
<style>{_PAGE_CSS}</style>
</head>
<body>
<main>
<header class="top">
<h1>{escape(title)}</h1>
<p class="purpose">{escape(purpose)}</p>
<p class="meta data-date">{escape(data_date)}</p>
<p class="meta">Generated {escape(generated)} · geolog {escape(version)} · works offline</p>
<nav class="toc"><a href="#map-section">Map</a><a href="#routes">Routes</a><a href="#directions">Directions</a><a href="#profile">Elevation</a>{risk_toc}{tracking_toc}<a href="#rules">Rules</a><a href="#assumptions">Assumptions</a><a href="#sources">Sources</a></nav>
</header>
<section id="map-section"><h2>Map</h2>
<div class="map-frame">{map_body}</div>
<p class="note">Basemap: hillshade of the elevation model, place names, water, built-up areas, forest and road numbers from the OpenStreetMap file, and the road network (coloured by steepest grade), all embedded in this file. OpenStreetMap web tiles are an optional layer (needs internet).</p>
</section>
<section id="routes"><h2>Routes</h2>{sections["routes"]}</section>
<section id="directions"><h2>Directions</h2>{sections.get("directions", "")}</section>
<section id="profile"><h2>Elevation profile</h2>{sections["profile"]}</section>
{risk_section}{tracking_section}<section id="rules"><h2>Rules in force</h2>{sections["rules"]}</section>
<section id="assumptions"><h2>Assumptions</h2>{sections["assumptions"]}</section>
<section id="sources"><h2>Data sources</h2>{sections["sources"]}</section>
</main>
<script type="application/json" id="geolog-data">{script_json(data)}</script>
<script>
{map_script}
</script>
</body>
</html>
"""
