"""geolog.network: CSR view, components, snapping, interop, persistence."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

import geolog
from geolog.errors import InputError


def test_csr_shortest_paths_equal_networkx(andorra):
    G = andorra.to_networkx()
    mat = andorra.csr("length_m")
    rng = np.random.default_rng(7)
    ids = andorra.node_ids
    src = rng.choice(len(ids), 20, replace=False)
    dist = dijkstra(mat, indices=src)
    checked = 0
    for i, s in enumerate(src):
        nx_len = nx.single_source_dijkstra_path_length(G, ids[s], weight="length")
        targets = rng.choice(len(ids), 10, replace=False)
        for t in targets:
            expect = nx_len.get(ids[t], np.inf)
            assert dist[i, t] == pytest.approx(expect, rel=1e-9, abs=1e-6)
            checked += 1
    assert checked == 200


def test_csr_keeps_min_of_parallel_edges_and_drops_forbidden(andorra):
    edges = andorra.edges.copy()
    w = edges["length_m"].to_numpy().copy()
    w[::7] = np.nan  # forbidden
    w[1::7] = np.inf
    edges["w"] = w
    net = andorra.replace(edges=edges)
    mat = net.csr("w")
    u, v = net.node_positions(edges["u"]), net.node_positions(edges["v"])
    ok = np.isfinite(w)
    expect = pd.Series(w[ok]).groupby([u[ok], v[ok]]).min()
    got = mat.tocoo()
    got_s = pd.Series(got.data, index=pd.MultiIndex.from_arrays([got.row, got.col])).sort_index()
    pd.testing.assert_series_equal(
        got_s, expect.sort_index(), check_names=False, check_index_type=False
    )
    # csr_edges maps every stored entry back to an edge row with that weight
    rows = net.csr_edges("w")
    np.testing.assert_array_equal(mat.data, w[rows])


def test_csr_cache_follows_column_content(andorra):
    a = andorra.csr("length_m")
    assert andorra.csr("length_m") is a
    edges = andorra.edges.copy()
    edges["length_m"] = edges["length_m"] * 2
    b = andorra.replace(edges=edges).csr("length_m")
    np.testing.assert_allclose(b.sum(), 2 * a.sum())
    with pytest.raises(InputError, match="no edge column"):
        andorra.csr("nope")


def test_largest_component_is_strongly_connected(andorra):
    big = andorra.largest_component()
    G = big.to_networkx()
    assert nx.is_strongly_connected(G)
    sccs = list(nx.strongly_connected_components(andorra.to_networkx()))
    assert len(big.nodes) == max(len(c) for c in sccs)


def test_nearest_edges_matches_brute_force(andorra):
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = andorra.nodes.total_bounds
    lat = rng.uniform(miny, maxy, 25)
    lon = rng.uniform(minx, maxx, 25)
    res = andorra.nearest_edges(np.c_[lat, lon])
    crs = andorra.nodes.estimate_utm_crs()
    geoms = andorra.edges.geometry.to_crs(crs).to_numpy()
    pts = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(crs).to_numpy()
    for k, p in enumerate(pts):
        d = shapely.distance(geoms, p)
        # geolog snaps in a local equirectangular frame, the test measures in
        # UTM: the two agree to a few parts per thousand over Andorra
        assert res["distance_m"].iloc[k] == pytest.approx(d.min(), rel=5e-3, abs=0.05)
        assert d[andorra.edges.index.get_loc(res["edge"].iloc[k])] == pytest.approx(
            d.min(), rel=5e-3, abs=0.05
        )
    assert res["fraction"].between(0, 1).all()


def test_nearest_edges_twin_and_input_forms(andorra):
    e = andorra.edges
    two_way = e[e["reversed"]].iloc[10]
    line = two_way.geometry
    mid = line.interpolate(0.5, normalized=True)
    res = andorra.nearest_edges([(mid.y, mid.x)])
    row = e.loc[res["edge"].iloc[0]]
    twin = e.loc[res["twin"].iloc[0]]
    assert (twin["u"], twin["v"]) == (row["v"], row["u"])
    assert res["distance_m"].iloc[0] < 0.01
    same = andorra.nearest_edges([mid])
    assert same["edge"].iloc[0] == res["edge"].iloc[0]
    with pytest.raises(InputError):
        andorra.nearest_edges([(200.0, 1.0)])
    with pytest.raises(InputError):
        andorra.nearest_edges("here")


def test_to_networkx_is_osmnx_compatible(andorra):
    import osmnx as ox

    G = andorra.to_networkx()
    assert G.graph["crs"] == "EPSG:4326"
    assert G.number_of_edges() == len(andorra.edges)
    u, v, k, d = next(iter(G.edges(keys=True, data=True)))
    assert {"length", "geometry", "osmid", "highway", "name"} <= set(d)
    nodes, edges = ox.graph_to_gdfs(G)
    assert len(edges) == len(andorra.edges)
    np.testing.assert_allclose(edges["length"].sum(), andorra.edges["length_m"].sum())
    stats = ox.stats.basic_stats(G)
    assert stats["n"] == len(andorra.nodes)


def test_from_osmnx_offline_west_oakland():
    import osmnx as ox

    path = geolog.data.path("west-oakland")
    G = ox.graph_from_xml(path, bidirectional=False, simplify=True, retain_all=True)
    net = geolog.Network.from_osmnx(G)
    assert len(net.nodes) == G.number_of_nodes()
    assert len(net.edges) == G.number_of_edges()
    np.testing.assert_allclose(
        net.edges["length_m"].sum(), sum(d["length"] for *_, d in G.edges(data=True)), rtol=1e-3
    )
    # round trip through networkx keeps shortest paths
    H = net.to_networkx()
    a, b = list(G.nodes)[0], list(G.nodes)[-1]
    try:
        expect = nx.shortest_path_length(G, a, b, weight="length")
    except nx.NetworkXNoPath:
        expect = np.inf
    got = dijkstra(net.csr("length_m"), indices=net.node_positions([a]))[
        0, net.node_positions([b])[0]
    ]
    assert got == pytest.approx(expect, rel=1e-3)
    assert nx.is_isomorphic(nx.DiGraph(G), nx.DiGraph(H))
    proj = geolog.Network.from_osmnx(ox.project_graph(G))
    np.testing.assert_allclose(
        proj.nodes.loc[net.nodes.index, ["x", "y"]], net.nodes[["x", "y"]], atol=1e-7
    )


def test_save_load_round_trip(andorra, tmp_path):
    p = andorra.save(tmp_path / "a.parquet")
    back = geolog.load(p)
    pd.testing.assert_frame_equal(back.edges, andorra.edges)
    pd.testing.assert_frame_equal(back.nodes, andorra.nodes)
    assert back.fingerprint() == andorra.fingerprint()
    assert back.meta["sources"][0]["sha256"] == geolog.network.sha256_file(
        geolog.data.path("andorra")
    )
    assert back.meta["network_type"] == "drive"
    # same input, same build => same fingerprint and identical bytes
    again = geolog.read_osm(geolog.data.path("andorra"))
    assert again.fingerprint() == andorra.fingerprint()
    q = again.save(tmp_path / "b.parquet")
    assert q.read_bytes() == p.read_bytes()


def test_fingerprint_sees_changes(andorra):
    e = andorra.edges.copy()
    e.loc[e.index[0], "name"] = "changed"
    assert andorra.replace(edges=e).fingerprint() != andorra.fingerprint()
    assert andorra.replace(edges=andorra.edges.iloc[::-1]).fingerprint() != andorra.fingerprint()


def test_failed_save_keeps_the_old_file(andorra, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    p = andorra.save(tmp_path / "a.parquet")
    good = p.read_bytes()
    real = pq.write_table

    def half_then_fail(table, where, **kw):
        real(table.slice(0, 10), where, **kw)
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        andorra.save(p)
    assert p.read_bytes() == good
    assert [f.name for f in tmp_path.iterdir()] == ["a.parquet"]


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        geolog.load(tmp_path / "none.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a readable Parquet"):
        geolog.load(junk)
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(plain)
    with pytest.raises(InputError, match="not a geolog network"):
        geolog.load(plain)


def test_summary(andorra):
    s = andorra.summary()
    assert s["nodes"] == len(andorra.nodes) and s["edges"] == len(andorra.edges)
    assert s["km_by_highway"].sum() == pytest.approx(s["length_km"])
    # a two-way segment is counted once, a one-way one (either drawing direction) too:
    # the two rows of a segment have the same way and the same normalized geometry
    e = andorra.edges
    key = pd.Series(
        list(zip(e["osmid"], shapely.to_wkb(shapely.normalize(e.geometry.to_numpy())), strict=True))
    )
    first = ~key.duplicated().to_numpy()
    assert s["segments"] == first.sum()
    assert s["length_km"] == pytest.approx(e["length_m"].to_numpy()[first].sum() / 1000)
    minx, miny, maxx, maxy = s["bbox"]
    assert (
        andorra.nodes["x"].between(minx, maxx).all()
        and andorra.nodes["y"].between(miny, maxy).all()
    )
    assert 0 < s["oneway_edges"] < s["edges"]


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "geolog", *args], capture_output=True, text=True, timeout=300
    )


def test_cli_build_and_info(tmp_path):
    out = tmp_path / "wo.parquet"
    r = _cli("build", str(geolog.data.path("west-oakland")), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert (
        geolog.load(out).fingerprint()
        == geolog.read_osm(geolog.data.path("west-oakland")).fingerprint()
    )
    r = _cli("info", str(out))
    assert r.returncode == 0 and "residential" in r.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("build", "/nonexistent.osm.pbf", "-o", "x.parquet"),
        ("build", "EMPTY", "-o", "x.parquet"),
        ("info", "/nonexistent.parquet"),
        ("build", "OAK", "--network", "boat", "-o", "x.parquet"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(tmp_path, args):
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    args = [str(empty) if a == "EMPTY" else a for a in args]
    args = [str(geolog.data.path("west-oakland")) if a == "OAK" else a for a in args]
    args = [str(tmp_path / a) if a == "x.parquet" else a for a in args]
    r = _cli(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "error" in r.stderr
    assert not (tmp_path / "x.parquet").exists()


def test_twins_are_exact_reverses(andorra):
    e = andorra.edges
    twins = andorra.twin_positions()
    has = np.flatnonzero(twins >= 0)
    g = e.geometry.to_numpy()
    assert shapely.equals_exact(shapely.reverse(g[has]), g[twins[has]], tolerance=0).all()
    assert (twins[twins[has]] == has).all()
    # every reversed row of a two-way road has its forward twin; one-way roads have none
    two_way_rev = e["reversed"] & ~e["oneway"].isin(["-1", "reverse"])
    assert (twins[two_way_rev.to_numpy()] >= 0).all()
    assert (twins[e["oneway"].eq("yes").to_numpy()] == -1).all()


def test_plot_draws_each_segment_once(andorra):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = andorra.plot()
    drawn = sum(len(c.get_paths()) for c in ax.collections)
    assert drawn == andorra.summary()["segments"]
    plt.close(ax.figure)
