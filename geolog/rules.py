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
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ._ruleparse import Condition, _Col, closest, column_kind, evaluate, parse_condition
from ._yaml import parse_json, parse_yaml, read_text
from .errors import GeologWarning, InputError, RuleError
from .profiles import Profile, get_profile

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

_TOP_KEYS = ("profile", "areas", "priority", "speed", "distance_influence", "description")
_COND_KEYS = ("if", "else_if", "else")
_ACTION_KEYS = ("multiply_by", "limit_to")
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


# ----------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Statement:
    """One rule: a condition (``if`` / ``else_if`` / ``else``) and an action.

    Attributes
    ----------
    section
        ``"priority"`` or ``"speed"``.
    index
        Position in its section (0-based), as in ``priority[2]``.
    kind
        ``"if"``, ``"else_if"`` or ``"else"``.
    condition
        The parsed condition (``tree`` is ``None`` for ``else``).
    action
        ``"multiply_by"`` or ``"limit_to"``.
    value
        The factor or limit (km/h for speed limits).
    origin
        The rule file or ``"<dict>"`` it came from.
    """

    section: str
    index: int
    kind: str
    condition: Condition
    action: str
    value: float
    origin: str = "<dict>"

    @property
    def label(self) -> str:
        """``"priority[2]"`` (plus the file when it came from one)."""
        base = f"{self.section}[{self.index}]"
        return base if self.origin == "<dict>" else f"{base} of {self.origin}"

    def to_dict(self) -> dict[str, Any]:
        """The statement as in YAML."""
        cond = None if self.kind == "else" else self.condition.text
        return {self.kind: cond, self.action: self.value}


@dataclass(frozen=True, eq=False)
class RuleSet:
    """A parsed, whitelist-checked rule set. Build with :func:`load_rules`.

    Attributes
    ----------
    priority, speed
        The statements of each section, in order.
    areas
        Area name → shapely geometry (EPSG:4326 lon/lat).
    distance_influence
        Seconds per km added to the cost, or ``None`` to use the profile's.
    profile
        The profile the rules were written for (name, YAML path or an inline
        profile mapping), or ``None``.
    description
        Free text.
    source
        Where the rules came from (file path or ``"<dict>"``).
    """

    priority: tuple[Statement, ...] = ()
    speed: tuple[Statement, ...] = ()
    areas: Mapping[str, Any] = field(default_factory=dict)
    distance_influence: float | None = None
    profile: str | Mapping[str, Any] | None = None
    description: str = ""
    source: str = "<dict>"

    def __len__(self) -> int:
        return len(self.priority) + len(self.speed)

    def __repr__(self) -> str:
        return (
            f"RuleSet({len(self.priority)} priority, {len(self.speed)} speed rules, "
            f"areas={sorted(self.areas)}, distance_influence={self.distance_influence}, "
            f"profile={self.profile!r})"
        )

    @property
    def statements(self) -> tuple[Statement, ...]:
        """Priority statements, then speed statements."""
        return self.priority + self.speed

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "<dict>", base_dir: Path | None = None
    ) -> RuleSet:
        """Validate a rule mapping (the YAML content); see :func:`load_rules`."""
        return _from_dict(data, source=source, base_dir=base_dir)

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping (areas as GeoJSON geometries) that :func:`load_rules` reads back."""
        out: dict[str, Any] = {}
        if self.profile is not None:
            out["profile"] = self.profile
        if self.description:
            out["description"] = self.description
        if self.areas:
            out["areas"] = {k: shapely.geometry.mapping(g) for k, g in self.areas.items()}
        out["priority"] = [s.to_dict() for s in self.priority]
        out["speed"] = [s.to_dict() for s in self.speed]
        if self.distance_influence is not None:
            out["distance_influence"] = self.distance_influence
        return out

    def content_hash(self) -> str:
        """SHA-1 of the rules' content (statements, area geometries, settings)."""
        d = self.to_dict()
        if self.areas:
            d["areas"] = {k: shapely.to_wkb(g, hex=True) for k, g in sorted(self.areas.items())}
        return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()

    def merge(self, *others: RuleSet | Mapping | str | Path) -> RuleSet:
        """Compose rule sets: this one first, then ``others`` (see the module docstring).

        Returns a new RuleSet; statements are renumbered in the combined lists.
        """
        out = self
        for other in others:
            o = load_rules(other)
            areas = {**out.areas, **o.areas}
            prio = tuple(replace(s, index=i) for i, s in enumerate(out.priority + o.priority))
            speed = tuple(replace(s, index=i) for i, s in enumerate(out.speed + o.speed))
            _check_chains(prio, "priority")
            _check_chains(speed, "speed")
            out = RuleSet(
                priority=prio,
                speed=speed,
                areas=areas,
                distance_influence=o.distance_influence
                if o.distance_influence is not None
                else out.distance_influence,
                profile=o.profile if o.profile is not None else out.profile,
                description="; ".join(d for d in (out.description, o.description) if d),
                source=f"{out.source} + {o.source}",
            )
        return out


