"""geolog.terrain: DEM reading, void filling, sampling, Horn slope, hillshade, mobility."""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import Resampling, reproject
from scipy import ndimage

import geolog
from geolog.errors import DEMError, GeologWarning, InputError
from geolog.terrain import DEM, NO_GO, SLOW_GO, mobility_thresholds

ANDORRA_BBOX = (1.40, 42.42, 1.80, 42.67)


def _open_quiet(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeologWarning)
        return DEM.open(path)


@pytest.fixture(scope="module")
def raw_andorra(andorra_dem_path):
    """The raw tile, read with rasterio directly (the oracle's input)."""
    with rasterio.open(f"/vsizip/{andorra_dem_path}/N42E001.hgt") as ds:
        return ds.read(1), ds.transform, ds.crs, ds.nodata


@pytest.fixture(scope="module")
def dem(andorra_dem_path):
    return _open_quiet(andorra_dem_path)


def horn_oracle(z, xres, yres):
    """Independent Horn (1981) slope in degrees via ndimage.correlate (gdaldem's kernel)."""
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float) / (8 * xres)
    ky = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], float) / (8 * yres)
    gx = ndimage.correlate(z, kx, mode="nearest")
    gy = ndimage.correlate(z, ky, mode="nearest")
    return np.degrees(np.arctan(np.sqrt(gx**2 + gy**2)))


# -- reading and void filling ------------------------------------------------------------


def test_open_fills_voids_and_warns(andorra_dem_path, raw_andorra):
    raw, transform, crs, nodata = raw_andorra
    with pytest.warns(GeologWarning, match=r"filled \d+ void cells"):
        d = DEM.open(andorra_dem_path)
    void = raw == nodata
    assert void.sum() > 0
    np.testing.assert_array_equal(d.filled_mask, void)
    assert np.isfinite(d.array).all()
    assert d.array.min() > -500  # -32768 never survives as an elevation
    # valid cells are untouched, filled cells lie within the range of the data around them
    np.testing.assert_array_equal(d.array[~void], raw[~void].astype(np.float32))
    lo = ndimage.grey_erosion(np.where(void, 10_000, raw), size=41)
    hi = ndimage.grey_dilation(np.where(void, -10_000, raw), size=41)
    assert (d.array[void] >= lo[void] - 1).all() and (d.array[void] <= hi[void] + 1).all()
    assert d.transform == transform and d.crs == crs
    assert "N42E001" in d.source


def test_sample_is_bilinear_between_cell_centres(dem, raw_andorra):
    raw, transform, _, nodata = raw_andorra
    rng = np.random.default_rng(4)
    lon = rng.uniform(*ANDORRA_BBOX[0::2], 4000)
    lat = rng.uniform(*ANDORRA_BBOX[1::2], 4000)
    # independent oracle: fractional (row, col) of cell centres, scipy linear interpolation
    col = (lon - transform.c) / transform.a - 0.5
    row = (lat - transform.f) / transform.e - 0.5
    oracle = ndimage.map_coordinates(raw.astype(float), [row, col], order=1)
    far = ndimage.distance_transform_edt(raw != nodata) >= 2
    ok = far[np.floor(row).astype(int), np.floor(col).astype(int)]
    ok &= far[np.ceil(row).astype(int), np.ceil(col).astype(int)]
    assert ok.sum() > 3000
    np.testing.assert_allclose(dem.sample(lon[ok], lat[ok]), oracle[ok], atol=0.01)
    # .hgt is pixel-is-point: the grid nodes sit on whole multiples of 3 arc-seconds
    i, j = 500, 700
    assert raw[i, j] != nodata
    assert dem.sample([1 + j / 1200], [43 - i / 1200])[0] == pytest.approx(raw[i, j], abs=1e-6)
    assert np.isnan(dem.sample([2.5], [42.5])[0])


def test_mosaic_of_two_geotiffs_equals_the_tile(tmp_path, raw_andorra, dem):
    raw, transform, crs, nodata = raw_andorra
    paths = []
    for name, cols in (("w.tif", slice(0, 640)), ("e.tif", slice(600, 1201))):
        part = raw[:, cols]
        t = transform @ Affine.translation(cols.start, 0)
        p = tmp_path / name
        with rasterio.open(
            p, "w", driver="GTiff", width=part.shape[1], height=part.shape[0], count=1,
            dtype=part.dtype, crs=crs, transform=t, nodata=nodata,
        ) as dst:  # fmt: skip
            dst.write(part, 1)
        paths.append(p)
    with pytest.warns(GeologWarning):
        mosaic = DEM.open(paths)
    assert mosaic.shape == dem.shape
    assert mosaic.transform.almost_equals(dem.transform)
    np.testing.assert_array_equal(mosaic.filled_mask, dem.filled_mask)
    np.testing.assert_array_equal(mosaic.array[~dem.filled_mask], dem.array[~dem.filled_mask])


