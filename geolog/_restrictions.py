"""OSM turn restrictions: read the relations, keep them on the network, pick a vehicle's.

A turn restriction is a ``type=restriction`` relation with a ``from`` way, a
``via`` node (or one or more ``via`` ways) and a ``to`` way; its
``restriction`` tag (or ``restriction:hgv``, ``restriction:motorcar`` … for
one vehicle class) says ``no_left_turn`` … (that turn is forbidden) or
``only_straight_on`` … (that is the only turn allowed from ``from`` at
``via``); ``except=psv;bicycle`` lists the classes it does not bind.

:func:`read_restrictions` reads them in one pyosmium pass over the
relations only; :func:`restrictions_frame` is the table a
:class:`geolog.Network` keeps (``net.restrictions``, stored column-wise in
``net.meta["restrictions"]`` so it survives ``replace``, ``save``/``load``
and subsetting). :func:`for_vehicle` keeps the ones that bind a vehicle
class. Conditional restrictions (``restriction:conditional``, ``day_on``,
``hour_on``) are not read: geolog plans without a clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["read_restrictions", "restrictions_frame", "for_vehicle", "COLUMNS"]

#: Columns of ``net.restrictions``.
COLUMNS = (
    "relation",
    "from_way",
    "via_node",
    "via_ways",
    "to_way",
    "restriction",
    "kind",
    "vehicles",
    "except",
)


def _record(rel: Any) -> list[dict] | None:
    """The restriction rows of one relation (one per from × to pair); None if not one."""
    tags = {t.k: t.v for t in rel.tags}
    kind = tags.get("type", "")
    if kind != "restriction" and not kind.startswith("restriction:"):
        return None
    value, vehicles = None, ""
    for k, v in tags.items():
        if k == "restriction" or (k.startswith("restriction:") and k != "restriction:conditional"):
            value, vehicles = v.strip(), k.partition(":")[2]
            break
    if not vehicles and kind.startswith("restriction:"):
        vehicles = kind.partition(":")[2]  # old style: type=restriction:hgv
    if not value or not value.startswith(("no_", "only_")) or "day_on" in tags or "hour_on" in tags:
        return None
    frm = [m.ref for m in rel.members if m.type == "w" and m.role == "from"]
    to = [m.ref for m in rel.members if m.type == "w" and m.role == "to"]
    via_n = [m.ref for m in rel.members if m.type == "n" and m.role == "via"]
    via_w = [m.ref for m in rel.members if m.type == "w" and m.role == "via"]
    if not frm or not to or len(via_n) + min(len(via_w), 1) != 1:
        return None  # malformed: no via, or a node and ways both
    if value.startswith("only_") and (len(frm) > 1 or len(to) > 1):
        return None
    return [
        {
            "relation": int(rel.id),
            "from_way": int(a),
            "via_node": int(via_n[0]) if via_n else -1,
            "via_ways": ";".join(str(w) for w in via_w),
            "to_way": int(b),
            "restriction": value,
            "kind": value.split("_", 1)[0],
            "vehicles": vehicles,
            "except": tags.get("except", ""),
        }
        for a in frm
        for b in to
    ]


def read_restrictions(path: str | Path) -> dict[str, list]:
    """Turn restrictions of an OSM file, column-wise (lists per :data:`COLUMNS`).

    One pyosmium pass over the relations (nodes and ways are not decoded).
    Relations without a ``from``, ``to`` or ``via``, with a value that is not
    ``no_*`` / ``only_*``, or limited in time (``day_on``, ``hour_on``) are
    skipped.
    """
    import osmium

    rows: list[dict] = []
    fp = osmium.FileProcessor(str(path), osmium.osm.RELATION).with_filter(
        osmium.filter.KeyFilter("type")
    )
    for rel in fp:
        rec = _record(rel)
        if rec:
            rows.extend(rec)
    return {c: [r[c] for r in rows] for c in COLUMNS}


def restrictions_frame(meta: dict) -> pd.DataFrame:
    """``net.restrictions``: one row per restriction (from × to pair) stored in ``meta``."""
    data = meta.get("restrictions") or {c: [] for c in COLUMNS}
    frame = pd.DataFrame({c: data.get(c, []) for c in COLUMNS})
    for c in ("relation", "from_way", "via_node", "to_way"):
        frame[c] = frame[c].astype(np.int64)
    return frame


def for_vehicle(frame: pd.DataFrame, classes: tuple[str, ...]) -> pd.DataFrame:
    """The restrictions that bind a vehicle of the access ``classes`` (e.g. ``hgv``, ``goods`` …).

    A plain ``restriction`` binds every vehicle (``classes`` not empty);
    ``restriction:<class>`` binds that class only; ``except`` frees the
    classes it lists. No classes (a pedestrian): none binds.
    """
    if not classes or frame.empty:
        return frame.iloc[:0]
    mine = set(classes)
    plain = frame["vehicles"].eq("")
    named = frame["vehicles"].map(lambda v: bool(mine & {s.strip() for s in v.split(";")}))
    freed = frame["except"].map(lambda v: bool(mine & {s.strip() for s in v.split(";")}))
    return frame[(plain | named) & ~freed]
