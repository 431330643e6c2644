"""Bounded-memory matrices in blocks, on local processes and on Dask; chunked rasters (issue 19)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from scipy import ndimage

import geolog
from geolog import terrain
from geolog._graph import graph_for
from geolog._matrix_blocks import BYTES_PER_SOURCE_NODE, plan_blocks
from geolog._turns import turn_graph
from geolog.errors import InputError

FIELDS = ("costs", "durations_s", "distances_m")


@pytest.fixture(scope="module")
def points(liechtenstein):
    """60 points near random nodes, two of them far off the map (NaN rows / columns)."""
    rng = np.random.default_rng(19)
    xy = liechtenstein.nodes.geometry.get_coordinates().to_numpy()
    pick = xy[rng.choice(len(xy), 58, replace=False)]
    pts = [(lat + 0.0004, lon - 0.0003) for lon, lat in pick]
    return [*pts[:20], (0.0, 0.0), *pts[20:], (47.0, 30.0)]


@pytest.fixture(scope="module")
def single(liechtenstein, points):
    """Today's path: one block of all sources in this process (with the hierarchy, as the
    blocks compared with it: another engine sums in another order, in the last bits)."""
    geolog.prepare(liechtenstein)
    return geolog.matrix(liechtenstein, points, n_jobs=1, max_memory_mb=1e6)


def _same(a, b):
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.problems.equals(b.problems)


def test_plan_blocks_hand_computed():
    # 10 MB over 2 workers and 1,000-node graph: 5 MiB / (48 B × 1,001) = 109 sources per block,
    # capped at ceil(250 / 2) = 125 so both workers get work
    per = BYTES_PER_SOURCE_NODE * 1001
    assert int(5 * 2**20 // per) == 109
    blocks = plan_blocks(250, 1000, max_memory_mb=10, workers=2)
    assert [(b.start, b.stop) for b in blocks] == [(0, 109), (109, 218), (218, 250)]
    assert plan_blocks(250, 1000, max_memory_mb=1e6, workers=2) == [slice(0, 125), slice(125, 250)]
    assert plan_blocks(3, 10**9, max_memory_mb=1, workers=1) == [
        slice(0, 1),
        slice(1, 2),
        slice(2, 3),
    ]


def test_many_blocks_on_two_processes_equal_one_block(liechtenstein, points, single):
    n = len(liechtenstein.nodes)
    assert len(plan_blocks(len(points), n, max_memory_mb=4, workers=2)) >= 5  # really many blocks
    m = geolog.matrix(liechtenstein, points, n_jobs=2, max_memory_mb=4)
    _same(m, single)
    assert np.isnan(m.costs[20]).all() and np.isnan(m.costs[:, -1]).all()
    assert np.isfinite(m.costs).sum() > 0.8 * 58 * 58
    # rectangular too, targets kept whole in every block
    r = geolog.matrix(liechtenstein, points[:30], points[25:], n_jobs=2, max_memory_mb=2)
    np.testing.assert_array_equal(r.costs, single.costs[:30, 25:])
    np.testing.assert_array_equal(r.distances_m, single.distances_m[:30, 25:])


@pytest.mark.parametrize(("engine", "avail_mb"), [("dijkstra", 8.0), ("hierarchy", 0.1)])
def test_default_budget_follows_available_memory(
    liechtenstein, points, monkeypatch, caplog, engine, avail_mb
):
    """A quarter of the memory available: per source the graph's nodes for one Dijkstra
    per source, the targets for the contraction hierarchy's buckets."""
    import logging

    import psutil

    from geolog import _matrix_blocks as mb
    from geolog import _turn_search as ts

    assert abs(mb.available_memory_mb() - psutil.virtual_memory().available / 2**20) < 1024
    geolog.clear_cache("routing graphs")
    if engine == "hierarchy":
        geolog.prepare(liechtenstein)
        per_source = len(points)
    else:
        monkeypatch.setattr(ts, "EAGER_STATES", 0)
        monkeypatch.setattr(ts, "MATRIX_SOURCES", 10**9)
        per_source = len(liechtenstein.nodes)
    one_block = geolog.matrix(liechtenstein, points, n_jobs=1, max_memory_mb=1e9)
    assert ("ch" in turn_graph(graph_for(liechtenstein.apply("car"), "cost"))._work) == (
        engine == "hierarchy"
    )
    monkeypatch.setattr(mb, "available_memory_mb", lambda: avail_mb)
    with caplog.at_level(logging.INFO, logger="geolog._matrix_blocks"):
        m = geolog.matrix(liechtenstein, points, n_jobs=1)
    want = plan_blocks(len(points), per_source, max_memory_mb=avail_mb / 4, workers=1)
    assert len(want) > 5
    assert f"{len(want)} block(s) of ≤ {want[0].stop} sources, 1 worker(s)" in caplog.text
    _same(m, one_block)
    geolog.clear_cache("routing graphs")
    geolog.prepare(liechtenstein)  # the hierarchy back for the tests after this one


def test_blocks_in_this_process_equal_one_block(liechtenstein, points, single):
    _same(geolog.matrix(liechtenstein, points, n_jobs=1, max_memory_mb=1), single)


_IN_POOL: dict = {}


