"""Benchmark: geolog's car routes against Valhalla's, same PBF, same points.

Valhalla (its Python bindings, ``pyvalhalla`` from PyPI) builds its tiles from
the bundled ``liechtenstein.osm.pbf`` and ``andorra.osm.pbf``; geolog reads
the same files (``network="drive"``, profile ``car``). 50 random pairs of
points per region (nodes of geolog's largest strongly connected car network,
so both engines start on the same road) are routed by both; per pair the
length and duration ratios geolog / Valhalla are printed, then the summary.
Then the car isochrones of 5, 10 and 15 minutes from Andorra la Vella: the
IoU (in UTM 31N) of geolog's ``kind="area"`` and ``kind="band"`` polygons
with Valhalla's (no target; reported).

Targets (issue 11): every pair Valhalla routes, geolog routes; median length
ratio 1.00 ± 0.01; median duration ratio 1.00 ± 0.05 and 90th percentile
<= 1.15.

``pyvalhalla`` needs Python >= 3.12, so Valhalla runs in its own virtual
environment, ``.venv-valhalla`` (created on first run with the first Python
>= 3.12 found: ``$VALHALLA_PYTHON``, ``python3.13``, ``python3.12``, or a
pyenv install), as a worker process this script talks to over JSON. Where
that cannot be set up (no such Python, no access to PyPI) the script says why
and exits 0 (skipped). Not part of ``make test``.

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/valhalla.py
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-valhalla"
TILES = ROOT / "out" / "valhalla"
REGIONS = ("liechtenstein", "andorra")
N_PAIRS = 50
SEED = 11


# ----------------------------------------------------------------------------- Valhalla side


def _actor(pbf: str, tile_dir: str):
    """Runs inside .venv-valhalla: Valhalla's actor on tiles built once from ``pbf``."""
    from valhalla import Actor, get_config

    tiles = Path(tile_dir)
    tiles.mkdir(parents=True, exist_ok=True)
    config = get_config(tile_extract="", tile_dir=tiles)
    cfg_path = tiles / "valhalla.json"
    cfg_path.write_text(json.dumps(config))
    if not any(tiles.glob("[0-9]*")):
        # the venv's bin/ must be on PATH for pyvalhalla's launcher to find the executable
        env = dict(
            os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        )
        subprocess.run(
            [str(Path(sys.executable).parent / "valhalla_build_tiles"), "-c", str(cfg_path), pbf],
            check=True,
            env=env,
            cwd=tiles,
            stdout=subprocess.DEVNULL,
        )
    return Actor(str(cfg_path))


def worker(pbf: str, tile_dir: str) -> None:
    """Runs inside .venv-valhalla: route the pairs read from stdin."""
    actor = _actor(pbf, tile_dir)
    out = []
    for (lat0, lon0), (lat1, lon1) in json.load(sys.stdin):
        req = {
            "locations": [{"lat": lat0, "lon": lon0}, {"lat": lat1, "lon": lon1}],
            "costing": "auto",
            "units": "kilometers",
            "directions_type": "none",
        }
        try:
            s = actor.route(req)["trip"]["summary"]
            out.append({"length_m": s["length"] * 1000.0, "duration_s": s["time"]})
        except RuntimeError as err:
            out.append({"error": str(err)})
    json.dump(out, sys.stdout)


def isochrone_worker(pbf: str, tile_dir: str) -> None:
    """Runs inside .venv-valhalla: the car isochrone polygons of ``{"origin", "minutes"}``."""
    actor = _actor(pbf, tile_dir)
    ask = json.load(sys.stdin)
    req = {
        "locations": [{"lat": ask["origin"][0], "lon": ask["origin"][1]}],
        "costing": "auto",
        "contours": [{"time": m} for m in ask["minutes"]],
        "polygons": True,
    }
    json.dump(actor.isochrone(req), sys.stdout)


