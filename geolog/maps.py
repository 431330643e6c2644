"""Interactive maps of networks, routes, isochrones and terrain, built with folium.

Every function returns a folium layer that composes with the others::

    m = geolog.maps.base_map(net)
    geolog.maps.hillshade_layer(dem).add_to(m)
    geolog.maps.network_layer(net, color_by="grade").add_to(m)
    geolog.maps.route_layer(route).add_to(m)
    geolog.maps.finish(m)                     # layer control, fitted view

or, in one line, ``geolog.map(net, route=route, dem=dem)``.

The maps work offline: the page carries the vendored Leaflet 1.9.4 inline
(:class:`geolog._leaflet.OfflineMap`) instead of folium's CDN links, there is no
web basemap by default (hillshade and roads are the basemap) and OpenStreetMap
tiles are an optional layer, off by default, that needs the internet. Every
string that comes from data (street names, refs, rule and area names, the DEM
source) is HTML-escaped before it reaches a tooltip, popup, legend or layer name.

Display simplification: road geometries are simplified to ``tolerance_m``
(default 3 m) and rounded to 1e-5 degrees (about 1 m); both directions of a
two-way road are drawn once, on a canvas renderer. Size tested: 30,000 drawn
segments (Liechtenstein tiled 6 times) make a 4.6 MB page that opens in 1.4 s
and redraws a pan or zoom in 0.2–0.4 s in headless Chromium on a shared 2-core
machine; Andorra (about 1,900 segments) is instant. Clip or filter bigger
networks first.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._html import escape, png_data_uri, warp_to_mercator
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import folium
    import geopandas as gpd

    from .network import Network

__all__ = [
    "OSM_ATTRIBUTION",
    "GRADE_BINS",
    "GRADE_COLORS",
    "GRADE_LABELS",
    "base_map",
    "network_layer",
    "route_layer",
    "isochrone_layer",
    "hillshade_layer",
    "slope_layer",
    "mobility_layer",
    "areas_layer",
    "legend",
    "finish",
    "make_map",
]

logger = logging.getLogger(__name__)

#: Attribution shown on every layer drawn from OpenStreetMap data.
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

#: Grade class edges (fractions, absolute grade) — the route-reconnaissance classes of
#: :data:`geolog.costing.GRADE_CLASS_BINS`: < 5 %, 5–7 %, 7–10 %, 10–14 %, ≥ 14 %; from
#: 7 % a grade is an obstruction (NATO route classification).
GRADE_BINS = (0.05, 0.07, 0.10, 0.14)
GRADE_COLORS = ("#1a9850", "#91cf60", "#fdae61", "#f46d43", "#a50026")
GRADE_LABELS = ("< 5 %", "5–7 %", "7–10 %", "10–14 %", "≥ 14 %")
SPEED_BINS = (20.0, 40.0, 60.0, 80.0)
_SPEED_COLORS = ("#b30000", "#e34a33", "#fc8d59", "#6baed6", "#08519c")
_SPEED_LABELS = ("< 20 km/h", "20–40 km/h", "40–60 km/h", "60–80 km/h", "≥ 80 km/h")
_MOBILITY = {"GO": "#1a9850", "SLOW-GO": "#fdae61", "NO-GO": "#d7191c"}
_SEQ = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
_CAT = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
_NODATA_COLOR = "#9e9e9e"
_DEG_PER_M = 1.0 / 111_320.0


# -- the map ------------------------------------------------------------------------------


def base_map(
    net: Network | None = None,
    *,
    bounds: Sequence[float] | None = None,
    osm_tiles: bool = False,
    height: str | int = "100%",
    width: str | int = "100%",
) -> folium.Map:
    """An empty offline map with a scale bar, fitted to a network or a bounding box.

    Parameters
    ----------
    net
        Network whose extent sets the view.
    bounds
        ``(west, south, east, north)`` in degrees; overrides ``net``.
    osm_tiles
        Add OpenStreetMap web tiles as an optional layer, *off* at opening (it
        needs the internet; the map works without it).
    height, width
        CSS size of the map (``"100%"``, ``"600px"`` or pixels).

    Returns
    -------
    folium.Map
        A :class:`geolog._leaflet.OfflineMap` (a ``folium.Map`` subclass) that
        inlines Leaflet and has no default tile layer.
    """
    import folium

    from ._leaflet import OfflineMap

    if bounds is None and net is not None:
        bounds = tuple(net.edges.total_bounds) if len(net.edges) else None
    m = OfflineMap(
        location=None,
        tiles=None,
        control_scale=True,
        height=height,
        width=width,
        prefer_canvas=False,
        zoom_start=12,
        zoom_snap=0.25,
    )
    if bounds is not None:
        w, s, e, n = map(float, bounds)
        if not all(map(math.isfinite, (w, s, e, n))):
            raise InputError(
                f"bounds {tuple(bounds)!r} must be finite degrees (west, south, east, north)"
            )
        m.location = [(s + n) / 2, (w + e) / 2]
        m.fit_bounds([[s, w], [n, e]], padding=(10, 10))
    else:
        m.location = [0.0, 0.0]
    if osm_tiles:
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap tiles (online)",
            overlay=True,
            show=False,
            control=True,
        ).add_to(m)
    return m


def finish(m: folium.Map, *, collapsed: bool = False) -> folium.Map:
    """Add the layer control (once) and return the map."""
    import folium

    if not any(isinstance(c, folium.LayerControl) for c in m._children.values()):
        folium.LayerControl(collapsed=collapsed, position="topright").add_to(m)
    return m


def legend(title: str, items: Iterable[tuple[str, str]], *, position: str = "bottomright") -> Any:
    """A legend control: ``items`` are ``(css colour, label)`` pairs (labels are escaped)."""
    from ._leaflet import HtmlControl

    rows = "".join(
        f'<div class="geolog-legend-row"><i style="background:{escape(c)}"></i>{escape(label)}</div>'
        for c, label in items
    )
    return HtmlControl(f"<h4>{escape(title)}</h4>{rows}", position=position)


# -- colouring ----------------------------------------------------------------------------


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
    """Escaped 'name (ref)' per row; highway class when both are missing."""

    def col(c: str) -> pd.Series:
        if c not in rows.columns:
            return pd.Series([None] * len(rows), index=rows.index, dtype=object)
        return rows[c].astype(object).where(rows[c].notna(), None)

    name, ref, hw = col("name"), col("ref"), col("highway")
    name_e = name.map(lambda x: escape(x) if x is not None else "")
    ref_e = ref.map(lambda x: escape(x) if x is not None else "")
    hw_e = hw.map(lambda x: escape(x) if x is not None else "road")
    both = (name_e != "") & (ref_e != "")
    label = name_e.where(name_e != "", ref_e)
    label = label.where(~both, name_e + " (" + ref_e + ")")
    return ("<b>" + label.where(label != "", "(unnamed)") + "</b><br>" + hw_e).astype(object)


# -- layers -------------------------------------------------------------------------------


def network_layer(
    net: Network,
    *,
    color_by: str = "grade",
    name: str | None = None,
    tolerance_m: float = 3.0,
    weight: float = 2.5,
    show: bool = True,
    legend_position: str = "bottomright",
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
    styles = [{"color": c, "weight": weight, "opacity": 0.8} for c in palette]
    data = {"c": coords, "o": offsets, "s": idx.astype(int).tolist(), "t": tips.tolist()}
    layer = PolylineLayer(
        data,
        styles,
        name=escape(name or f"roads by {title}"),
        attribution=escape(OSM_ATTRIBUTION),
        canvas=True,
        show=show,
    )
    legend(title, items, position=legend_position).add_to(layer)
    logger.debug("network_layer: %d segments, %d vertices", len(rows), len(coords) // 2)
    return layer


def _route_edges(route: Any) -> pd.DataFrame | None:
    e = getattr(route, "edges", None)
    if isinstance(e, pd.DataFrame) and "geometry" in e.columns:
        return e
    return None


def _fmt_duration(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "–"
    m = int(round(seconds / 60.0))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def route_popup_html(route: Any, *, label: str = "Route") -> str:
    """Escaped HTML summary of a route: length, time, ascent, descent, steepest climb."""
    mg = float(getattr(route, "max_grade", np.nan))
    rows = [
        ("length", f"{route.length_m / 1000:.2f} km"),
        ("time", _fmt_duration(float(route.duration_s))),
        ("ascent", f"{float(getattr(route, 'ascent_m', np.nan)):.0f} m"),
        ("descent", f"{float(getattr(route, 'descent_m', np.nan)):.0f} m"),
        ("steepest climb", f"{mg * 100:.1f} %" if np.isfinite(mg) else "–"),
        ("profile", str(getattr(route, "profile_name", ""))),
    ]
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f"<b>{escape(label)}</b><table>{body}</table>"


def route_layer(
    route: Any,
    *,
    name: str | None = None,
    color: str | None = None,
    weight: float = 6.0,
    show: bool = True,
) -> folium.map.Layer:
    """A route: a casing line with a summary popup, segments coloured by grade, start/end markers.

    Parameters
    ----------
    route
        A :class:`geolog.routing.Route` (``length_m``, ``duration_s``,
        ``ascent_m``, ``max_grade``, ``geometry``, ``edges``).
    name
        Layer name (escaped); default "route".
    color
        Single colour for the whole route instead of grade classes.
    weight
        Line width in pixels.

    Returns
    -------
    folium.map.Layer
        An SVG-rendered layer: the route is a DOM ``<path class="geolog-route">``.
    """
    import shapely

    from ._leaflet import GeoJsonLayer

    label = name or "route"
    popup = route_popup_html(route, label=label)
    geom = route.geometry
    if geom is None or shapely.is_empty(geom):
        raise InputError("route_layer: the route has no geometry to draw")
    feats: list[dict] = [
        _feature(
            geom,
            style={
                "color": "#102a43",
                "weight": weight + 5,
                "opacity": 0.85,
                "className": "geolog-route-casing",
            },
            popup=popup,
        )
    ]
    e = _route_edges(route)
    if color is None and e is not None and len(e) and ("max_grade" in e or "grade" in e):
        gcol = "max_grade" if "max_grade" in e else "grade"
        g = e[gcol].to_numpy(dtype=float)
        idx = np.where(np.isfinite(g), np.digitize(np.abs(g), GRADE_BINS), len(GRADE_COLORS))
        palette = [*GRADE_COLORS, _NODATA_COLOR]
        labels = _road_label(e)
        for geom_i, k, lab, gv in zip(e.geometry.values, idx, labels, g, strict=True):
            feats.append(
                _feature(
                    geom_i,
                    style={
                        "color": palette[k],
                        "weight": weight,
                        "opacity": 1.0,
                        "className": "geolog-route",
                    },
                    tooltip=f"{lab}<br>{escape(f'{gv * 100:+.1f} %' if np.isfinite(gv) else 'no grade')}",
                    popup=popup,
                )
            )
    else:
        feats.append(
            _feature(
                geom,
                style={
                    "color": color or "#1f5f8b",
                    "weight": weight,
                    "opacity": 1.0,
                    "className": "geolog-route",
                },
                popup=popup,
            )
        )
    coords = shapely.get_coordinates(geom)
    for (lon, lat), what, col in ((coords[0], "start", "#1a9850"), (coords[-1], "end", "#d7191c")):
        feats.append(
            _feature(
                shapely.Point(lon, lat),
                style={
                    "radius": 8,
                    "color": "#ffffff",
                    "weight": 2,
                    "fillColor": col,
                    "fillOpacity": 1.0,
                    "className": f"geolog-{what}",
                },
                tooltip=f"<b>{escape(label)}</b>: {what}",
                popup=popup,
            )
        )
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats},
        name=escape(label),
        attribution=escape(OSM_ATTRIBUTION),
        show=show,
    )


def _feature(
    geom: Any, *, style: dict | None = None, tooltip: str | None = None, popup: str | None = None
) -> dict:
    import json

    import shapely

    g = shapely.set_precision(geom, 1e-6) if geom.geom_type != "Point" else geom
    return {
        "type": "Feature",
        "geometry": json.loads(shapely.to_geojson(g)),
        "properties": {"style": style or {}, "tooltip": tooltip, "popup": popup},
    }


def isochrone_layer(
    isochrones: gpd.GeoDataFrame,
    *,
    name: str = "isochrones",
    show: bool = True,
) -> folium.map.Layer:
    """Isochrone polygons (``time_s``, ``geometry``), the largest drawn first, with a legend."""
    from ._leaflet import GeoJsonLayer

    if "time_s" not in isochrones.columns:
        raise InputError("isochrone_layer needs a 'time_s' column (from geolog.routing.isochrones)")
    iso = isochrones.to_crs(4326) if isochrones.crs is not None else isochrones
    iso = iso.sort_values("time_s", ascending=False)
    n = len(iso)
    colors = [
        _SEQ[min(len(_SEQ) - 1, round(i * (len(_SEQ) - 1) / max(n - 1, 1)))] for i in range(n)
    ][::-1]
    feats = []
    items = []
    for (t, geom), c in zip(
        iso[["time_s", "geometry"]].itertuples(index=False), colors, strict=True
    ):
        lab = f"≤ {_fmt_duration(float(t))}"
        feats.append(
            _feature(
                geom,
                style={"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.25},
                tooltip=escape(lab),
            )
        )
        items.append((c, lab))
    layer = GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(name), show=show
    )
    legend("travel time", items[::-1]).add_to(layer)
    return layer


def _raster_parts(raster: Any) -> tuple[np.ndarray, Any, Any]:
    arr = np.asarray(raster.array, dtype="float32")
    nodata = getattr(raster, "nodata", None)
    if nodata is not None:
        arr = np.where(arr == nodata, np.nan, arr)
    return arr, raster.transform, raster.crs


def _image_layer(
    rgba: np.ndarray,
    bounds: list[list[float]],
    *,
    name: str,
    attribution: str,
    opacity: float,
    show: bool,
    css_class: str,
) -> folium.map.Layer:
    import folium

    return folium.raster_layers.ImageOverlay(
        png_data_uri(rgba),
        bounds=bounds,
        name=escape(name),
        opacity=opacity,
        pixelated=False,
        show=show,
        overlay=True,
        attribution=escape(attribution),
        class_name=css_class,
        interactive=False,
    )


def _dem_source(dem: Any) -> str:
    return f"Elevation: {getattr(dem, 'source', None) or 'DEM'}"


def hillshade_layer(
    dem: Any,
    *,
    name: str = "hillshade",
    opacity: float = 1.0,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """The DEM's hillshade as an image overlay (grey PNG in the page, warped to Web Mercator).

    Parameters
    ----------
    dem
        A :class:`geolog.DEM` (uses :meth:`~geolog.DEM.hillshade`) or any raster
        with ``array``/``transform``/``crs`` already holding hillshade values 1–255.
    max_size
        Longest image side in pixels (bigger DEMs are shrunk for display).
    """
    shade = dem.hillshade() if hasattr(dem, "hillshade") else dem
    arr, transform, crs = _raster_parts(shade)
    warped, bounds = warp_to_mercator(arr, transform, crs, max_size=max_size)
    ok = np.isfinite(warped)
    g = np.clip(np.nan_to_num(warped, nan=0.0), 0, 255)
    # lift the shadows a little so roads stay readable on top
    g = (60 + g * (195 / 255)).astype(np.uint8)
    rgba = np.dstack([g, g, g, np.where(ok, 255, 0).astype(np.uint8)])
    return _image_layer(
        rgba,
        bounds,
        name=name,
        attribution=_dem_source(dem),
        opacity=opacity,
        show=show,
        css_class="geolog-hillshade",
    )


def slope_layer(
    dem: Any,
    *,
    name: str = "slope classes",
    opacity: float = 0.55,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """Terrain slope in the grade classes of the road map (< 3 %, 3–7 %, …, ≥ 18 %) as an overlay."""
    s = dem.slope(units="percent")
    arr, transform, crs = _raster_parts(s)
    warped, bounds = warp_to_mercator(arr, transform, crs, max_size=max_size)
    ok = np.isfinite(warped)
    idx = np.digitize(np.nan_to_num(warped, nan=0.0) / 100.0, GRADE_BINS)
    lut = np.array([_hex_rgba(c, 255) for c in GRADE_COLORS], dtype=np.uint8)
    rgba = lut[idx]
    rgba[~ok, 3] = 0
    layer = _image_layer(
        rgba,
        bounds,
        name=name,
        attribution=_dem_source(dem),
        opacity=opacity,
        show=show,
        css_class="geolog-slope",
    )
    legend(
        "terrain slope", list(zip(GRADE_COLORS, GRADE_LABELS, strict=True)), position="bottomleft"
    ).add_to(layer)
    return layer


def mobility_layer(
    dem: Any,
    vehicle: str | Mapping[str, Any] = "truck",
    *,
    name: str | None = None,
    opacity: float = 0.5,
    max_size: int = 1600,
    show: bool = True,
) -> folium.map.Layer:
    """Cross-country mobility GO / SLOW-GO / NO-GO for a vehicle (from :meth:`geolog.DEM.mobility`)."""
    mob = dem.mobility(vehicle)
    arr, transform, crs = _raster_parts(mob)
    warped, bounds = warp_to_mercator(arr, transform, crs, resampling="nearest", max_size=max_size)
    ok = np.isfinite(warped) & (warped >= 0) & (warped <= 2)
    idx = np.clip(np.nan_to_num(warped, nan=0.0), 0, 2).astype(int)
    lut = np.array([_hex_rgba(c, 255) for c in _MOBILITY.values()], dtype=np.uint8)
    rgba = lut[idx]
    rgba[~ok, 3] = 0
    vname = vehicle if isinstance(vehicle, str) else "custom vehicle"
    layer = _image_layer(
        rgba,
        bounds,
        name=name or f"mobility ({vname})",
        attribution=_dem_source(dem),
        opacity=opacity,
        show=show,
        css_class="geolog-mobility",
    )
    legend(
        f"cross-country mobility: {vname}",
        [(c, n) for n, c in _MOBILITY.items()],
        position="bottomleft",
    ).add_to(layer)
    return layer


def _hex_rgba(color: str, alpha: int) -> tuple[int, int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16), alpha


def _rule_areas(rules: Any) -> dict[str, Any]:
    """Area name → shapely geometry (EPSG:4326) from a RuleSet, a mapping or a GeoDataFrame."""
    import geopandas as gpd
    import shapely

    if rules is None:
        return {}
    if isinstance(rules, gpd.GeoDataFrame):
        g = rules.to_crs(4326) if rules.crs is not None else rules
        names = g["name"] if "name" in g.columns else pd.Series(g.index.astype(str), index=g.index)
        return dict(zip(names.astype(str), g.geometry, strict=True))
    areas = getattr(rules, "areas", rules)
    if isinstance(areas, gpd.GeoDataFrame):
        return _rule_areas(areas)
    out = {}
    for k, v in dict(areas or {}).items():
        if isinstance(v, gpd.GeoDataFrame | gpd.GeoSeries):
            v = (v.to_crs(4326) if v.crs is not None else v).union_all()
        elif isinstance(v, Mapping):
            v = shapely.geometry.shape(v.get("geometry", v))
        if isinstance(v, shapely.Geometry):
            out[str(k)] = v
    return out


def areas_layer(rules: Any, *, name: str = "rule areas", show: bool = True) -> folium.map.Layer:
    """The named areas of a rule set (``rules.areas``) as hatched polygons; names are escaped."""
    from ._leaflet import GeoJsonLayer

    areas = _rule_areas(rules)
    feats = [
        _feature(
            geom,
            style={
                "color": "#6a1b9a",
                "weight": 2,
                "dashArray": "6 4",
                "fillColor": "#6a1b9a",
                "fillOpacity": 0.15,
                "className": "geolog-area",
            },
            tooltip=f"<b>{escape(area)}</b>",
        )
        for area, geom in areas.items()
    ]
    return GeoJsonLayer(
        {"type": "FeatureCollection", "features": feats}, name=escape(name), show=show
    )


# -- the one-liner ------------------------------------------------------------------------


def make_map(
    net: Network | None = None,
    *,
    route: Any = None,
    routes: Sequence[Any] | None = None,
    dem: Any = None,
    isochrones: gpd.GeoDataFrame | None = None,
    rules: Any = None,
    color_by: str | None = None,
    slope: bool = False,
    mobility: str | None = None,
    osm_tiles: bool = False,
    height: str | int = "100%",
) -> folium.Map:
    """One offline map with everything given: hillshade, roads, routes, isochrones, rule areas.

    Exposed as ``geolog.map(...)``.

    Parameters
    ----------
    net
        Road network; drawn coloured by ``color_by``.
    route, routes
        One route or several (:class:`geolog.routing.Route`).
    dem
        A :class:`geolog.DEM`: adds a hillshade basemap (and ``slope`` /
        ``mobility`` overlays when asked).
    isochrones
        Output of :func:`geolog.routing.isochrones`.
    rules
        A rule set whose ``areas`` are drawn.
    color_by
        Road colouring; default ``"grade"`` when the network has terrain, else
        ``"highway"``.
    slope
        Add the slope-class overlay (off at opening).
    mobility
        Vehicle name for a cross-country mobility overlay (off at opening).
    osm_tiles
        Add OpenStreetMap web tiles as an optional layer (off at opening; online).

    Returns
    -------
    folium.Map
        Displays inline in JupyterLab; ``m.save("map.html")`` writes a page that
        works offline.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> m = geolog.map(net, color_by="highway")
    >>> type(m).__name__
    'OfflineMap'
    """
    all_routes = [*([route] if route is not None else []), *(routes or [])]
    bounds = None
    if net is not None and len(net.edges):
        bounds = tuple(net.edges.total_bounds)
    elif all_routes:
        import shapely

        b = shapely.bounds(np.array([r.geometry for r in all_routes]))
        bounds = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    m = base_map(None, bounds=bounds, osm_tiles=osm_tiles, height=height)
    if dem is not None:
        if bounds is not None and hasattr(dem, "clip"):
            try:
                dem = dem.clip(bounds)
            except Exception as err:  # noqa: BLE001 - a DEM that does not cover is still drawn whole
                logger.info("not clipping the DEM to the map: %s", err)
        hillshade_layer(dem).add_to(m)
        if slope:
            slope_layer(dem, show=False).add_to(m)
        if mobility:
            mobility_layer(dem, mobility, show=False).add_to(m)
    if net is not None:
        if color_by is None:
            has_terrain = "max_grade" in net.edges.columns or "grade" in net.edges.columns
            color_by = "grade" if has_terrain else "highway"
        network_layer(net, color_by=color_by).add_to(m)
    if isochrones is not None:
        isochrone_layer(isochrones).add_to(m)
    if rules is not None and _rule_areas(rules):
        areas_layer(rules).add_to(m)
    for i, r in enumerate(all_routes):
        label = "route" if len(all_routes) == 1 else f"route {i + 1}"
        route_layer(r, name=label, color=None if i == 0 else _CAT[i % len(_CAT)]).add_to(m)
    return finish(m)
