"""Benchmark: critical links and viewsheds on Andorra.

1. Critical links for 10 sites (the parishes' centres), car profile.
   geolog: ``geolog.critical_links`` (only links on current site-to-site
   shortest paths are tried; dijkstra re-run only from the sites whose paths
   used the link). Anchor: brute force — every usable link removed in turn and
   all site-to-site times recomputed with ``scipy.sparse.csgraph.dijkstra``
   from every site (the same shortest-path engine, so the ratio measures the
   method). The networkx brute force of the tests is timed on 40 links and
   extrapolated to all links (printed as an estimate). Both must give the same
   ranking of the links whose loss costs anything.
2. Viewshed of 5 observers over the Andorra tile in UTM. Anchor: the
   ``gdal_viewshed`` program run directly, once per observer one after the
   other, on a GeoTIFF of the same metric raster (writing it is not timed).
   geolog: ``geolog.viewshed`` on the same metric DEM (writes the GeoTIFF,
   runs gdal_viewshed per observer side by side, reads the results).
   Targets: critical links >= 20x faster than brute force; viewshed <= 2x
   the time of gdal_viewshed.

Run: flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/risk.py
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rasterio

import geolog
from geolog._viewshed import gdal_viewshed_path
from geolog.errors import GeologWarning

SITES = {
    "Andorra la Vella": (42.5078, 1.5211),
    "Escaldes": (42.5100, 1.5380),
    "Encamp": (42.5340, 1.5800),
    "Canillo": (42.5670, 1.5990),
    "Soldeu": (42.5770, 1.6680),
    "La Massana": (42.5450, 1.5150),
    "Ordino": (42.5560, 1.5330),
    "Arinsal": (42.5720, 1.4840),
    "Sant Julia": (42.4630, 1.4910),
    "Pas de la Casa": (42.5420, 1.7330),
}
OBSERVERS = {
    "Pic de Carroi": (42.5270, 1.4990),
    "Roc de Sant Vicenc": (42.5200, 1.5450),
    "Pic d'Encampadana": (42.5130, 1.5960),
    "Coll d'Ordino": (42.5560, 1.5750),
    "Pic de Padern": (42.4790, 1.5080),
}


def _brute_force(g, nodes: np.ndarray) -> dict[int, tuple[int, float]]:
    """Every usable link removed in turn, all site pairs recomputed (scipy)."""
    from scipy.sparse.csgraph import dijkstra

    from geolog._links import _links, _second_best, _without_link

    base = dijkstra(g.csr, indices=nodes)[:, nodes]
    ok = ~np.eye(len(nodes), dtype=bool) & np.isfinite(base)
    second = _second_best(g)
    links = _links(g, np.flatnonzero(g.usable))
    out = {}
    for r in links:
        mat, _ = _without_link(g, second, int(r))
        new = dijkstra(mat, indices=nodes)
        new = new[:, nodes]
        cut = int((ok & ~np.isfinite(new)).sum())
        added = float(np.sum(np.where(ok & np.isfinite(new), new - base, 0.0)))
        if cut or added > 1e-6:
            out[int(r)] = (cut, added)
    return out, len(links)


def _networkx_per_link(net, nodes: list[int], n_links: int = 40) -> float:
    """Seconds per link of the networkx brute force (remove, recompute, restore)."""
    import networkx as nx

    e = net.edges[np.isfinite(net.edges["cost"])]
    G = nx.DiGraph()
    for u, v, w in zip(e["u"], e["v"], e["travel_time_s"], strict=True):
        if not G.has_edge(u, v) or G[u][v]["w"] > w:
            G.add_edge(u, v, w=w)
    pick = e.sample(n_links, random_state=0)
    t0 = time.perf_counter()
    for u, v in zip(pick["u"], pick["v"], strict=True):
        w = G[u][v]["w"]
        G.remove_edge(u, v)
        for s in nodes:
            nx.single_source_dijkstra_path_length(G, s, weight="w")
        G.add_edge(u, v, w=w)
    return (time.perf_counter() - t0) / n_links


def bench_links(net) -> None:
    from geolog import routing

    costed = net.apply("car")
    ctx = routing._context(costed, None, None, "travel_time_s")
    geolog.critical_links(costed, SITES)  # warm the routing graph for both sides
    t0 = time.perf_counter()
    table = geolog.critical_links(costed, SITES)
    t1 = time.perf_counter()
    nodes = table.attrs["sites"]["node"].to_numpy()
    brute, n_links = _brute_force(ctx.g, nodes)
    t2 = time.perf_counter()
    ours = {
        int(ctx.g.edge_labels.get_loc(r.edge)): (r.cut_pairs, r.added_s) for r in table.itertuples()
    }
    # the brute force keys each link by its lower row; map ours the same way
    tw = ctx.g.twin
    ours = {min(r, tw[r]) if tw[r] >= 0 else r: v for r, v in ours.items()}
    ours = {r: v for r, v in ours.items() if v[0] or v[1] > 1e-6}
    same = set(ours) == set(brute) and all(
        ours[r][0] == brute[r][0] and abs(ours[r][1] - brute[r][1]) < 1e-6 for r in brute
    )
    ids = costed.nodes.index.to_numpy()[nodes].tolist()
    per_nx = _networkx_per_link(costed, ids)
    geo, bf = t1 - t0, t2 - t1
    print(f"Critical links, 10 sites, Andorra car network ({len(costed.edges):,} edges):")
    print(f"  candidates tried by geolog: {len(table):,} of {n_links:,} usable links")
    print(f"  geolog.critical_links:      {geo:8.3f} s")
    print(f"  brute force (scipy, all links): {bf:8.3f} s  -> {bf / geo:6.1f}x")
    print(f"  brute force (networkx, est. {per_nx * 1e3:.1f} ms/link x {n_links:,}): "
          f"{per_nx * n_links:8.1f} s  -> {per_nx * n_links / geo:6.0f}x")  # fmt: skip
    print(f"  same links and values as brute force: {same}")
    print(f"  top 3: {table.head(3)[['name', 'added_s', 'cut_pairs']].to_dict('records')}")


def bench_viewshed(dem) -> None:
    exe = gdal_viewshed_path()
    if exe is None:
        print("gdal_viewshed is not installed: viewshed benchmark skipped")
        return
    metric = dem.to_metric()
    geolog.viewshed(metric, OBSERVERS)  # warm (imports, page cache)
    t0 = time.perf_counter()
    vs = geolog.viewshed(metric, OBSERVERS)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "dem.tif"
        z = np.where(np.isfinite(metric.array), metric.array, -32768).astype("float32")
        with rasterio.open(src, "w", driver="GTiff", width=z.shape[1], height=z.shape[0],
                           count=1, dtype="float32", crs=metric.crs,
                           transform=metric.transform, nodata=-32768) as ds:  # fmt: skip
            ds.write(z, 1)
        obs = vs.observers
        t2 = time.perf_counter()
        for i, (x, y) in enumerate(zip(obs["x"], obs["y"], strict=True)):
            subprocess.run([exe, "-q", "-ox", str(x), "-oy", str(y), "-oz", "2", "-tz", "2",
                            "-cc", "0.85714", str(src), str(Path(tmp) / f"o{i}.tif")],
                           check=True)  # fmt: skip
        t3 = time.perf_counter()
    geo, anchor = t1 - t0, t3 - t2
    print(f"Viewshed, 5 observers, Andorra tile in UTM ({metric.shape[1]}x{metric.shape[0]}):")
    print(f"  gdal_viewshed directly (5 runs): {anchor:7.3f} s")
    print(f"  geolog.viewshed:                 {geo:7.3f} s  -> {geo / anchor:5.2f}x its time")
    print(f"  visible from any observer: {vs.combined.mean():.1%} of the cells")


def main() -> None:
    warnings.simplefilter("ignore", GeologWarning)
    net = geolog.read_osm(geolog.data.path("andorra"))
    dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
    bench_links(net)
    bench_viewshed(dem)


if __name__ == "__main__":
    main()
