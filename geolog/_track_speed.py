"""Observed speeds from matched traces: per class and grade band, and profile calibration.

Speeds are measured on the edges a trace drove from end to end
(``fraction_start == 0`` and ``fraction_end == 1``): length over the time
between entering and leaving the edge. Aggregates are length over summed
time (a harmonic mean), so a long slow edge weighs as it should.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = ["GRADE_BANDS", "observed_edges", "speed_table", "calibrate_profile"]

#: Default grade bands (fractions, in the direction of travel).
GRADE_BANDS = (-np.inf, -0.08, -0.04, -0.02, 0.02, 0.04, 0.08, 0.12, np.inf)

#: Edges flatter than this (|grade|) calibrate the class speeds.
FLAT = 0.02


#: Edges shorter than this (metres) are too short to time from GPS fixes.
MIN_LENGTH_M = 30.0

#: Edges matched with less confidence than this are not timed.
MIN_CONFIDENCE = 0.5


def observed_edges(matches: Any) -> pd.DataFrame:
    """The timed edges of one or more :class:`MatchResult` (one table).

    Edges driven end to end, at least :data:`MIN_LENGTH_M` long and matched
    with confidence of at least :data:`MIN_CONFIDENCE`.
    """
    ms = matches if isinstance(matches, list | tuple) else [matches]
    if not ms:
        raise InputError("no matched trace given")
    frames = []
    for m in ms:
        e = pd.DataFrame(m.edges.drop(columns="geometry"))
        e["vehicle"] = m.vehicle
        frames.append(e)
    e = pd.concat(frames, ignore_index=True)
    full = (e["fraction_start"] <= 0) & (e["fraction_end"] >= 1) & (e["duration_s"] > 0)
    e = e[full & (e["traversed_m"] >= MIN_LENGTH_M) & (e["confidence"] >= MIN_CONFIDENCE)].copy()
    e["profile_time_s"] = e["traversed_m"] / (e["profile_speed_kph"] / 3.6)
    return e


def _pct(x: float) -> str:
    return f"{x * 100:+.0f} %" if x else "0 %"


def _band_labels(bands: Sequence[float]) -> list[str]:
    out = []
    for a, b in zip(bands[:-1], bands[1:], strict=True):
        if np.isinf(a):
            out.append(f"below {_pct(b)}")
        elif np.isinf(b):
            out.append(f"{_pct(a)} and steeper")
        else:
            out.append(f"{_pct(a)} to {_pct(b)}")
    return out


def speed_table(
    matches: Any, *, bands: Sequence[float] = GRADE_BANDS, by: str = "highway"
) -> pd.DataFrame:
    """Observed against profile speeds per road class and grade band.

    Parameters
    ----------
    matches
        A :class:`~geolog.tracking.MatchResult` or a list of them (several
        runs of one fleet).
    bands
        Grade band edges as fractions, increasing (default
        :data:`GRADE_BANDS`). Needs a network with terrain (``grade``);
        without it every edge is in the band holding 0.
    by
        Edge column to group by besides the band (``"highway"``).

    Returns
    -------
    pandas.DataFrame
        One row per (``by``, ``grade_band``): ``edges``, ``length_km``,
        ``observed_kph`` and ``profile_kph`` (length over summed time),
        ``ratio`` (observed / profile) and ``finding``, a sentence such as
        "primary roads at +8 % to +12 %: driven at 18 km/h, the profile
        assumes 22 km/h".
    """
    e = observed_edges(matches)
    if by not in e.columns:
        raise InputError(
            f"the matched edges have no column {by!r}; use one of {', '.join(e.columns)}"
        )
    b = np.asarray(bands, dtype=float)
    if len(b) < 2 or np.any(np.diff(b) <= 0):
        raise InputError("bands must be at least two increasing grade fractions")
    grade = e["grade"].to_numpy(dtype=float) if "grade" in e.columns else np.zeros(len(e))
    labels = _band_labels(b)
    code = np.clip(np.searchsorted(b, np.nan_to_num(grade), side="right") - 1, 0, len(labels) - 1)
    e["grade_band"] = pd.Categorical.from_codes(code, categories=labels, ordered=True)
    grp = e.groupby([by, "grade_band"], observed=True, sort=True)
    out = grp.agg(
        edges=("traversed_m", "size"),
        length_m=("traversed_m", "sum"),
        time_s=("duration_s", "sum"),
        profile_s=("profile_time_s", "sum"),
    ).reset_index()
    out["length_km"] = out["length_m"] / 1000.0
    out["observed_kph"] = out["length_m"] / out["time_s"] * 3.6
    out["profile_kph"] = out["length_m"] / out["profile_s"] * 3.6
    out["ratio"] = out["observed_kph"] / out["profile_kph"]
    out["finding"] = [
        f"{c} roads at {band}: driven at {o:.0f} km/h, the profile assumes {p:.0f} km/h"
        for c, band, o, p in zip(
            out[by], out["grade_band"], out["observed_kph"], out["profile_kph"], strict=True
        )
    ]
    return out[
        [by, "grade_band", "edges", "length_km", "observed_kph", "profile_kph", "ratio", "finding"]
    ]


def _class_factors(e: pd.DataFrame, min_edges: int) -> dict[str, float]:
    """Observed / profile speed per highway class on flat edges (enough evidence only)."""
    flat = e[np.abs(np.nan_to_num(e["grade"].to_numpy(dtype=float))) < FLAT]
    out = {}
    for cls, part in flat.groupby("highway"):
        if len(part) >= min_edges:
            out[str(cls)] = float(part["profile_time_s"].sum() / part["duration_s"].sum())
    return out


def _fit_power(e: pd.DataFrame, base_kph: np.ndarray, prof: Any) -> float | None:
    """Wheel power (kW, before efficiency) that best explains the climbing times."""
    from scipy.optimize import minimize_scalar

    from ._speed_models import braking_speed_kph, climb_speed_kph

    gm = dict(prof.grade_model)
    g = np.nan_to_num(e["grade"].to_numpy(dtype=float))
    up = g > FLAT
    if up.sum() < 3:
        return None
    g, base, length = g[up], base_kph[up], e["traversed_m"].to_numpy()[up]
    t_obs = e["duration_s"].to_numpy()[up]
    cap = np.minimum(
        base,
        braking_speed_kph(
            g, braking_power_kw=gm["braking_power_kw"], mass_kg=gm["mass_kg"], crr=gm["crr"]
        ),
    )
    cap = np.minimum(cap, prof.max_speed_kph)

    def sse(power_kw: float) -> float:
        v = climb_speed_kph(
            g,
            power_kw=power_kw,
            mass_kg=gm["mass_kg"],
            crr=gm["crr"],
            efficiency=gm["efficiency"],
            cda_m2=gm["cda_m2"],
            air_density=gm["air_density"],
        )
        t = length / (np.minimum(v, cap) / 3.6)
        return float(np.sum((t - t_obs) ** 2))

    # the error is flat where power no longer limits any edge: bracket on a
    # log grid first, then refine inside the bracket
    grid = np.geomspace(5.0, 5000.0, 121)
    i = int(np.argmin([sse(p) for p in grid]))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(sse, bounds=(lo, hi), method="bounded", options={"xatol": 0.01})
    return float(res.x)


def calibrate_profile(
    matches: Any, profile: Any, *, min_edges: int = 10, name: str | None = None
) -> Any:
    """A profile whose speeds fit the observed traces.

    Two steps: each road class with at least ``min_edges`` flat edges
    driven (``|grade| < 2 %``) gets its speed scaled by observed / profile
    time; then, for the ``climb`` grade model, the engine power is fitted
    (least squares on the edge times of every climb > 2 %, with
    :func:`geolog.profiles.climb_speed_kph`), which moves the whole
    speed-against-grade curve. Other grade models keep their curve.

    Parameters
    ----------
    matches
        :class:`~geolog.tracking.MatchResult` (or a list) on a network
        with terrain.
    profile
        The profile to start from (name, path, dict or Profile).
    min_edges
        Fewest flat edges of a class to rescale its speed.
    name
        Name of the new profile (default: ``"<profile> (calibrated)"``).

    Returns
    -------
    geolog.profiles.Profile
        The calibrated profile; its ``sources`` say what was fitted.
    """
    from .profiles import Profile, get_profile

    prof = get_profile(profile)
    e = observed_edges(matches)
    if "grade" not in e.columns or e["grade"].isna().all():
        raise InputError(
            "calibrating a profile needs grades: match on a network with terrain "
            "(net.with_terrain(dem))"
        )
    if e.empty:
        raise InputError("no edge was driven from end to end; nothing to calibrate")
    d = prof.to_dict()
    factors = _class_factors(e, min_edges)
    d["highway"] = {k: v * factors.get(k, 1.0) for k, v in d["highway"].items()}
    notes = [f"{k} x {f:.3f} (flat edges)" for k, f in sorted(factors.items())]
    if prof.grade_model["model"] == "climb":
        flat_prof = Profile.from_dict({**d, "grade_model": {"model": "none"}})
        base = flat_prof.evaluate(e.assign(grade=0.0))["speed_kph"]
        power = _fit_power(e, base, prof)
        if power is not None:
            d["grade_model"] = {**d["grade_model"], "power_kw": round(power, 2)}
            notes.append(f"power_kw {prof.grade_model['power_kw']:g} -> {power:.1f} (climbs)")
    d["name"] = name or f"{prof.name} (calibrated)"
    d["sources"] = [
        *d["sources"],
        f"calibrated from {len(e)} driven edges: {'; '.join(notes) or 'no change'}",
    ]
    return Profile.from_dict(d, source="calibrate_profile")
