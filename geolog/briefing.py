"""Self-contained offline map briefings: one HTML file to hand to a partner.

:func:`briefing` writes a single HTML page that opens anywhere with no internet:
Leaflet 1.9.4 is inlined (vendored from npm, BSD-2-Clause, licence in
``geolog/assets``), the basemap is the DEM hillshade plus the roads (PNG and
JSON inside the page), and OpenStreetMap web tiles are only an optional layer,
off at opening. Sections: title and purpose, map, route table(s) with grade
classes (≥ 7 % flagged as obstructions), elevation profile (inline SVG, no
script), rules in force (YAML and the explain table), assumptions (profile,
speeds), data sources and dates, generation time and geolog version. The
routes, profile and rules are also embedded as JSON in a
``<script type="application/json" id="geolog-data">`` element so the route can
be reproduced; ``<``, ``>`` and ``&`` in it are written as ``\\u003c``-style
escapes so no string can close the element. Every string from data is
HTML-escaped. The page prints cleanly (print CSS: no controls, sections kept
whole).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._html import atomic_write_text, escape, script_json, svg_profile
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["briefing", "OBSTRUCTION_GRADE"]

logger = logging.getLogger(__name__)

#: Grades at or above this (fraction, either direction) are flagged as obstructions.
OBSTRUCTION_GRADE = 0.07

# the route-reconnaissance grade classes of geolog.costing (and of the map legend)
_CLASS_EDGES = (0.0, 0.05, 0.07, 0.10, 0.14, np.inf)
_CLASS_LABELS = ("< 5 %", "5–7 %", "7–10 %", "10–14 %", "≥ 14 %")

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
@media print {
  nav.toc, .leaflet-control-zoom, .leaflet-control-layers { display: none !important; }
  main { max-width: none; padding: 0; }
  .map-frame { height: 16cm; page-break-inside: avoid; }
  main > section { page-break-inside: avoid; }
  table.data { page-break-inside: auto; }
  tr { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


# -- helpers ------------------------------------------------------------------------------


def _fmt_km(m: float) -> str:
    return f"{m / 1000:.2f} km" if np.isfinite(m) else "–"


def _fmt_time(s: float) -> str:
    if not np.isfinite(s):
        return "–"
    m = int(round(s / 60.0))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def _fmt_pct(g: float) -> str:
    return f"{abs(g) * 100:.1f} %" if np.isfinite(g) else "–"


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: frozenset[int] | set[int] = frozenset(),
    row_class: Sequence[str] | None = None,
    css: str = "data",
) -> str:
    """An escaped HTML table. Cells that are ``_Raw`` are inserted as they are."""
    th = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{escape(row_class[i])}"' if row_class and row_class[i] else ""
        tds = "".join(
            f"<td{' class=num' if j in numeric else ''}>{c if isinstance(c, _Raw) else escape(c)}</td>"
            for j, c in enumerate(r)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    return (
        f'<table class="{css}"><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


class _Raw(str):
    """Marks trusted HTML built here (never data) for :func:`_table`."""


def _route_edges(route: Any, net: Network | None) -> pd.DataFrame | None:
    e = getattr(route, "edges", None)
    if isinstance(e, pd.DataFrame):
        if "geometry" in e.columns or net is None:
            return e
        return net.edges.loc[e.index] if e.index.isin(net.edges.index).all() else e
    if e is not None and net is not None:
        ids = np.asarray(list(e))
        if ids.size and np.issubdtype(ids.dtype, np.integer):
            return net.edges.loc[ids]
    return None


def _road_names(edges: pd.DataFrame) -> pd.Series:
    def col(c: str) -> pd.Series:
        if c not in edges.columns:
            return pd.Series([""] * len(edges), index=edges.index, dtype=object)
        return edges[c].astype(object).where(edges[c].notna(), "").astype(str)

    name, ref, hw = col("name"), col("ref"), col("highway")
    label = name.where(name != "", ref)
    both = (name != "") & (ref != "")
    label = label.where(~both, name + " (" + ref + ")")
    return label.where(label != "", "(unnamed " + hw.where(hw != "", "road") + ")")


def _lengths(edges: pd.DataFrame | None) -> np.ndarray | None:
    """Metres travelled on each route edge (partial end edges counted in part)."""
    if edges is None:
        return None
    for c in ("traversed_m", "length_m"):
        if c in edges.columns:
            return edges[c].to_numpy(dtype=float)
    return None


def _grade_series(edges: pd.DataFrame) -> np.ndarray | None:
    for c in ("max_grade", "grade"):
        if c in edges.columns:
            return np.abs(edges[c].to_numpy(dtype=float))
    return None


def _steepest_descent(edges: pd.DataFrame | None) -> float:
    """Steepest descent on the route (a positive fraction), from the signed ``max_grade``."""
    if edges is None or "max_grade" not in edges.columns or not len(edges):
        return float("nan")
    g = edges["max_grade"].to_numpy(dtype=float)
    return float(max(0.0, -np.nanmin(g))) if np.isfinite(g).any() else float("nan")


def _route_summary(route: Any, edges: pd.DataFrame | None) -> dict[str, Any]:
    g = _grade_series(edges) if edges is not None else None
    length = _lengths(edges)
    steep_km = (
        float(length[g >= OBSTRUCTION_GRADE].sum() / 1000)
        if g is not None and length is not None
        else None
    )
    n_obs = int((g >= OBSTRUCTION_GRADE).sum()) if g is not None else None
    return {
        "length_m": float(route.length_m),
        "duration_s": float(route.duration_s),
        "ascent_m": float(getattr(route, "ascent_m", np.nan)),
        "descent_m": float(getattr(route, "descent_m", np.nan)),
        "max_grade": float(getattr(route, "max_grade", np.nan)),
        "max_descent_grade": _steepest_descent(edges),
        "profile": str(getattr(route, "profile_name", "")),
        "obstructions": n_obs,
        "obstruction_km": steep_km,
    }


def _route_section(
    routes: list[Any], labels: list[str], net: Network | None
) -> tuple[str, list[dict]]:
    summaries = []
    rows = []
    row_cls = []
    details = []
    for route, label in zip(routes, labels, strict=True):
        edges = _route_edges(route, net)
        s = _route_summary(route, edges)
        summaries.append(s)
        o = getattr(route, "origin", None)
        d = getattr(route, "destination", None)
        flag = s["obstructions"] is not None and s["obstructions"] > 0
        rows.append(
            [
                label,
                _fmt_latlon(o),
                _fmt_latlon(d),
                _fmt_km(s["length_m"]),
                _fmt_time(s["duration_s"]),
                f"{s['ascent_m']:.0f} m" if np.isfinite(s["ascent_m"]) else "–",
                f"{s['descent_m']:.0f} m" if np.isfinite(s["descent_m"]) else "–",
                _fmt_pct(s["max_grade"]),
                _fmt_pct(s["max_descent_grade"]),
                "–"
                if s["obstructions"] is None
                else _Raw(
                    f'<span class="flag">{s["obstructions"]} ({s["obstruction_km"]:.2f} km)</span>'
                    if flag
                    else "0"
                ),
                s["profile"],
            ]
        )
        row_cls.append("obstruction" if flag else "")
        details.append(_grade_detail(label, edges))
    table = _table(
        [
            "route",
            "from (lat, lon)",
            "to (lat, lon)",
            "length",
            "time",
            "ascent",
            "descent",
            "steepest climb",
            "steepest descent",
            f"obstructions ≥ {OBSTRUCTION_GRADE * 100:.0f} % (either way)",
            "profile",
        ],
        rows,
        numeric={3, 4, 5, 6, 7, 8},
        row_class=row_cls,
    )
    return table + "".join(details), summaries


def _fmt_latlon(p: Any) -> str:
    try:
        lat, lon = (float(v) for v in p)
    except (TypeError, ValueError):
        return "–"
    return f"{lat:.5f}, {lon:.5f}"


def _grade_detail(label: str, edges: pd.DataFrame | None) -> str:
    length = _lengths(edges)
    if edges is None or length is None:
        return ""
    g = _grade_series(edges)
    if g is None:
        return f'<p class="note">{escape(label)}: no terrain on the network, grades unknown.</p>'
    cls = np.digitize(np.nan_to_num(g, nan=-1.0), _CLASS_EDGES[1:-1])
    cls = np.where(np.isfinite(g), cls, -1)
    total = max(length.sum(), 1e-9)
    rows, rcls = [], []
    for k, lab in enumerate(_CLASS_LABELS):
        km = length[cls == k].sum() / 1000
        obstruct = _CLASS_EDGES[k] >= OBSTRUCTION_GRADE
        rows.append(
            [
                lab,
                f"{km:.2f}",
                f"{km * 1000 / total * 100:.0f} %",
                _Raw('<span class="flag">obstruction</span>')
                if obstruct and km > 0
                else ("obstruction" if obstruct else ""),
            ]
        )
        rcls.append("obstruction" if obstruct and km > 0 else "")
    if (cls == -1).any():
        rows.append(["no data", f"{length[cls == -1].sum() / 1000:.2f}", "", ""])
        rcls.append("")
    out = [
        f"<h3>{escape(label)}: grade classes</h3>",
        _table(
            ["grade (either direction)", "km", "share", ""], rows, numeric={1, 2}, row_class=rcls
        ),
    ]
    steep = np.flatnonzero(np.nan_to_num(g, nan=0.0) >= OBSTRUCTION_GRADE)
    if steep.size:
        names = _road_names(edges).to_numpy()
        order = steep[np.argsort(-g[steep], kind="stable")][:25]
        gc = (
            edges["grade_class"].astype(object).to_numpy()
            if "grade_class" in edges.columns
            else None
        )
        signed = (
            edges["max_grade"].to_numpy(dtype=float)
            if "max_grade" in edges.columns
            else np.full(len(edges), np.nan)
        )
        srows = [
            [
                i + 1,
                names[j],
                _fmt_pct(g[j]) + (" down" if signed[j] < 0 else " up" if signed[j] > 0 else ""),
                f"{length[j]:.0f} m",
                "" if gc is None or gc[j] is None else gc[j],
            ]
            for i, j in enumerate(order)
        ]
        more = f" (steepest 25 of {steep.size})" if steep.size > 25 else ""
        out.append(
            f"<h3>{escape(label)}: obstructions (stretches ≥ {OBSTRUCTION_GRADE * 100:.0f} %){escape(more)}</h3>"
            + _table(
                ["#", "road", "steepest grade (travel direction)", "length", "grade class"],
                srows,
                numeric={0, 2, 3},
                row_class=["obstruction"] * len(srows),
            )
        )
    return "".join(out)


def _profile_section(routes: list[Any], labels: list[str]) -> str:
    parts = []
    for route, label in zip(routes, labels, strict=True):
        try:
            prof = route.profile()
            d = prof["distance_m"].to_numpy(dtype=float)
            z = prof["elevation_m"].to_numpy(dtype=float)
        except Exception as err:  # noqa: BLE001 - a missing profile must not sink the briefing
            logger.info("no elevation profile for %s: %s", label, err)
            parts.append(
                f'<p class="note">{escape(label)}: no elevation profile ({escape(err)}).</p>'
            )
            continue
        parts.append(
            f"<h3>{escape(label)}</h3>"
            + svg_profile(d, z, title=f"Elevation profile: {label}", flag_grade=OBSTRUCTION_GRADE)
        )
    parts.append(
        f'<p class="note">Red: stretches of {OBSTRUCTION_GRADE * 100:.0f} % or steeper '
        "(between profile samples).</p>"
    )
    return "".join(parts)


def _load_rules(rules: Any) -> Any:
    if rules is None:
        return None
    try:
        from .rules import load_rules
    except ImportError:  # pragma: no cover - rules module not available
        return rules
    return load_rules(rules)


def _plain(obj: Any) -> Any:
    """Tuples (shapely mappings) to lists, numpy scalars to Python: YAML/JSON-safe."""
    import json

    from ._html import _jsonable

    return json.loads(json.dumps(obj, default=_jsonable))


def _rules_yaml(rules: Any, raw: Any) -> str:
    """The rules as the analyst wrote them (file or YAML text), else dumped from the RuleSet."""
    import yaml

    if isinstance(raw, (str, os.PathLike)):
        try:
            if Path(str(raw)).is_file():
                return Path(str(raw)).read_text(encoding="utf-8")
        except OSError:
            pass
        if isinstance(raw, str):
            return raw
    f = getattr(rules, "to_dict", None)
    data = f() if callable(f) else raw
    if isinstance(data, Mapping):
        return yaml.safe_dump(_plain(dict(data)), sort_keys=False, allow_unicode=True)
    return str(rules)


def _rules_dict(rules: Any, raw: Any) -> Any:
    f = getattr(rules, "to_dict", None)
    if callable(f):
        return _plain(f())
    if isinstance(raw, Mapping):
        return _plain(dict(raw))
    return _rules_yaml(rules, raw)


def _rules_section(rules: Any, raw: Any, net: Network | None, profile: Any) -> str:
    if rules is None:
        return '<p class="note">No route rules: the profile alone decides speeds and access.</p>'
    out = [f'<h3>Rule set (YAML)</h3><pre class="yaml">{escape(_rules_yaml(rules, raw))}</pre>']
    if net is not None:
        try:
            from .rules import explain

            table = explain(rules, net, profile=profile)
        except Exception as err:  # noqa: BLE001 - show why instead of failing the briefing
            out.append(f'<p class="note">Explain table unavailable: {escape(err)}</p>')
        else:
            out.append("<h3>What each rule matched</h3>" + _frame_table(table))
    return "".join(out)


def _frame_table(df: pd.DataFrame, *, max_rows: int = 200) -> str:
    df = df.head(max_rows)
    numeric = {i for i, c in enumerate(df.columns) if pd.api.types.is_numeric_dtype(df[c])}
    rows = []
    for r in df.itertuples(index=False):
        rows.append([(f"{v:.4g}" if isinstance(v, float) else v) for v in r])
    return _table([str(c) for c in df.columns], rows, numeric=numeric)


def _assumptions_section(routes: list[Any], profile: Any) -> tuple[str, list[dict]]:
    names = []
    for r in routes:
        n = getattr(r, "profile_name", None)
        if n and n not in names:
            names.append(n)
    if profile is not None and not names:
        names.append(profile)
    out, dicts = [], []
    for n in names:
        try:
            from .profiles import get_profile

            p = get_profile(n)
        except Exception as err:  # noqa: BLE001
            out.append(f'<p class="note">Profile {escape(n)}: {escape(err)}</p>')
            continue
        d = p.to_dict()
        dicts.append(d)
        gm = d.get("grade_model", {})
        rows = [
            ["profile", f"{d['name']}: {d.get('description', '')}"],
            ["top speed", f"{d['max_speed_kph']:g} km/h"],
            ["speed on unlisted roads", f"{d['default_speed_kph']:g} km/h"],
            [
                "steepest climb allowed",
                _fmt_pct(d["max_grade"]) if d.get("max_grade") is not None else "no limit",
            ],
            [
                "steepest descent allowed",
                _fmt_pct(d["max_descent_grade"])
                if d.get("max_descent_grade") is not None
                else "no limit",
            ],
            ["speed vs grade", str(gm.get("model", "none"))],
            ["posted maxspeed used", "yes" if d.get("use_maxspeed") else "no"],
            ["vehicle weight", f"{d['weight_t']:g} t" if d.get("weight_t") else "–"],
            ["forbidden road classes", ", ".join(d.get("forbid_highways") or []) or "–"],
        ]
        out.append(f"<h3>Profile {escape(d['name'])}</h3>" + _table(["assumption", "value"], rows))
        speeds = sorted(d.get("highway", {}).items(), key=lambda kv: -kv[1])
        if speeds:
            out.append(
                "<h3>Base speed per road class</h3>"
                + _table(["highway", "km/h"], [[k, f"{v:g}"] for k, v in speeds], numeric={1})
            )
        if d.get("sources"):
            out.append(
                '<p class="note">Sources of the profile\'s figures:</p><ul class="note">'
                + "".join(f"<li>{escape(s)}</li>" for s in d["sources"])
                + "</ul>"
            )
    out.append(
        f'<p class="note">Grades are fractions of rise over run along the road from the DEM; a stretch at or above {OBSTRUCTION_GRADE * 100:.0f} % in either direction is flagged as an obstruction for loaded vehicles. Travel times assume free-flowing traffic, dry roads and no stops.</p>'
    )
    return "".join(out), dicts


def _bundled_provenance(rows: list[list[Any]]) -> list[list[Any]]:
    """Snapshot dates and terms of geolog's bundled sample files named in ``rows``."""
    from . import data

    names = {str(r[1]) for r in rows}
    out = []
    for reg in data.regions():
        files = {reg.osm.name, *(p.name for p in reg.dem)}
        if names & files:
            out.append([f"provenance ({reg.name})", reg.source, "", ""])
            out.append([f"terms ({reg.name})", reg.terms, "", ""])
    return out


