"""Display formatting of routes: the terminal line, the notebook table, number formats.

Durations use the one formatter of :mod:`geolog._format`. Every value that
may come from untrusted text (road names, profile names) is
HTML-escaped in :func:`route_html`.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ._format import fmt_duration as _fmt_duration


def _fmt(x: float, spec: str) -> str:
    return "?" if x is None or not np.isfinite(x) else format(x, spec)


def _fmt_pct(x: float) -> str:
    return "?" if x is None or not np.isfinite(x) else f"{x:.1%}"


def route_repr(r: Any) -> str:
    """One line: ``<geolog.Route car: 12.34 km, 18.2 min, +400 m / -120 m, …>``."""
    return (
        f"<geolog.Route {r.profile_name or r.weight}: {r.length_m / 1000:,.2f} km, "
        f"{_fmt_duration(r.duration_s)}, +{_fmt(r.ascent_m, '.0f')} m / "
        f"-{_fmt(r.descent_m, '.0f')} m, max grade {_fmt_pct(r.max_grade)}, "
        f"{len(r.rows)} edges>"
    )


def route_html(r: Any) -> str:
    """The route's headline numbers as an HTML table (every cell escaped)."""
    rows = [
        ("profile", r.profile_name or "—"),
        ("length", f"{r.length_m / 1000:,.2f} km"),
        ("duration", _fmt_duration(r.duration_s)),
        ("ascent / descent", f"{_fmt(r.ascent_m, '.0f')} m / {_fmt(r.descent_m, '.0f')} m"),
        ("max grade", _fmt_pct(r.max_grade)),
        ("edges", f"{len(r.rows)}"),
        ("from", f"{r.origin[0]:.5f}, {r.origin[1]:.5f}"),
        ("to", f"{r.destination[0]:.5f}, {r.destination[1]:.5f}"),
    ]
    if r.via:
        rows.append(("via", "; ".join(f"{a:.5f}, {b:.5f}" for a, b in r.via)))
    if r.stretch is not None:
        rows.append(("stretch / overlap", f"{r.stretch:.3f} / {r.overlap:.0%}"))
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table><caption>geolog.Route</caption>{body}</table>"
