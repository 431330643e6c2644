"""Briefing sections about the routes: summary tables, grade classes and details, elevation profile."""

from __future__ import annotations

import datetime as _dt
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._brief_format import (
    Raw,
    fmt_hhmm,
    fmt_km,
    fmt_latlon,
    fmt_len,
    fmt_pct,
    fmt_time,
    html_table,
)
from ._html import escape, svg_profile
from .errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

logger = logging.getLogger(__name__)


#: Grades at or above this (fraction, either direction) are flagged as obstructions.
OBSTRUCTION_GRADE = 0.07


# the route-reconnaissance grade classes of geolog.costing (and of the map legend)
_CLASS_EDGES = (0.0, 0.05, 0.07, 0.10, 0.14, np.inf)


_CLASS_LABELS = ("< 5 %", "5–7 %", "7–10 %", "10–14 %", "≥ 14 %")


def dem_cell_m(net: Network | None) -> float:
    """The DEM cell size (largest side, metres) recorded by ``with_terrain``; 0 if unknown."""
    terrain = (getattr(net, "meta", None) or {}).get("terrain") or {}
    cell = terrain.get("dem_cell_m")
    try:
        return float(np.max(np.atleast_1d(np.asarray(cell, dtype=float)))) if cell else 0.0
    except (TypeError, ValueError):
        return 0.0


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


def route_section(
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
                fmt_latlon(o),
                fmt_latlon(d),
                fmt_km(s["length_m"]),
                fmt_time(s["duration_s"]),
                f"{s['ascent_m']:.0f} m" if np.isfinite(s["ascent_m"]) else "–",
                f"{s['descent_m']:.0f} m" if np.isfinite(s["descent_m"]) else "–",
                fmt_pct(s["max_grade"]),
                fmt_pct(s["max_descent_grade"]),
                "–"
                if s["obstructions"] is None
                else Raw(
                    f'<span class="flag">{s["obstructions"]} ({s["obstruction_km"]:.2f} km)</span>'
                    if flag
                    else "0"
                ),
                s["profile"],
            ]
        )
        row_cls.append("obstruction" if flag else "")
        details.append(_grade_detail(label, edges, dem_cell_m(net)))
    table = html_table(
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


def _grade_detail(label: str, edges: pd.DataFrame | None, cell_m: float) -> str:
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
                Raw('<span class="flag">obstruction</span>')
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
        html_table(
            ["grade (either direction)", "km", "share", ""], rows, numeric={1, 2}, row_class=rcls
        ),
    ]
    table = obstruction_stretches(edges, cell_m=cell_m)
    if len(table):
        rows = [
            [
                i + 1,
                t.road,
                fmt_km(t.start_m),
                fmt_km(t.end_m),
                fmt_len(t.length_m),
                fmt_pct(t.steepest_grade) + (" down" if t.steepest_grade < 0 else " up"),
            ]
            for i, t in enumerate(table.itertuples())
        ]
        out.append(
            f"<h3>{escape(label)}: obstructions (stretches ≥ {OBSTRUCTION_GRADE * 100:.0f} %, "
            "per road, in route order)</h3>"
            + html_table(
                ["#", "road", "from km", "to km", "length", "steepest grade (travel direction)"],
                rows,
                numeric={0, 2, 3, 4, 5},
                row_class=["obstruction"] * len(rows),
            )
            + f'<p class="note">Steep edges on the same road closer than one DEM cell '
            f"({escape(fmt_len(cell_m))}) are one stretch; a stretch is at least one DEM cell long "
            "(the DEM cannot place a grade more finely) unless the road itself is shorter.</p>"
        )
    return "".join(out)


