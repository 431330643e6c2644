"""Travel profiles as data: how fast a vehicle (or walker) goes on each edge.

A profile is a YAML file in ``geolog/profiles/`` (``car``, ``truck``, ``foot``,
``tracked``) or your own file or dict. It sets, per edge:

1. a **base speed** (km/h) from the ``highway`` class (``default_speed_kph``
   for classes it does not list, or untagged ways);
2. the posted **maxspeed** where tagged and understood (times
   ``maxspeed_factor``), replacing the class speed (see
   :func:`geolog._maxspeed.parse_maxspeed`);
3. on ``highway=track`` ways with a ``tracktype``, the speed of that grade of
   track (``track_speed``, km/h) replaces the class speed; then caps per
   **surface**, **tracktype** and **smoothness** (km/h; ``0`` forbids, e.g.
   ``smoothness=impassable``) and a factor per **surface**
   (``surface_factor``, e.g. 0.5 on unpaved surfaces);
4. a **speed vs grade** cap from ``grade_model`` using the edge's mean
   ``grade`` (signed fraction in the direction of travel, 0.12 = 12 %):

   * ``tobler`` — Tobler's hiking function 6·exp(−3.5·|g + 0.05|) km/h;
   * ``climb`` — the sustainable speed of a vehicle of power *P* and mass *m*
     on the grade: P·η = m·g·(Crr·cos θ + sin θ)·v + ½·ρ·CdA·v³, and on
     descents a braking limit v = P_brake / (m·g·(sin|θ| − Crr·cos θ)) — the
     speed at which endurance brakes (engine brake, retarder) absorb the
     surplus of gravity over rolling resistance;
   * ``none`` — grade does not change the speed;

5. the vehicle's ``max_speed_kph``.

**Priority** (a multiplier, 1 = neutral, 0 = forbidden) starts at 1 and is
multiplied by ``highway_priority``; it is 0 on ``forbid_highways`` (unless a
mode-specific key of ``access_tags`` opens the way, e.g.
``motor_vehicle=designated`` on a path), on ways whose deciding access value
says one of ``forbid_access`` — ``access_tags`` lists the OSM access keys
from least to most specific and the most specific one tagged decides
(``motor_vehicle=no`` + ``motorcar=yes`` is open to a car;
``*:conditional`` keys are ignored; see :mod:`geolog._access`) —, where a
posted ``maxweight`` (t) is below ``weight_t``, and where the edge's
``max_grade`` (steepest sustained stretch, signed in travel direction) climbs
more than ``max_grade`` or descends more than ``max_descent_grade``. Every
edge is held to the limits: :func:`geolog.costing.add_terrain` measures
``max_grade`` over a stretch of two DEM cells even on short edges (along the
road, or the roads that continue a short piece). A custom profile may still
exempt edges shorter than ``grade_min_length_m`` (metres, default 0: none),
e.g. for a network whose grades come from elsewhere and are endpoint-only.

Networks without terrain columns: the grade is taken as 0 and grade limits are
not checked; a :class:`~geolog.errors.GeologWarning` says so when the profile's
speed depends on grade (``grade_model`` is not ``none``). Add terrain first
with ``net.with_terrain(dem)``.

The speed curves live in :mod:`geolog._speed_models` and the vectorised
evaluation on the edges in :mod:`geolog._profile_eval`; every name stays
importable from here.

Examples
--------
>>> import geolog
>>> truck = geolog.get_profile("truck")
>>> round(float(truck.grade_speed_kph(0.10)), 1)    # km/h on a 10 % climb
34.1
>>> walker = geolog.get_profile("foot")
>>> round(float(walker.grade_speed_kph(0.0)), 3)
5.037
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import _cache
from ._speed_models import _GRADE_MODELS, G, braking_speed_kph, climb_speed_kph, tobler_kph
from ._turn_costs import turn_costs
from .errors import InputError

__all__ = [
    "PROFILE_DIR",
    "BUILTIN_PROFILES",
    "G",
    "Profile",
    "get_profile",
    "tobler_kph",
    "climb_speed_kph",
    "braking_speed_kph",
]

logger = logging.getLogger(__name__)

#: Folder of the bundled profile YAML files.
PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
#: Names of the bundled profiles.
BUILTIN_PROFILES = ("car", "truck", "foot", "tracked")
#: Standard gravity, m/s².
_KEYS = {
    "name",
    "base",
    "description",
    "sources",
    "max_speed_kph",
    "default_speed_kph",
    "highway",
    "forbid_highways",
    "highway_priority",
    "surface",
    "tracktype",
    "track_speed",
    "smoothness",
    "surface_factor",
    "use_maxspeed",
    "maxspeed_factor",
    "max_grade",
    "max_descent_grade",
    "grade_min_length_m",
    "grade_model",
    "access_tags",
    "forbid_access",
    "weight_t",
    "distance_influence",
    "turn_costs",
}


# --------------------------------------------------------------------------- profile


def _fail(source: str, what: str) -> InputError:
    return InputError(f"profile {source}: {what}")


def _number(
    source: str, key: str, value: Any, *, lo: float = 0.0, allow_none: bool = False
) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(source, f"'{key}' must be a finite number, got {value!r}")
    if value < lo:
        raise _fail(source, f"'{key}' must be >= {lo}, got {value!r}")
    return float(value)


def _speed_table(source: str, key: str, value: Any, *, lo: float = 0.0) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(
            source, f"'{key}' must be a mapping of OSM value -> number, got {type(value).__name__}"
        )
    return {str(k): _number(source, f"{key}.{k}", v, lo=lo) for k, v in value.items()}


def _str_list(source: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _fail(source, f"'{key}' must be a list of strings, got {value!r}")
    return tuple(str(v) for v in value)


def _deep_merge(base: dict, over: Mapping) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _mass_keys_given(data: Mapping[str, Any]) -> set[str]:
    """Which of ``weight_t`` / ``grade_model.mass_kg`` a profile mapping sets itself."""
    gm = data.get("grade_model")
    out = {"weight_t"} if data.get("weight_t") is not None else set()
    if isinstance(gm, Mapping) and gm.get("mass_kg") is not None:
        out.add("mass_kg")
    return out


def _tie_mass(
    source: str, given: set[str], weight_t: Any, mass_kg: float
) -> tuple[float | None, float]:
    """One vehicle mass: ``weight_t`` (t) and the climb model's ``mass_kg`` (kg) agree.

    The one the mapping sets drives the other (``{"base": "truck",
    "weight_t": 40}`` climbs as 40 t); set both and they must agree (within
    1 kg).
    """
    if given == {"weight_t"}:
        w = _number(source, "weight_t", weight_t)
        return w, w * 1000.0
    if given == {"mass_kg"}:
        return mass_kg / 1000.0, mass_kg
    if weight_t is None:
        return None, mass_kg
    w = _number(source, "weight_t", weight_t)
    if abs(w * 1000.0 - mass_kg) > 1.0:
        raise _fail(
            source,
            f"weight_t ({w:g} t) and grade_model.mass_kg ({mass_kg:g} kg) disagree: they are the "
            "same vehicle's mass. Set weight_t only (the climb model follows) or make them equal",
        )
    return w, mass_kg


def _check_keys(source: str, data: Mapping[str, Any]) -> None:
    """Refuse unknown keys, naming the closest valid one."""
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, sorted(_KEYS), n=3)
        hint = (
            f"; did you mean {', '.join(map(repr, close))}?"
            if close
            else f"; valid keys: {', '.join(sorted(_KEYS))}"
        )
        raise _fail(source, f"unknown key {key!r}{hint}")


def _grade_model(source: str, data: dict, given: set[str]) -> tuple[str, dict[str, float]]:
    """The validated ``grade_model`` name and parameters (ties ``weight_t`` to the climb mass)."""
    gm = data.get("grade_model") or {"model": "none"}
    if isinstance(gm, str):
        gm = {"model": gm}
    if not isinstance(gm, Mapping):
        raise _fail(source, f"'grade_model' must be a mapping with a 'model' key, got {gm!r}")
    model = gm.get("model", "none")
    if model not in _GRADE_MODELS:
        raise _fail(
            source,
            f"grade_model.model must be one of {', '.join(map(repr, _GRADE_MODELS))}, got {model!r}",
        )
    params = dict(_GRADE_MODELS[model])
    extra = sorted(set(gm) - set(params) - {"model"})
    if extra:
        raise _fail(
            source,
            f"grade_model {model!r} takes {', '.join(sorted(params)) or 'no parameters'}; unknown {extra[0]!r}",
        )
    for k, default in params.items():
        v = gm.get(k, default)
        if v is None:
            raise _fail(source, f"grade_model {model!r} needs '{k}'")
        params[k] = _number(source, f"grade_model.{k}", v)
    if model == "climb":
        for k in ("power_kw", "mass_kg", "efficiency"):
            if params[k] <= 0:
                raise _fail(source, f"grade_model.{k} must be > 0")
        data["weight_t"], params["mass_kg"] = _tie_mass(
            source, given, data.get("weight_t"), params["mass_kg"]
        )
    return model, params


@dataclass(frozen=True, eq=False)
class Profile:
    """A travel profile (see the module docstring for the meaning of each field).

    Build one with :func:`get_profile`; the fields mirror the YAML keys.
    """

    name: str
    description: str = ""
    max_speed_kph: float = 130.0
    default_speed_kph: float = 30.0
    highway: Mapping[str, float] = field(default_factory=dict)
    forbid_highways: tuple[str, ...] = ()
    highway_priority: Mapping[str, float] = field(default_factory=dict)
    surface: Mapping[str, float] = field(default_factory=dict)
    tracktype: Mapping[str, float] = field(default_factory=dict)
    track_speed: Mapping[str, float] = field(default_factory=dict)
    smoothness: Mapping[str, float] = field(default_factory=dict)
    surface_factor: Mapping[str, float] = field(default_factory=dict)
    use_maxspeed: bool = True
    maxspeed_factor: float = 1.0
    max_grade: float | None = None
    max_descent_grade: float | None = None
    grade_min_length_m: float = 0.0
    grade_model: Mapping[str, Any] = field(default_factory=lambda: {"model": "none"})
    access_tags: tuple[str, ...] = ("access",)
    forbid_access: tuple[str, ...] = ("no", "private")
    weight_t: float | None = None
    distance_influence: float = 0.0
    turn_costs: Mapping[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    source: str = "<dict>"

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Profile:
        """Validate a profile mapping (the YAML content) and build a Profile.

        Raises
        ------
        InputError
            On unknown keys (with the closest valid one), wrong types or
            out-of-range numbers.
        """
        if not isinstance(data, Mapping):
            raise _fail(source, f"must be a mapping of settings, got {type(data).__name__}")
        data = dict(data)
        given = _mass_keys_given(data)
        if "base" in data:
            base = data.pop("base")
            if base not in BUILTIN_PROFILES:
                raise _fail(
                    source,
                    f"'base' must be one of {', '.join(map(repr, BUILTIN_PROFILES))}, got {base!r}",
                )
            data = _deep_merge(_builtin_dict(base), data)
        _check_keys(source, data)
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise _fail(source, "needs a 'name' (a non-empty string)")
        model, params = _grade_model(source, data, given)
        access_tags = _str_list(source, "access_tags", data.get("access_tags", ["access"]))
        sources = data.get("sources") or ()
        if isinstance(sources, str):
            sources = (sources,)
        max_grade = _number(source, "max_grade", data.get("max_grade"), allow_none=True)
        max_desc = data.get("max_descent_grade", max_grade)
        use_maxspeed = data.get("use_maxspeed", True)
        if not isinstance(use_maxspeed, bool):
            raise _fail(source, f"'use_maxspeed' must be true or false, got {use_maxspeed!r}")
        prof = cls(
            name=name,
            description=str(data.get("description") or ""),
            max_speed_kph=_number(source, "max_speed_kph", data.get("max_speed_kph", 130.0)),
            default_speed_kph=_number(
                source, "default_speed_kph", data.get("default_speed_kph", 30.0)
            ),
            highway=_speed_table(source, "highway", data.get("highway")),
            forbid_highways=_str_list(source, "forbid_highways", data.get("forbid_highways")),
            highway_priority=_speed_table(source, "highway_priority", data.get("highway_priority")),
            surface=_speed_table(source, "surface", data.get("surface")),
            tracktype=_speed_table(source, "tracktype", data.get("tracktype")),
            track_speed=_speed_table(source, "track_speed", data.get("track_speed")),
            smoothness=_speed_table(source, "smoothness", data.get("smoothness")),
            surface_factor=_speed_table(source, "surface_factor", data.get("surface_factor")),
            use_maxspeed=use_maxspeed,
            maxspeed_factor=_number(source, "maxspeed_factor", data.get("maxspeed_factor", 1.0)),
            max_grade=max_grade,
            max_descent_grade=_number(source, "max_descent_grade", max_desc, allow_none=True),
            grade_min_length_m=_number(
                source, "grade_min_length_m", data.get("grade_min_length_m", 0.0)
            ),
            grade_model={"model": model, **params},
            access_tags=access_tags,
            forbid_access=_str_list(
                source, "forbid_access", data.get("forbid_access", ["no", "private"])
            ),
            weight_t=_number(source, "weight_t", data.get("weight_t"), allow_none=True),
            distance_influence=_number(
                source, "distance_influence", data.get("distance_influence", 0.0)
            ),
            turn_costs=turn_costs(f"profile {source}", data.get("turn_costs"), access_tags),
            sources=tuple(str(s) for s in sources),
            source=source,
        )
        if prof.max_speed_kph <= 0:
            raise _fail(source, "'max_speed_kph' must be > 0")
        return prof

    def to_dict(self) -> dict[str, Any]:
        """The profile as a plain mapping (round-trips through :meth:`from_dict`)."""
        return {
            "name": self.name,
            "description": self.description,
            "sources": list(self.sources),
            "max_speed_kph": self.max_speed_kph,
            "default_speed_kph": self.default_speed_kph,
            "highway": dict(self.highway),
            "forbid_highways": list(self.forbid_highways),
            "highway_priority": dict(self.highway_priority),
            "surface": dict(self.surface),
            "tracktype": dict(self.tracktype),
            "track_speed": dict(self.track_speed),
            "smoothness": dict(self.smoothness),
            "surface_factor": dict(self.surface_factor),
            "use_maxspeed": self.use_maxspeed,
            "maxspeed_factor": self.maxspeed_factor,
            "max_grade": self.max_grade,
            "max_descent_grade": self.max_descent_grade,
            "grade_min_length_m": self.grade_min_length_m,
            "grade_model": dict(self.grade_model),
            "access_tags": list(self.access_tags),
            "forbid_access": list(self.forbid_access),
            "weight_t": self.weight_t,
            "distance_influence": self.distance_influence,
            "turn_costs": dict(self.turn_costs),
        }

    def content_hash(self) -> str:
        """SHA-1 of the profile's content (name and every setting)."""
        return self._hash

    @cached_property
    def _hash(self) -> str:  # a frozen profile hashes once
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, grade_model={self.grade_model['model']!r}, max_grade={self.max_grade})"

    # ---------------------------------------------------------------- evaluation
    @property
    def uses_grade(self) -> bool:
        """True when the speed depends on the edge grade."""
        return self.grade_model["model"] != "none"

    def grade_speed_kph(self, grade: np.ndarray | float) -> np.ndarray:
        """Speed cap from the grade model alone (km/h; ``inf`` = no cap).

        Parameters
        ----------
        grade
            Mean grade as a fraction in the direction of travel.
        """
        gm = self.grade_model
        g = np.asarray(grade, dtype=float)
        if gm["model"] == "tobler":
            return tobler_kph(g)
        if gm["model"] == "climb":
            up = climb_speed_kph(
                g,
                power_kw=gm["power_kw"],
                mass_kg=gm["mass_kg"],
                crr=gm["crr"],
                efficiency=gm["efficiency"],
                cda_m2=gm["cda_m2"],
                air_density=gm["air_density"],
            )
            down = braking_speed_kph(
                g, braking_power_kw=gm["braking_power_kw"], mass_kg=gm["mass_kg"], crr=gm["crr"]
            )
            return np.minimum(up, down)
        return np.full(g.shape, np.inf)

    def evaluate(self, edges: pd.DataFrame) -> dict[str, Any]:
        """Speed and priority of every edge under this profile, vectorised.

        Parameters
        ----------
        edges
            The edges frame (``highway``, ``surface``, ``tracktype``,
            ``maxspeed``, access columns, ``grade``, ``max_grade``; missing
            columns count as untagged). Not modified.

        Returns
        -------
        dict
            ``speed_kph`` and ``priority`` (float arrays), the parsed
            ``maxspeed_kph`` (NaN where untagged or invalid), ``maxspeed_invalid``
            (count), ``has_terrain`` (bool) and boolean masks ``forbidden``
            per reason (``highway``, ``access``, ``maxweight``, ``climb``,
            ``descent``) for :func:`geolog.explain`.
        """
        from ._profile_eval import evaluate

        return evaluate(self, edges)


