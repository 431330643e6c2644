"""Briefing sections about the context: rules in force, assumptions, data sources (and the DEM)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._brief_format import fmt_pct, frame_table, html_table
from ._brief_routes import OBSTRUCTION_GRADE
from ._html import escape

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

logger = logging.getLogger(__name__)


def rules_for_briefing(rules: Any) -> Any:
    if rules is None:
        return None
    try:
        from .rules import load_rules
    except ImportError:  # pragma: no cover - rules module not available
        return rules
    return load_rules(rules)


def _plain(obj: Any) -> Any:
    """Tuples (shapely mappings) to lists, numpy scalars to Python: YAML/JSON-safe."""

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


def rules_dict(rules: Any, raw: Any) -> Any:
    f = getattr(rules, "to_dict", None)
    if callable(f):
        return _plain(f())
    if isinstance(raw, Mapping):
        return _plain(dict(raw))
    return _rules_yaml(rules, raw)


def rules_section(rules: Any, raw: Any, net: Network | None, profile: Any) -> str:
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
            out.append("<h3>What each rule matched</h3>" + frame_table(table))
    return "".join(out)


def assumptions_section(
    routes: list[Any], profile: Any, rules: Any = None, net: Network | None = None
) -> tuple[str, list[dict]]:
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
                fmt_pct(d["max_grade"]) if d.get("max_grade") is not None else "no limit",
            ],
            [
                "steepest descent allowed",
                fmt_pct(d["max_descent_grade"])
                if d.get("max_descent_grade") is not None
                else "no limit",
            ],
            ["speed vs grade", str(gm.get("model", "none"))],
            ["posted maxspeed used", "yes" if d.get("use_maxspeed") else "no"],
            ["vehicle weight", f"{d['weight_t']:g} t" if d.get("weight_t") else "–"],
            ["forbidden road classes", ", ".join(d.get("forbid_highways") or []) or "–"],
        ]
        out.append(
            f"<h3>Profile {escape(d['name'])}</h3>" + html_table(["assumption", "value"], rows)
        )
        speeds = sorted(d.get("highway", {}).items(), key=lambda kv: -kv[1])
        if speeds:
            out.append(
                "<h3>Base speed per road class</h3>"
                + html_table(["highway", "km/h"], [[k, f"{v:g}"] for k, v in speeds], numeric={1})
            )
        if d.get("sources"):
            out.append(
                '<p class="note">Sources of the profile\'s figures:</p><ul class="note">'
                + "".join(f"<li>{escape(s)}</li>" for s in d["sources"])
                + "</ul>"
            )
    out.append(_general_assumptions(rules, net))
    return "".join(out), dicts


def _general_assumptions(rules: Any, net: Network | None) -> str:
    """What the times and grades assume, from the rules and terrain actually used."""
    from ._brief_format import fmt_len

    items = []
    terrain = (getattr(net, "meta", None) or {}).get("terrain") or {}
    if terrain:
        window = terrain.get("max_grade_window_m")
        over = f" over {fmt_len(float(window))} of road" if window else ""
        items.append(
            f"Grades are the steepest rise over run{over}, estimated from "
            f"{terrain.get('dem_source') or 'the DEM'}; a stretch at or above "
            f"{OBSTRUCTION_GRADE * 100:.0f} % in either direction is flagged as an obstruction."
        )
    else:
        items.append("The network has no terrain: grades and climbs are unknown.")
    d = rules.to_dict() if callable(getattr(rules, "to_dict", None)) else {}
    if d:
        what = d.get("description") or "the rule set"
        n_p, n_s = len(d.get("priority") or []), len(d.get("speed") or [])
        items.append(
            f"Conditions are those of the rules in force ({what}): {n_p} priority and "
            f"{n_s} speed rule(s) change the profile's choices and speeds (see Rules in force)."
        )
    else:
        items.append("No route rules: road conditions are the profile's defaults.")
    items.append("Travel times assume free-flowing traffic and no stops on the way.")
    return '<ul class="note">' + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


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


def _terrain_method(terrain: Mapping) -> str:
    from ._brief_format import fmt_len

    window = terrain.get("max_grade_window_m")
    over = f"; steepest grade over {fmt_len(float(window))}" if window else ""
    return f"{terrain.get('method', 'road profiles from the DEM')}{over}"


def sources_section(
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
                _terrain_method(terrain),
                "",
                "",
            ]
        )
    html = html_table(["data", "source", "date", "sha256 (first 16)"], rows)
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


def dem_from_meta(net: Network | None) -> Any:
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
