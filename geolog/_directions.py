"""Turn-by-turn directions of a :class:`geolog.Route`.

The route's travelled pieces are grouped into stretches of the same road (a
roundabout is one stretch whatever its ways are called), each stretch is
given the turn from the heading at the end of the previous one, and
stretches shorter than ``min_step_m`` are folded into the step before them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._format import road_names, tag_text

#: ``junction=*`` values of a roundabout.
RING = ("roundabout", "circular")
#: Turn words by absolute heading change (degrees): below each bound.
TURN_BOUNDS = ((20, "straight"), (45, "slight {side}"), (135, "{side}"), (170, "sharp {side}"))


def _turn_word(delta: float) -> str:
    """``straight``, ``slight left`` … ``u-turn`` for a signed heading change (+ = right)."""
    side = "right" if delta > 0 else "left"
    for bound, word in TURN_BOUNDS:
        if abs(delta) < bound:
            return word.format(side=side)
    return "u-turn"


def _stretches(route: Any) -> dict[str, np.ndarray]:
    """The travelled pieces: road label, roundabout flag, metres, seconds, headings."""
    e = route._net.edges
    used = route._frac > 0
    if not used.any():
        used = np.ones(len(route.rows), dtype=bool)
    rows, pieces = route.rows[used], route._pieces[used]
    road = road_names(e, rows)
    # headings at each piece's start and end (local metric frame)
    frame = route._edge_index.frame
    xy, ids = shapely.get_coordinates(frame.to_m(pieces), return_index=True)
    first = np.searchsorted(ids, np.arange(len(pieces)))
    last = np.r_[first[1:], len(ids)] - 1
    d_start = xy[np.minimum(first + 1, last)] - xy[first]
    d_end = xy[last] - xy[np.maximum(last - 1, first)]
    g = route._g
    ring_all = np.isin(tag_text(e, "junction", np.arange(len(e))), RING)
    exits = np.bincount(g.upos[g.usable & ~ring_all], minlength=g.n)
    return {
        "road": road,
        "ring": ring_all[rows],
        "exits": exits[g.vpos[rows]],  # ways out of the ring at the end of each piece
        "length": (route._frac * route._g.length[route.rows])[used],
        "time": (route._frac * route._g.time[route.rows])[used],
        "h_start": np.degrees(np.arctan2(d_start[:, 0], d_start[:, 1])),
        "h_end": np.degrees(np.arctan2(d_end[:, 0], d_end[:, 1])),
    }


def _ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th`` … ``11th``, ``21st``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _instruction(turn: str, road: str) -> str:
    verb = {"depart": "head", "straight": "continue"}.get(
        turn, "u-turn" if turn == "u-turn" else f"turn {turn}"
    )
    prep = "on" if turn in ("depart", "straight") else "onto"
    return f"{verb} {prep} {road}"


def _raw_steps(s: dict[str, np.ndarray]) -> list[dict]:
    """One step per stretch of the same road; ``_keep`` marks roundabout entries and exits.

    The turn of the step after a roundabout is measured from the heading
    before entering it.
    """
    road, ring = s["road"], s["ring"]
    key = np.where(ring, "\0roundabout", road)
    exit_no = 0
    group = np.cumsum(np.r_[True, key[1:] != key[:-1]]) - 1
    steps = []
    entry = None  # first piece of the roundabout just driven
    for gi in range(group[-1] + 1):
        sel = np.flatnonzero(group == gi)
        i0 = sel[0]
        before = entry if entry is not None else i0
        if gi == 0:
            turn, delta = "depart", 0.0
        else:
            delta = float((s["h_start"][i0] - s["h_end"][before - 1] + 180) % 360 - 180)
            turn = _turn_word(delta)
        text, keep, ex = _instruction(turn, road[i0]), False, 0
        if ring[i0]:
            # ways out passed before the one taken (none if the route ends on the ring)
            exit_no = int(s["exits"][sel[:-1]].sum()) + 1 if gi < group[-1] else 0
            text, entry, keep = "enter the roundabout", i0, True
            if exit_no:
                text += f" and take the {_ordinal(exit_no)} exit"
            turn, delta, ex = "roundabout", 0.0, exit_no
        elif entry is not None:
            word = {"straight": "straight on", "u-turn": "back"}.get(turn, turn)
            text = f"leave the roundabout at the {_ordinal(exit_no)} exit ({word}) onto {road[i0]}"
            entry, keep, ex = None, True, exit_no
        steps.append(
            {
                "step": gi + 1,
                "instruction": text,
                "road": road[i0],
                "turn": turn,
                "turn_deg": round(delta, 1),
                "distance_m": float(s["length"][sel].sum()),
                "duration_s": float(s["time"][sel].sum()),
                "exit": ex,
                "_keep": keep,
            }
        )
    return steps


def _fold(steps: list[dict], min_step_m: float) -> list[dict]:
    """Fold steps shorter than ``min_step_m`` (or on the same road) into the one before.

    Roundabout entries and exits always stay; steps are renumbered.
    """
    merged: list[dict] = []
    for st in steps:
        short = (
            st["distance_m"] < min_step_m or st["road"] == merged[-1]["road"] if merged else False
        )
        if merged and short and not st.pop("_keep"):
            merged[-1]["distance_m"] += st["distance_m"]
            merged[-1]["duration_s"] += st["duration_s"]
        else:
            st.pop("_keep", None)
            merged.append(st)
    for i, st in enumerate(merged):
        st["step"] = i + 1
    return merged


def directions(route: Any, *, min_step_m: float = 25.0) -> pd.DataFrame:
    """Turn-by-turn directions of ``route`` (see :meth:`geolog.Route.directions`)."""
    s = _stretches(route)
    steps = _fold(_raw_steps(s), min_step_m)
    steps.append(
        {
            "step": len(steps) + 1,
            "instruction": "arrive",
            "road": s["road"][-1],
            "turn": "arrive",
            "turn_deg": 0.0,
            "distance_m": 0.0,
            "duration_s": 0.0,
            "exit": 0,
        }
    )
    return pd.DataFrame(steps)