def _sources_section(
    net: Network | None, dem: Any, generated: str, version: str
) -> tuple[str, dict]:
    rows: list[list[Any]] = []
    meta = dict(getattr(net, "meta", {}) or {}) if net is not None else {}
    terrain = meta.get("terrain") if isinstance(meta.get("terrain"), Mapping) else {}
    for src in meta.get("sources", []) or []:
        if isinstance(src, Mapping):
            what = "elevation (DEM)" if src.get("role") == "dem" else "road network (OpenStreetMap)"
            date = src.get("date", src.get("timestamp", ""))
            rows.append([what, src.get("file", ""), date, str(src.get("sha256", ""))[:16]])
        else:
            rows.append(["road network (OpenStreetMap)", str(src), "", ""])
    if net is not None and not rows:
        rows.append(["road network (OpenStreetMap)", "", "", ""])
    rows.extend(_bundled_provenance(rows))
    for k in ("osm_timestamp", "snapshot", "date"):
        if meta.get(k):
            rows.append(["OSM data date", str(meta[k]), "", ""])
    dem_source = getattr(dem, "source", None) if dem is not None else None
    dem_source = dem_source or terrain.get("dem_source")
    if dem_source:
        rows.append(["elevation model used", dem_source, "", ""])
    if terrain:
        rows.append(
            [
                "terrain method",
                f"{terrain.get('smooth', '')}; max grade over {terrain.get('max_grade_window_m', '?')} m",
                "",
                "",
            ]
        )
    html = _table(["data", "source", "date", "sha256 (first 16)"], rows)
    html += (
        '<p class="note">Map data © OpenStreetMap contributors, under the Open Database '
        "Licence (ODbL 1.0). Elevation: SRTM (NASA/USGS, public domain) unless stated otherwise. "
        "Map drawn with Leaflet 1.9.4 (BSD-2-Clause), embedded in this file.</p>"
    )
    net_meta = {"meta": meta}
    if net is not None:
        try:
            net_meta["fingerprint"] = net.fingerprint()
        except Exception:  # noqa: BLE001
            pass
        net_meta["n_nodes"], net_meta["n_edges"] = len(net.nodes), len(net.edges)
    html += f'<p class="meta">Generated {escape(generated)} by geolog {escape(version)}.</p>'
    return html, net_meta