def _python312() -> str | None:
    cands = [
        os.environ.get("VALHALLA_PYTHON"),
        shutil.which("python3.13"),
        shutil.which("python3.12"),
    ]
    cands += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[2-9]*/bin/python")))
    for c in cands:
        if not c:
            continue
        ok = subprocess.run(
            [c, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"], capture_output=True
        )
        if ok.returncode == 0:
            return c
    return None


def _valhalla_python() -> tuple[str | None, str]:
    """The .venv-valhalla interpreter with pyvalhalla installed, or (None, why not)."""
    py = VENV / "bin" / "python"
    if (
        py.exists()
        and subprocess.run([py, "-c", "import valhalla"], capture_output=True).returncode == 0
    ):
        return str(py), ""
    base = _python312()
    if base is None:
        return None, "pyvalhalla needs Python >= 3.12 and none was found (set VALHALLA_PYTHON)"
    r = subprocess.run([base, "-m", "venv", str(VENV)], capture_output=True, text=True)
    if r.returncode:
        return None, f"cannot create {VENV}: {r.stderr.strip()}"
    r = subprocess.run(
        [py, "-m", "pip", "install", "--quiet", "pyvalhalla"], capture_output=True, text=True
    )
    if r.returncode:
        return None, f"cannot install pyvalhalla from PyPI: {r.stderr.strip()[-300:]}"
    return str(py), ""


def valhalla_routes(py: str, region: str, pairs: list) -> list[dict]:
    import geolog

    r = subprocess.run(
        # -P: do not put benchmarks/ on sys.path (this file would shadow the valhalla package)
        [py, "-P", __file__, "--worker", str(geolog.data.path(region)), str(TILES / region)],
        input=json.dumps(pairs),
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode:
        raise RuntimeError(f"Valhalla worker failed for {region}: {r.stderr.strip()[-500:]}")
    return json.loads(r.stdout)


# ----------------------------------------------------------------------------- geolog side


def compare_isochrones(py: str, region: str = "andorra") -> list[dict]:
    """IoU of geolog's area and band isochrones with Valhalla's, from Andorra la Vella."""
    import geopandas as gpd
    import shapely

    import geolog

    origin, minutes = (42.5078, 1.5211), [5, 10, 15]
    r = subprocess.run(
        [py, "-P", __file__, "--isochrone", str(geolog.data.path(region)), str(TILES / region)],
        input=json.dumps({"origin": origin, "minutes": minutes}),
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode:
        raise RuntimeError(f"Valhalla isochrone failed for {region}: {r.stderr.strip()[-500:]}")
    v = gpd.GeoDataFrame.from_features(json.loads(r.stdout)["features"], crs=4326)
    v = v.set_index(v["contour"].astype(float)).to_crs(32631)
    net = geolog.read_osm(geolog.data.path(region), network="drive")
    out = []
    for kind in ("area", "band"):
        iso = geolog.isochrones(net, origin, [60 * m for m in minutes], profile="car", kind=kind)
        iso = iso.to_crs(32631)
        for m, g in zip(minutes, iso.geometry, strict=True):
            vg = shapely.make_valid(v.geometry.loc[float(m)])
            vg = shapely.union_all(shapely.get_parts(vg)) if vg.geom_type != "Polygon" else vg
            iou = g.intersection(vg).area / g.union(vg).area
            out.append({"kind": kind, "minutes": m, "iou": iou, "km2": g.area / 1e6,
                        "valhalla_km2": vg.area / 1e6})  # fmt: skip
    return out


def compare(py: str, region: str) -> dict:
    import numpy as np

    import geolog

    net = geolog.read_osm(geolog.data.path(region), network="drive")
    applied = net.apply("car")
    big = applied.replace(edges=applied.edges[np.isfinite(applied.edges["cost"])])
    nodes = big.largest_component().nodes
    rng = np.random.default_rng(SEED)
    ids = rng.choice(nodes.index.to_numpy(), size=(N_PAIRS, 2))
    pairs = [
        [
            [float(nodes.loc[a, "y"]), float(nodes.loc[a, "x"])],
            [float(nodes.loc[b, "y"]), float(nodes.loc[b, "x"])],
        ]
        for a, b in ids
    ]
    vr = valhalla_routes(py, region, pairs)
    rows = []
    for (a, b), v in zip(pairs, vr, strict=True):
        try:
            g = geolog.route(net, tuple(a), tuple(b), profile="car")
            gl, gd = g.length_m, g.duration_s
        except geolog.errors.GeologError as err:
            gl = gd = float("nan")
            print(f"  geolog: {err}")
        rows.append(
            {
                "v_len": v.get("length_m", float("nan")),
                "v_dur": v.get("duration_s", float("nan")),
                "g_len": gl,
                "g_dur": gd,
            }
        )
    v_len = np.array([r["v_len"] for r in rows])
    v_dur = np.array([r["v_dur"] for r in rows])
    g_len = np.array([r["g_len"] for r in rows])
    g_dur = np.array([r["g_dur"] for r in rows])
    both = np.isfinite(v_len) & np.isfinite(g_len) & (v_len > 50)  # skip near-zero trips
    lr = g_len[both] / v_len[both]
    dr = g_dur[both] / v_dur[both]
    return {
        "region": region,
        "pairs": N_PAIRS,
        "valhalla_routed": int(np.isfinite(v_len).sum()),
        "geolog_routed": int((np.isfinite(v_len) & np.isfinite(g_len)).sum()),
        "compared": int(both.sum()),
        "len_median": float(np.median(lr)),
        "len_p10": float(np.percentile(lr, 10)),
        "len_p90": float(np.percentile(lr, 90)),
        "dur_median": float(np.median(dr)),
        "dur_p10": float(np.percentile(dr, 10)),
        "dur_p90": float(np.percentile(dr, 90)),
    }


def main() -> int:
    py, why = _valhalla_python()
    if py is None:
        print(f"SKIPPED: {why}")
        return 0
    results = [compare(py, region) for region in REGIONS]
    head = (
        f"{'region':<14}{'routed V/g':>11}{'len med':>9}{'len p10-p90':>14}"
        f"{'dur med':>9}{'dur p10-p90':>14}"
    )
    print("geolog / Valhalla (car, same PBF, 50 random pairs per region)")
    print(head)
    print("-" * len(head))
    ok = True
    for r in results:
        print(
            f"{r['region']:<14}{r['valhalla_routed']:>5}/{r['geolog_routed']:<5}"
            f"{r['len_median']:>9.3f}{r['len_p10']:>7.3f}-{r['len_p90']:<6.3f}"
            f"{r['dur_median']:>9.3f}{r['dur_p10']:>7.3f}-{r['dur_p90']:<6.3f}"
        )
        ok &= r["geolog_routed"] == r["valhalla_routed"]
        ok &= abs(r["len_median"] - 1) <= 0.01
        ok &= abs(r["dur_median"] - 1) <= 0.05 and r["dur_p90"] <= 1.15
    print(
        "targets: all routed; median length 1.00 ± 0.01; median duration 1.00 ± 0.05, p90 <= 1.15"
    )
    print("PASS" if ok else "MISS")
    print("\nisochrones from Andorra la Vella (car): IoU with Valhalla's polygon")
    for r in compare_isochrones(py):
        print(
            f"  {r['kind']:<5} {r['minutes']:>3} min  IoU {r['iou']:.2f}  "
            f"geolog {r['km2']:6.1f} km²  Valhalla {r['valhalla_km2']:6.1f} km²"
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "--isochrone":
        isochrone_worker(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
