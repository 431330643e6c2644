"""Benchmark: how geolog grows with the network — read, terrain, route, 500² and 2,000² matrices.

Regions: Andorra (the one with a DEM: terrain is timed there), Liechtenstein,
Porto and a merged multi-region file (all four bundled extracts merged with
pyosmium's ``MergeInputReader`` into a temp dir at run time). With
``--regions porto4`` it reads (no matrices) Porto copied four times side by
side — 4× Porto's PBF and nodes, built with ``osmium.SimpleWriter`` — for the
memory of a read several times Porto's size. Every tool and
region runs in its own child process, so each peak memory is its own:

- **geolog**: ``read_osm`` (PBF), ``add_terrain`` where a DEM covers,
  20 ``route`` calls, then ``matrix`` 500 × 500 and 2,000 × 2,000 with the
  defaults (blocks sized to the memory budget, all cores);
- **one block** (the anchor: today's unchunked matrix): the same matrices with
  ``n_jobs=1, max_memory_mb=1e9`` — every source's search on one thread;
  skipped on Andorra and the merged file unless ``--full`` (it
  takes over a minute and 4 GB there);
- **pyrosm** (``get_network(nodes=True)``, same PBF) and **osmnx**
  (``graph_from_xml`` on the file converted to XML; only up to 2,000 nodes
  — Andorra — to keep the run short: it took 51 s on Liechtenstein here,
  37 s / 1.8 GB on Porto and ran out of memory at 133 k nodes, issue 19).

Matrix points are random road nodes (same seed in every child); the 2,000²
results of geolog and the anchor are compared cell for cell. Memory: the
child's peak RSS (``ru_maxrss``), its RSS after reading (the network's own),
and for the matrix the part above that (the blocks run on threads of the
same process; the worker column stays for a kernel run in processes). The growth exponent ``k``
fits ``time ∝ nodes^k`` over the regions.

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/scale.py [--full] [--regions porto]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import geolog

REGIONS = ("andorra", "liechtenstein", "porto")
BUNDLED = ("andorra", "liechtenstein", "porto", "monaco")
OSMNX_MAX_NODES = 2_000  # Andorra only: 28 s there, 51 s on Liechtenstein, 37 s on Porto idle
N_ROUTES, SIZES = 20, (500, 2000)


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_mb(who: int | None = None) -> float:
    import resource

    return resource.getrusage(who or resource.RUSAGE_SELF).ru_maxrss / 1024


def _points(net, n: int, seed: int = 19) -> list[tuple[float, float]]:
    xy = net.nodes.geometry.get_coordinates().to_numpy()
    pick = np.random.default_rng(seed).choice(len(xy), n, replace=len(xy) < n)
    return [(lat, lon) for lon, lat in xy[pick]]


def _timed(fn):
    import time

    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def child_geolog(path: str, region: str, one_block: bool, sizes: list[int], out: str) -> dict:
    import resource

    import geolog.osm
    import geolog.routing  # noqa: F401  (imports counted in the baseline, not the read)

    res: dict = {"base_mb": _rss_mb()}
    net, res["read_s"] = _timed(lambda: geolog.read_osm(path))
    res["nodes"], res["read_mb"] = len(net.nodes), _peak_mb()
    if not one_block:
        if region in ("andorra", "monaco"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", geolog.errors.GeologWarning)
                dem = geolog.DEM.open(geolog.data.dem_path(region))
                _, res["terrain_s"] = _timed(lambda: geolog.drape.add_terrain(net, dem))
        pts = _points(net, 2 * N_ROUTES, seed=1)
        res["routes_found"], res["route_s"] = _timed(lambda: _routes(net, pts))
    kw = {"n_jobs": 1, "max_memory_mb": 1e9} if one_block else {}
    for n in sizes:
        pts = _points(net, n)
        before, cpu = _rss_mb(), _cpu_s()
        m, res[f"m{n}_s"] = _timed(lambda pts=pts: geolog.matrix(net, pts, **kw))
        res[f"m{n}_cpu_s"] = _cpu_s() - cpu
        workers = _peak_mb(resource.RUSAGE_CHILDREN)
        main_up = max(_peak_mb() - before, 0.0)
        work_up = max(workers - before, 0.0)
        res[f"m{n}_above_mb"] = main_up + (geolog._matrix_blocks.local_cores() * work_up)
        res[f"m{n}_main_mb"], res[f"m{n}_worker_mb"] = main_up, work_up
        if n == max(sizes):
            np.save(out, m.costs)
    res["peak_mb"] = _peak_mb()
    return res


def _routes(net, pts) -> int:
    ok = 0
    for a, b in zip(pts[::2], pts[1::2], strict=True):
        try:
            geolog.route(net, a, b)
            ok += 1
        except geolog.errors.GeologError:
            pass
    return ok


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (user + system)."""
    import resource

    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child_other(tool: str, path: str) -> dict:
    if tool == "pyrosm":
        from pyrosm import OSM

        base = _rss_mb()
        _, t = _timed(lambda: OSM(path).get_network(network_type="driving", nodes=True))
    else:
        import osmnx as ox

        base = _rss_mb()
        _, t = _timed(lambda: ox.graph_from_xml(path, retain_all=True))
    return {"read_s": t, "peak_mb": _peak_mb(), "base_mb": base}


