"""GPX 1.1 and KML 2.2 documents from layers of features, built with :mod:`xml.etree`.

Text from data (OSM names, stop ids, titles) only ever becomes element text or
attribute values, which ElementTree escapes; characters XML 1.0 cannot hold
(control characters such as ESC) are written as U+FFFD. KML descriptions are
shown as HTML by Google Earth, so they are HTML-escaped as well: a name like
``<script>`` is displayed, never run.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .errors import InputError

GPX_NS = "http://www.topografix.com/GPX/1/1"
KML_NS = "http://www.opengis.net/kml/2.2"

#: Line colours, one per route / vehicle / value of ``color_by`` (as the plan map's).
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
)  # fmt: skip

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_TIME_COLUMNS = ("time", "arrival", "start")


def xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 can hold: forbidden characters become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(value))


def _sub(parent: ET.Element, tag: str, text: Any = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = xml_text(text)
    return el


def _missing(v: Any) -> bool:
    return v is None or (not isinstance(v, list | tuple | dict | np.ndarray) and bool(pd.isna(v)))


def _name(row: pd.Series, layer: str, i: int) -> str:
    for col in ("name", "id", "vehicle"):
        if col in row.index and not _missing(row[col]) and str(row[col]):
            return str(row[col])
    return f"{layer} {i + 1}"


def _describe(row: pd.Series, geom: str) -> str:
    """The ``description`` column, else ``key: value`` of the row's attributes, one a line."""
    if "description" in row.index and not _missing(row["description"]):
        return str(row["description"])
    parts = []
    for k, v in row.items():
        if k in (geom, "name") or _missing(v):
            continue
        if isinstance(v, float):
            v = f"{v:.6g}"
        elif isinstance(v, pd.Timestamp):
            v = v.isoformat()
        parts.append(f"{k}: {v}")
    return "\n".join(parts)


def _time(row: pd.Series) -> str | None:
    for col in _TIME_COLUMNS:
        if col in row.index and isinstance(row[col], pd.Timestamp) and not pd.isna(row[col]):
            return row[col].isoformat()
    return None


def _parts(geom: Any) -> list:
    """The simple parts of a geometry (one for a simple one), empty ones left out."""
    if geom is None or geom.is_empty:
        return []
    return [g for g in shapely.get_parts(geom) if not g.is_empty]


# --------------------------------------------------------------------- GPX


def _gpx_point(
    parent: ET.Element, tag: str, xyz: np.ndarray, time: str | None = None
) -> ET.Element:
    pt = _sub(parent, tag, lat=f"{xyz[1]:.7f}", lon=f"{xyz[0]:.7f}")
    if len(xyz) > 2 and np.isfinite(xyz[2]):
        _sub(pt, "ele", f"{xyz[2]:.1f}")
    if time:
        _sub(pt, "time", time)
    return pt


def _gpx_named(parent: ET.Element, tag: str, name: str, desc: str, kind: str) -> ET.Element:
    el = _sub(parent, tag)
    _sub(el, "name", name)
    if desc:
        _sub(el, "desc", desc)
    _sub(el, "type", kind)
    return el


def _gpx_rte(root: ET.Element, rte: Any) -> None:
    """One ``<rte>`` per value of the ``route`` column, its points in row order."""
    if rte is None or not len(rte):
        return
    for route, pts in rte.groupby("route", sort=False):
        el = _gpx_named(root, "rte", str(route), "", "route")
        for _, row in pts.iterrows():
            p = _gpx_point(el, "rtept", _xyz(row.geometry)[0], _time(row))
            _sub(p, "name", _name(row, "point", 0))


def gpx_text(
    layers: Mapping[str, Any], *, name: str, description: str = "", rte: Any = None
) -> str:
    """GPX 1.1: points as ``<wpt>``, lines as ``<trk>`` (one ``<trkseg>`` per part), ``rte`` routes.

    Raises
    ------
    InputError
        A layer holds polygons (GPX has no areas).
    """
    root = ET.Element("gpx", {"version": "1.1", "creator": "geolog", "xmlns": GPX_NS})
    meta = _sub(root, "metadata")
    _sub(meta, "name", name)
    if description:
        _sub(meta, "desc", description)
    tracks = []
    for layer, frame in layers.items():
        kinds = set(frame.geom_type.dropna())
        if kinds & {"Polygon", "MultiPolygon"}:
            raise InputError(
                f"GPX holds points and lines, not the areas of layer {layer!r}; "
                "write it as .kml, .geojson or .gpkg"
            )
        geom = frame.geometry.name
        for i, (_, row) in enumerate(frame.iterrows()):
            parts = _parts(row[geom])
            if not parts:
                continue
            label, desc = _name(row, layer, i), _describe(row, geom)
            if parts[0].geom_type == "Point":  # GPX wants every <wpt> before <rte> and <trk>
                for p in parts:
                    el = _gpx_point(root, "wpt", _xyz(p)[0], _time(row))
                    _sub(el, "name", label)
                    if desc:
                        _sub(el, "desc", desc)
                    _sub(el, "type", layer)
            else:
                tracks.append((label, desc, layer, parts))
    _gpx_rte(root, rte)
    for label, desc, layer, parts in tracks:
        trk = _gpx_named(root, "trk", label, desc, layer)
        for part in parts:
            seg = _sub(trk, "trkseg")
            for xyz in _xyz(part):
                _gpx_point(seg, "trkpt", xyz)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _xyz(geom: Any) -> np.ndarray:
    """Coordinates (n, 3), with NaN elevations for a 2D geometry."""
    return shapely.get_coordinates(geom, include_z=True)


