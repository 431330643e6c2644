"""Rule sets as data: :class:`Statement`, :class:`RuleSet` and :func:`load_rules`.

Reading and validating rule files, dicts and YAML text (the language is
described in :mod:`geolog.rules`; conditions are parsed by
:mod:`geolog._ruleparse`). Public through :mod:`geolog.rules`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import shapely

from . import _cache
from ._ruleparse import Condition, closest, parse_condition
from ._yaml import parse_json, parse_yaml, read_text
from .errors import InputError, RuleError
from .profiles import get_profile

_TOP_KEYS = (
    "profile",
    "areas",
    "priority",
    "speed",
    "distance_influence",
    "turn_costs",
    "description",
)
_COND_KEYS = ("if", "else_if", "else")
_ACTION_KEYS = ("multiply_by", "limit_to")


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
    turn_costs
        Keys of the profile's ``turn_costs`` to override (``u_turn_s``,
        ``left_s`` …, see :mod:`geolog._turn_costs`); empty: the profile's.
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
    turn_costs: Mapping[str, Any] = field(default_factory=dict)
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
        if self.turn_costs:
            out["turn_costs"] = dict(self.turn_costs)
        return out

    def content_hash(self) -> str:
        """SHA-1 of the rules' content (statements, area geometries, settings)."""
        return self._hash

    @functools.cached_property
    def _hash(self) -> str:  # frozen: hashed once
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
                turn_costs={**out.turn_costs, **o.turn_costs},
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
        turn_costs=_turn_overrides(data.get("turn_costs"), source),
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


@functools.lru_cache(maxsize=64)
def _from_text_cached(text: str) -> RuleSet:
    """A rule mapping parsed once per distinct content (routing loops pass the same dict)."""
    return _from_dict(json.loads(text), source="<dict>", base_dir=None)


#: Rule dicts already parsed, by ``repr``: ``(a deep copy of the dict, its RuleSet)``.
_BY_REPR = _cache.LRU("rule dicts", 64)


def _from_mapping(rules: Mapping) -> RuleSet:
    """A rule mapping parsed once per distinct content.

    A routing loop passes the same dict again and again, and the user may
    change it in between: a plain dict seen before (same ``repr``, which tells
    ``1``, ``1.0`` and ``True`` apart, and equal to the copy kept) is not even
    encoded again; otherwise its canonical JSON text is the key.
    """
    if "areas" in rules:  # files behind it: read them again
        return _from_dict(copy.deepcopy(dict(rules)), source="<dict>", base_dir=None)
    text = repr(rules) if type(rules) is dict else None
    hit = _BY_REPR.get(text) if text is not None else None
    if hit is not None and hit[0] == rules:
        return hit[1]
    try:
        rs = _from_text_cached(json.dumps(rules, sort_keys=True))
    except TypeError:  # not JSON-able (e.g. numpy numbers): parse it as it is
        return _from_dict(copy.deepcopy(dict(rules)), source="<dict>", base_dir=None)
    if text is not None:
        _BY_REPR.put(text, (copy.deepcopy(rules), rs))
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
    if type(rules) is dict:  # the common case first (a routing loop passes one dict)
        return _from_mapping(rules)
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
        return _from_mapping(rules)
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


def _turn_overrides(value: Any, source: str) -> dict[str, Any]:
    """The rule set's ``turn_costs`` keys, validated (they override the profile's)."""
    from ._turn_costs import merge_turn_costs

    try:
        return merge_turn_costs({}, value, source)
    except InputError as err:
        raise RuleError(str(err)) from err