def run_child(*args: str) -> dict | None:
    """One child process; its own peak memory comes back in its JSON."""
    import subprocess

    p = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if p.returncode != 0:
        print(f"  ({args[0]} failed on {Path(args[1]).name}: {p.stderr.strip()[-300:]})")
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def merged_file(tmp: Path) -> Path:
    """All bundled extracts in one PBF (pyosmium merges and sorts them)."""
    import osmium

    reader = osmium.MergeInputReader()
    for r in BUNDLED:
        reader.add_file(str(geolog.data.path(r)))
    out = tmp / "merged.osm.pbf"
    writer = osmium.SimpleWriter(str(out))
    try:
        reader.apply(writer)
    finally:
        writer.close()
    return out


def porto_copies(tmp: Path, copies: int = 4) -> Path:
    """Porto side by side ``copies`` times (ids offset, 0.5° further east each): a bigger city.

    Nodes of every copy first, then ways, so the file stays sorted as readers expect.
    """
    import osmium

    src, out, off = str(geolog.data.path("porto")), tmp / f"porto{copies}.osm.pbf", 20_000_000_000
    writer = osmium.SimpleWriter(str(out))
    try:
        for k in range(copies):
            for n in osmium.FileProcessor(src, osmium.osm.NODE):
                loc = (n.location.lon + 0.5 * k, n.location.lat)
                writer.add_node(n.replace(id=n.id + k * off, location=loc))
        for k in range(copies):
            for w in osmium.FileProcessor(src, osmium.osm.WAY):
                refs = [r.ref + k * off for r in w.nodes]
                writer.add_way(w.replace(id=w.id + k * off, nodes=refs))
    finally:
        writer.close()
    return out


def to_xml(pbf: Path, xml: Path) -> None:
    import osmium

    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)


def _exponent(xs: list[float], ys: list[float]) -> str:
    ok = [(x, y) for x, y in zip(xs, ys, strict=True) if y and y > 0]
    if len(ok) < 2:
        return "  —"
    k = np.polyfit(np.log([x for x, _ in ok]), np.log([y for _, y in ok]), 1)[0]
    return f"{k:5.2f}"


def _fmt(v, spec: str = "8.2f") -> str:
    width = int("".join(c for c in spec.split(".")[0] if c.isdigit()) or 8)
    return format(v, spec) if isinstance(v, int | float) else f"{'—':>{width}}"


def report(rows: dict[str, dict]) -> None:
    cols = ["read_s", "terrain_s", "route_s", "m500_s", "m2000_s"]
    print(
        f"\n{'region':14} {'tool':10} {'nodes':>7} {'PBF MB':>7} "
        + " ".join(f"{c:>8}" for c in cols)
    )
    for key, r in rows.items():
        region, tool = key.split("|")
        print(
            f"{region:14} {tool:10} {_fmt(r.get('nodes'), '7,')} {r['pbf_mb']:7.1f} "
            + " ".join(_fmt(r.get(c)) for c in cols)
        )
    print(f"\n{'region':14} {'tool':10} {'read +MB':>8} {'peak MB':>8} {'+MB/PBF':>8} "
          f"{'500² +MB':>9} {'2000² +MB':>10} {'(main/worker)':>14}")  # fmt: skip
    for key, r in rows.items():
        region, tool = key.split("|")
        grow = r.get("read_mb", r["peak_mb"]) - r["base_mb"]
        ratio = grow / r["pbf_mb"]
        split = (
            f"{r['m2000_main_mb']:.0f}/{r['m2000_worker_mb']:.0f}" if "m2000_main_mb" in r else "—"
        )
        print(
            f"{region:14} {tool:10} {grow:8.0f} {r['peak_mb']:8.0f} "
            f"{ratio:8.0f} {_fmt(r.get('m500_above_mb'), '9.0f')} "
            f"{_fmt(r.get('m2000_above_mb'), '10.0f')} {split:>14}"
        )
    g = {k.split("|")[0]: r for k, r in rows.items() if k.endswith("|geolog")}
    nodes = [r["nodes"] for r in g.values()]
    print("\ngrowth exponent k (time ∝ nodes^k) over", ", ".join(g))
    for c in ["read_s", "route_s", "m500_s", "m2000_s", "peak_mb"]:
        print(f"  geolog {c:8} k = {_exponent(nodes, [r.get(c) for r in g.values()])}")


