"""OSM access tags, most specific first: one verdict for the reader and the profiles.

OSM's access keys form a hierarchy from general to specific (OSM wiki
*Key:access*, "Transport mode restrictions"): ``access`` < ``vehicle`` <
``motor_vehicle`` < ``motorcar`` (cars), ``access`` < ``vehicle`` <
``motor_vehicle`` < ``goods`` < ``hgv`` (trucks), ``access`` < ``foot``
(pedestrians). For a transport mode the **most specific key that is tagged
decides**: ``motor_vehicle=no`` + ``motorcar=yes`` is open to cars,
``access=no`` + ``motor_vehicle=destination`` is open to motor vehicles,
``access=yes`` + ``hgv=no`` is closed to trucks. Values are read
case-insensitively, the first of a ``;``-list. ``*:conditional`` keys (time
or weight dependent restrictions) are **ignored**: a way is judged by its
unconditional tags.

Used by :mod:`geolog.osm` (which ways a network type keeps) and
:mod:`geolog.profiles` (which edges a profile forbids), so both say the same.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

__all__ = ["MODES", "OPEN", "KEYS", "deciding", "explicitly_open", "member"]

#: Access keys per transport mode, from least to most specific.
MODES: dict[str, tuple[str, ...]] = {
    "motorcar": ("access", "vehicle", "motor_vehicle", "motorcar"),
    "hgv": ("access", "vehicle", "motor_vehicle", "goods", "hgv"),
    "foot": ("access", "foot"),
}
#: Every access key geolog reads.
KEYS: tuple[str, ...] = tuple(dict.fromkeys(k for keys in MODES.values() for k in keys))
#: Values that open a way to the mode they are tagged for.
OPEN = frozenset({"yes", "designated", "permissive", "destination", "delivery", "customers"})
#: Keys too general to say a way is meant for a mode (``access=yes`` on a path).
_GENERAL = {"access", "vehicle"}


def _norm(s: pd.Series) -> np.ndarray:
    """Normalised values (first of a ``;``-list, stripped, lower case; None if untagged).

    Works on the distinct values only (factorize), so it costs little on
    large frames.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    norm = [str(u).split(";")[0].strip().lower() or None for u in uniques]
    table = np.array([*norm, None], dtype=object)
    return table[codes]  # code -1 (untagged) picks the trailing None


def deciding(tags: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The deciding access value per row: that of the most specific tagged key.

    Parameters
    ----------
    tags
        One row per way or edge, a column per access key (missing columns and
        missing values count as untagged).
    keys
        The mode's keys, least specific first (e.g. ``MODES["motorcar"]``).

    Returns
    -------
    value, level
        ``value``: the deciding value (object array, ``None`` where no key is
        tagged); ``level``: index into ``keys`` of the deciding key (-1: none).
    """
    n = len(tags)
    value = np.full(n, None, dtype=object)
    level = np.full(n, -1, dtype=np.int64)
    for i, k in enumerate(keys):
        if k not in tags.columns:
            continue
        v = _norm(tags[k])
        has = v != None  # noqa: E711 (elementwise on an object array)
        value[has] = v[has]
        level[has] = i
    return value, level


def member(values: np.ndarray, allowed: Collection[str]) -> np.ndarray:
    """``values`` (object array, None = untagged) in ``allowed``, tested once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    hit = np.array([u in allowed for u in uniques] + [False], dtype=bool)
    return hit[codes]


def explicitly_open(
    tags: pd.DataFrame,
    keys: Sequence[str],
    decided: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Rows a mode-specific key (not ``access``/``vehicle``) opens: ``motor_vehicle=designated`` …

    ``decided``: the result of :func:`deciding` for the same ``keys``, if at hand.
    """
    value, level = deciding(tags, keys) if decided is None else decided
    specific = np.array([k not in _GENERAL for k in keys] + [False])[level]
    return specific & member(value, OPEN)
