"""Small HTML formatting helpers of the briefing: numbers, tables, coordinates (all escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._format import fmt_duration
from ._format import fmt_hhmm as fmt_hhmm
from ._format import fmt_km as fmt_km
from ._format import fmt_len as fmt_len
from ._format import fmt_pct as fmt_pct
from ._html import escape

fmt_time = fmt_duration  # the briefing's name for it

if TYPE_CHECKING:  # pragma: no cover
    pass


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
