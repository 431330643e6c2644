"""Exports for partners: layers of features written as GPX, KML, GeoJSON, GeoPackage or GeoParquet.

One writer serves every result: :meth:`geolog.Route.to_file`,
:meth:`geolog.planning.Plan.to_file` and, for any GeoDataFrame (isochrones,
threat zones, matched traces), :func:`to_file`. The format comes from the
suffix (:data:`EXPORT_FORMATS`); every file is written atomically
(:mod:`geolog._io`), so a failed write leaves an existing file as it was.

Attributes keep their types: booleans stay booleans, times are ISO 8601
date-times (GeoPackage ``DateTime`` fields), durations are seconds
(``*_s``) and distances metres (``*_m``). Lists and dicts are written as JSON
text. GPX and KML are built with :mod:`xml.etree` (never string templates),
so names are XML-escaped; see :mod:`geolog._export_xml`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_path, atomic_write_text, file_format
from .errors import InputError

__all__ = ["EXPORT_FORMATS", "AREA_FORMATS", "to_file", "write_layers", "clock_times"]

#: File formats :func:`write_layers` (and every ``to_file``) writes, by suffix.
EXPORT_FORMATS = {
    ".gpx": "GPX 1.1: lines as <trk> (and <rte> for routes), points as <wpt>, <ele> where known",
    ".kml": "KML 2.2: styled lines, polygons and points with names and descriptions",
    ".geojson": "GeoJSON: every layer in one FeatureCollection (``kind`` names the layer)",
    ".json": "GeoJSON (as .geojson)",
    ".gpkg": "GeoPackage: one layer per layer, typed fields (booleans, date-times)",
    ".parquet": "GeoParquet: every layer in one table (``kind`` names the layer)",
}

#: The formats that hold areas (isochrones, zones): all but GPX.
AREA_FORMATS = {k: v for k, v in EXPORT_FORMATS.items() if k != ".gpx"}


def export_format(
    path: str | os.PathLike, formats: Mapping[str, str] = EXPORT_FORMATS, what: str = "features"
) -> str:
    """The lower-case suffix of ``path`` if it is one of ``formats``, else an InputError."""
    return file_format(path, formats, what)


def clock_times(seconds: Any, date: dt.date | str | None = None) -> pd.Series:
    """Seconds after midnight as date-times on ``date`` (default: today), whole seconds.

    Parameters
    ----------
    seconds
        Clock times in seconds after midnight of the plan's day (NaN: no time).
    date
        The plan's day, a :class:`datetime.date` or ``"YYYY-MM-DD"`` text.

    Returns
    -------
    pandas.Series
        ``datetime64`` values (local clock time, no time zone); NaT where
        ``seconds`` is NaN.
    """
    day = plan_date(date)
    s = pd.to_numeric(pd.Series(seconds, dtype=object), errors="coerce").astype(float)
    out = pd.Timestamp(day) + pd.to_timedelta(s.round(), unit="s")
    return out.astype("datetime64[s]")


def plan_date(date: dt.date | str | None) -> dt.date:
    """``date`` as a :class:`datetime.date` (today when None), or an InputError."""
    if date is None:
        return dt.date.today()
    if isinstance(date, dt.datetime):
        return date.date()
    if isinstance(date, dt.date):
        return date
    try:
        return dt.date.fromisoformat(str(date))
    except ValueError:
        raise InputError(f"date {date!r} is not a day like 2026-12-02 (YYYY-MM-DD)") from None


def _json_value(v: Any) -> Any:
    """A list/tuple/dict/array as JSON text; None and NaN as None; anything else as str."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list | tuple | dict):
        return json.dumps(v, default=str)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    return str(v)


