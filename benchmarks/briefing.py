"""Benchmark: the Andorra map briefing — time to write, file size, time to map-ready offline.

geolog's briefing (Leaflet inlined, hillshade + roads + route + tables + SVG
profile, one file) against the anchor, a plain folium map of the same network
and route (``folium.GeoJson`` of the edges + ``folium.PolyLine``, folium's
defaults: Leaflet, jQuery, Bootstrap and awesome-markers from CDNs, OSM tiles).
Both pages are then opened in headless Chromium with the network blocked
(DevTools ``offline`` + host resolver mapped to nothing): "map ready" is the
page's own ``performance.now()`` (from navigation start) two animation frames
after Leaflet has a map with layers in its overlay pane, i.e. once they are
painted; polling adds up to 10 ms, so the figure is an upper bound.

Targets (issue 6): write <= 2 s, file <= 5 MB, map ready <= 1 s.

    flock /tmp/geolog-bench.lock .venv/bin/python benchmarks/briefing.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geolog
from geolog import routing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

RULES = Path(geolog.data.path("andorra")).parent / "rules" / "truck_loaded.yaml"
ORIGIN, DEST = (42.4630, 1.4910), (42.5345, 1.5806)  # Sant Julià de Lòria -> Encamp
TARGET_WRITE_S, TARGET_MB, TARGET_READY_S = 2.0, 5.0, 1.0

READY_JS = (
    "window.L && document.querySelector('.leaflet-container') && "
    "document.querySelector('.leaflet-overlay-pane > *, .leaflet-overlay-pane img')"
)


def write_geolog(net, r, dem, path: Path) -> Path:
    return geolog.briefing(
        net,
        r,
        title="Relief convoy Sant Julià → Encamp",
        purpose="Benchmark briefing.",
        dem=dem,
        rules=RULES,
        path=path,
    )


def write_folium(net, r, path: Path) -> Path:
    import folium

    w, s, e, n = net.edges.total_bounds
    m = folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=12)
    folium.GeoJson(
        net.edges[["name", "highway", "geometry"]],
        name="roads",
        tooltip=folium.GeoJsonTooltip(["name", "highway"]),
    ).add_to(m)
    folium.PolyLine([(y, x) for x, y in r.geometry.coords], color="red", weight=5).add_to(m)
    folium.LayerControl().add_to(m)
    m.save(str(path))
    return path


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def ready_times(path: Path, repeat: int, timeout_s: float = 5.0) -> list[float | None]:
    """Page-side ms to map-ready (performance.now()), None if never ready within timeout."""
    from _browser import browser, skip_reason

    if skip_reason():
        print(f"  (browser skipped: {skip_reason()})")
        return []
    out: list[float | None] = []
    for _ in range(repeat):
        with browser() as d:  # a fresh browser each time: nothing cached
            d.get(path.resolve().as_uri())
            deadline = time.perf_counter() + timeout_s
            ready_at = None
            while time.perf_counter() < deadline:
                if d.execute_script(f"return !!({READY_JS});"):
                    # after two animation frames the canvas/SVG layers are painted
                    ready_at = d.execute_async_script(
                        "var done = arguments[arguments.length - 1];"
                        "requestAnimationFrame(() => requestAnimationFrame("
                        "() => done(performance.now())));"
                    )
                    break
                time.sleep(0.01)
            out.append(None if ready_at is None else ready_at / 1000.0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        dem = geolog.DEM.open(geolog.data.dem_path("andorra"))
    net = geolog.read_osm(geolog.data.path("andorra"), network="drive").with_terrain(dem)
    r = routing.route(net, ORIGIN, DEST, profile="truck", rules=RULES)
    print(f"Andorra: {net!r}\nroute: {r!r}\n")

    tmp = Path(tempfile.mkdtemp(prefix="geolog-bench-"))
    g_path, f_path = tmp / "geolog-briefing.html", tmp / "folium-map.html"
    write_geolog(net, r, dem, g_path)  # warm-up: imports, caches
    write_folium(net, r, f_path)
    g_s, _ = timed(lambda: write_geolog(net, r, dem, g_path), args.repeat)
    f_s, _ = timed(lambda: write_folium(net, r, f_path), args.repeat)
    g_mb, f_mb = g_path.stat().st_size / 1e6, f_path.stat().st_size / 1e6

    print("opening both pages in headless Chromium, network blocked ...")
    g_ready = ready_times(g_path, args.repeat)
    f_ready = ready_times(f_path, 1)

    def fmt_ready(v: list[float | None]) -> str:
        ok = [x for x in v if x is not None]
        if not v:
            return "n/a"
        if not ok:
            return "never (CDN blocked)"
        return f"{statistics.median(ok):.3f} s"

    rows = [
        ("write (median)", f"{g_s:.3f} s", f"{f_s:.3f} s", f"{g_s / f_s:.2f}x"),
        ("file size", f"{g_mb:.2f} MB", f"{f_mb:.2f} MB", f"{g_mb / f_mb:.2f}x"),
        ("map ready offline", fmt_ready(g_ready), fmt_ready(f_ready), ""),
    ]
    print(f"\n{'':20} {'geolog briefing':>18} {'folium (anchor)':>22} {'ratio':>8}")
    for name, a, b, c in rows:
        print(f"{name:20} {a:>18} {b:>22} {c:>8}")
    print(
        "\nanchor: folium map of the same edges + route with folium defaults; the "
        "briefing also holds the hillshade PNG, route tables, SVG profile, rules and JSON."
    )
    ready_ok = [x for x in g_ready if x is not None]
    checks = [
        ("write <= 2 s", g_s <= TARGET_WRITE_S),
        ("size <= 5 MB", g_mb <= TARGET_MB),
        (
            "ready <= 1 s",
            bool(ready_ok) and statistics.median(ready_ok) <= TARGET_READY_S if g_ready else True,
        ),
    ]
    print("targets: " + ", ".join(f"{n}: {'PASS' if ok else 'FAIL'}" for n, ok in checks))
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
