"""geolog._geometry: the one Earth radius and local metric frame, checked against pyproj."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geolog._geometry import DEG_PER_M, M_PER_DEG, metres_per_degree, metric_offsets

GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize("lat", [0.0, 42.5, 60.0, -33.9])
def test_short_steps_match_the_geodesic(lat):
    rng = np.random.default_rng(3)
    lon0 = rng.uniform(-170, 170, 200)
    lat0 = lat + rng.uniform(-0.5, 0.5, 200)
    dlon, dlat = rng.uniform(-0.003, 0.003, (2, 200))  # steps of up to ~300 m
    east, north = metric_offsets(dlon, dlat, lat0 + dlat / 2)
    _, _, d = GEOD.inv(lon0, lat0, lon0 + dlon, lat0 + dlat)
    # the sphere of mean radius is within 0.7 % of the ellipsoid (flattening) for short steps
    np.testing.assert_allclose(np.hypot(east, north), d, rtol=7e-3)


def test_metres_per_degree_and_its_inverse():
    _, _, one_deg_lat = GEOD.inv(0.0, 44.5, 0.0, 45.5)
    assert metres_per_degree(45.0)[1] == pytest.approx(one_deg_lat, rel=5e-3)
    east, _ = metres_per_degree(np.array([0.0, 60.0]))
    assert east[1] == pytest.approx(east[0] / 2)
    assert M_PER_DEG * DEG_PER_M == pytest.approx(1.0)
