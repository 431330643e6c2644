"""(lat, lon) everywhere: the one point parser, and DEM sampling by (lat, lon) points."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely

import geolog
from geolog import _geometry as _points
from geolog.errors import InputError


@pytest.fixture(scope="module")
def grid(andorra_dem_path):
    """Valid grid nodes of the raw tile, read with rasterio: (lat, lon, elevation)."""
    with rasterio.open(f"/vsizip/{andorra_dem_path}/N42E001.hgt") as ds:
        raw, nodata = ds.read(1), ds.nodata
    i = np.arange(300, 900, 37)
    j = np.linspace(400, 1000, len(i)).astype(int)
    ok = raw[i, j] != nodata
    # .hgt is pixel-is-point: node (i, j) sits at whole multiples of 3 arc-seconds
    return 43 - i[ok] / 1200, 1 + j[ok] / 1200, raw[i[ok], j[ok]].astype(float)


@pytest.fixture(scope="module")
def dem(andorra_dem_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        return geolog.DEM.open(andorra_dem_path)


def test_sample_points_takes_lat_lon(dem, grid):
    lat, lon, z = grid
    assert len(z) > 5
    pairs = list(zip(lat, lon, strict=True))
    np.testing.assert_allclose(dem.sample_points(pairs), z, atol=1e-6)
    np.testing.assert_allclose(dem.sample_points(np.column_stack([lat, lon])), z, atol=1e-6)
    pts = shapely.points(lon, lat)
    np.testing.assert_allclose(dem.sample_points(list(pts)), z, atol=1e-6)
    np.testing.assert_allclose(dem.sample_points(gpd.GeoSeries(pts, crs=4326)), z, atol=1e-6)
    # the old call and the keyword call are the same thing
    np.testing.assert_allclose(dem.sample(lon, lat), z, atol=1e-6)
    np.testing.assert_allclose(dem.sample(lat=lat, lon=lon), z, atol=1e-6)


def test_sample_points_refuses_swapped_order(dem):
    with pytest.raises(InputError, match="latitude within"):
        dem.sample_points([(142.5, 1.52)])


@pytest.mark.parametrize(
    ("point", "message"),
    [((95.0, 1.0), "latitude first"), (("a", 1), "pair of numbers"), ((1.0,), "pair of numbers")],
)
def test_parse_point_says_what_is_wrong(point, message):
    with pytest.raises(InputError, match=message):
        _points.parse_point(point, "origin")


def test_one_parser_for_text_pairs_and_shapely():
    assert _points.parse_point(shapely.Point(1.52, 42.5), "p") == (42.5, 1.52)
    assert _points.parse_latlon_text("42.5, 1.52", "--from") == (42.5, 1.52)
    with pytest.raises(InputError, match="--from"):
        _points.parse_latlon_text("42.5;1.52", "--from")
    with pytest.raises(InputError, match="latitude first"):
        _points.parse_latlon_text("142.5,1.52", "--from")
    pts, why = _points.parse_points([(42.5, 1.5), "bad"], "stop", "coerce")
    assert pts[0] == (42.5, 1.5) and pts[1] is None and "stop 1" in why[1]
