"""A profile on a network's edges: speed, priority and why edges are forbidden, vectorised.

:func:`evaluate` is :meth:`geolog.profiles.Profile.evaluate`. Tag lookups run
once per distinct tag value, then index by code (fast on arrow strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _access
from ._access import deciding, explicitly_open
from ._maxspeed import parse_maxspeed_array, parse_maxweight_t

if TYPE_CHECKING:
    from .profiles import Profile


class _Tags:
    """Per-column tag codes of an edges frame, factorised once per column."""

    def __init__(self, edges: pd.DataFrame) -> None:
        self.edges = edges
        self.n = len(edges)
        self._cats: dict[str, tuple[np.ndarray, list]] = {}

    def factor(self, name: str) -> tuple[np.ndarray, list]:
        """Codes per row (-1 = missing) and the distinct values of column ``name``."""
        if name not in self._cats:
            if name in self.edges.columns:
                codes, uniques = pd.factorize(self.edges[name], use_na_sentinel=True)
                self._cats[name] = (np.asarray(codes), [str(u) for u in uniques])
            else:
                self._cats[name] = (np.full(self.n, -1, dtype=np.intp), [])
        return self._cats[name]

    def lookup(self, name: str, table: Mapping[str, float]) -> np.ndarray:
        """``table[tag]`` per row, NaN where the tag is missing or not in the table."""
        codes, uniques = self.factor(name)
        vals = np.array([table.get(u, np.nan) for u in uniques] + [np.nan], dtype=float)
        return vals[codes]  # code -1 picks the trailing NaN

    def member(self, name: str, values: tuple[str, ...]) -> np.ndarray:
        """Rows whose tag ``name`` is one of ``values``."""
        codes, uniques = self.factor(name)
        hit = np.array([u in values for u in uniques] + [False], dtype=bool)
        return hit[codes]


def _speed(prof: Profile, tags: _Tags) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """``(speed_kph, maxspeed_kph, maxspeed_invalid, has_terrain)`` per edge."""
    edges, n = tags.edges, tags.n
    base = tags.lookup("highway", prof.highway)
    speed = np.where(np.isnan(base), prof.default_speed_kph, base)
    if "maxspeed" in edges.columns:
        maxspeed, invalid = parse_maxspeed_array(edges["maxspeed"])
    else:
        maxspeed, invalid = np.full(n, np.nan), 0
    if prof.use_maxspeed:
        posted = np.where(np.isinf(maxspeed), prof.max_speed_kph, maxspeed * prof.maxspeed_factor)
        speed = np.where(np.isnan(maxspeed), speed, posted)
    if prof.track_speed:
        graded = tags.lookup("tracktype", prof.track_speed)
        on_track = tags.member("highway", ("track",)) & ~np.isnan(graded)
        speed = np.where(on_track & np.isnan(maxspeed), graded, speed)
    if prof.surface_factor:
        f = tags.lookup("surface", prof.surface_factor)
        speed = np.where(np.isnan(f), speed, speed * f)
    for name, table in (
        ("surface", prof.surface),
        ("tracktype", prof.tracktype),
        ("smoothness", prof.smoothness),
    ):
        if table:
            cap = tags.lookup(name, table)
            speed = np.where(np.isnan(cap), speed, np.minimum(speed, cap))
    has_terrain = "grade" in edges.columns
    if has_terrain:
        grade = np.nan_to_num(np.asarray(edges["grade"], dtype=float), nan=0.0)
    else:
        grade = np.zeros(n)
    speed = np.minimum(speed, prof.grade_speed_kph(grade))
    return np.minimum(speed, prof.max_speed_kph), maxspeed, invalid, has_terrain


def _grade_limits(prof: Profile, edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Edges that climb more than ``max_grade`` / descend more than ``max_descent_grade``."""
    n = len(edges)
    if "max_grade" not in edges.columns:
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    mg = np.asarray(edges["max_grade"], dtype=float)
    if prof.grade_min_length_m > 0 and "length_m" in edges.columns:
        short = np.asarray(edges["length_m"], dtype=float) < prof.grade_min_length_m
        mg = np.where(short, np.nan, mg)
    with np.errstate(invalid="ignore"):  # NaN grades compare False
        climb = mg > prof.max_grade if prof.max_grade is not None else np.zeros(n, bool)
        descent = (
            -mg > prof.max_descent_grade
            if prof.max_descent_grade is not None
            else np.zeros(n, bool)
        )
    return climb, descent


def _forbidden(prof: Profile, tags: _Tags) -> dict[str, np.ndarray]:
    """Boolean masks of forbidden edges per reason (highway, access, maxweight, climb, descent)."""
    edges = tags.edges
    # OSM access hierarchy: the most specific tagged key decides, and a
    # mode-specific key that opens a way (motor_vehicle=designated on a
    # path) lifts forbid_highways (geolog._access)
    decided = deciding(edges, prof.access_tags)
    out = {
        "highway": tags.member("highway", prof.forbid_highways)
        & ~explicitly_open(edges, prof.access_tags, decided),
        "access": _access.member(decided[0], prof.forbid_access),
    }
    if prof.weight_t is not None and "maxweight" in edges.columns:
        out["maxweight"] = (
            parse_maxweight_t(edges["maxweight"]) < prof.weight_t
        )  # NaN compares False
    else:
        out["maxweight"] = np.zeros(tags.n, dtype=bool)
    out["climb"], out["descent"] = _grade_limits(prof, edges)
    return out


def evaluate(prof: Profile, edges: pd.DataFrame) -> dict[str, Any]:
    """Speed and priority of every edge under ``prof`` (see :meth:`Profile.evaluate`)."""
    tags = _Tags(edges)
    speed, maxspeed, invalid, has_terrain = _speed(prof, tags)
    prio_tab = tags.lookup("highway", prof.highway_priority)
    priority = np.where(np.isnan(prio_tab), 1.0, prio_tab)
    forbidden = _forbidden(prof, tags)
    any_forbidden = np.logical_or.reduce(list(forbidden.values()))
    return {
        "speed_kph": speed,
        "priority": np.where(any_forbidden, 0.0, priority),
        "maxspeed_kph": maxspeed,
        "maxspeed_invalid": invalid,
        "has_terrain": has_terrain,
        "forbidden": forbidden,
    }