def test_clip_keeps_cells(dem):
    c = dem.clip(ANDORRA_BBOX)
    assert c.shape[0] < dem.shape[0] and c.shape[1] < dem.shape[1]
    w, s, e, n = c.bounds
    assert w <= ANDORRA_BBOX[0] and s <= ANDORRA_BBOX[1]
    assert e >= ANDORRA_BBOX[2] and n >= ANDORRA_BBOX[3]
    pts = ([1.52, 1.71, 1.45], [42.51, 42.55, 42.6])
    np.testing.assert_allclose(c.sample(*pts), dem.sample(*pts), atol=1e-9)
    with pytest.raises(DEMError, match="does not overlap"):
        dem.clip((5, 5, 6, 6))


# -- errors: nothing usable, nothing half-read ----------------------------------------------


def _tif(path, array, *, crs="EPSG:4326", nodata=-32768):
    t = Affine(1 / 1200, 0, 1.0, 0, -1 / 1200, 43.0)
    with rasterio.open(
        path, "w", driver="GTiff", width=array.shape[1], height=array.shape[0], count=1,
        dtype=array.dtype, crs=crs, transform=t, nodata=nodata,
    ) as dst:  # fmt: skip
        dst.write(array, 1)
    return path


def test_errors(tmp_path, andorra_dem_path):
    junk = tmp_path / "N42E001.hgt.zip"
    junk.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(DEMError, match="not a readable zip"):
        DEM.open(junk)
    truncated = tmp_path / "cut.hgt.zip"
    truncated.write_bytes(andorra_dem_path.read_bytes()[:100_000])
    with pytest.raises(DEMError, match="zip"):
        DEM.open(truncated)
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w") as zf:
        zf.writestr("readme.txt", "no raster here")
    with pytest.raises(DEMError, match="no elevation raster"):
        DEM.open(empty_zip)
    rand = tmp_path / "random.tif"
    rand.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(DEMError, match="cannot read"):
        DEM.open(rand)
    void = _tif(tmp_path / "void.tif", np.full((50, 50), -32768, dtype=np.int16))
    with pytest.raises(DEMError, match="no valid elevation"):
        DEM.open(void)
    nocrs = _tif(tmp_path / "nocrs.tif", np.ones((50, 50), dtype=np.int16), crs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with pytest.raises(DEMError, match="coordinate reference system"):
            DEM.open(nocrs)
    with pytest.raises(DEMError, match="does not exist"):
        DEM.open(tmp_path / "missing.hgt")
    utm = _tif(tmp_path / "utm.tif", np.ones((50, 50), dtype=np.int16), crs="EPSG:32631")
    geo = _tif(tmp_path / "geo.tif", np.ones((50, 50), dtype=np.int16))
    with pytest.raises(DEMError, match="one CRS"):
        DEM.open([geo, utm])
    with pytest.raises(DEMError):
        DEM.open([])
    assert issubclass(DEMError, ValueError)


# -- derived grids ------------------------------------------------------------------------


def _plane(a, b, *, res=30.0, shape=(40, 50)):
    """Tilted plane z = a*east + b*north on a UTM grid."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    east = (cols + 0.5) * res
    north = -(rows + 0.5) * res
    z = 500 + a * east + b * north
    t = Affine(res, 0, 400_000, 0, -res, 4_700_000)
    return DEM(z, t, "EPSG:32631"), z


def test_slope_on_tilted_plane_exact():
    d, z = _plane(0.12, -0.05)
    s = d.slope(units="percent").array
    inner = s[1:-1, 1:-1]
    np.testing.assert_allclose(inner, 100 * np.hypot(0.12, 0.05), rtol=1e-5)
    assert np.isnan(s[0]).all() and np.isnan(s[:, -1]).all()
    deg = d.slope().array[1:-1, 1:-1]
    np.testing.assert_allclose(deg, horn_oracle(z, 30.0, 30.0)[1:-1, 1:-1], atol=1e-4)
    np.testing.assert_allclose(deg, np.degrees(np.arctan(np.hypot(0.12, 0.05))), atol=1e-4)


def test_aspect_and_hillshade_on_planes():
    east_rising, _ = _plane(0.2, 0.0)
    np.testing.assert_allclose(east_rising.aspect().array[1:-1, 1:-1], 270.0, atol=1e-4)
    north_rising, _ = _plane(0.0, 0.3)
    np.testing.assert_allclose(north_rising.aspect().array[1:-1, 1:-1], 180.0, atol=1e-4)
    flat, _ = _plane(0.0, 0.0)
    assert np.isnan(flat.aspect().array).all()
    hs = flat.hillshade().array
    assert (hs[1:-1, 1:-1] == 1 + round(254 * np.sin(np.radians(45)))).all()
    assert (hs[0] == 0).all()  # border: no data
    # a slope facing the sun (north-west, tilted 45 deg = zenith of the sun) is fully lit
    k = 1 / np.sqrt(2)
    facing, _ = _plane(k, -k)  # rises to the south-east, so faces north-west
    assert (facing.hillshade().array[1:-1, 1:-1] == 255).all()
    away, _ = _plane(-k, k)
    assert (away.hillshade().array[1:-1, 1:-1] == 1).all()


def test_slope_on_real_tile_matches_independent_horn(dem, raw_andorra):
    raw, transform, crs, nodata = raw_andorra
    clipped = dem.clip(ANDORRA_BBOX)
    slope = clipped.slope()
    m = clipped.to_metric()
    assert m.crs.to_epsg() == 32631 and slope.crs == m.crs
    # oracle: warp the RAW tile (voids as nodata) onto the same grid ourselves, then Horn
    z = np.full(m.shape, np.nan)
    reproject(
        raw.astype(float), z, src_transform=transform, src_crs=crs, src_nodata=nodata,
        dst_transform=m.transform, dst_crs=m.crs, dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )  # fmt: skip
    oracle = horn_oracle(z, *m.res)
    interior = np.zeros(m.shape, bool)
    interior[2:-2, 2:-2] = True
    # away from voids (NaN in the oracle) and from the clipped tile's footprint edge (a
    # rotated box in UTM), where the warp's bilinear kernel sees fewer source cells
    interior &= ndimage.minimum_filter(np.isfinite(z).astype(int), size=7) == 1
    interior &= ndimage.minimum_filter(np.isfinite(slope.array).astype(int), size=7) == 1
    assert interior.sum() > 100_000
    np.testing.assert_allclose(slope.array[interior], oracle[interior], atol=0.01)
    assert 20 < np.nanmax(slope.array) < 80  # Pyrenees, not spikes from voids


def test_mobility_classes_follow_thresholds(dem):
    c = dem.clip((1.5, 42.5, 1.6, 42.6))
    s = c.slope(units="percent").array
    for vehicle in ("truck", "tracked", "hmmwv", "foot"):
        th = mobility_thresholds(vehicle)
        m = c.mobility(vehicle).array
        ok = np.isfinite(s)
        assert (m[~ok] == 255).all()
        assert ((m[ok] == NO_GO) == (s[ok] >= th["no_go_pct"])).all()
        assert (
            (m[ok] == SLOW_GO) == ((s[ok] >= th["slow_go_pct"]) & (s[ok] < th["no_go_pct"]))
        ).all()
    assert (c.mobility("tracked").array[ok] <= c.mobility("truck").array[ok]).all()
    custom = c.mobility({"slow_go_pct": 10, "no_go_pct": 20}).array
    assert ((custom[ok] == NO_GO) == (s[ok] >= 20)).all()
    with pytest.raises(InputError, match="unknown vehicle"):
        c.mobility("bicycle")
    with pytest.raises(InputError):
        c.mobility({"slow_go_pct": 50, "no_go_pct": 20})
    with pytest.raises(InputError, match="units"):
        c.slope(units="radians")


def test_to_metric_preserves_elevations(dem):
    c = dem.clip((1.5, 42.5, 1.6, 42.6))
    m = c.to_metric()
    lon = np.linspace(1.51, 1.59, 50)
    lat = np.linspace(42.51, 42.59, 50)
    # resampling once more smooths a little; mountains differ by metres, not tens
    diff = np.abs(m.sample(lon, lat) - c.sample(lon, lat))
    assert np.median(diff) < 3 and diff.max() < 40


# -- writing --------------------------------------------------------------------------


def test_write_roundtrip_and_atomic(tmp_path, dem, monkeypatch):
    c = dem.clip((1.5, 42.5, 1.52, 42.52))
    p = c.slope().write(tmp_path / "slope.tif")
    with rasterio.open(p) as ds:
        np.testing.assert_array_equal(ds.read(1), c.slope().array)
        assert ds.crs == c.to_metric().crs
    before = p.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rasterio, "open", boom)
    with pytest.raises(RuntimeError):
        c.hillshade().write(p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["slope.tif"]
    monkeypatch.undo()
    with pytest.raises(InputError, match="does not exist"):
        c.slope().write(tmp_path / "nope" / "x.tif")


def test_cli_terrain(tmp_path, andorra_dem_path):
    from geolog.cli import main

    outs = [tmp_path / n for n in ("s.tif", "h.tif", "m.tif")]
    args = ["terrain", str(andorra_dem_path), "--bbox", "1.5,42.5,1.55,42.55"]
    args += ["--slope", str(outs[0]), "--hillshade", str(outs[1]), "--mobility", str(outs[2])]
    assert main(args) == 0
    with rasterio.open(outs[2]) as ds:
        assert set(np.unique(ds.read(1))) <= {0, 1, 2, 255}
    bad = tmp_path / "bad"
    bad.mkdir()
    assert main(["terrain", str(andorra_dem_path), "--slope", str(bad / "s.tif"),
                 "--mobility", str(bad / "m.tif"), "--vehicle", "bicycle"]) == 2  # fmt: skip
    assert list(bad.iterdir()) == []


def test_public_name():
    assert geolog.DEM is DEM


# -- error model -------------------------------------------------------------------------


def _geotiff(path, res, crs, *, shape=(20, 20), origin=(1.5, 42.5)):
    profile = {"driver": "GTiff", "width": shape[1], "height": shape[0], "count": 1,
               "dtype": "float32", "crs": crs,
               "transform": Affine(res, 0, origin[0], 0, -res, origin[1])}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full(shape, 1000.0, dtype=np.float32), 1)
    return DEM.open(path)


def test_error_model_recognises_the_product(tmp_path, dem):
    err = dem.error
    assert err.product == "SRTM3" and "Rodriguez" in err.reference
    # Rodriguez et al. 2006, Eurasia: relative height error 8.7 m at 90 % -> 1 sigma
    assert err.vertical_error_m == pytest.approx(8.7 / 1.645)
    assert err.resolution_m == pytest.approx(max(dem.cell_size_m))
    assert dem.clip((1.5, 42.5, 1.6, 42.6)).error == err  # a clip is the same product
    assert _geotiff(tmp_path / "n42e001_1sec.tif", 1 / 3600, "EPSG:4326").error.product == "SRTM1"
    glo = _geotiff(tmp_path / "Copernicus_DSM_COG_10_N42_00_E001_00_DEM.tif", 1 / 3600, "EPSG:4326")
    assert glo.error.product == "Copernicus GLO-30"
    assert glo.error.vertical_error_m < err.vertical_error_m
    lidar = _geotiff(tmp_path / "lidar.tif", 1.0, "EPSG:32631", origin=(398_000, 4_700_000))
    assert lidar.error.product == "LiDAR" and lidar.error.vertical_error_m <= 0.3
    odd = _geotiff(tmp_path / "odd.tif", 200.0, "EPSG:32631", origin=(398_000, 4_700_000))
    assert "treated as SRTM3" in odd.error.product  # unknown coarse grids: the cautious choice


def test_vertical_error_can_be_given(andorra_dem_path, dem):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeologWarning)
        mine = DEM.open(andorra_dem_path, vertical_error_m=3.0)
    assert mine.error.vertical_error_m == 3.0 and mine.error.product == "SRTM3"
    assert mine.error.reference.startswith("given")
    assert mine.clip((1.5, 42.5, 1.6, 42.6)).error.vertical_error_m == 3.0
    for bad in (0, -1, float("nan"), "x"):
        with pytest.raises(InputError, match="vertical_error_m"):
            DEM(dem.array, dem.transform, dem.crs, vertical_error_m=bad)


def test_error_grows_with_slope_on_a_tilted_plane():
    d, _ = _plane(0.3, 0.4)  # a 50 % slope
    err = d.error
    x0, y0 = d.transform.c, d.transform.f
    x, y = np.array([x0 + 100.0]), np.array([y0 - 100.0])
    # cell sizes are ground distances: the UTM scale factor (about 0.9996) shifts the slope
    kx, ky = (r / c for r, c in zip(d.res, d.cell_size_m, strict=True))
    expect = np.hypot(err.vertical_error_m, err.horizontal_error_m * np.hypot(0.3 * kx, 0.4 * ky))
    assert d._error_sd(x, y)[0] == pytest.approx(expect, rel=1e-6)
    flat, _ = _plane(0.0, 0.0)
    assert flat._error_sd(x, y)[0] == pytest.approx(flat.error.vertical_error_m)