def typed(frame: Any):
    """A copy of ``frame`` every GIS format can hold, with its types kept.

    Object columns holding only booleans (and no missing value) become
    ``bool``; other object columns become text (lists and dicts as JSON), None
    where missing; date-times with a time zone are converted to UTC (as
    GeoPackage requires). Numbers, booleans and naive date-times are left as
    they are.
    """
    out = frame.copy()
    geom = out.geometry.name
    for c in out.columns:
        col = out[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype):  # GeoPackage wants UTC ("Z")
            out[c] = col.dt.tz_convert("UTC")
            continue
        if c == geom or not (col.dtype == object or pd.api.types.is_string_dtype(col)):
            continue
        values = col.map(_json_value)
        if len(values) and values.map(lambda v: isinstance(v, bool)).all():
            out[c] = values.astype(bool)
        else:
            out[c] = values.map(lambda v: v if v is None else str(v)).astype(object)
    return out


def _iso(frame: pd.DataFrame) -> pd.DataFrame:
    """Date-time columns as ISO 8601 text (None for NaT), for JSON."""
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = [None if pd.isna(t) else t.isoformat() for t in out[c]]
    return out


def _with_kind(layers: Mapping[str, Any]) -> list:
    """The layers, each with a ``kind`` column naming it when there are several."""
    if len(layers) == 1:
        return list(layers.values())
    return [f if "kind" in f.columns else f.assign(kind=name) for name, f in layers.items()]


def geojson_text(layers: Mapping[str, Any]) -> str:
    """Every layer as one GeoJSON FeatureCollection (types kept, times ISO 8601)."""
    features = []
    for f in _with_kind(layers):
        features += _iso(typed(f)).to_geo_dict(drop_id=True)["features"]
    return json.dumps({"type": "FeatureCollection", "features": features}, allow_nan=False)


def write_layers(
    layers: Mapping[str, Any],
    path: str | os.PathLike,
    *,
    name: str = "geolog",
    description: str = "",
    color_by: str | None = None,
    gpx_routes: Any = None,
    formats: Mapping[str, str] = EXPORT_FORMATS,
    what: str = "features",
) -> Path:
    """Write named layers of features to ``path`` atomically, in the format its suffix names.

    The generic writer behind every ``to_file``: a tracking or analysis
    result with lines and points calls it with its own layers.

    Parameters
    ----------
    layers
        ``{layer name: GeoDataFrame}`` in EPSG:4326 (other CRSs are
        reprojected; no CRS is taken as EPSG:4326). Columns ``name`` (else ``id``) and ``description`` name
        and describe features in GPX and KML; a ``time``, ``arrival`` or
        ``start`` date-time column gives GPX/KML points their time; a ``color``
        column (``"#rrggbb"``) colours KML features. 3D geometries give GPX
        ``<ele>`` and KML altitudes (metres).
    path
        The file to write; its suffix picks the format (:data:`EXPORT_FORMATS`).
    name, description
        Title and description of the whole document (GPX metadata, KML Document).
    color_by
        Column whose values get one colour each in KML (e.g. ``"vehicle"``).
    gpx_routes
        Points (GeoDataFrame) written as GPX ``<rte>``: one route per value of
        their ``route`` column, in row order, named by their ``name`` column.
    formats, what
        The suffixes accepted and the name of the thing written, for the
        message when the suffix is not one of them.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        Unknown suffix (the message lists the supported ones), polygons for
        GPX, or a folder that cannot be written; an existing file is left as
        it was.
    """
    from . import _export_xml

    path = Path(path)
    suffix = export_format(path, formats, what)
    if not layers:
        raise InputError(f"nothing to write to {path.name}: give at least one layer")
    layers = {k: f.to_crs(4326) if f.crs else f.set_crs(4326) for k, f in layers.items()}
    if suffix in (".geojson", ".json"):
        return atomic_write_text(path, geojson_text(layers))
    if suffix == ".gpx":
        return atomic_write_text(
            path, _export_xml.gpx_text(layers, name=name, description=description, rte=gpx_routes)
        )
    if suffix == ".kml":
        return atomic_write_text(
            path,
            _export_xml.kml_text(layers, name=name, description=description, color_by=color_by),
        )
    with atomic_path(path, suffix=suffix) as tmp:
        if suffix == ".parquet":
            import geopandas as gpd

            frame = pd.concat([typed(f) for f in _with_kind(layers)], ignore_index=True)
            gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326").to_parquet(
                tmp, index=False
            )
        else:
            _write_gpkg(layers, tmp, path)
    return path


