"""Route rules: the analyst's language for reshaping a network's costs.

A rule set is YAML (or a dict) in the spirit of GraphHopper's custom models::

    profile: truck
    areas:                      # GeoJSON file (relative to the rules file) or inline geometry
      flood_zone: flood_zone.geojson
    priority:                   # multipliers; 0 forbids an edge
      - if: max_grade > 0.10
        multiply_by: 0
      - if: in_area(flood_zone)
        multiply_by: 0
      - if: highway in ("track", "path")
        multiply_by: 0.3
    speed:                      # km/h
      - if: surface in ("gravel", "unpaved", "dirt")
        limit_to: 30
      - else_if: grade < -0.08
        multiply_by: 0.7
    distance_influence: 70      # seconds per km of extra distance tolerated

**Statements.** ``priority`` and ``speed`` are lists of statements. Each has one
condition key — ``if``, ``else_if`` (applies only where the statements before
it in the same if-chain did not match) or ``else`` (everything the chain did
not match) — and one action: ``multiply_by`` (a factor >= 0) or ``limit_to``
(an upper bound; km/h in ``speed``). An ``if`` starts a new chain; chains apply
one after the other, in order. Values in the speed section are capped by the
profile's ``max_speed_kph`` at the end.

**Conditions** read edge columns (``highway``, ``surface``, ``maxspeed``,
``grade``, ``max_grade``, ``max_grade_hi``, ``length_m`` … plus ``maxspeed_kph``, the parsed
posted limit) with literals, comparisons (``== != < <= > >= in``, ``not in``),
``and`` / ``or`` / ``not`` and ``in_area(name)``; see :mod:`geolog._ruleparse`
for the exact whitelist. Text columns compared with a number are read as
numbers (``lanes >= 2``); a bare text column is true where tagged and not
``"no"`` (``if: bridge``). Missing values: ``==``, ``<``, ``in`` are False,
``!=`` and ``not in`` True.

**Cost.** :func:`apply` adds ``speed_kph``, ``travel_time_s`` (length /
speed), ``priority`` and ``cost = travel_time_s / priority +
distance_influence · length_m / 1000`` (seconds-like; ``inf`` where priority or
speed is 0).

Rule sets compose: ``load_rules([base, overrides])`` or ``base.merge(other)``
append the statements of later sets, overwrite areas of the same name, and
take the later ``distance_influence`` / ``profile`` when given.

The code is split by concern: rule sets and loading in
:mod:`geolog._ruleset`, evaluation on the edges in :mod:`geolog._rule_eval`,
:func:`explain` and friends in :mod:`geolog._rule_explain`; every name stays
importable from here.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _cache
from ._rule_eval import _compute, _fingerprint, _resolve_profile  # noqa: F401
from ._rule_explain import _blocked_message, edge_reasons, explain, rule_masks
from ._ruleset import RuleSet, Statement, load_rules
from .errors import GeologWarning, RuleError

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "Statement",
    "RuleSet",
    "load_rules",
    "explain",
    "rule_masks",
    "edge_reasons",
    "apply",
    "clear_cache",
]

logger = logging.getLogger(__name__)

#: Costed networks by (network fingerprint, profile hash, rules hash).
_CACHE = _cache.LRU("costed networks", 16)

#: :func:`geolog.clear_cache` under its old name: empties every geolog cache.
clear_cache = _cache.clear_cache


def apply(net: Network, profile: Any = None, rules: Any = None) -> Network:
    """Apply a travel profile and route rules to every edge, vectorised.

    Parameters
    ----------
    net
        The network; not modified.
    profile
        Profile name (``"car"``, ``"truck"``, ``"foot"``, ``"tracked"``), YAML
        path, dict or :class:`~geolog.profiles.Profile`. ``None``: the rules'
        ``profile`` key, else ``"car"``.
    rules
        Anything :func:`load_rules` accepts (``None`` = profile only).

    Returns
    -------
    Network
        A new network whose edges gain ``speed_kph`` (km/h), ``travel_time_s``
        (seconds; ``inf`` where speed is 0), ``priority`` (multiplier; 0 =
        forbidden) and ``cost`` (``travel_time_s / priority +
        distance_influence · length_m / 1000``; ``inf`` where forbidden). Its
        ``meta`` records ``profile``, ``profile_hash``, ``rules`` (the rule set
        as a dict), ``rules_hash``, ``distance_influence`` and
        ``maxspeed_invalid``. Results are cached per (network fingerprint,
        profile content, rules content): the same call again returns the same
        object at once.

    Raises
    ------
    RuleError
        Invalid rules, unknown columns, a profile that contradicts the rules'
        ``profile``, or rules that forbid every edge.
    InputError
        Invalid profile.

    Warns
    -----
    GeologWarning
        When the profile's speed depends on grade but the network has no
        terrain columns (grade taken as 0).

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> costed = geolog.rules.apply(net, "car", {"priority": [{"if": "highway == 'service'", "multiply_by": 0.5}]})
    >>> {"speed_kph", "travel_time_s", "priority", "cost"} <= set(costed.edges.columns)
    True
    """
    rs = load_rules(rules)
    prof = _resolve_profile(profile, rs)
    key = (_fingerprint(net), prof.content_hash(), rs.content_hash())
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    out = _compute(net, prof, rs)
    if prof.uses_grade and not out.base["has_terrain"]:
        warnings.warn(
            f"profile {prof.name!r} slows down on grades but the network has no terrain "
            "columns; grades are taken as 0 and grade limits are not checked. Add terrain "
            "with net.with_terrain(dem) first.",
            GeologWarning,
            stacklevel=2,
        )
    speed, priority = out.speed_kph, out.priority
    blocked = (priority <= 0) | (speed <= 0)
    if len(blocked) and blocked.all():
        raise RuleError(_blocked_message(net, prof, out, rs))
    length = net.edges["length_m"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        travel = np.where(speed > 0, length / (speed / 3.6), np.inf)
        cost = np.where(
            blocked,
            np.inf,
            travel / np.where(blocked, 1.0, priority) + out.distance_influence * length / 1000.0,
        )
    edges = net.edges.assign(speed_kph=speed, travel_time_s=travel, priority=priority, cost=cost)
    meta = dict(net.meta)
    meta.update(
        {
            "profile": prof.name,
            "profile_hash": prof.content_hash(),
            "rules": rs.to_dict(),
            "rules_hash": rs.content_hash(),
            "distance_influence": out.distance_influence,
            "maxspeed_invalid": int(out.base["maxspeed_invalid"]),
            "forbidden_edges": int(blocked.sum()),
            "turn_costs": {**prof.turn_costs, **rs.turn_costs},
        }
    )
    if out.base["maxspeed_invalid"]:
        logger.info(
            "%d edges carry a maxspeed tag that could not be parsed; class defaults used",
            out.base["maxspeed_invalid"],
        )
    result = net.replace(edges=edges, meta=meta)
    return _CACHE.put(key, result)