def _matrix_in_daemon(n_jobs: int) -> np.ndarray:
    import multiprocessing

    assert multiprocessing.current_process().daemon
    return geolog.matrix(_IN_POOL["net"], _IN_POOL["points"], n_jobs=n_jobs, max_memory_mb=4).costs


def test_inside_a_daemonic_pool_worker_it_stays_in_process(liechtenstein, points, single):
    """A multiprocessing.Pool worker may not start children: the blocks run serially there."""
    import multiprocessing

    _IN_POOL.update(net=liechtenstein, points=points)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        costs = pool.apply(_matrix_in_daemon, (2,))
    np.testing.assert_array_equal(costs, single.costs)


def test_dask_local_cluster_equals_local(liechtenstein, points, single):
    """Worker processes, as on a real cluster: the routing graph travels pickled."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        m = geolog.matrix(liechtenstein, points, client=client, max_memory_mb=4)
    _same(m, single)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"max_memory_mb": 0}, "max_memory_mb must be a positive"),
        ({"max_memory_mb": "1GB"}, "max_memory_mb must be a positive"),
        ({"n_jobs": 0}, "n_jobs must be a positive integer or -1"),
        ({"n_jobs": 1.5}, "n_jobs must be a positive integer or -1"),
        ({"client": "tcp://localhost:8786"}, "client must be a dask.distributed.Client"),
    ],
)
def test_bad_block_options(liechtenstein, points, kw, match):
    with pytest.raises(InputError, match=match):
        geolog.matrix(liechtenstein, points[:3], **kw)


# -- rasters through dask chunks ---------------------------------------------


def test_chunked_slope_equals_in_memory(andorra_dem, tmp_path):
    ref = andorra_dem.slope().array
    lazy = terrain.slope(andorra_dem, chunks=(300, 250))
    assert len(lazy.data.chunks[0]) > 3 and len(lazy.data.chunks[1]) > 3
    got = lazy.values
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)  # NaN border and NaN cells in the same places
    assert np.isfinite(got).mean() > 0.9
    # from a metric GeoTIFF read lazily, written back block by block
    src = andorra_dem.to_metric().write(tmp_path / "dem_utm.tif")
    out = tmp_path / "slope_pct.tif"
    terrain.slope(src, units="percent", chunks=128, out=out)
    with rasterio.open(out) as ds:
        assert ds.crs == andorra_dem.to_metric().crs
        assert ds.transform.almost_equals(andorra_dem.to_metric().transform, precision=1e-9)
        np.testing.assert_array_equal(ds.read(1), andorra_dem.slope(units="percent").array)


def test_chunked_mobility_equals_in_memory(andorra_dem, tmp_path):
    ref = andorra_dem.mobility("tracked")
    out = tmp_path / "mob.tif"
    got = terrain.mobility(andorra_dem, "tracked", chunks=(211, 190), out=out).values
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, ref.array)
    assert set(np.unique(got)) >= {0, 1, 2, 255}  # every class and no data occur
    with rasterio.open(out) as ds:
        assert ds.nodata == 255
        np.testing.assert_array_equal(ds.read(1), ref.array)


def test_map_overlap_is_exact_at_chunk_edges(andorra_dem):
    """A generic 3 × 3 window (max filter) equals scipy's on the whole grid."""
    z = np.asarray(andorra_dem.to_metric().array, dtype=float)
    whole = ndimage.maximum_filter(z, size=3, mode="nearest")
    lazy = terrain.map_overlap(
        andorra_dem,
        lambda b, xres, yres: ndimage.maximum_filter(b, size=3, mode="nearest"),
        depth=1,
        chunks=97,
        dtype=np.float64,
    ).values
    inner = (slice(1, -1), slice(1, -1))  # the outer ring sees NaN padding instead
    np.testing.assert_array_equal(lazy[inner], whole[inner])


def test_chunked_raster_bad_input(andorra_dem_path, andorra_dem):
    with pytest.raises(InputError, match="projected CRS"):
        terrain.slope(andorra_dem_path, chunks=256)  # a geographic .hgt tile
    with pytest.raises(InputError, match="chunks must be"):
        terrain.slope(andorra_dem, chunks=1)
    with pytest.raises(InputError, match="units must be"):
        terrain.slope(andorra_dem, units="radians")
    with pytest.raises(InputError, match="does not exist"):
        terrain.slope("no/such/dem.tif")


# -- progress on long reads --------------------------------------------------


def test_read_progress_counts_the_highway_ways(monkeypatch, caplog):
    import logging

    import osmium

    path = geolog.data.path("liechtenstein")
    fp = osmium.FileProcessor(str(path), osmium.osm.WAY).with_filter(
        osmium.filter.KeyFilter("highway")
    )
    n_ways = sum(1 for _ in fp)
    monkeypatch.setattr(geolog.osm, "PROGRESS_EVERY", 1000)
    seen: list[str] = []
    with caplog.at_level(logging.INFO, logger="geolog.osm"):
        net = geolog.read_osm(path, progress=seen.append)
    steps = [f"{k:,} highway ways read" for k in range(1000, n_ways + 1, 1000)]
    assert seen[: len(steps)] == steps
    assert seen[len(steps)] == f"{n_ways:,} highway ways read; building edges"
    assert seen[-1] == f"{len(net.edges):,} edges built; checksumming the file"
    assert f"liechtenstein.osm.pbf: {steps[0]}" in caplog.messages