# ----------------------------------------------------------------------------- loading


def _value(label: str, key: str, v: Any, section: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        unit = " (km/h)" if section == "speed" and key == "limit_to" else ""
        raise RuleError(f"{label}: '{key}' must be a number >= 0{unit}, got {v!r}")
    return float(v)


def _parse_statements(items: Any, section: str, origin: str) -> tuple[Statement, ...]:
    if items is None:
        return ()
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise RuleError(
            f"{origin}: '{section}' must be a list of statements (- if: ... / multiply_by: ...), got {type(items).__name__}"
        )
    out = []
    for i, item in enumerate(items):
        label = f"{section}[{i}]" + ("" if origin == "<dict>" else f" of {origin}")
        if not isinstance(item, Mapping):
            raise RuleError(
                f"{label}: a statement must be a mapping like {{if: ..., multiply_by: ...}}, got {item!r}"
            )
        keys = [str(k) for k in item]
        unknown = [k for k in keys if k not in _COND_KEYS + _ACTION_KEYS]
        if unknown:
            close = closest(unknown[0], list(_COND_KEYS + _ACTION_KEYS))
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise RuleError(
                f"{label}: unknown key {unknown[0]!r}{hint} (statements take if/else_if/else and multiply_by/limit_to)"
            )
        conds = [k for k in keys if k in _COND_KEYS]
        actions = [k for k in keys if k in _ACTION_KEYS]
        if len(conds) != 1:
            raise RuleError(
                f"{label}: needs exactly one of 'if', 'else_if', 'else', got {conds or 'none'}"
            )
        if len(actions) != 1:
            raise RuleError(
                f"{label}: needs exactly one of 'multiply_by', 'limit_to', got {actions or 'none'}"
            )
        kind, action = conds[0], actions[0]
        if kind == "else":
            if item["else"] not in (None, "", True):
                raise RuleError(f"{label}: 'else' takes no condition (write else: or use else_if)")
            cond = Condition("", None, (), ())
        else:
            cond = parse_condition(item[kind], label=label)
        value = _value(label, action, item[action], section)
        out.append(Statement(section, i, kind, cond, action, value, origin))
    stmts = tuple(out)
    _check_chains(stmts, section)
    return stmts


def _check_chains(stmts: tuple[Statement, ...], section: str) -> None:
    prev = None
    for s in stmts:
        if s.kind in ("else_if", "else") and (prev is None or prev.kind == "else"):
            after = "at the start" if prev is None else "after an 'else'"
            raise RuleError(
                f"{s.label}: '{s.kind}' {after} of {section}; start the chain with 'if'"
            )
        prev = s


def _read_geojson(obj: Any, *, name: str, origin: str, base_dir: Path | None) -> Any:
    if isinstance(obj, shapely.Geometry):
        geom = obj
    else:
        if isinstance(obj, str | Path):
            p = Path(obj)
            if not p.is_absolute() and base_dir is not None:
                p = base_dir / p
            what = f"{origin}: area {name!r}"
            if not p.is_file():
                raise RuleError(
                    f"{what}: cannot read {p} (no such file); paths are relative to the rules file"
                )
            text = read_text(p, what=what, error=RuleError)
            obj = parse_json(text, where=f"{what}: {p}", error=RuleError, kind="GeoJSON")
        if not isinstance(obj, Mapping) or "type" not in obj:
            raise RuleError(
                f"{origin}: area {name!r} must be a GeoJSON file path or a GeoJSON geometry/Feature/FeatureCollection"
            )
        try:
            if obj["type"] == "FeatureCollection":
                geoms = [
                    shapely.geometry.shape(f["geometry"])
                    for f in obj.get("features", [])
                    if f.get("geometry")
                ]
                if not geoms:
                    raise RuleError(
                        f"{origin}: area {name!r}: the FeatureCollection has no geometries"
                    )
                geom = shapely.union_all(geoms)
            elif obj["type"] == "Feature":
                geom = shapely.geometry.shape(obj["geometry"])
            else:
                geom = shapely.geometry.shape(obj)
        except RuleError:
            raise
        except Exception as err:  # shapely raises several types on bad GeoJSON
            raise RuleError(
                f"{origin}: area {name!r}: not a valid GeoJSON geometry ({err})"
            ) from err
    if geom.is_empty:
        raise RuleError(f"{origin}: area {name!r} is empty")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    xmin, ymin, xmax, ymax = geom.bounds
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise RuleError(
            f"{origin}: area {name!r} has coordinates outside lon/lat range ({geom.bounds}); "
            "GeoJSON must be in EPSG:4326 (longitude, latitude)"
        )
    return geom


def _from_dict(data: Any, *, source: str, base_dir: Path | None) -> RuleSet:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise RuleError(
            f"{source}: a rule set must be a mapping with priority/speed/areas/distance_influence, got {type(data).__name__}"
        )
    unknown = [str(k) for k in data if str(k) not in _TOP_KEYS]
    if unknown:
        close = closest(unknown[0], list(_TOP_KEYS))
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise RuleError(
            f"{source}: unknown key {unknown[0]!r}{hint} (a rule set has {', '.join(_TOP_KEYS)})"
        )
    areas_in = data.get("areas") or {}
    if not isinstance(areas_in, Mapping):
        raise RuleError(f"{source}: 'areas' must map names to GeoJSON files or geometries")
    areas = {
        str(k): _read_geojson(v, name=str(k), origin=source, base_dir=base_dir)
        for k, v in areas_in.items()
    }
    di = data.get("distance_influence")
    if di is not None:
        di = _value(source, "distance_influence", di, "distance_influence")
    profile = data.get("profile")
    if profile is not None and not isinstance(profile, str | Mapping):
        raise RuleError(
            f"{source}: 'profile' must be a profile name, a YAML path or an inline profile "
            f"mapping (as geolog.get_profile takes), got {profile!r}"
        )
    if isinstance(profile, Mapping):
        try:
            get_profile(profile)
        except InputError as err:
            raise RuleError(f"{source}: inline 'profile': {err}") from err
        profile = dict(profile)
    elif (
        profile is not None and base_dir is not None and profile.lower().endswith((".yaml", ".yml"))
    ):
        p = Path(profile)
        profile = str(p if p.is_absolute() else base_dir / p)
    rs = RuleSet(
        priority=_parse_statements(data.get("priority"), "priority", source),
        speed=_parse_statements(data.get("speed"), "speed", source),
        areas=areas,
        distance_influence=di,
        profile=profile,
        description=str(data.get("description") or ""),
        source=source,
    )
    for s in rs.statements:
        for area, pos in s.condition.areas:
            if area not in areas:
                close = closest(area, sorted(areas))
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                known = ", ".join(sorted(areas)) or "none"
                raise RuleError(
                    f"{s.label}: in_area({area}) at column {pos}: no area named {area!r}{hint} (areas defined: {known})"
                )
    return rs


def load_rules(rules: Any = None) -> RuleSet:
    """Read and check a rule set. Nothing is evaluated yet.

    Parameters
    ----------
    rules
        ``None`` (no rules), a :class:`RuleSet`, a dict with the YAML keys,
        a path to a YAML/JSON file, YAML text, or a list of any of these
        (composed in order: base first, overrides after).

    Returns
    -------
    RuleSet

    Raises
    ------
    RuleError
        Unknown keys, bad values, unreadable areas, or a condition outside the
        whitelist (with the rule's position, e.g. ``priority[2]``).

    Examples
    --------
    >>> import geolog
    >>> rs = geolog.load_rules({"priority": [{"if": "max_grade > 0.1", "multiply_by": 0}]})
    >>> len(rs)
    1
    """
    if rules is None:
        return RuleSet()
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, list | tuple):
        if not rules:
            return RuleSet()
        first = load_rules(rules[0])
        return first.merge(*rules[1:]) if len(rules) > 1 else first
    if isinstance(rules, Mapping):
        return _from_dict(copy.deepcopy(dict(rules)), source="<dict>", base_dir=None)
    if isinstance(rules, str | Path):
        text = str(rules)
        p = Path(text)
        is_file = False
        if "\n" not in text and len(text) < 4096:
            try:
                is_file = p.is_file()
            except OSError:
                is_file = False
        if is_file:
            text = read_text(p, what="rules file", error=RuleError)
            content = parse_yaml(text, where=f"rules file {p}", error=RuleError)
            return _from_dict(content, source=str(p), base_dir=p.resolve().parent)
        content = (
            parse_yaml(text, where="rules text", error=RuleError)
            if not isinstance(rules, Path)
            else None
        )
        if not isinstance(content, Mapping):
            raise RuleError(
                f"rules file {text!r} does not exist; give a path to a YAML file, YAML text "
                "(priority: ..., speed: ...) or a dict"
            )
        return _from_dict(content, source="<yaml>", base_dir=None)
    raise RuleError(
        f"rules must be a RuleSet, dict, YAML path or text, or a list of these; got {type(rules).__name__}"
    )


