"""The road network layer: edges coloured by grade, speed, class or any column."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._format import road_names, tag_text
from ._html import escape
from ._map_base import (
    _CAT,
    _DEG_PER_M,
    _MOBILITY,
    _NODATA_COLOR,
    _SEQ,
    _SPEED_COLORS,
    _SPEED_LABELS,
    GRADE_BINS,
    GRADE_COLORS,
    GRADE_LABELS,
    OSM_ATTRIBUTION,
    SPEED_BINS,
    legend,
)
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from .network import Network

logger = logging.getLogger(__name__)


def _classify_bins(
    values: np.ndarray, bins: Sequence[float], colors: Sequence[str], labels: Sequence[str]
) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
    v = np.asarray(values, dtype=float)
    idx = np.digitize(v, bins)
    idx = np.where(np.isfinite(v), idx, len(colors))
    palette = [*colors, _NODATA_COLOR]
    items = list(zip(colors, labels, strict=True))
    if not np.isfinite(v).all():
        items.append((_NODATA_COLOR, "no data"))
    return idx, palette, items


def _color_edges(
    edges: pd.DataFrame, color_by: str
) -> tuple[pd.DataFrame, np.ndarray, list[str], str, list[tuple[str, str]], pd.Series]:
    """Pick one row per drawn segment and a colour class per row.

    Returns (rows, class index, palette, legend title, legend items, value text).
    """
    cols = edges.columns
    if color_by == "grade":
        col = "max_grade" if "max_grade" in cols else "grade"
        if col not in cols:
            raise InputError(
                "color_by='grade' needs the edge column 'max_grade' or 'grade'; "
                "add terrain first: net.with_terrain(dem)"
            )
        key = edges[col].abs().to_numpy(dtype=float)
        order = np.argsort(np.where(np.isfinite(key), -key, np.inf), kind="stable")
        rows = _dedupe(edges.iloc[order])
        v = rows[col].abs().to_numpy(dtype=float)
        idx, palette, items = _classify_bins(v, GRADE_BINS, GRADE_COLORS, GRADE_LABELS)
        title = "steepest grade (either direction)" if col == "max_grade" else "grade"
        text = pd.Series(np.round(v * 100, 1), index=rows.index).astype(str) + " %"
        return rows, idx, palette, title, items, text
    if color_by == "speed_kph":
        if "speed_kph" not in cols:
            raise InputError(
                "color_by='speed_kph' needs the edge column 'speed_kph'; "
                "apply a profile first: net.apply(profile='car')"
            )
        key = edges["speed_kph"].to_numpy(dtype=float)
        order = np.argsort(np.where(np.isfinite(key), key, np.inf), kind="stable")
        rows = _dedupe(edges.iloc[order])
        v = rows["speed_kph"].to_numpy(dtype=float)
        v = np.where(v > 0, v, np.nan)
        idx, palette, items = _classify_bins(v, SPEED_BINS, _SPEED_COLORS, _SPEED_LABELS)
        if np.isnan(v).any():
            items[-1] = (_NODATA_COLOR, "closed / no speed")
        text = pd.Series(np.round(v, 0), index=rows.index).astype(str) + " km/h"
        return rows, idx, palette, "speed (slower direction)", items, text
    if color_by == "mobility":
        if "mobility" in cols:
            cls = edges["mobility"].astype(object).where(edges["mobility"].notna(), None)
        elif "priority" in cols or "cost" in cols:
            pr = (
                edges["priority"].to_numpy(dtype=float)
                if "priority" in cols
                else np.ones(len(edges))
            )
            cost = edges["cost"].to_numpy(dtype=float) if "cost" in cols else np.ones(len(edges))
            nogo = (pr <= 0) | ~np.isfinite(cost)
            cls = pd.Series(
                np.where(nogo, "NO-GO", np.where(pr < 1, "SLOW-GO", "GO")), index=edges.index
            )
        else:
            raise InputError(
                "color_by='mobility' needs an edge column 'mobility' or the 'priority'/'cost' "
                "columns of net.apply(profile=...)"
            )
        sev = cls.map({"GO": 0, "SLOW-GO": 1, "NO-GO": 2}).astype(float).fillna(-1).to_numpy()
        rows = _dedupe(edges.assign(_cls=cls.to_numpy()).iloc[np.argsort(-sev, kind="stable")])
        names = list(_MOBILITY)
        lab = rows["_cls"]
        idx = lab.map({n: i for i, n in enumerate(names)}).fillna(len(names)).to_numpy(dtype=int)
        palette = [*_MOBILITY.values(), _NODATA_COLOR]
        items = [(c, n) for n, c in _MOBILITY.items()]
        return rows.drop(columns="_cls"), idx, palette, "mobility", items, lab.fillna("?")
    if color_by not in cols:
        raise InputError(
            f"color_by={color_by!r} is not an edge column; use 'grade', 'speed_kph', "
            f"'mobility' or one of: {', '.join(map(str, cols[:30]))}"
        )
    s = edges[color_by]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v_all = s.to_numpy(dtype=float)
        order = np.argsort(np.where(np.isfinite(v_all), -np.abs(v_all), np.inf), kind="stable")
        rows = _dedupe(edges.iloc[order])
        v = rows[color_by].to_numpy(dtype=float)
        fin = v[np.isfinite(v)]
        qs = np.unique(np.quantile(fin, [0.2, 0.4, 0.6, 0.8])) if fin.size else np.array([])
        edges_q = [fin.min() if fin.size else 0.0, *qs, fin.max() if fin.size else 0.0]
        labels = [f"{a:.4g} – {b:.4g}" for a, b in zip(edges_q[:-1], edges_q[1:], strict=True)]
        colors = [
            _SEQ[round(i * (len(_SEQ) - 1) / max(len(labels) - 1, 1))] for i in range(len(labels))
        ]
        idx, palette, items = _classify_bins(v, list(qs), colors, labels)
        text = pd.Series(v, index=rows.index).map(lambda x: f"{x:.4g}")
        return rows, idx, palette, color_by, items, text
    rows = _dedupe(edges)
    lab = (
        rows[color_by]
        .astype(object)
        .where(rows[color_by].notna(), None)
        .map(lambda x: None if x is None else str(x))
    )
    top = lab.value_counts().index[: len(_CAT) - 1].tolist()
    idx = lab.map({n: i for i, n in enumerate(top)}).fillna(len(top)).to_numpy(dtype=int)
    palette = [*_CAT[: len(top)], _NODATA_COLOR]
    items = [(_CAT[i], n) for i, n in enumerate(top)]
    if (idx == len(top)).any():
        items.append((_NODATA_COLOR, "other / none"))
    return rows, idx, palette, color_by, items, lab.fillna("")


def _dedupe(edges: pd.DataFrame) -> pd.DataFrame:
    """One row per road segment (the first one in the given order).

    The two rows of a two-way road share their way and their geometry, drawn
    the other way round; keying on the normalized geometry (not on the end
    nodes) keeps both paths of a way that joins the same two junctions twice.
    """
    if "geometry" not in edges.columns:
        return edges
    import shapely

    key = pd.DataFrame(
        {
            "w": edges["osmid"].to_numpy() if "osmid" in edges.columns else 0,
            "g": shapely.to_wkb(shapely.normalize(edges.geometry.to_numpy())),
        }
    )
    return edges[~key.duplicated().to_numpy()]


def _flat_lines(
    geoms: Any, *, tolerance_m: float, decimals: int = 5
) -> tuple[list[float], list[int]]:
    """Simplified, rounded line coordinates as a flat [lat, lon, …] list and offsets."""
    import shapely

    g = np.asarray(geoms)
    if tolerance_m > 0:
        g = shapely.simplify(g, tolerance_m * _DEG_PER_M, preserve_topology=False)
    coords, index = shapely.get_coordinates(g, return_index=True)
    counts = np.bincount(index, minlength=len(g))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(int)
    latlon = np.round(coords[:, ::-1], decimals).ravel()
    return latlon.tolist(), offsets.tolist()


def _road_label(rows: pd.DataFrame) -> pd.Series:
    """Escaped ``<b>name (ref)</b><br>highway`` per row; "(unnamed)" and "road" where missing."""
    label = road_names(rows, unnamed="(unnamed)")
    hw = tag_text(rows, "highway")
    hw[pd.isna(hw)] = "road"
    tip = ["<b>" + escape(a) + "</b><br>" + escape(b) for a, b in zip(label, hw, strict=True)]
    return pd.Series(tip, index=rows.index, dtype=object)


def network_layer(
    net: Network,
    *,
    color_by: str = "grade",
    name: str | None = None,
    tolerance_m: float = 3.0,
    weight: float = 2.5,
    show: bool = True,
    legend_position: str | None = "bottomright",
    color: str | None = None,
) -> folium.map.Layer:
    """The road network as one layer, coloured by a column, with its legend.

    Parameters
    ----------
    net
        The network. Both directions of a two-way road are drawn once, with the
        more severe value (steeper grade, slower speed, worse mobility).
    color_by
        ``"grade"`` (steepest sustained grade ``|max_grade|``, needs terrain),
        ``"speed_kph"`` (needs ``net.apply(profile)``), ``"mobility"``
        (GO / SLOW-GO / NO-GO from a ``mobility`` column or from rule priority:
        0 → NO-GO, < 1 → SLOW-GO), or any edge column (numeric → quintiles,
        text → categories).
    name
        Layer name in the layer control (escaped).
    tolerance_m
        Display simplification tolerance in metres (0 keeps every vertex).
    weight
        Line width in pixels.
    show
        Whether the layer is on at opening.
    legend_position
        Where the legend goes; ``None`` for no legend.
    color
        One colour for every road (a plain road backdrop, e.g. under a plan);
        ``color_by`` then only sets the tooltip values.

    Returns
    -------
    folium.map.Layer
        A layer (add it with ``.add_to(m)``) whose legend shows while it is on.
        Tooltips show the escaped road name/ref, highway class and value.
    """
    from ._leaflet import PolylineLayer

    edges = net.edges
    if len(edges) == 0:
        raise InputError("network_layer: the network has no edges to draw")
    rows, idx, palette, title, items, text = _color_edges(edges, color_by)
    coords, offsets = _flat_lines(rows.geometry.values, tolerance_m=tolerance_m)
    tips = _road_label(rows)
    if color_by != "highway":
        tips = tips + "<br>" + text.map(escape).astype(object)
    styles = [{"color": color or c, "weight": weight, "opacity": 0.8} for c in palette]
    data = {"c": coords, "o": offsets, "s": idx.astype(int).tolist(), "t": tips.tolist()}
    layer = PolylineLayer(
        data,
        styles,
        name=escape(name or f"roads by {title}"),
        attribution=escape(OSM_ATTRIBUTION),
        canvas=True,
        show=show,
    )
    if legend_position and color is None:
        legend(title, items, position=legend_position).add_to(layer)
    logger.debug("network_layer: %d segments, %d vertices", len(rows), len(coords) // 2)
    return layer
