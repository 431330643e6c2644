"""Turn costs of a profile: validation, defaults and the rule-set override.

A profile's ``turn_costs`` block (YAML) says what a junction costs, in
seconds, by the turn angle between the edge geometries (+ = right):

``u_turn_s``
    Turning back onto the road just left (the other direction of the same
    edge); ``null`` bans U-turns except at dead ends (where there is no
    other way).
``sharp_s``
    Turns of 135° or more either way onto another road.
``left_s`` / ``right_s``
    Turns of 45–135°.
``restriction_classes``
    The vehicle classes whose OSM turn restrictions bind the profile
    (``restriction:hgv`` binds ``hgv`` …; a plain ``restriction`` binds any
    non-empty list); ``[]`` ignores turn restrictions (pedestrians).

Straight on and slight turns (under 45°) cost nothing. The seconds are
added to the travel time and to the ``cost`` weight; a route by
``length_m`` obeys only the bans. A rule set may override any key with its
own ``turn_costs:`` block.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import InputError

__all__ = ["TURN_KEYS", "turn_costs", "merge_turn_costs"]

#: The keys of a ``turn_costs`` block.
TURN_KEYS = ("u_turn_s", "sharp_s", "left_s", "right_s", "restriction_classes")


def _default_classes(access_tags: tuple[str, ...]) -> list[str]:
    return [t for t in access_tags if t not in ("access", "foot")]


def turn_costs(source: str, value: Any, access_tags: tuple[str, ...]) -> dict[str, Any]:
    """Validated ``turn_costs`` (defaults: no costs, restrictions of the access classes).

    Raises
    ------
    InputError
        Unknown key, a negative or non-numeric number of seconds, or
        ``restriction_classes`` that is not a list of strings.
    """
    base: dict[str, Any] = {
        "u_turn_s": 0.0,
        "sharp_s": 0.0,
        "left_s": 0.0,
        "right_s": 0.0,
        "restriction_classes": _default_classes(access_tags),
    }
    return merge_turn_costs(base, value, source)


def merge_turn_costs(base: Mapping[str, Any], over: Any, source: str) -> dict[str, Any]:
    """``base`` with the keys of ``over`` (a ``turn_costs`` mapping) validated and applied."""
    out = dict(base)
    if over is None:
        return out
    if not isinstance(over, Mapping):
        raise InputError(
            f"{source}: 'turn_costs' must be a mapping of {', '.join(TURN_KEYS)}, got {over!r}"
        )
    for k, v in over.items():
        if k not in TURN_KEYS:
            raise InputError(
                f"{source}: unknown key 'turn_costs.{k}'; use one of {', '.join(TURN_KEYS)}"
            )
        if k == "restriction_classes":
            if isinstance(v, str) or not isinstance(v, list | tuple):
                raise InputError(
                    f"{source}: 'turn_costs.restriction_classes' must be a list of vehicle "
                    f"classes such as [motor_vehicle, motorcar], got {v!r}"
                )
            out[k] = [str(x) for x in v]
        elif v is None and k == "u_turn_s":
            out[k] = None  # banned
        elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise InputError(
                f"{source}: 'turn_costs.{k}' must be a number of seconds >= 0"
                + (" (or null to ban U-turns)" if k == "u_turn_s" else "")
                + f", got {v!r}"
            )
        else:
            out[k] = float(v)
    return out
