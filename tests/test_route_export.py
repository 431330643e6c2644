"""Route.to_file: every format read back by an independent reader (GDAL, pyarrow, json)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

import geolog
from geolog.errors import InputError

A, B = (42.5078, 1.5211), (42.5440, 1.5140)


@pytest.fixture(scope="module")
def route(andorra_terrain):
    return geolog.route(andorra_terrain, A, B, profile="car")


def test_geojson_file_is_the_geojson_text(route, tmp_path):
    out = route.to_file(tmp_path / "r.geojson")
    assert out == tmp_path / "r.geojson"
    assert json.loads(out.read_text()) == json.loads(route.to_geojson())
    back = gpd.read_file(out)
    assert back.geometry.iloc[0].equals_exact(route.geometry, 1e-9)


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet"])
def test_gis_formats_hold_the_line_and_summary(route, tmp_path, suffix):
    out = route.to_file(tmp_path / f"r{suffix}")
    back = gpd.read_parquet(out) if suffix == ".parquet" else gpd.read_file(out, layer="route")
    assert len(back) == 1 and back.crs.to_epsg() == 4326
    assert back.geometry.iloc[0].equals_exact(route.geometry, 1e-9)
    assert back["length_m"].iloc[0] == pytest.approx(route.length_m)
    assert json.loads(back["origin"].iloc[0]) == list(route.origin)
    if suffix == ".gpkg":
        edges = gpd.read_file(out, layer="edges")
        assert len(edges) == len(route.rows)
        assert edges["traversed_m"].sum() == pytest.approx(route.length_m)


def test_gpx_track_with_elevations(route, tmp_path, andorra_dem):
    out = route.to_file(tmp_path / "r.gpx")
    pts = gpd.read_file(out, layer="track_points")  # GDAL's GPX driver
    xy = shapely.get_coordinates(route.geometry)
    assert len(pts) == len(xy)
    np.testing.assert_allclose(pts.geometry.x, xy[:, 0], atol=1e-7)
    np.testing.assert_allclose(pts.geometry.y, xy[:, 1], atol=1e-7)
    # <ele> is the route's elevation profile at each vertex's distance along the line
    _, _, seg = Geod(ellps="WGS84").inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    along = np.concatenate([[0.0], np.cumsum(seg)])
    along *= route.length_m / along[-1]
    prof = route.profile()
    expected = np.interp(along, prof["distance_m"], prof["elevation_m"])
    np.testing.assert_allclose(pts["ele"], expected, atol=2.0)
    # and close to the DEM under the road (tunnels and bridges aside)
    dem = andorra_dem.sample(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    assert np.median(np.abs(dem - pts["ele"])) < 10


def test_gpx_without_terrain_has_no_elevations(andorra, tmp_path):
    r = geolog.route(andorra, A, B, profile="car")
    pts = gpd.read_file(r.to_file(tmp_path / "r.gpx"), layer="track_points")
    assert len(pts) == len(shapely.get_coordinates(r.geometry))
    assert pts["ele"].isna().all()


def test_unknown_suffix_leaves_the_old_file(route, tmp_path):
    old = tmp_path / "r.shp"
    old.write_text("keep me")
    with pytest.raises(InputError, match=r"\.gpx"):
        route.to_file(old)
    assert old.read_text() == "keep me"
