"""Evaluating a rule set on a network's edges: speeds, priorities and what each rule did.

:func:`_compute` runs the profile's speed model, then every statement of the
rule set, vectorised over the edges; area masks are cached in a registered
LRU (:mod:`geolog._cache`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from . import _cache
from ._ruleparse import _Col, closest, column_kind, evaluate
from ._ruleset import RuleSet, Statement
from .errors import RuleError
from .profiles import Profile, get_profile

if TYPE_CHECKING:
    from .network import Network


_TERRAIN_COLUMNS = {
    "grade",
    "max_grade",
    "max_grade_sd",
    "max_grade_hi",
    "ascent_m",
    "descent_m",
    "terrain_filled",
    "grade_class",
}
#: Columns rules may not read (geometry has its own test: in_area).
_HIDDEN_COLUMNS = {"geometry"}

#: Area masks by (network fingerprint, area name, geometry): which edges an area touches.
_AREA_CACHE = _cache.LRU("rule area masks", 64)


def _fingerprint(net: Network) -> str:
    return net.fingerprint()


def _resolve_profile(profile: Any, rs: RuleSet) -> Profile:
    if profile is None:
        return get_profile(rs.profile or "car")
    prof = get_profile(profile)
    if rs.profile is not None:
        wanted = get_profile(rs.profile)
        if wanted.content_hash() != prof.content_hash():
            raise RuleError(
                f"rules {rs.source} are written for profile {wanted.name!r} but profile "
                f"{prof.name!r} was requested; pass profile={wanted.name!r} (or profile=None to "
                f"use the rules' profile), or remove 'profile' from the rules"
            )
    return prof


@dataclass
class _Outcome:
    speed_kph: np.ndarray
    priority: np.ndarray
    base: dict[str, Any]
    # per statement: mask of edges where it took effect, and where it set 0
    applied: list[tuple[Statement, np.ndarray, np.ndarray]]
    distance_influence: float


def _area_mask(edges: pd.DataFrame, key: str, name: str, geom: Any) -> np.ndarray:
    ck = (key, name, shapely.to_wkb(geom, hex=True))
    hit = _AREA_CACHE.get(ck)
    if hit is None:
        geoms = edges.geometry.to_numpy()
        tree = shapely.STRtree(geoms)
        idx = tree.query(geom, predicate="intersects")
        hit = np.zeros(len(edges), dtype=bool)
        hit[idx] = True
        _AREA_CACHE.put(ck, hit)
    return hit


def _validate_names(rs: RuleSet, available: list[str], has_terrain: bool) -> None:
    avail = set(available)
    for s in rs.statements:
        for name, pos in s.condition.names:
            if name in avail:
                continue
            msg = (
                f"{s.label}: condition {s.condition.text!r}, column {pos}: unknown column {name!r}"
            )
            close = closest(name, sorted(avail))
            if close:
                msg += f"; did you mean {', '.join(map(repr, close))}?"
            if name in _TERRAIN_COLUMNS and not has_terrain:
                msg += " The network has no terrain columns: add them with net.with_terrain(dem)."
            elif name not in _TERRAIN_COLUMNS:
                msg += f" If you meant the text value, quote it: '{name}'."
            raise RuleError(msg)


def _compute(net: Network, prof: Profile, rs: RuleSet) -> _Outcome:
    edges = net.edges
    n = len(edges)
    base = prof.evaluate(edges)
    available = [c for c in edges.columns if c not in _HIDDEN_COLUMNS and isinstance(c, str)] + [
        "maxspeed_kph"
    ]
    _validate_names(rs, available, base["has_terrain"])

    col_cache: dict[str, _Col] = {}

    def columns(name: str) -> _Col:
        if name not in col_cache:
            if name == "maxspeed_kph" and name not in edges.columns:
                col_cache[name] = _Col(base["maxspeed_kph"], "num", name)
            else:
                s = edges[name]
                kind = column_kind(s)
                if kind == "num":
                    vals = s.to_numpy(dtype=float, na_value=np.nan)
                elif kind == "bool":
                    vals = s.to_numpy(dtype=bool)
                else:
                    vals = s.to_numpy(dtype=object, na_value=None)
                col_cache[name] = _Col(vals, kind, name)
        return col_cache[name]

    key = net.fingerprint()

    def area(name: str) -> np.ndarray:
        return _area_mask(edges, key, name, rs.areas[name])

    applied: list[tuple[Statement, np.ndarray, np.ndarray]] = []
    result = {"priority": base["priority"].copy(), "speed": base["speed_kph"].copy()}
    for section in ("priority", "speed"):
        arr = result[section]
        taken = np.zeros(n, dtype=bool)  # edges already matched in the current chain
        for s in getattr(rs, section):
            if s.kind == "if":
                taken = np.zeros(n, dtype=bool)
            m = evaluate(s.condition, columns, area, n, label=s.label)
            eff = m & ~taken
            taken |= m
            before_pos = arr > 0
            if s.action == "multiply_by":
                arr = np.where(eff, arr * s.value, arr)
            else:
                arr = np.where(eff, np.minimum(arr, s.value), arr)
            applied.append((s, eff, eff & before_pos & ~(arr > 0)))
        result[section] = arr
    speed = np.minimum(result["speed"], prof.max_speed_kph)
    di = rs.distance_influence if rs.distance_influence is not None else prof.distance_influence
    return _Outcome(speed, result["priority"], base, applied, di)