def obstruction_stretches(
    edges: pd.DataFrame, *, cell_m: float = 0.0, grade: float = OBSTRUCTION_GRADE
) -> pd.DataFrame:
    """Steep stretches of a route merged per road, in route order.

    Parameters
    ----------
    edges
        The route's edges in travel order (``traversed_m`` or ``length_m``,
        ``max_grade`` or ``grade``, ``name``/``ref``/``highway``).
    cell_m
        DEM cell size in metres: steep edges of one road closer than this are
        merged, and a stretch shorter than this is widened to it (centred,
        within the road), unless the road's run on the route is shorter.
    grade
        Threshold (fraction, either direction).

    Returns
    -------
    pandas.DataFrame
        ``road``, ``start_m`` and ``end_m`` (distance from the route start),
        ``length_m`` and ``steepest_grade`` (signed fraction in the travel
        direction, + climbing).
    """
    cols = ["road", "start_m", "end_m", "length_m", "steepest_grade"]
    length = _lengths(edges)
    g = _grade_series(edges) if edges is not None else None
    if length is None or g is None or not len(edges):
        return pd.DataFrame(columns=cols)
    signed = edges["max_grade" if "max_grade" in edges.columns else "grade"].to_numpy(float)
    end = np.cumsum(length)
    start = end - length
    names = _road_names(edges).to_numpy()
    run = np.concatenate([[0], np.cumsum(names[1:] != names[:-1])])
    steep = np.nan_to_num(g, nan=0.0) >= grade
    out = []
    for r in np.unique(run[steep]):
        idx = np.flatnonzero(run == r)
        r0, r1 = start[idx[0]], end[idx[-1]]
        st = idx[steep[idx]]
        # split where the gap between steep edges is one DEM cell or more
        breaks = np.flatnonzero(start[st[1:]] - end[st[:-1]] >= max(cell_m, 1e-9)) + 1
        spans = []
        for grp in np.split(st, breaks):
            a, b = start[grp[0]], end[grp[-1]]
            if b - a < cell_m:  # centre one DEM cell on it, kept inside the road's run
                a = min(max(r0, (a + b - cell_m) / 2), max(r0, r1 - cell_m))
                b = min(r1, a + cell_m)
            j = grp[np.argmax(g[grp])]
            if spans and a <= spans[-1][1]:  # widening made two stretches touch
                pa, _, pj = spans[-1]
                spans[-1] = (pa, b, pj if g[pj] >= g[j] else j)
            else:
                spans.append((a, b, j))
        out += [(names[idx[0]], a, b, b - a, signed[j]) for a, b, j in spans]
    return pd.DataFrame(out, columns=cols)


def profile_section(routes: list[Any], labels: list[str]) -> str:
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


def directions_section(routes: list[Any], labels: list[str], departure: Any = None) -> str:
    """Turn-by-turn tables: step, instruction, road, km from start, clock time, distance, HH:MM."""
    start = _clock_start(departure)
    parts = []
    for route, label in zip(routes, labels, strict=True):
        f = getattr(route, "directions", None)
        try:
            d = f() if callable(f) else None
        except Exception as err:  # noqa: BLE001 - a route without directions still gets a briefing
            logger.info("no directions for %s: %s", label, err)
            d = None
        if d is None or not len(d):
            parts.append(f'<p class="note">{escape(label)}: no directions.</p>')
            continue
        dist = d["distance_m"].to_numpy(float)
        dur = d["duration_s"].to_numpy(float)
        km0 = np.concatenate([[0.0], np.cumsum(dist)[:-1]])
        t0 = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
        when = (
            [(start + _dt.timedelta(minutes=round(t / 60))).strftime("%H:%M") for t in t0]
            if start is not None
            else ["+" + fmt_hhmm(t) for t in t0]
        )
        rows = [
            [int(st), ins, road, f"{k / 1000:.1f}", w, fmt_len(m), fmt_hhmm(t)]
            for st, ins, road, k, w, m, t in zip(
                d["step"], d["instruction"], d["road"], km0, when, dist, dur, strict=True
            )
        ]
        clock = f"time (departure {start:%H:%M})" if start is not None else "time from start"
        parts.append(
            f"<h3>{escape(label)}: directions</h3>"
            + html_table(
                ["step", "instruction", "road", "km from start", clock, "for", "duration"],
                rows,
                numeric={0, 3, 4, 5, 6},
                css="data directions",
            )
        )
    return "".join(parts)


def _clock_start(departure: Any) -> _dt.datetime | None:
    """``departure`` ("HH:MM", a ``datetime.time`` or ``datetime``) as a datetime; None if None."""
    if departure is None:
        return None
    if isinstance(departure, _dt.datetime):
        return departure
    if isinstance(departure, _dt.time):
        return _dt.datetime.combine(_dt.date(2000, 1, 1), departure)
    try:
        return _dt.datetime.strptime(str(departure).strip(), "%H:%M")
    except ValueError as err:
        raise InputError(
            f"departure {departure!r} is not a clock time; give 'HH:MM' (e.g. '06:30')"
        ) from err
