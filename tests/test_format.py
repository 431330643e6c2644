"""geolog._format: the one place durations, clock times, lengths, grades and road names are written."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from geolog._format import fmt_clock, fmt_duration, fmt_km, fmt_pct, road_names, tag_text


@pytest.mark.parametrize("seconds", [0, 59, 61, 3569, 3600, 3629, 3631, 7 * 3600 + 5 * 60, 86399])
def test_clock_and_duration_agree_with_datetime(seconds):
    t = (dt.datetime(2000, 1, 1) + dt.timedelta(seconds=seconds)).time()
    assert fmt_clock(seconds) == t.strftime("%H:%M")
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    assert fmt_duration(seconds) == (f"{h} h {m:02d} min" if h else f"{m} min")


def test_lengths_grades_and_missing_values():
    assert fmt_km(12_345.0) == "12.35 km" and fmt_km(0) == "0.00 km"
    assert fmt_pct(-0.075) == "7.5 %" and fmt_pct(0.12) == "12.0 %"
    for f in (fmt_clock, fmt_duration, fmt_km, fmt_pct):
        assert f(math.nan) == f(None) == f(math.inf) == "–"


ROADS = pd.DataFrame(
    {
        "name": ["Landstrasse", None, "", np.nan, "<b>&", "Au"],
        "ref": ["28", "CG-2", None, "", None, 7],
        "highway": ["primary", None, "track", "", "residential", "service"],
    }
)


def test_road_names_join_name_and_ref_and_treat_blank_tags_as_missing():
    assert road_names(ROADS).tolist() == [
        "Landstrasse (28)",
        "CG-2",
        "unnamed road",
        "unnamed road",
        "<b>&",  # plain text: escaping is the caller's job
        "Au (7)",
    ]
    rows = np.array([5, 0, 2])
    assert road_names(ROADS, rows, between=" / ", after="", unnamed=None).tolist() == [
        "Au / 7",
        "Landstrasse / 28",
        None,
    ]
    assert tag_text(ROADS, "highway").tolist() == [
        "primary",
        None,
        "track",
        None,
        "residential",
        "service",
    ]
    assert tag_text(ROADS, "junction", rows).tolist() == [None] * 3
    assert road_names(ROADS[["highway"]], unnamed="(unnamed)").tolist() == ["(unnamed)"] * 6
