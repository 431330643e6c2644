"""Small HTML formatting helpers of the briefing: numbers, tables, coordinates (all escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._html import escape

if TYPE_CHECKING:  # pragma: no cover
    pass


def fmt_km(m: float) -> str:
    return f"{m / 1000:.2f} km" if np.isfinite(m) else "–"


def fmt_len(m: float) -> str:
    """Metres for people: "85 m", "1.2 km"."""
    if not np.isfinite(m):
        return "–"
    return f"{m:.0f} m" if m < 1000 else f"{m / 1000:.1f} km"


def fmt_hhmm(s: float) -> str:
    """A duration as H:MM (hours may exceed 24)."""
    if not np.isfinite(s):
        return "–"
    m = int(round(s / 60.0))
    return f"{m // 60}:{m % 60:02d}"


def fmt_time(s: float) -> str:
    if not np.isfinite(s):
        return "–"
    m = int(round(s / 60.0))
    return f"{m // 60} h {m % 60:02d} min" if m >= 60 else f"{m} min"


def fmt_pct(g: float) -> str:
    return f"{abs(g) * 100:.1f} %" if np.isfinite(g) else "–"


def html_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: frozenset[int] | set[int] = frozenset(),
    row_class: Sequence[str] | None = None,
    css: str = "data",
) -> str:
    """An escaped HTML table. Cells that are ``Raw`` are inserted as they are."""
    th = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{escape(row_class[i])}"' if row_class and row_class[i] else ""
        tds = "".join(
            f"<td{' class=num' if j in numeric else ''}>{c if isinstance(c, Raw) else escape(c)}</td>"
            for j, c in enumerate(r)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    return (
        f'<table class="{css}"><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


class Raw(str):
    """Marks trusted HTML built here (never data) for :func:`html_table`."""


def fmt_latlon(p: Any) -> str:
    try:
        lat, lon = (float(v) for v in p)
    except (TypeError, ValueError):
        return "–"
    return f"{lat:.5f}, {lon:.5f}"


def frame_table(df: pd.DataFrame, *, max_rows: int = 200) -> str:
    df = df.head(max_rows)
    numeric = {i for i, c in enumerate(df.columns) if pd.api.types.is_numeric_dtype(df[c])}
    rows = []
    for r in df.itertuples(index=False):
        rows.append([(f"{v:.4g}" if isinstance(v, float) else v) for v in r])
    return html_table([str(c) for c in df.columns], rows, numeric=numeric)
