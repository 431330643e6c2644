"""Self-contained offline map briefings: one HTML file to hand to a partner.

:func:`briefing` writes a single HTML page that opens anywhere with no internet:
Leaflet 1.9.4 is inlined (vendored from npm, BSD-2-Clause, licence in
``geolog/assets``), the basemap is the DEM hillshade plus the roads (PNG and
JSON inside the page), and OpenStreetMap web tiles are only an optional layer,
off at opening; an offline base map from the network's OSM file (place names,
water, built-up areas, forest, road refs) lies under the data. Sections: title,
purpose and data date, map, route table(s) with grade classes and steep stretches
merged per road with their km from the start (≥ 7 % flagged as obstructions),
turn-by-turn directions with clock times, elevation profile (inline SVG, no
script), rules in force (YAML and the explain table), assumptions (profile,
speeds, and what the rules and terrain used imply), data sources and dates, generation time and geolog version;
with ``threats=`` / ``viewshed=`` / ``contingency=``, "Risks and contingencies"
(exposure per threat level and observer, detours per closed stretch). The
routes, profile and rules are also embedded as JSON in a
``<script type="application/json" id="geolog-data">`` element so the route can
be reproduced; ``<``, ``>`` and ``&`` in it are written as ``\\u003c``-style
escapes so no string can close the element. Every string from data is
HTML-escaped. The page prints cleanly (print CSS: no controls, sections kept
whole).

The sections are built in ``_brief_routes`` (route tables, grade classes,
elevation profile) and ``_brief_context`` (rules, assumptions, sources), the
map and page in ``_brief_page``; small escaped formatters in ``_brief_format``.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._basemap import resolve_basemap
from ._brief_context import (
    assumptions_section,
    dem_from_meta,
    rules_dict,
    rules_for_briefing,
    rules_section,
    sources_section,
)
from ._brief_page import data_date, render_map, render_page, route_json
from ._brief_risk import risk_layers, risk_section
from ._brief_routes import (
    OBSTRUCTION_GRADE,
    directions_section,
    obstruction_stretches,
    profile_section,
    route_section,
)
from ._brief_tracking import tracking_layers, tracking_section
from ._html import atomic_write_text
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

__all__ = ["briefing", "OBSTRUCTION_GRADE", "obstruction_stretches"]


logger = logging.getLogger(__name__)


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
    basemap: Any = None,
    departure: Any = None,
    generated: _dt.datetime | None = None,
    threats: Any = None,
    viewshed: Any = None,
    critical_links: Any = None,
    contingency: Any = None,
    tracking: Any = None,
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
    basemap
        Offline base map (place names, water, built-up areas, forest, road
        refs): ``None`` (default) reads the network's own OSM file when it is
        found on this machine, a path reads that OSM file, ``False`` draws none.
        Its timestamp is the data date in the header.
    departure
        Departure clock time ("HH:MM", ``datetime.time`` or ``datetime``) for
        the directions' clock column; default none: times from the start
        ("+H:MM").
    generated
        Timestamp to print (default now, UTC).
    threats
        Threat zones (see :func:`geolog.risk.threat_zones`): drawn on the map,
        and the "Risks and contingencies" section lists the metres and time of
        each route inside each threat level (:func:`geolog.risk.exposure_report`)
        and inside each zone.
    viewshed
        A :class:`geolog.risk.Viewshed`: drawn on the map, and the section lists
        the metres and time of each route in view of each observer.
    critical_links
        A table from :func:`geolog.critical_links`: its worst links drawn on the map.
    contingency
        ``True`` to compute :func:`geolog.contingency` for each route, or its
        table (for the first route) or a list of tables (one per route): the
        section lists each closed stretch, its detour and the extra time.
        Without any of these four the briefing has no risk section.
    tracking
        Matched traces (:func:`geolog.match`) or plan progress
        (:func:`geolog.tracking.plan_vs_actual`), one or a list: each
        vehicle's trace, driven roads and delay hot spots on the map, and a
        "Tracking" section (stops planned against actual with ETAs, detours,
        hot spots, speeds unlike the profile's).

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
        dem = dem_from_meta(net)
    rules_obj = rules_for_briefing(raw_rules)
    when = (generated or _dt.datetime.now(_dt.UTC)).replace(microsecond=0)
    generated_s = when.isoformat().replace("+00:00", "Z")

    bm = resolve_basemap(basemap, net)
    map_header, map_body, map_script = render_map(
        net, rlist, labels, dem, rules_obj, osm_tiles, bm if bm is not None else False,
        extra_layers=risk_layers(threats, viewshed, critical_links)
        + (tracking_layers(tracking) if tracking is not None else []),
    )  # fmt: skip
    risk_html, risk_json = risk_section(
        rlist, labels, net=net, zones=threats, viewshed=viewshed, contingency=contingency
    )
    routes_html, summaries = route_section(rlist, labels, net)
    profile_html = profile_section(rlist, labels)
    directions_html = directions_section(rlist, labels, departure)
    rules_html = rules_section(rules_obj, raw_rules, net, getattr(rlist[0], "profile_name", None))
    assumptions_html, profile_dicts = assumptions_section(rlist, None, rules_obj, net)
    sources_html, net_meta = sources_section(net, dem, generated_s, __version__)

    data = {
        "geolog_version": __version__,
        "generated": generated_s,
        "title": title,
        "purpose": purpose,
        "routes": [
            route_json(r, s, lab) for r, s, lab in zip(rlist, summaries, labels, strict=True)
        ],
        "rules": rules_dict(rules_obj, raw_rules) if rules_obj is not None else None,
        "profiles": profile_dicts,
        "network": net_meta,
        "dem_source": getattr(dem, "source", None) if dem is not None else None,
    }
    if risk_json:
        data["risk"] = risk_json
    page = render_page(
        title=title,
        purpose=purpose,
        generated=generated_s,
        version=__version__,
        data_date=data_date(bm, dem),
        map_parts=(map_header, map_body, map_script),
        sections={
            "routes": routes_html,
            "directions": directions_html,
            "profile": profile_html,
            "rules": rules_html,
            "assumptions": assumptions_html,
            "sources": sources_html,
            "risk": risk_html,
            "tracking": tracking_section(tracking) if tracking is not None else "",
        },
        data=data,
    )
    if path is None:
        return page
    out = atomic_write_text(path, page)
    logger.info("briefing written to %s (%.1f kB)", out, out.stat().st_size / 1024)
    return out
