"""Parsing OSM ``maxspeed`` tags into km/h, vectorised over unique values.

OSM ``maxspeed`` is free text: plain numbers (``"50"``, km/h), numbers with a
unit (``"50 mph"``, ``"30 knots"``, ``"50 km/h"``), country zone codes
(``"RU:urban"``, ``"DE:zone30"``), the words ``"none"`` (no limit) and
``"walk"``, and lists for lanes or conditions (``"90;30"``). Anything else is
counted as invalid and left to the profile's class default.

The result is returned as floats: a speed in km/h, ``inf`` for "no limit",
``NaN`` for untagged or unparseable values.

The other posted limit, ``maxweight`` (tonnes), is parsed here too
(:func:`parse_maxweight_t`), once for the OSM reader and the profiles.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

__all__ = [
    "ZONE_SPEEDS",
    "WALK_KPH",
    "parse_maxspeed",
    "parse_maxspeed_array",
    "parse_maxweight_t",
]

#: Speed of a ``maxspeed=walk`` way, km/h (walking pace; Germany's
#: "Schrittgeschwindigkeit" is read by courts as 4-7 km/h).
WALK_KPH = 7.0

MPH = 1.609344
KNOT = 1.852

#: Implicit limits of ``CC:zone`` codes (km/h; ``inf`` = no general limit).
#: Sources: the OSM wiki page "Default speed limits" and the national highway
#: codes it cites. Only the countries near the bundled data and a few common
#: examples; an unknown country falls back to the generic zone below.
ZONE_SPEEDS: dict[str, float] = {
    # Andorra (Codi de circulació): 50 in town, 90 outside.
    "AD:urban": 50.0,
    "AD:rural": 90.0,
    "AT:urban": 50.0,
    "AT:rural": 100.0,
    "AT:motorway": 130.0,
    "CH:urban": 50.0,
    "CH:rural": 80.0,
    "CH:trunk": 100.0,
    "CH:motorway": 120.0,
    "DE:urban": 50.0,
    "DE:rural": 100.0,
    "DE:motorway": math.inf,
    "DE:living_street": WALK_KPH,
    "DE:bicycle_road": 30.0,
    "ES:urban": 50.0,
    "ES:rural": 90.0,
    "ES:trunk": 100.0,
    "ES:motorway": 120.0,
    "ES:living_street": 20.0,
    "FR:urban": 50.0,
    "FR:rural": 80.0,
    "FR:trunk": 110.0,
    "FR:motorway": 130.0,
    "FR:walk": 6.0,
    "GB:nsl_single": 60 * MPH,
    "GB:nsl_dual": 70 * MPH,
    "GB:motorway": 70 * MPH,
    "IT:urban": 50.0,
    "IT:rural": 90.0,
    "IT:trunk": 110.0,
    "IT:motorway": 130.0,
    "LI:urban": 50.0,
    "LI:rural": 80.0,
    "RU:urban": 60.0,
    "RU:rural": 90.0,
    "RU:motorway": 110.0,
    "RU:living_street": 20.0,
}

#: Zone types whose limit is the same in most countries (used when the country
#: is not in :data:`ZONE_SPEEDS`).
_GENERIC_ZONES = {
    "urban": 50.0,
    "rural": 90.0,
    "trunk": 100.0,
    "motorway": 120.0,
    "living_street": 20.0,
    "walk": WALK_KPH,
}

_NUMBER = re.compile(
    r"^\s*(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>km/h|kmh|kph|mph|knots?|kn)?\s*$", re.IGNORECASE
)
_ZONE = re.compile(r"^\s*(?P<cc>[A-Za-z]{2}):(?P<zone>[A-Za-z_]+?):?(?P<num>\d+)?\s*$")


def _parse_one(text: str) -> float | None:
    """Parse one maxspeed value; ``None`` when it is not understood."""
    t = text.strip()
    if not t:
        return None
    low = t.lower()
    if low in ("none", "signals", "variable", "unlimited"):
        # "signals"/"variable" = set by signs that change; no fixed cap.
        return math.inf
    if low == "walk":
        return WALK_KPH
    m = _NUMBER.match(t)
    if m:
        value = float(m["num"].replace(",", "."))
        unit = (m["unit"] or "").lower()
        if unit == "mph":
            value *= MPH
        elif unit.startswith("kn"):
            value *= KNOT
        return value if value > 0 else None
    m = _ZONE.match(t)
    if m:
        if m["num"]:  # "DE:zone30", "DE:zone:30"
            return float(m["num"])
        key = f"{m['cc'].upper()}:{m['zone'].lower()}"
        if key in ZONE_SPEEDS:
            return ZONE_SPEEDS[key]
        return _GENERIC_ZONES.get(m["zone"].lower())
    return None


def parse_maxspeed(text: object) -> float:
    """Parse one OSM ``maxspeed`` value to km/h.

    Parameters
    ----------
    text
        The tag value (``str``); ``None`` or NaN for untagged ways.

    Returns
    -------
    float
        Speed in km/h; ``inf`` for ``"none"`` (no limit); ``NaN`` when untagged
        or not understood. A list (``"50;70"``) gives its smallest understood
        speed, the safe reading for a router that cannot tell lanes apart.

    Examples
    --------
    >>> parse_maxspeed("50 mph")
    80.4672
    >>> parse_maxspeed("RU:urban"), parse_maxspeed("90;30"), parse_maxspeed("fast")
    (60.0, 30.0, nan)
    """
    if not isinstance(text, str):
        return math.nan
    parts = [p for p in re.split(r"[;|]", text) if p.strip()]
    values = [_parse_one(p) for p in parts]
    if not values or any(v is None for v in values):
        return math.nan
    return float(min(values))


def parse_maxspeed_array(values: pd.Series | np.ndarray) -> tuple[np.ndarray, int]:
    """Parse a column of ``maxspeed`` tags, once per distinct value.

    Parameters
    ----------
    values
        The ``maxspeed`` column (strings, ``None`` where untagged).

    Returns
    -------
    speeds : numpy.ndarray
        float64 km/h per row (``inf`` = no limit, ``NaN`` = untagged/invalid).
    n_invalid : int
        Number of rows that carry a tag that could not be understood.
    """
    if not isinstance(values, pd.Series):
        values = pd.Series(np.asarray(values, dtype=object))
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = np.asarray(codes)
    parsed = np.array([parse_maxspeed(str(u)) for u in uniques] + [np.nan], dtype=float)
    out = parsed[codes]  # code -1 (untagged) picks the trailing NaN
    n_invalid = int(np.count_nonzero((codes >= 0) & np.isnan(out)))
    return out, n_invalid


#: Tonnes per unit of a ``maxweight`` value (no unit: tonnes).
WEIGHT_UNITS_T = {"t": 1.0, "kg": 1e-3, "st": 0.90718474, "lbs": 0.00045359237}


def parse_maxweight_t(values: pd.Series | np.ndarray) -> np.ndarray:
    """OSM ``maxweight`` → tonnes, vectorised over unique values; NaN where untagged or unknown.

    Reads ``"7.5"``, ``".5"``, ``"7,5 t"``, ``"3500 kg"``, ``"10 st"``,
    ``"20000 lbs"`` (case-insensitive); anything else (``"none"``,
    conditional values) is NaN.
    """
    codes, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object)))
    txt = pd.Series([str(u) for u in uniques], dtype=object)
    txt = txt.str.lower().str.replace(",", ".", regex=False).str.strip()
    m = txt.str.extract(r"^([0-9]*\.?[0-9]+)\s*(t|kg|st|lbs)?$")
    val = pd.to_numeric(m[0], errors="coerce").to_numpy(dtype=float)
    unit = m[1].fillna("t").map(WEIGHT_UNITS_T).to_numpy(dtype=float)
    out = np.full(len(codes), np.nan)
    ok = codes >= 0
    out[ok] = (val * unit)[codes[ok]]
    return out
