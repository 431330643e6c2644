"""Display formatting shared by planning, maps and the briefing: durations, clock times, km, grades, road names.

Plain text, not escaped: callers escape for HTML. Missing or non-finite
values read ``"–"``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "fmt_duration",
    "fmt_clock",
    "fmt_hhmm",
    "fmt_km",
    "fmt_len",
    "fmt_pct",
    "road_names",
    "tag_text",
]

_MISSING = "–"


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def fmt_duration(seconds: float | None) -> str:
    """A duration as ``"12 min"`` or ``"1 h 05 min"`` (rounded to the minute)."""
    if not _finite(seconds):
        return _MISSING
    m = int(round(seconds / 60.0))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def fmt_clock(seconds: float | None) -> str:
    """Seconds after midnight as a clock time ``"HH:MM"`` (rounded to the second, then cut)."""
    if not _finite(seconds):
        return _MISSING
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


def fmt_km(metres: float | None) -> str:
    """A length in metres as ``"12.34 km"``."""
    return f"{metres / 1000:.2f} km" if _finite(metres) else _MISSING


def fmt_pct(grade: float | None) -> str:
    """A grade (fraction) as an unsigned percentage, ``"7.5 %"``."""
    return f"{abs(grade) * 100:.1f} %" if _finite(grade) else _MISSING


def fmt_len(metres: float | None) -> str:
    """Metres for people: "85 m", "1.2 km"; "–" when missing."""
    if not _finite(metres):
        return _MISSING
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def fmt_hhmm(seconds: float | None) -> str:
    """A duration as H:MM, to the minute (hours may exceed 24); "–" when missing."""
    if not _finite(seconds):
        return _MISSING
    m = int(round(seconds / 60.0))
    return f"{m // 60}:{m % 60:02d}"


def tag_text(edges: pd.DataFrame, column: str, rows: np.ndarray | None = None) -> np.ndarray:
    """An edge tag per row as plain text; ``None`` where the column, the value or its text is missing.

    Parameters
    ----------
    edges
        Edge table (OSM tags as columns).
    column
        The tag, e.g. ``"name"``, ``"ref"``, ``"highway"``.
    rows
        Row positions to read; all rows when ``None``.

    Returns
    -------
    numpy.ndarray
        Object array of ``str`` or ``None`` (NaN/None and ``""`` are missing).
    """
    n = len(edges) if rows is None else len(rows)
    out = np.full(n, None, dtype=object)
    if column not in edges.columns:
        return out
    v = edges[column].to_numpy(dtype=object)
    v = pd.Series(v if rows is None else v[rows], dtype=object)
    ok = (v.notna() & (v != "")).to_numpy()
    out[ok] = v[ok].astype(str).to_numpy(dtype=object)
    return out


def road_names(
    edges: pd.DataFrame,
    rows: np.ndarray | None = None,
    *,
    between: str = " (",
    after: str = ")",
    unnamed: str | None = "unnamed road",
) -> np.ndarray:
    """The one place that names a road: its name, its ref, or both, per edge row.

    Plain text from untrusted OSM tags: callers escape it for HTML or a terminal.

    Parameters
    ----------
    edges
        Edge table with optional ``name`` and ``ref`` columns.
    rows
        Row positions to name; all rows when ``None``.
    between, after
        Put between and after name and ref when a road has both:
        ``"Landstrasse (28)"`` by default, ``"Landstrasse / 28"`` with
        ``between=" / ", after=""``.
    unnamed
        The text of a road with neither tag (``None`` keeps it ``None``).

    Returns
    -------
    numpy.ndarray
        Object array of ``str`` (or ``None`` for unnamed roads when ``unnamed=None``).
    """
    name, ref = tag_text(edges, "name", rows), tag_text(edges, "ref", rows)
    has_name, has_ref = pd.notna(name), pd.notna(ref)
    out = np.where(has_name, name, ref)
    both = has_name & has_ref
    out[both] = name[both] + between + ref[both] + after
    out[~(has_name | has_ref)] = unnamed
    return out
