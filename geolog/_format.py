"""Display formatting shared by planning, maps and the briefing: durations, clock times, km, grades.

Plain text, not escaped: callers escape for HTML. Missing or non-finite
values read ``"–"``.
"""

from __future__ import annotations

import math

__all__ = ["fmt_duration", "fmt_clock", "fmt_hhmm", "fmt_km", "fmt_len", "fmt_pct"]

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