def compare(rows: dict, tmp: Path) -> None:
    for region in {k.split("|")[0] for k in rows}:
        a, b = tmp / f"{region}-geolog.npy", tmp / f"{region}-one-block.npy"
        ga, ob = rows.get(f"{region}|geolog"), rows.get(f"{region}|one block")
        if not (a.exists() and b.exists() and ga and ob and "m2000_s" in ob):
            continue
        same = np.array_equal(np.load(a), np.load(b), equal_nan=True)
        print(
            f"{region}: 2,000² blocked == one block: {same}; "
            f"time {ga['m2000_s']:.1f} s vs {ob['m2000_s']:.1f} s = {ga['m2000_s'] / ob['m2000_s']:.2f}× "
            f"(CPU {ga['m2000_cpu_s']:.0f} s vs {ob['m2000_cpu_s']:.0f} s; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); "
            f"memory above the network {ga['m2000_above_mb']:.0f} MB vs {ob['m2000_above_mb']:.0f} MB"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--regions", default=",".join([*REGIONS, "merged"]))
    ap.add_argument(
        "--full", action="store_true", help="also the anchor's 2,000² on the merged file"
    )
    args = ap.parse_args()
    if args.child:
        tool, path, region, *rest = args.child
        if tool in ("geolog", "one-block"):
            sizes = [int(s) for s in rest[1:]]
            out = child_geolog(path, region, tool == "one-block", sizes, rest[0])
        else:
            out = child_other(tool, path)
        print(json.dumps(out))
        return
    print(f"geolog {geolog.__version__}; {os.cpu_count()} cores; each run in its own process")
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        wanted = args.regions.split(",")
        files = {r: Path(geolog.data.path(r)) for r in REGIONS if r in wanted}
        if "merged" in wanted:
            files["merged"] = merged_file(tmp)
        if "porto4" in wanted:  # --regions porto4: reads only, the file takes a minute to build
            files["porto4"] = porto_copies(tmp)
        for region, pbf in files.items():
            mb = pbf.stat().st_size / 2**20
            runs = {
                "geolog": ("geolog", str(pbf), region, str(tmp / f"{region}-geolog.npy"), *map(str, SIZES)),
                "one block": ("one-block", str(pbf), region, str(tmp / f"{region}-one-block.npy"), *map(str, SIZES)),
                "pyrosm": ("pyrosm", str(pbf), region),
            }  # fmt: skip
            if region in ("andorra", "merged") and not args.full:
                del runs["one block"]
            if region == "porto4":
                runs["geolog"] = runs["geolog"][:4]
                del runs["one block"]
            for tool, argv in runs.items():
                r = run_child(*argv)
                if r:
                    rows[f"{region}|{tool}"] = r | {"pbf_mb": mb}
            nodes = rows.get(f"{region}|geolog", {}).get("nodes", 0)
            if nodes <= OSMNX_MAX_NODES:
                xml = tmp / f"{region}.osm"
                to_xml(pbf, xml)
                r = run_child("osmnx", str(xml), region)
                if r:
                    rows[f"{region}|osmnx"] = r | {"pbf_mb": mb}
            else:
                print(f"  (osmnx skipped on {region}: {nodes:,} nodes > {OSMNX_MAX_NODES:,})")
            print(f"  {region} done")
        report(rows)
        compare(rows, tmp)


if __name__ == "__main__":
    main()