def _dem_from_meta(net: Network | None) -> Any:
    """Re-open the DEM recorded by ``add_terrain`` in ``net.meta`` (None if unavailable)."""
    terrain = (getattr(net, "meta", {}) or {}).get("terrain") if net is not None else None
    paths = [
        p for p in (terrain or {}).get("dem_paths", []) if os.path.exists(str(p).split("!")[0])
    ]
    if not paths:
        return None
    import warnings

    from .terrain import DEM

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # voids were reported when the terrain was added
            return DEM.open(paths)
    except Exception as err:  # noqa: BLE001 - the briefing still works without hillshade
        logger.info("could not re-open the DEM %s: %s", paths, err)
        return None


def _route_json(route: Any, summary: dict, label: str) -> dict:
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


def _map_parts(
    net: Network | None, routes: list[Any], labels: list[str], dem: Any, rules: Any, osm_tiles: bool
) -> tuple[str, str, str]:
    """(header, body html, script) of the briefing map, rendered by folium."""
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
    if net is not None and len(net.edges):
        has_terrain = "max_grade" in net.edges.columns or "grade" in net.edges.columns
        maps.network_layer(
            net, color_by="grade" if has_terrain else "highway", name="roads"
        ).add_to(m)
    if rules is not None and maps._rule_areas(rules):
        maps.areas_layer(rules).add_to(m)
    for i, (r, lab) in enumerate(zip(routes, labels, strict=True)):
        maps.route_layer(
            r, name=lab, color=None if i == 0 else maps._CAT[i % len(maps._CAT)]
        ).add_to(m)
    maps.finish(m)
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