# ----------------------------------------------------------------------------- evaluation

_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_CACHE_SIZE = 16
_AREA_CACHE: OrderedDict[tuple, np.ndarray] = OrderedDict()


def clear_cache() -> None:
    """Forget cached :func:`apply` results and area masks."""
    _CACHE.clear()
    _AREA_CACHE.clear()


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
        _AREA_CACHE[ck] = hit
        while len(_AREA_CACHE) > 64:
            _AREA_CACHE.popitem(last=False)
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


_REASONS = {
    "highway": "highway in forbid_highways",
    "access": "access tag forbids",
    "maxweight": "maxweight below vehicle weight",
    "climb": "max_grade above climbable grade",
    "descent": "descent steeper than allowed",
}


def _explain_frame(net: Network, prof: Profile, out: _Outcome) -> pd.DataFrame:
    km = net.edges["length_m"].to_numpy(dtype=float) / 1000.0
    rows = []
    limits = {
        "climb": prof.max_grade,
        "descent": prof.max_descent_grade,
        "maxweight": prof.weight_t,
    }
    for i, (reason, mask) in enumerate(out.base["forbidden"].items()):
        cond = _REASONS[reason]
        if limits.get(reason) is not None:
            cond += f" ({limits[reason]:g})"
        rows.append(
            {
                "section": "profile",
                "index": i,
                "condition": cond,
                "action": "forbid",
                "value": 0.0,
                "edges_matched": int(mask.sum()),
                "km_affected": float(km[mask].sum()),
                "edges_forbidden": int(mask.sum()),
            }
        )
    for s, eff, zeroed in out.applied:
        rows.append(
            {
                "section": s.section,
                "index": s.index,
                "condition": "else" if s.kind == "else" else f"{s.kind} {s.condition.text}",
                "action": s.action,
                "value": s.value,
                "edges_matched": int(eff.sum()),
                "km_affected": float(km[eff].sum()),
                "edges_forbidden": int(zeroed.sum()),
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "section",
            "index",
            "condition",
            "action",
            "value",
            "edges_matched",
            "km_affected",
            "edges_forbidden",
        ],
    )
    blocked = (out.priority <= 0) | (out.speed_kph <= 0)
    df.attrs.update(
        {
            "profile": prof.name,
            "edges": len(out.priority),
            "forbidden_edges": int(blocked.sum()),
            "all_forbidden": bool(len(blocked) and blocked.all()),
            "maxspeed_invalid": out.base["maxspeed_invalid"],
            "distance_influence": out.distance_influence,
        }
    )
    return df


