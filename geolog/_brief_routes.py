"""Briefing sections about the routes: summary tables, grade classes and details, elevation profile."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._brief_format import Raw, fmt_km, fmt_latlon, fmt_pct, fmt_time, html_table
from ._html import escape, svg_profile

if TYPE_CHECKING:  # pragma: no cover
    from .network import Network

logger = logging.getLogger(__name__)


#: Grades at or above this (fraction, either direction) are flagged as obstructions.
OBSTRUCTION_GRADE = 0.07


# the route-reconnaissance grade classes of geolog.costing (and of the map legend)
_CLASS_EDGES = (0.0, 0.05, 0.07, 0.10, 0.14, np.inf)


_CLASS_LABELS = ("< 5 %", "5–7 %", "7–10 %", "10–14 %", "≥ 14 %")


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
        details.append(_grade_detail(label, edges))
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
                fmt_pct(g[j]) + (" down" if signed[j] < 0 else " up" if signed[j] > 0 else ""),
                f"{length[j]:.0f} m",
                "" if gc is None or gc[j] is None else gc[j],
            ]
            for i, j in enumerate(order)
        ]
        more = f" (steepest 25 of {steep.size})" if steep.size > 25 else ""
        out.append(
            f"<h3>{escape(label)}: obstructions (stretches ≥ {OBSTRUCTION_GRADE * 100:.0f} %){escape(more)}</h3>"
            + html_table(
                ["#", "road", "steepest grade (travel direction)", "length", "grade class"],
                srows,
                numeric={0, 2, 3},
                row_class=["obstruction"] * len(srows),
            )
        )
    return "".join(out)


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
