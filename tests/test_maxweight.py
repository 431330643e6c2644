"""One maxweight parser for the OSM reader and the profiles (they used to differ on ".5")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geolog import _maxspeed, _profile_eval, osm

CASES = {"7.5": 7.5, ".5": 0.5, "7,5 t": 7.5, "3500 kg": 3.5, "10 ST": 10 * 0.90718474,
         "20000 lbs": 20000 * 0.45359237e-3, "12t": 12.0, "none": np.nan, "7.5 t @ (wet)": np.nan,
         None: np.nan}  # fmt: skip


@pytest.mark.parametrize("dtype", [object, "string"])
def test_maxweight_in_tonnes(dtype):
    values = pd.Series(list(CASES), dtype=dtype)
    got = _maxspeed.parse_maxweight_t(values)
    np.testing.assert_allclose(got, list(CASES.values()), rtol=1e-12)


def test_reader_and_profiles_use_the_same_parser():
    assert osm.parse_maxweight_t is _maxspeed.parse_maxweight_t
    assert _profile_eval.parse_maxweight_t is _maxspeed.parse_maxweight_t