def _write_gpkg(layers: Mapping[str, Any], tmp: Path, path: Path) -> None:
    """Each layer as a GeoPackage layer of ``tmp``; GDAL's refusals as an InputError."""
    from pyogrio import errors

    tmp.unlink()  # GDAL creates the GeoPackage itself
    for layer, f in layers.items():
        try:
            typed(f).to_file(tmp, layer=layer, driver="GPKG")
        except (errors.DataLayerError, errors.FeatureError, errors.FieldError) as err:
            raise InputError(
                f"cannot write layer {layer!r} to {path.name}: {err}; {path.name} was left "
                "unchanged"
            ) from err


def to_file(obj: Any, path: str | os.PathLike, *, layer: str = "features", **options: Any) -> Path:
    """Write a geolog result or a GeoDataFrame to ``path``; the format comes from the suffix.

    Parameters
    ----------
    obj
        A :class:`~geolog.Route` or :class:`~geolog.planning.Plan` (their own
        ``to_file`` is used), a GeoDataFrame or GeoSeries (isochrones from
        :func:`geolog.isochrones`, zones from :func:`geolog.risk.threat_zones`,
        any lines or points), or a ``{layer name: GeoDataFrame}`` mapping.
    path
        ``.gpx``, ``.kml``, ``.geojson``/``.json``, ``.gpkg`` or ``.parquet``.
    layer
        Layer name for a single frame (GeoPackage layer, KML folder).
    **options
        Passed on: ``name``, ``description``, ``color_by`` for frames (see
        :func:`write_layers`); ``date`` for a Plan.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import geolog, tempfile, pathlib
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> iso = geolog.isochrones(net, (42.5078, 1.5211), [600, 1800], profile="car")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "reach.kml"
    >>> geolog.to_file(iso, out, color_by="time_s").suffix
    '.kml'
    """
    import geopandas as gpd

    if isinstance(obj, gpd.GeoSeries):
        obj = gpd.GeoDataFrame(geometry=obj)
    if isinstance(obj, gpd.GeoDataFrame):
        return write_layers({layer: obj}, path, **options)
    if isinstance(obj, Mapping):
        return write_layers(obj, path, **options)
    writer = getattr(obj, "to_file", None)
    if writer is None:
        raise InputError(
            f"cannot write a {type(obj).__name__}: give a Route, a Plan, a GeoDataFrame "
            "or a {layer name: GeoDataFrame} mapping"
        )
    return writer(path, **options)


def with_node_z(lines: Any, nodes: Any, *, tol_deg: float = 1e-7) -> list:
    """Lines with z: each vertex on a network node (within ``tol_deg``, about 1 cm) takes
    the node's ``elevation`` (metres), the vertices between them are linear along the line.

    Lines with no vertex on a node, empty or missing geometries, and all lines
    when ``nodes`` has no ``elevation`` column, are returned as they were.
    """
    import shapely
    from scipy.spatial import cKDTree

    lines = list(lines)
    if nodes is None or "elevation" not in nodes.columns or not lines:
        return lines
    z_nodes = nodes["elevation"].to_numpy(dtype=float)
    tree = cKDTree(np.column_stack([nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)]))
    out = []
    for line in lines:  # one per plan leg, not per edge
        if line is None or line.is_empty or line.geom_type != "LineString":
            out.append(line)
            continue
        xy = shapely.get_coordinates(line)
        dist, k = tree.query(xy, distance_upper_bound=tol_deg)
        known = np.isfinite(dist) & np.isfinite(z_nodes[np.minimum(k, len(z_nodes) - 1)])
        if not known.any():
            out.append(line)
            continue
        step = np.diff(xy, axis=0) * [np.cos(np.radians(xy[:-1, 1].mean())), 1.0]
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*step.T))])
        z = np.interp(along, along[known], z_nodes[k[known]])
        out.append(shapely.LineString(np.column_stack([xy, z])))
    return out
