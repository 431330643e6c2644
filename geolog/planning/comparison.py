"""Comparing two plans (e.g. before / after a road closure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .result import Plan

__all__ = ["compare"]


def _match_vehicles(va: pd.Series, vb: pd.Series) -> dict:
    """Map plan-b vehicle labels to plan-a labels of the same type sharing most stops.

    Vehicles of one type are interchangeable, so "truck-2" in one plan may be
    "truck-1" in the other; matching by overlap (an assignment problem) keeps
    a stop from counting as moved only because of the numbering.
    """
    from scipy.optimize import linear_sum_assignment

    mapping: dict = {}
    la, lb = list(dict.fromkeys(va)), list(dict.fromkeys(vb))
    kind = lambda v: v.rsplit("-", 1)[0]  # noqa: E731
    for t in dict.fromkeys(map(kind, la + lb)):
        ta, tb = [v for v in la if kind(v) == t], [v for v in lb if kind(v) == t]
        overlap = np.array([[((va == x) & (vb == y)).sum() for x in ta] for y in tb], dtype=float)
        if overlap.size:
            rows, cols = linear_sum_assignment(-overlap)
            mapping.update({tb[r]: ta[c] for r, c in zip(rows, cols, strict=True)})
        for y in tb:
            mapping.setdefault(y, y if y not in ta else f"{y}'")
    return mapping


def compare(a: Plan, b: Plan, *, names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Side-by-side table of two plans (e.g. before / after a closure).

    Rows: stops served, unserved, served late (after the window; 0 in a valid
    plan), km, driving hours, route hours, vehicles used, cost, and the number
    of stops that changed vehicle (or became served / unserved; vehicles of one
    type are matched between the plans by the stops they share, so renumbering
    does not count as a change). The stops that changed are listed in ``result.attrs["moved"]`` (a DataFrame with the
    vehicle in each plan).
    """
    na, nb = names

    def late(p: Plan) -> int:
        s = p.stops
        tw = pd.to_numeric(s["tw_end_s"], errors="coerce") if "tw_end_s" in s else None
        if tw is None:
            return 0
        return int(((s["start_s"] > tw) & s["served"]).sum())

    va = a.stops.set_index("id")["vehicle"].astype(object).fillna("(unserved)")
    vb = b.stops.set_index("id")["vehicle"].reindex(va.index).astype(object).fillna("(unserved)")
    vb = vb.map(_match_vehicles(va, vb))
    changed = [i for i in va.index if va[i] != vb[i]]
    moved = pd.DataFrame(
        {
            "id": changed,
            f"vehicle_{na}": va[changed].to_numpy(),
            f"vehicle_{nb}": vb[changed].to_numpy(),
        }
    )
    rows = {}
    for key, fa, fb in (
        ("served", a.totals["served"], b.totals["served"]),
        ("unserved", a.totals["unserved"], b.totals["unserved"]),
        ("late", late(a), late(b)),
        ("km", a.totals["distance_km"], b.totals["distance_km"]),
        ("driving_h", a.totals["driving_h"], b.totals["driving_h"]),
        ("route_h", a.totals["route_h"], b.totals["route_h"]),
        ("vehicles", a.totals["vehicles_used"], b.totals["vehicles_used"]),
        ("cost", a.totals["cost"], b.totals["cost"]),
    ):
        rows[key] = (fa, fb, fb - fa)
    rows["stops_changed_vehicle"] = (0, len(changed), len(changed))
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[na, nb, "change"])
    table.attrs["moved"] = moved
    return table
