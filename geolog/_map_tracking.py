"""Folium layers for tracking: the raw trace, the matched route and delay hot spots.

Every text shown (road names, vehicle names) is data and is escaped; the
layers carry their features as JSON through :class:`geolog._leaflet.GeoJsonLayer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ._format import fmt_duration
from ._html import escape
from ._map_base import _feature, legend

if TYPE_CHECKING:  # pragma: no cover
    import folium

__all__ = ["trace_layer", "matched_layer", "delay_layer", "delays", "tracking_map", "RATIO_BINS"]

#: Observed / profile speed classes of the matched route: (upper bound, colour, label).
RATIO_BINS = (
    (0.6, "#c62828", "< 60 % of the profile's speed"),
    (0.85, "#f57c00", "60-85 %"),
    (1.15, "#2e7d32", "85-115 %"),
    (np.inf, "#1565c0", "> 115 %"),
)


def _collection(feats: list, name: str, show: bool) -> folium.map.Layer:
    from ._leaflet import GeoJsonLayer

    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(name), show=show
    )


def trace_layer(match: Any, *, name: str = "GPS trace", show: bool = True) -> folium.map.Layer:
    """The fixes as received: a thin dashed line (the vehicle's name in the tooltip)."""
    fx = match.fixes
    xy = np.column_stack([fx["lon"].to_numpy(), fx["lat"].to_numpy()])
    line = shapely.LineString(xy) if len(xy) >= 2 else shapely.Point(xy[0])
    tip = f"<b>{escape(match.vehicle)}</b><br>{len(fx):,} fixes"
    style = {"color": "#616161", "weight": 2, "opacity": 0.8, "dashArray": "4 4"}
    return _collection([_feature(line, style=style, tooltip=tip)], name, show)


def _ratio_color(ratio: float) -> str:
    for hi, color, _ in RATIO_BINS:
        if not np.isfinite(ratio) or ratio < hi:
            return color if np.isfinite(ratio) else "#757575"
    return RATIO_BINS[-1][1]


def matched_layer(
    match: Any, *, name: str = "matched route", show: bool = True
) -> folium.map.Layer:
    """The matched edges coloured by observed / profile speed, with times in the tooltip."""
    e = match.edges
    feats = []
    for row in e.itertuples():
        road = row.name if isinstance(getattr(row, "name", None), str) and row.name else row.highway
        ratio = row.speed_kph / row.profile_speed_kph if row.profile_speed_kph > 0 else np.nan
        tip = (
            f"<b>{escape(str(road))}</b><br>"
            f"{escape(row.entry_time.strftime('%H:%M:%S'))} – {escape(row.exit_time.strftime('%H:%M:%S'))}"
            f"<br>driven {row.speed_kph:.0f} km/h, profile {row.profile_speed_kph:.0f} km/h"
            f"<br>confidence {row.confidence:.2f}"
        )
        style = {"color": _ratio_color(ratio), "weight": 5, "opacity": 0.85}
        feats.append(_feature(row.geometry, style=style, tooltip=tip))
    layer = _collection(feats, name, show)
    legend("speed driven", [(c, lab) for _, c, lab in RATIO_BINS], position="bottomright").add_to(
        layer
    )
    return layer


def delays(match: Any, *, min_loss_s: float = 30.0) -> pd.DataFrame:
    """Edges where the vehicle lost time against its profile (hot spots), worst first.

    ``lost_s`` is the time on the edge minus the time the profile gives for
    the part driven; only edges losing at least ``min_loss_s`` seconds.
    """
    e = match.edges
    with np.errstate(invalid="ignore", divide="ignore"):
        expect = e["traversed_m"] / (e["profile_speed_kph"] / 3.6)
    out = e.assign(lost_s=e["duration_s"] - expect)
    out = out[out["lost_s"] >= min_loss_s]
    return out.sort_values("lost_s", ascending=False)


def delay_layer(
    match: Any, *, min_loss_s: float = 30.0, name: str = "delay hot spots", show: bool = True
) -> folium.map.Layer:
    """Edges where the vehicle lost at least ``min_loss_s`` against its profile, thick red."""
    feats = []
    for row in delays(match, min_loss_s=min_loss_s).itertuples():
        road = row.name if isinstance(getattr(row, "name", None), str) and row.name else row.highway
        tip = (
            f"<b>{escape(str(road))}</b><br>lost {escape(fmt_duration(row.lost_s))} "
            f"at {escape(row.entry_time.strftime('%H:%M'))}"
        )
        style = {"color": "#b71c1c", "weight": 10, "opacity": 0.6}
        feats.append(_feature(row.geometry, style=style, tooltip=tip))
    return _collection(feats, name, show)


def tracking_map(match: Any, *, min_loss_s: float = 30.0):
    """An offline map of one matched trace: trace, matched route and delay hot spots."""
    from ._map_base import base_map, finish

    b = shapely.bounds(match.geometry) if not match.geometry.is_empty else None
    fx = match.fixes
    bounds = (
        [fx["lon"].min(), fx["lat"].min(), fx["lon"].max(), fx["lat"].max()]
        if b is None
        else list(b)
    )
    m = base_map(bounds=bounds)
    for layer in (
        trace_layer(match),
        matched_layer(match),
        delay_layer(match, min_loss_s=min_loss_s),
    ):
        layer.add_to(m)
    return finish(m)