def explain(rules: Any, net: Network, *, profile: Any = None) -> pd.DataFrame:
    """Which edges each rule touches, and how many km.

    Parameters
    ----------
    rules
        Anything :func:`load_rules` accepts.
    net
        The network (with terrain columns if the rules read them).
    profile
        Profile name/path/dict; default: the rules' ``profile`` or ``"car"``.

    Returns
    -------
    pandas.DataFrame
        One row per profile restriction (``section == "profile"``) and per
        rule: ``section``, ``index``, ``condition``, ``action``, ``value``,
        ``edges_matched`` (edges the rule took effect on — for ``else_if`` /
        ``else`` only those not matched earlier in the chain), ``km_affected``
        (their length, km) and ``edges_forbidden`` (edges it brought to 0).
        ``df.attrs`` holds totals: ``edges``, ``forbidden_edges``,
        ``all_forbidden``, ``maxspeed_invalid``, ``profile``.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> table = geolog.explain({"speed": [{"if": "surface == 'gravel'", "limit_to": 30}]}, net)
    >>> list(table.columns)[:4]
    ['section', 'index', 'condition', 'action']
    """
    rs = load_rules(rules)
    prof = _resolve_profile(profile, rs)
    return _explain_frame(net, prof, _compute(net, prof, rs))