# --------------------------------------------------------------------- KML


def _kml_color(hex_rgb: str, alpha: str = "ff") -> str:
    """``#rrggbb`` as KML's ``aabbggrr``."""
    h = hex_rgb.lstrip("#")
    if not re.fullmatch("[0-9a-fA-F]{6}", h):
        h = PALETTE[0].lstrip("#")
    return f"{alpha}{h[4:6]}{h[2:4]}{h[0:2]}".lower()


def _colours(layers: Mapping[str, Any], color_by: str | None) -> dict:
    """Colour of each value of ``color_by`` (or each layer), in order of appearance."""
    keys: list = []
    for layer, frame in layers.items():
        vals = frame[color_by] if color_by and color_by in frame.columns else [layer]
        keys += [str(v) for v in pd.unique(pd.Series(vals, dtype=object)) if str(v) not in keys]
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(dict.fromkeys(keys))}


def _coords(geom: Any) -> str:
    xyz = _xyz(geom)
    if np.isfinite(xyz[:, 2]).all():
        return " ".join(f"{x:.7f},{y:.7f},{z:.1f}" for x, y, z in xyz)
    return " ".join(f"{x:.7f},{y:.7f}" for x, y, _ in xyz)


def _kml_geometry(parent: ET.Element, part: Any) -> None:
    kind = part.geom_type
    if kind == "Point":
        _sub(_sub(parent, "Point"), "coordinates", _coords(part))
    elif kind == "LineString":
        line = _sub(parent, "LineString")
        _sub(line, "tessellate", "1")
        _sub(line, "coordinates", _coords(part))
    else:  # Polygon
        poly = _sub(parent, "Polygon")
        rings = [("outerBoundaryIs", part.exterior)]
        rings += [("innerBoundaryIs", r) for r in part.interiors]
        for tag, ring in rings:
            _sub(_sub(_sub(poly, tag), "LinearRing"), "coordinates", _coords(ring))


def _kml_data(pm: ET.Element, row: pd.Series, geom: str) -> None:
    ext = _sub(pm, "ExtendedData")
    for k, v in row.items():
        if k == geom or _missing(v):
            continue
        d = _sub(ext, "Data", name=xml_text(k))
        _sub(d, "value", v.isoformat() if isinstance(v, pd.Timestamp) else v)


def kml_text(
    layers: Mapping[str, Any], *, name: str, description: str = "", color_by: str | None = None
) -> str:
    """KML 2.2: one Folder per layer, one styled Placemark per feature.

    Each value of ``color_by`` (else each layer) gets a colour of
    :data:`PALETTE`; a ``color`` column (``#rrggbb``) overrides it per feature.
    Attributes are kept as ``ExtendedData``; times as ``TimeStamp``.
    """
    root = ET.Element("kml", {"xmlns": KML_NS})
    doc = _sub(root, "Document")
    _sub(doc, "name", name)
    if description:
        _sub(doc, "description", html.escape(description))
    colours = _colours(layers, color_by)
    styles: dict[str, str] = {}
    for layer, frame in layers.items():
        folder = _sub(doc, "Folder")
        _sub(folder, "name", layer)
        geom = frame.geometry.name
        for i, (_, row) in enumerate(frame.iterrows()):
            parts = _parts(row[geom])
            if not parts:
                continue
            key = str(row[color_by]) if color_by and color_by in row.index else layer
            own = row["color"] if "color" in row.index else None
            colour = own if isinstance(own, str) else colours[key]
            sid = styles.setdefault(_kml_color(colour), f"s{len(styles)}")
            pm = _sub(folder, "Placemark")
            _sub(pm, "name", _name(row, layer, i))
            _sub(pm, "description", html.escape(_describe(row, geom)))
            when = _time(row)
            if when:
                _sub(_sub(pm, "TimeStamp"), "when", when)
            _sub(pm, "styleUrl", f"#{sid}")
            _kml_data(pm, row, geom)
            target = _sub(pm, "MultiGeometry") if len(parts) > 1 else pm
            for part in parts:
                _kml_geometry(target, part)
    for colour, sid in styles.items():  # styles first in the Document, as KML readers expect
        st = ET.Element("Style", {"id": sid})
        _kml_style_body(st, colour)
        doc.insert(1 + bool(description), st)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _kml_style_body(st: ET.Element, kml_colour: str) -> None:
    line = _sub(st, "LineStyle")
    _sub(line, "color", kml_colour)
    _sub(line, "width", "4")
    _sub(_sub(st, "PolyStyle"), "color", "66" + kml_colour[2:])
    _sub(_sub(st, "IconStyle"), "color", kml_colour)
