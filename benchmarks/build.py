"""Benchmark: OSM file -> routable network, geolog vs osmnx vs pyrosm.

Each tool runs in its own child process (so each peak memory is its own),
all launched from this one run on the same files. Time is the whole build,
file to network, after imports; memory is the child's peak resident set
(``ru_maxrss``) and the part of it above the child's post-import baseline.

osmnx's ``graph_from_xml`` reads OSM XML only, so each PBF is converted to XML
once with pyosmium and geolog is timed on that same XML too.

    .venv/bin/python benchmarks/build.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import geolog

REGIONS = ("andorra", "liechtenstein")


def child(tool: str, path: str, repeat: int) -> None:
    """Runs in the child: import, note the baseline, build `repeat` times."""
    import time

    import psutil

    if tool.startswith("geolog"):
        import geolog as g

        def build():
            net = g.read_osm(path, network="drive")
            return len(net.edges)

    elif tool == "osmnx":
        import osmnx as ox

        def build():
            G = ox.graph_from_xml(path, retain_all=True)
            return G.number_of_edges()

    elif tool == "pyrosm":
        from pyrosm import OSM

        def build():
            nodes, edges = OSM(path).get_network(network_type="driving", nodes=True)
            return len(edges)

    else:
        raise SystemExit(f"unknown tool {tool}")
    base = psutil.Process().memory_info().rss
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = build()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"best_s": min(times), "edges": n, "base_rss": base}))


def run_measured(tool: str, path: Path, repeat: int) -> dict:
    """Spawn the child and collect its own peak RSS with os.wait4."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: exec the measured interpreter with stdout on the pipe
        os.close(r)
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.execv(
            sys.executable,
            [sys.executable, __file__, "--child", tool, str(path), "--repeat", str(repeat)],
        )
    os.close(w)
    with os.fdopen(r) as fh:
        out = fh.read()
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"{tool} failed on {path.name} (status {status})")
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_mb"] = usage.ru_maxrss / 1024
    res["build_mb"] = res["peak_mb"] - res.pop("base_rss") / 2**20
    return res


def to_xml(pbf: Path, xml: Path) -> None:
    import osmium

    with osmium.SimpleWriter(str(xml)) as writer:
        for obj in osmium.FileProcessor(str(pbf)):
            writer.add(obj)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.repeat)
        return
    print(
        f"geolog {geolog.__version__}; best of {args.repeat} builds per tool; each tool in its own process\n"
    )
    header = f"{'region':14} {'tool':16} {'time s':>8} {'peak MB':>8} {'build MB':>9} {'edges':>8}"
    with tempfile.TemporaryDirectory() as tmp:
        for region in REGIONS:
            pbf = geolog.data.path(region)
            xml = Path(tmp) / f"{region}.osm"
            to_xml(pbf, xml)
            rows = {
                "geolog (pbf)": run_measured("geolog", pbf, args.repeat),
                "geolog (xml)": run_measured("geolog", xml, args.repeat),
                "osmnx (xml)": run_measured("osmnx", xml, 1 if args.repeat > 1 else args.repeat),
                "pyrosm (pbf)": run_measured("pyrosm", pbf, args.repeat),
            }
            print(header)
            for tool, r in rows.items():
                print(
                    f"{region:14} {tool:16} {r['best_s']:8.3f} {r['peak_mb']:8.0f} {r['build_mb']:9.0f} {r['edges']:8,}"
                )
            g_pbf, g_xml = rows["geolog (pbf)"], rows["geolog (xml)"]
            ox_, pr = rows["osmnx (xml)"], rows["pyrosm (pbf)"]
            print(
                f"{region}: vs osmnx (same XML) {ox_['best_s'] / g_xml['best_s']:.1f}x faster, "
                f"peak memory {g_xml['peak_mb'] / ox_['peak_mb']:.2f} of osmnx "
                f"(build part {g_xml['build_mb'] / max(ox_['build_mb'], 1):.2f}); "
                f"vs pyrosm (same PBF) {pr['best_s'] / g_pbf['best_s']:.1f}x faster, "
                f"peak memory {g_pbf['peak_mb'] / pr['peak_mb']:.2f} of pyrosm\n"
            )


if __name__ == "__main__":
    main()
