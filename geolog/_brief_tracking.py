"""The briefing's "Tracking" section and its map layers (see :mod:`geolog.tracking`).

Takes matched traces (:class:`~geolog.tracking.MatchResult`) and/or plan
progress (:class:`~geolog.tracking.PlanProgress`, which carries its match):
per vehicle the distance matched and breaks, stops planned against actual
with ETAs, detours, the worst delay hot spots and the speed findings that
differ most from the profile. Every text from data is escaped by
:func:`~geolog._brief_format.html_table`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._brief_format import fmt_time, html_table
from ._html import escape

__all__ = ["tracking_items", "tracking_layers", "tracking_section"]


def tracking_items(tracking: Any) -> list[tuple[Any, Any]]:
    """``(match, progress or None)`` pairs from a MatchResult, a PlanProgress or a list of them."""
    items = tracking if isinstance(tracking, list | tuple) else [tracking]
    out = []
    for it in items:
        if hasattr(it, "stops") and hasattr(it, "match"):
            out.append((it.match, it))
        else:
            out.append((it, None))
    return out


def tracking_layers(tracking: Any) -> list[Any]:
    """Map layers per vehicle: the trace, the matched route and its delay hot spots."""
    from ._map_tracking import delay_layer, matched_layer, trace_layer

    layers = []
    for m, _ in tracking_items(tracking):
        v = m.vehicle
        layers += [
            trace_layer(m, name=f"{v}: GPS trace", show=False),
            matched_layer(m, name=f"{v}: driven"),
            delay_layer(m, name=f"{v}: delay hot spots"),
        ]
    return layers


def _clock(t: Any) -> str:
    return "–" if pd.isna(t) else t.strftime("%H:%M")


def _stops_table(p: Any) -> str:
    rows = [
        [
            s.id,
            _clock(s.planned_arrival),
            _clock(s.actual_arrival),
            fmt_time(s.delay_s) if pd.notna(s.delay_s) else "–",
            _clock(s.eta),
            fmt_time(s.eta_delay_s) if pd.notna(s.eta_delay_s) else "–",
            s.status,
        ]
        for s in p.stops.itertuples()
    ]
    head = ["stop", "planned", "arrived", "late by", "ETA", "ETA late by", "status"]
    return html_table(head, rows, numeric={3, 5})


def _vehicle_html(m: Any, p: Any) -> str:
    from ._map_tracking import delays
    from ._track_speed import speed_table

    s = m.summary()
    parts = [
        f"<h3>{escape(m.vehicle)}</h3>",
        f"<p>{s['fixes']:,} fixes, {s['matched_km']:.1f} km matched on {s['edges']} roads; "
        f"{s['breaks']} break(s), {s['gaps']} gap(s); mean match confidence "
        f"{s['mean_confidence']:.2f}.</p>",
    ]
    if p is not None:
        parts.append(_stops_table(p))
        dev = p.deviations
        if len(dev):
            rows = [
                [_clock(d.from_time), _clock(d.to_time), f"{d.length_m:,.0f}", d.roads]
                for d in dev.itertuples()
            ]
            parts.append("<p>Off the planned roads:</p>")
            parts.append(html_table(["from", "to", "metres", "roads"], rows, numeric={2}))
    hot = delays(m).head(5)
    if len(hot):
        rows = [
            [
                str(h.name) if isinstance(h.name, str) and h.name else h.highway,
                _clock(h.entry_time),
                fmt_time(h.lost_s),
            ]
            for h in hot.itertuples()
        ]
        parts.append(html_table(["delay hot spot", "at", "time lost"], rows, numeric={2}))
    table = speed_table(m)
    off = table[(table["edges"] >= 3) & ((table["ratio"] - 1).abs() > 0.15)]
    if len(off):
        parts.append("<ul>" + "".join(f"<li>{escape(f)}</li>" for f in off["finding"]) + "</ul>")
    return "".join(parts)


def tracking_section(tracking: Any) -> str:
    """The section's HTML: one block per vehicle."""
    return "".join(_vehicle_html(m, p) for m, p in tracking_items(tracking))
