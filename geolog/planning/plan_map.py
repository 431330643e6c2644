"""Drawing a :class:`~geolog.planning.result.Plan` on an offline folium map."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely

from .._export_xml import PALETTE as _PALETTE
from .._format import fmt_clock
from .._html import escape
from .._leaflet import GeoJsonLayer
from .._map_base import _feature, base_map, finish, legend

if TYPE_CHECKING:
    from .result import Plan

__all__ = ["draw_plan"]


def draw_plan(
    plan: Plan,
    *,
    m: Any = None,
    name: str | None = None,
    osm_tiles: bool = False,
    title: str | None = None,
    basemap: Any = None,
):
    """Draw ``plan`` on ``m`` (a new offline map if None); see :meth:`Plan.to_map`."""
    if m is None:
        m = _new_map(plan, osm_tiles=osm_tiles, title=title, basemap=basemap)
    # vehicles of a later plan on the same map continue the palette
    first = getattr(m, "_geolog_plan_colours", 0)
    label = f"{name}: " if name else ""
    vehicles = list(dict.fromkeys(plan.routes["vehicle"]))
    colours = {v: _PALETTE[(first + i) % len(_PALETTE)] for i, v in enumerate(vehicles)}
    m._geolog_plan_colours = first + len(vehicles)
    dash = None if first == 0 else "8 6"
    for veh in vehicles:
        _vehicle_layer(plan, veh, colours[veh], label, dash).add_to(m)
    if len(plan.unserved):
        _unserved_layer(plan, label).add_to(m)
    _depot_layer(plan, label).add_to(m)
    items = [(colours[v], f"{label}{v}") for v in vehicles]
    legend(f"{name or 'plan'}: vehicles", items, position="bottomright").add_to(m)
    return finish(m, collapsed=True)


def _new_map(plan: Plan, *, osm_tiles: bool, title: str | None, basemap: Any) -> Any:
    """Base map fitted to the plan's points with hillshade, base map and roads of its network."""
    from .._basemap import add_basemap
    from .._brief_context import dem_from_meta
    from .._leaflet import HtmlControl
    from .._map_roads import network_layer
    from .._map_terrain import hillshade_layer

    pts = plan.points
    bounds = (pts["lon"].min(), pts["lat"].min(), pts["lon"].max(), pts["lat"].max())
    m = base_map(bounds=bounds, osm_tiles=osm_tiles)
    net = plan._net
    dem = dem_from_meta(net)
    if dem is not None:
        hillshade_layer(dem.clip(tuple(net.edges.total_bounds))).add_to(m)
    add_basemap(m, basemap, net)
    if net is not None and len(net.edges):
        network_layer(
            net, color_by="highway", name="roads", color="#6d6d6d", weight=1.5, legend_position=None
        ).add_to(m)
    text = title or f"Distribution plan — {len(plan.routes['vehicle'].unique())} vehicles"
    HtmlControl(f"<h4>{escape(text)}</h4>", position="topleft").add_to(m)
    return m


def _vehicle_layer(plan: Plan, veh: Any, colour: str, label: str, dash: str | None) -> Any:
    legs = plan.routes[plan.routes["vehicle"] == veh]
    km = legs["distance_m"].sum() / 1000
    style = {"color": colour, "weight": 4, "opacity": 0.85, "dashArray": dash}
    feats = [
        _feature(g, style=style, tooltip=escape(f"{label}{veh}: {km:.1f} km"))
        for g in legs.geometry
    ]
    stop_style = {"color": "#ffffff", "weight": 1.5, "fillColor": colour, "fillOpacity": 1}
    stops = plan.stops[plan.stops["vehicle"] == veh].sort_values("seq")
    feats += [
        _feature(
            s.geometry,
            style={**stop_style, "radius": 8},
            label=escape(int(s["seq"])),
            popup=escape(
                f"{_label(s)} — {veh} stop {int(s['seq'])}, arrive {fmt_clock(s['arrival_s'])}"
            ),
        )
        for _, s in stops.iterrows()
    ]
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(f"{label}{veh}")
    )


def _unserved_layer(plan: Plan, label: str) -> Any:
    style = {"color": "#555555", "fillColor": "#ffffff", "fillOpacity": 1, "radius": 7}
    feats = [
        _feature(
            s.geometry,
            style=style,
            tooltip=escape(f"{_label(s)} unserved: {s['reason']} — {s['detail']}"),
        )
        for _, s in plan.stops[~plan.stops["served"]].iterrows()
    ]
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(f"{label}unserved")
    )


def _depot_layer(plan: Plan, label: str) -> Any:
    style = {
        "color": "#ffffff",
        "fillColor": "#000000",
        "fillOpacity": 1,
        "radius": 10,
        "weight": 2,
    }
    feats = [
        _feature(
            shapely.Point(d["lon"], d["lat"]),
            style=style,
            label="D",
            popup=escape(f"depot {d['id']}"),
        )
        for _, d in plan._depots_input.iterrows()
    ]
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(f"{label}depots")
    )


def _label(row: pd.Series) -> str:
    name = row.get("name")
    if (
        name is None
        or (isinstance(name, float) and math.isnan(name))
        or str(name) == str(row["id"])
    ):
        return str(row["id"])
    return f"{row['id']} {name}"