# --------------------------------------------------------------------------- loading


def _read_yaml(path: Path) -> Any:
    from ._yaml import parse_yaml, read_text

    return parse_yaml(read_text(path, what="profile file"), where=f"profile file {path}")


@cache
def _builtin_dict_cached(name: str) -> str:
    return json.dumps(_read_yaml(PROFILE_DIR / f"{name}.yaml"))


_cache.register_function("bundled profile files", _builtin_dict_cached)


def _builtin_dict(name: str) -> dict:
    return json.loads(_builtin_dict_cached(name))


@cache
def _builtin(name: str) -> Profile:
    return Profile.from_dict(_builtin_dict(name), source=f"{name!r} (bundled {name}.yaml)")


_cache.register_function("bundled profiles", _builtin)


def get_profile(profile: str | Path | Mapping[str, Any] | Profile) -> Profile:
    """Get a travel profile by name, from a YAML file, or from a dict.

    Parameters
    ----------
    profile
        A bundled name (``"car"``, ``"truck"``, ``"foot"``, ``"tracked"``), a
        path to a YAML file, a mapping with the YAML keys (``{"base": "truck",
        "name": "truck_40t", "weight_t": 40}`` extends a bundled profile), or
        a :class:`Profile` (returned as is).

    Returns
    -------
    Profile

    Raises
    ------
    InputError
        Unknown name, unreadable file, or invalid settings.

    Examples
    --------
    >>> import geolog
    >>> geolog.get_profile("truck").max_grade
    0.25
    >>> geolog.get_profile({"base": "car", "name": "slow car", "max_speed_kph": 60}).max_speed_kph
    60.0
    """
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, Mapping):
        return Profile.from_dict(profile)
    if isinstance(profile, str) and profile in BUILTIN_PROFILES:
        return _builtin(profile)
    if isinstance(profile, str | Path):
        path = Path(profile)
        if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
            if not path.is_file():
                raise InputError(
                    f"profile file {path} does not exist; give a bundled name ({', '.join(BUILTIN_PROFILES)}) or a YAML path"
                )
            return Profile.from_dict(_read_yaml(path), source=str(path))
        close = difflib.get_close_matches(str(profile), BUILTIN_PROFILES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"unknown profile {str(profile)!r}{hint} Use one of {', '.join(map(repr, BUILTIN_PROFILES))}, a YAML file path or a dict"
        )
    raise InputError(
        f"profile must be a name, a YAML path, a dict or a Profile, got {type(profile).__name__}"
    )