# -- public -------------------------------------------------------------------------------


def briefing(
    net: Network | None,
    routes: Any,
    *,
    title: str,
    purpose: str = "",
    dem: Any = None,
    rules: Any = None,
    labels: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    osm_tiles: bool = True,
    generated: _dt.datetime | None = None,
) -> str | Path:
    """Write a self-contained offline HTML map briefing for one or more routes.

    Parameters
    ----------
    net
        The network the routes were computed on (roads drawn as basemap; its
        ``meta`` gives the data sources).
    routes
        A :class:`geolog.routing.Route` or a list of them.
    title, purpose
        Heading and one-paragraph purpose (escaped; line breaks kept).
    dem
        A :class:`geolog.DEM` for the hillshade basemap and its attribution;
        default: the DEM files recorded in ``net.meta["terrain"]`` by
        ``net.with_terrain`` (no hillshade if there are none).
    rules
        The rule set in force (``RuleSet``, YAML path/text or dict); default the
        first route's ``rules``. Shown as YAML with the explain table, embedded
        as JSON, areas drawn on the map.
    labels
        Route names for tables and the layer control (default "route 1" …).
    path
        Where to write the file (atomically: temp file, then rename). ``None``
        returns the HTML text instead.
    osm_tiles
        Offer OpenStreetMap web tiles as an optional layer (off at opening; the
        briefing never needs them).
    generated
        Timestamp to print (default now, UTC).

    Returns
    -------
    str or pathlib.Path
        The HTML text, or the path written.

    Raises
    ------
    InputError
        No route given, or an object without route attributes.

    Examples
    --------
    >>> import geolog  # doctest: +SKIP
    >>> net = geolog.read_osm(geolog.data.path("andorra"))  # doctest: +SKIP
    >>> r = geolog.route(net, (42.5063, 1.5218), (42.5440, 1.7330))  # doctest: +SKIP
    >>> geolog.briefing(net, r, title="Supply run", path="out/brief.html")  # doctest: +SKIP
    """
    from . import __version__

    rlist = [routes] if not isinstance(routes, (list, tuple)) else list(routes)
    if not rlist:
        raise InputError("briefing needs at least one route; compute one with geolog.route(...)")
    for i, r in enumerate(rlist):
        if not all(hasattr(r, a) for a in ("length_m", "duration_s", "geometry")):
            raise InputError(
                f"routes[{i}] is a {type(r).__name__}, not a route (needs length_m, duration_s, "
                "geometry); pass the result of geolog.route(...)"
            )
    if labels is None:
        labels = ["route"] if len(rlist) == 1 else [f"route {i + 1}" for i in range(len(rlist))]
    labels = [str(x) for x in labels]
    if len(labels) != len(rlist):
        raise InputError(f"labels has {len(labels)} names for {len(rlist)} routes")
    raw_rules = rules if rules is not None else getattr(rlist[0], "rules", None)
    if dem is None:
        dem = _dem_from_meta(net)
    rules_obj = _load_rules(raw_rules)
    when = (generated or _dt.datetime.now(_dt.UTC)).replace(microsecond=0)
    generated_s = when.isoformat().replace("+00:00", "Z")

    map_header, map_body, map_script = _map_parts(net, rlist, labels, dem, rules_obj, osm_tiles)
    routes_html, summaries = _route_section(rlist, labels, net)
    profile_html = _profile_section(rlist, labels)
    rules_html = _rules_section(rules_obj, raw_rules, net, getattr(rlist[0], "profile_name", None))
    assumptions_html, profile_dicts = _assumptions_section(rlist, None)
    sources_html, net_meta = _sources_section(net, dem, generated_s, __version__)

    data = {
        "geolog_version": __version__,
        "generated": generated_s,
        "title": title,
        "purpose": purpose,
        "routes": [
            _route_json(r, s, lab) for r, s, lab in zip(rlist, summaries, labels, strict=True)
        ],
        "rules": _rules_dict(rules_obj, raw_rules) if rules_obj is not None else None,
        "profiles": profile_dicts,
        "network": net_meta,
        "dem_source": getattr(dem, "source", None) if dem is not None else None,
    }
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="geolog {escape(__version__)}">
<title>{escape(title)}</title>
{map_header}
<style>{_PAGE_CSS}</style>
</head>
<body>
<main>
<header class="top">
<h1>{escape(title)}</h1>
<p class="purpose">{escape(purpose)}</p>
<p class="meta">Generated {escape(generated_s)} · geolog {escape(__version__)} · works offline</p>
<nav class="toc"><a href="#map-section">Map</a><a href="#routes">Routes</a><a href="#profile">Elevation</a><a href="#rules">Rules</a><a href="#assumptions">Assumptions</a><a href="#sources">Sources</a></nav>
</header>
<section id="map-section"><h2>Map</h2>
<div class="map-frame">{map_body}</div>
<p class="note">Basemap: hillshade of the elevation model and the road network (coloured by steepest grade), both embedded in this file. OpenStreetMap web tiles are an optional layer (needs internet).</p>
</section>
<section id="routes"><h2>Routes</h2>{routes_html}</section>
<section id="profile"><h2>Elevation profile</h2>{profile_html}</section>
<section id="rules"><h2>Rules in force</h2>{rules_html}</section>
<section id="assumptions"><h2>Assumptions</h2>{assumptions_html}</section>
<section id="sources"><h2>Data sources</h2>{sources_html}</section>
</main>
<script type="application/json" id="geolog-data">{script_json(data)}</script>
<script>
{map_script}
</script>
</body>
</html>
"""
    if path is None:
        return page
    out = atomic_write_text(path, page)
    logger.info("briefing written to %s (%.1f kB)", out, out.stat().st_size / 1024)
    return out
