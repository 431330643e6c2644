"""Drawing a :class:`~geolog.planning.result.Plan` on an offline folium map."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely

from .._format import fmt_clock
from .._html import escape
from .._leaflet import GeoJsonLayer
from .._map_base import _feature, base_map, finish

if TYPE_CHECKING:
    from .result import Plan

__all__ = ["draw_plan"]


def draw_plan(plan: Plan, *, m: Any = None, name: str | None = None, osm_tiles: bool = False):
    """Draw ``plan`` on ``m`` (a new offline map if None); see :meth:`Plan.to_map`."""
    esc = escape
    label = f"{name}: " if name else ""
    pts = plan.points
    if m is None:
        m = base_map(
            bounds=(pts["lon"].min(), pts["lat"].min(), pts["lon"].max(), pts["lat"].max()),
            osm_tiles=osm_tiles,
        )
    vehicles = list(dict.fromkeys(plan.routes["vehicle"]))
    colours = {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(vehicles)}
    for veh in vehicles:
        legs = plan.routes[plan.routes["vehicle"] == veh]
        km = legs["distance_m"].sum() / 1000
        style = {"color": colours[veh], "weight": 4, "opacity": 0.8}
        feats = [
            _feature(g, style=style, tooltip=esc(f"{label}{veh}: {km:.1f} km"))
            for g in legs.geometry
        ]
        stop_style = {"color": colours[veh], "fillOpacity": 0.9, "fill": True, "radius": 6}
        feats += [
            _feature(
                s.geometry,
                style=stop_style,
                tooltip=esc(
                    f"{_label(s)} — {veh} #{int(s['seq'])}, arrive {fmt_clock(s['arrival_s'])}"
                ),
            )
            for _, s in plan.stops[plan.stops["vehicle"] == veh].iterrows()
        ]
        GeoJsonLayer(
            {"type": "FeatureCollection", "features": feats}, name=esc(f"{label}{veh}")
        ).add_to(m)
    if len(plan.unserved):
        style = {"color": "#555555", "fillColor": "#ffffff", "fillOpacity": 1, "radius": 7}
        feats = [
            _feature(
                s.geometry,
                style=style,
                tooltip=esc(f"{_label(s)} unserved: {s['reason']} — {s['detail']}"),
            )
            for _, s in plan.stops[~plan.stops["served"]].iterrows()
        ]
        GeoJsonLayer(
            {"type": "FeatureCollection", "features": feats}, name=esc(f"{label}unserved")
        ).add_to(m)
    style = {
        "color": "#000000",
        "fillColor": "#000000",
        "fillOpacity": 1,
        "radius": 9,
        "weight": 2,
    }
    feats = [
        _feature(shapely.Point(d["lon"], d["lat"]), style=style, tooltip=esc(f"depot {d['id']}"))
        for _, d in plan._depots_input.iterrows()
    ]
    GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=esc(f"{label}depots")
    ).add_to(m)
    return finish(m)


_PALETTE = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
]  # fmt: skip


def _label(row: pd.Series) -> str:
    name = row.get("name")
    if (
        name is None
        or (isinstance(name, float) and math.isnan(name))
        or str(name) == str(row["id"])
    ):
        return str(row["id"])
    return f"{row['id']} {name}"
