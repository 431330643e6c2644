"""The briefing's "Risks and contingencies" section and its map layers (see :mod:`geolog.risk`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._brief_format import fmt_km, fmt_len, fmt_time, html_table
from ._html import escape


def risk_layers(zones: Any, viewshed: Any, links: Any) -> list[Any]:
    """Folium layers of the threat zones, the viewshed and the critical links (those given)."""
    from ._map_risk import critical_links_layer, threat_layer, viewshed_layer

    out = []
    if zones is not None:
        out.append(threat_layer(zones))
    if viewshed is not None:
        out.append(viewshed_layer(viewshed))
    if links is not None and len(links):
        out.append(critical_links_layer(links))
    return out


def exposure_totals(route: Any, zones: Any, viewshed: Any) -> dict[str, float]:
    """The route's totals of :func:`geolog.risk.exposure_report` (metres and seconds columns)."""
    from .risk import exposure_report

    rep = exposure_report(route, zones=zones, viewshed=viewshed)
    cols = [c for c in rep.columns if c.startswith(("exposure_", "visible_"))]
    return {c: float(rep[c].sum()) for c in cols}


def _exposure_rows(totals: dict[str, float], length_m: float, observers: list[str]) -> list:
    from .risk import LEVELS

    rows = []
    keys = [(f"inside {lv} threat zones", f"exposure_{lv}") for lv in reversed(LEVELS)]
    keys.append(("inside any threat zone", "exposure"))
    keys += [(f"in view of observer {name}", f"visible_{name}") for name in observers]
    for label, k in keys:
        m = totals.get(f"{k}_m")
        if m is None:
            continue
        s = totals.get(f"{k}_s", np.nan)
        share = f"{100 * m / length_m:.1f} %" if length_m > 0 else "–"
        rows.append([label, f"{m:.0f}", fmt_time(s), share])
    return rows


def _zones_rows(route: Any, zones: Any) -> list:
    """Per zone: name, level and the route's metres inside it (exact, local UTM)."""
    import geopandas as gpd

    from .risk import _inside_m, threat_zones

    line = gpd.GeoSeries([route.geometry], crs=4326)
    crs = line.estimate_utm_crs()
    geom = line.to_crs(crs).to_numpy()
    z = threat_zones(zones, crs=crs)
    names = z["name"] if "name" in z.columns else pd.Series(z.index.astype(str), index=z.index)
    return [
        [str(n) if isinstance(n, str) and n else f"zone {i}", lv, f"{_inside_m(geom, g)[0]:.0f}"]
        for i, n, lv, g in zip(z.index, names, z["level"], z.geometry, strict=True)
    ]


def _contingency_table(table: pd.DataFrame) -> str:
    rows = [
        [
            r.stretch,
            fmt_km(r.from_m),
            fmt_len(r.length_m),
            r.via if r.detour_exists else "no detour",
            f"{r.extra_s / 60:+.0f} min" if r.detour_exists else "–",
            r.advice,
        ]
        for r in table.itertuples()
    ]
    row_class = ["" if r.detour_exists else "obstruction" for r in table.itertuples()]
    header = ["Closed stretch", "From km", "Length", "Detour via", "Extra time", "Advice"]
    return html_table(header, rows, numeric={1, 2, 4}, row_class=row_class)


def risk_section(
    routes: list[Any],
    labels: list[str],
    *,
    net: Any,
    zones: Any = None,
    viewshed: Any = None,
    contingency: Any = None,
) -> tuple[str, list[dict]]:
    """(HTML, JSON records) of the "Risks and contingencies" section; ``""`` when nothing is given.

    ``contingency`` is ``True`` (computed per route with
    :func:`geolog.contingency`), a table from it (for the first route) or a
    list of tables (one per route).
    """
    if zones is None and viewshed is None and contingency is None:
        return "", []
    from ._links import contingency as _contingency

    if contingency is True:
        tables = [_contingency(net, r) for r in routes]
    elif isinstance(contingency, pd.DataFrame):
        tables = [contingency, *[None] * (len(routes) - 1)]
    elif contingency is None or contingency is False:
        tables = [None] * len(routes)
    else:
        tables = list(contingency)
    observers = [str(n) for n in viewshed.names] if viewshed is not None else []
    parts, records = [], []
    for r, lab, table in zip(routes, labels, tables, strict=False):
        head = f"<h3>{escape(lab)}</h3>" if len(routes) > 1 else ""
        rec: dict[str, Any] = {"label": lab}
        html = head
        if zones is not None or viewshed is not None:
            totals = exposure_totals(r, zones, viewshed)
            rec["exposure"] = totals
            html += '<p class="note">Exposure of the route (metres and time):</p>' + html_table(
                ["Exposure", "Metres", "Time", "Share of route"],
                _exposure_rows(totals, float(r.length_m), observers),
                numeric={1, 2, 3},
            )
        if zones is not None:
            html += html_table(["Threat zone", "Level", "Route inside (m)"], _zones_rows(r, zones),
                               numeric={2})  # fmt: skip
        if table is not None and len(table):
            rec["contingency"] = table.drop(columns="geometry", errors="ignore").to_dict("records")
            html += '<p class="note">If a stretch is closed:</p>' + _contingency_table(table)
        parts.append(html)
        records.append(rec)
    return "".join(parts), records
