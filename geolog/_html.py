"""Private HTML helpers shared by :mod:`geolog.maps` and :mod:`geolog.briefing`.

Escaping of untrusted text, JSON that is safe inside ``<script>``, the vendored
Leaflet assets inlined as text, PNG data URIs of rasters warped to Web Mercator,
and the inline SVG elevation chart.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ._io import atomic_write_text

__all__ = [
    "ASSETS",
    "escape",
    "script_json",
    "leaflet_js",
    "leaflet_css",
    "offline_head",
    "png_data_uri",
    "warp_to_mercator",
    "svg_profile",
    "atomic_write_text",
]

logger = logging.getLogger(__name__)

#: Folder of the vendored web assets (Leaflet 1.9.4 from npm, BSD-2-Clause).
ASSETS = Path(__file__).resolve().parent / "assets"

_JS_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JS_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")
# A "{" that opens a Jinja tag ("{{", "{%", "{#"). In JSON text it can only sit inside a
# string (an object opens with '{"' or '{}'), where "\u007b" is the same character.
_JINJA_OPEN_RE = re.compile(r"\{(?=[{%#])")


def escape(value: Any) -> str:
    """HTML-escape any value for element text or a quoted attribute.

    ``None`` and NaN become an empty string. ``&``, ``<``, ``>``, ``"`` and ``'``
    are replaced by entities, so OSM text such as ``<img onerror=…>`` shows
    literally instead of running; ``{`` becomes ``&#123;``, so the text can hold
    no Jinja tag (``{{ … }}``, ``{% … %}``, ``{# … #}``) even where folium or
    branca treat the markup it lands in as a template.
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return html.escape(str(value), quote=True).replace("{", "&#123;")


def _jsonable(obj: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars and arrays, paths and sets."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


def _clean(obj: Any) -> Any:
    """Replace non-finite floats (not valid JSON) by ``None``, recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def script_json(obj: Any, *, indent: int | None = None) -> str:
    """Serialise ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` (and the JS line separators U+2028/U+2029) are written
    as ``\\u003c``-style escapes, so no string in the data can close the script
    element (``</script>``) or open a comment; a ``{`` that would open a Jinja
    tag (``{{``, ``{%``, ``{#``) is written ``\\u007b``, so the text is inert if
    a folium/branca element renders it as a template. The JSON still parses to
    the same value. Non-finite floats become ``null``.
    """
    text = json.dumps(_clean(obj), default=_jsonable, ensure_ascii=False, indent=indent)
    text = _JINJA_OPEN_RE.sub(r"\\u007b", text)
    return _JS_ESCAPE_RE.sub(lambda m: _JS_ESCAPES[m.group(0)], text)


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@functools.cache
def leaflet_js() -> str:
    """Leaflet's minified JavaScript, without its source-map comment."""
    text = (ASSETS / "leaflet.js").read_text(encoding="utf-8")
    text = re.sub(r"//# sourceMappingURL=\S+", "", text)
    if re.search(r"</script|<!--", text, re.IGNORECASE):  # pragma: no cover - asset check
        raise RuntimeError("vendored leaflet.js cannot be inlined: it contains '</script'")
    return text


@functools.cache
def leaflet_css() -> str:
    """Leaflet's CSS with its ``url(images/…)`` references turned into data URIs."""
    text = (ASSETS / "leaflet.css").read_text(encoding="utf-8")

    def repl(m: re.Match[str]) -> str:
        return f"url({_data_uri(ASSETS / 'images' / m.group(1), 'image/png')})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", repl, text)


@functools.cache
def _icon_js() -> str:
    # The default marker icon normally finds its image path from the CSS; with
    # data URIs that detection breaks, so point it at the inlined images.
    img = ASSETS / "images"
    opts = {
        "iconUrl": _data_uri(img / "marker-icon.png", "image/png"),
        "iconRetinaUrl": _data_uri(img / "marker-icon-2x.png", "image/png"),
        "shadowUrl": _data_uri(img / "marker-shadow.png", "image/png"),
    }
    return (
        f'L.Icon.Default.imagePath = "";\nL.Icon.Default.mergeOptions({script_json(opts)});\n'
        + _JQUERY_SHIM
    )


# folium.Popup and Map.keep_in_front call jQuery (`$(`<div>…</div>`)[0]`,
# `$(document).ready(f)`), which geolog does not ship; this stand-in covers those
# two uses so folium popups added to a geolog map work offline. A real jQuery
# loaded later replaces it.
_JQUERY_SHIM = """if (typeof window.$ === "undefined") {
  window.$ = function (x) {
    if (typeof x === "string") {
      var t = document.createElement("template");
      t.innerHTML = x.trim();
      return Array.from(t.content.childNodes);
    }
    if (x === document) {
      return {ready: function (f) {
        if (document.readyState !== "loading") { f(); }
        else { document.addEventListener("DOMContentLoaded", f); }
      }};
    }
    return [x];
  };
}
"""


def offline_head() -> str:
    """``<style>`` and ``<script>`` elements carrying Leaflet inline (about 170 kB)."""
    return (
        "<style>\n"
        + leaflet_css()
        + "\n</style>\n<script>\n"
        + leaflet_js()
        + "\n</script>\n<script>\n"
        + _icon_js()
        + "</script>\n"
    )


def png_data_uri(rgba: np.ndarray) -> str:
    """Encode an ``(h, w, 4)`` or ``(h, w)`` uint8 array as a PNG ``data:`` URI."""
    from PIL import Image

    arr = np.ascontiguousarray(rgba, dtype=np.uint8)
    mode = {2: "L", 3: {3: "RGB", 4: "RGBA"}.get(arr.shape[-1])}[arr.ndim]
    if mode is None:
        raise ValueError(f"png_data_uri needs (h, w), (h, w, 3) or (h, w, 4); got {arr.shape}")
    buf = io.BytesIO()
    Image.fromarray(arr, mode=mode).save(buf, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def warp_to_mercator(
    array: np.ndarray,
    transform: Any,
    crs: Any,
    *,
    nodata: float | None = np.nan,
    resampling: str = "bilinear",
    max_size: int = 1600,
) -> tuple[np.ndarray, list[list[float]]]:
    """Warp a single-band raster to Web Mercator for a Leaflet image overlay.

    Leaflet stretches an image overlay linearly between its corners in Web
    Mercator pixels, so an image in EPSG:3857 lines up exactly; a lat/lon grid
    would drift north-south by the Mercator stretch.

    Parameters
    ----------
    array
        2-D raster values (float; NaN = no data).
    transform, crs
        Affine transform and CRS of ``array`` (anything rasterio accepts).
    nodata
        Value written where the source has no data.
    resampling
        A :class:`rasterio.enums.Resampling` name, ``"nearest"`` for classes.
    max_size
        Longest side of the output, in pixels; larger rasters are shrunk.

    Returns
    -------
    (warped, bounds)
        The float32 array in EPSG:3857 and its ``[[south, west], [north, east]]``
        bounds in degrees, as Leaflet expects.
    """
    from affine import Affine
    from rasterio.crs import CRS
    from rasterio.enums import Resampling
    from rasterio.warp import reproject, transform_bounds

    src = np.asarray(array, dtype="float32")
    h, w = src.shape
    src_crs = CRS.from_user_input(crs)
    dst_crs = CRS.from_epsg(3857)
    left, top = transform @ (0, 0)
    right, bottom = transform @ (w, h)
    x0, y0, x1, y1 = transform_bounds(
        src_crs,
        dst_crs,
        min(left, right),
        min(top, bottom),
        max(left, right),
        max(top, bottom),
        densify_pts=21,
    )
    # about as many pixels as the source, at most max_size on the long side
    res = math.sqrt((x1 - x0) * (y1 - y0) / (w * h))
    res = max(res, max(x1 - x0, y1 - y0) / max_size)
    dw, dh = max(1, math.ceil((x1 - x0) / res)), max(1, math.ceil((y1 - y0) / res))
    dst_transform = Affine(res, 0.0, x0, 0.0, -res, y1)
    dst = np.full((dh, dw), np.nan, dtype="float32")
    reproject(
        src,
        dst,
        src_transform=transform,
        src_crs=src_crs,
        src_nodata=np.nan,
        dst_transform=dst_transform,
        dst_crs=dst_crs,
        dst_nodata=np.nan,
        resampling=Resampling[resampling],
    )
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        dst[np.isnan(dst)] = nodata
    w4, s4, e4, n4 = transform_bounds(
        dst_crs, CRS.from_epsg(4326), x0, y1 - dh * res, x0 + dw * res, y1
    )
    return dst, [[s4, w4], [n4, e4]]


def _nice_step(span: float, n: int = 5) -> float:
    raw = max(span, 1e-9) / n
    mag = 10 ** math.floor(math.log10(raw))
    for f in (1, 2, 2.5, 5, 10):
        if raw <= f * mag:
            return f * mag
    return 10 * mag  # pragma: no cover


def svg_profile(
    distance_m: Iterable[float],
    elevation_m: Iterable[float],
    *,
    width: int = 720,
    height: int = 220,
    title: str = "Elevation profile",
    flag_grade: float = 0.07,
) -> str:
    """Draw an elevation profile as an inline ``<svg>`` (no JavaScript, prints well).

    Stretches steeper than ``flag_grade`` (fraction, 0.07 = 7 %) are drawn in red
    on top of the profile line. The title is escaped.
    """
    d = np.asarray(list(distance_m), dtype=float)
    z = np.asarray(list(elevation_m), dtype=float)
    ok = np.isfinite(d) & np.isfinite(z)
    d, z = d[ok], z[ok]
    pad_l, pad_r, pad_t, pad_b = 56, 12, 24, 34
    pw, ph = width - pad_l - pad_r, height - pad_t - pad_b
    head = (
        f'<svg class="profile" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    if d.size < 2:
        return head + (
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">'
            "no elevation data along this route</text></svg>"
        )
    d_max = max(float(d.max()), 1.0)
    z_lo, z_hi = float(z.min()), float(z.max())
    if z_hi - z_lo < 10:
        z_lo, z_hi = z_lo - 5, z_hi + 5
    z_step = _nice_step(z_hi - z_lo, 4)
    z_lo = math.floor(z_lo / z_step) * z_step
    z_hi = math.ceil(z_hi / z_step) * z_step
    km = d_max >= 2000
    d_unit = 1000.0 if km else 1.0
    d_step = _nice_step(d_max / d_unit, 6) * d_unit

    def sx(v: np.ndarray | float) -> np.ndarray | float:
        return pad_l + np.asarray(v) / d_max * pw

    def sy(v: np.ndarray | float) -> np.ndarray | float:
        return pad_t + ph - (np.asarray(v) - z_lo) / (z_hi - z_lo) * ph

    xs, ys = sx(d), sy(z)
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    base = pad_t + ph
    parts = [head, f'<rect x="{pad_l}" y="{pad_t}" width="{pw}" height="{ph}" fill="#fafafa"/>']
    # grid and axes labels
    for zv in np.arange(z_lo, z_hi + z_step / 2, z_step):
        y = float(sy(zv))
        parts.append(
            f'<line x1="{pad_l}" x2="{pad_l + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{pad_l - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{zv:.0f}</text>'
        )
    for dv in np.arange(0, d_max + 1e-9, d_step):
        x = float(sx(dv))
        label = f"{dv / d_unit:g}"
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{pad_t}" y2="{base}" stroke="#eee"/>'
            f'<text x="{x:.1f}" y="{base + 14}" text-anchor="middle" font-size="11">{label}</text>'
        )
    parts.append(
        f'<text x="{pad_l + pw / 2}" y="{height - 4}" text-anchor="middle" font-size="11">'
        f"distance ({'km' if km else 'm'})</text>"
        f'<text x="12" y="{pad_t + ph / 2}" font-size="11" text-anchor="middle" '
        f'transform="rotate(-90 12 {pad_t + ph / 2})">elevation (m)</text>'
    )
    area = f"M{xs[0]:.1f},{base} L" + " L".join(
        f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True)
    )
    parts.append(f'<path class="profile-area" d="{area} L{xs[-1]:.1f},{base} Z" fill="#cfe3f3"/>')
    parts.append(
        f'<polyline class="profile-line" points="{pts}" fill="none" stroke="#1f5f8b" '
        'stroke-width="1.6"/>'
    )
    # steep stretches
    dd = np.diff(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(dd > 0, np.diff(z) / dd, 0.0)
    steep = np.abs(g) >= flag_grade
    if steep.any():
        segs = [
            f"M{xs[i]:.1f},{ys[i]:.1f} L{xs[i + 1]:.1f},{ys[i + 1]:.1f}"
            for i in np.flatnonzero(steep)
        ]
        parts.append(
            f'<path class="profile-steep" d="{" ".join(segs)}" stroke="#c0392b" '
            'stroke-width="2.6" fill="none"><title>'
            f"grade ≥ {flag_grade * 100:.0f} %</title></path>"
        )
    parts.append("</svg>")
    return "".join(parts)