def rule_masks(rules: Any, net: Network, *, profile: Any = None) -> pd.DataFrame:
    """Per edge, which rule took effect on it.

    Parameters
    ----------
    rules
        Anything :func:`load_rules` accepts.
    net
        The network.
    profile
        As in :func:`explain`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.edges``, one boolean column per rule, named by its
        label (``"priority[0]"``); ``df.attrs["forbids"]`` lists the labels of
        rules that bring an edge's priority or speed to 0.
    """
    rs = load_rules(rules)
    prof = _resolve_profile(profile, rs)
    out = _compute(net, prof, rs)
    df = pd.DataFrame({s.label: eff for s, eff, _ in out.applied}, index=net.edges.index)
    df.attrs["forbids"] = [s.label for s, _, zeroed in out.applied if zeroed.any()]
    return df


def edge_reasons(net: Network, rows: Any, *, profile: Any = None, rules: Any = None) -> list[str]:
    """Why edges are forbidden under a profile and rules ('' where usable).

    Parameters
    ----------
    net
        The network (raw, or with the same profile already applied).
    rows
        Edge row positions (``iloc``) to explain.
    profile, rules
        As in :func:`apply`.

    Returns
    -------
    list of str
        One string per row, e.g. ``"profile 'car': access tag forbids"`` or
        ``"rule priority[0] (max_grade > 0.1)"``; several reasons are joined
        with ``"; "``.
    """
    rs = load_rules(rules)
    prof = _resolve_profile(profile, rs)
    out = _compute(net, prof, rs)
    rows = np.asarray(rows, dtype=np.int64)
    limits = {
        "climb": prof.max_grade,
        "descent": prof.max_descent_grade,
        "maxweight": prof.weight_t,
    }
    labels, masks = [], []
    for reason, mask in out.base["forbidden"].items():
        lim = limits.get(reason)
        labels.append(
            f"profile {prof.name!r}: {_REASONS[reason]}"
            + (f" ({lim:g})" if lim is not None else "")
        )
        masks.append(mask[rows])
    labels.append(f"profile {prof.name!r}: speed 0 (its surface / smoothness / track tables)")
    masks.append(out.base["speed_kph"][rows] <= 0)
    for s, _eff, zeroed in out.applied:
        cond = "else" if s.kind == "else" else s.condition.text
        labels.append(f"rule {s.label} ({cond})")
        masks.append(zeroed[rows])
    hit = np.column_stack(masks) if masks else np.zeros((len(rows), 0), dtype=bool)
    out = [""] * len(rows)
    for i in np.flatnonzero(hit.any(axis=1)):  # only the forbidden rows need words
        out[i] = "; ".join(labels[k] for k in np.flatnonzero(hit[i]))
    return out


def _blocked_message(net: Network, prof: Profile, out: _Outcome, rs: RuleSet) -> str:
    table = _explain_frame(net, prof, out)
    culprits = table[table["edges_forbidden"] > 0].sort_values("edges_forbidden", ascending=False)
    parts = []
    for _, r in culprits.head(4).iterrows():
        where = "profile" if r["section"] == "profile" else f"{r['section']}[{r['index']}]"
        parts.append(f"{where} '{r['condition']}' forbids {r['edges_forbidden']:,}")
    detail = "; ".join(parts) if parts else "every edge ends with priority or speed 0"
    return (
        f"rules {rs.source} with profile {prof.name!r} forbid every edge of the network "
        f"({len(out.priority):,} edges): {detail}. Loosen these rules (see geolog.explain)."
    )


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
        _CACHE.move_to_end(key)
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
        }
    )
    if out.base["maxspeed_invalid"]:
        logger.info(
            "%d edges carry a maxspeed tag that could not be parsed; class defaults used",
            out.base["maxspeed_invalid"],
        )
    result = net.replace(edges=edges, meta=meta)
    _CACHE[key] = result
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result
