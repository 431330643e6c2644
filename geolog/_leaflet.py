"""Private folium elements behind :mod:`geolog.maps` (imports folium on import).

:class:`OfflineMap` is a ``folium.Map`` that inlines the vendored Leaflet instead
of linking Leaflet, jQuery, Bootstrap and awesome-markers from CDNs. The layer
elements pass all data to the page as JSON written by
:func:`geolog._html.script_json` (safe inside ``<script>``) and all text shown as
HTML is escaped in Python before that. They avoid ``folium.Popup`` and
``folium.Tooltip``, whose templates need jQuery and paste text into JS template
literals (where ``${…}`` in a street name would run).

No text is ever rendered as a Jinja template twice. branca renders each
element's macros once, then wraps the output in a new ``Element`` whose
*template* is that output, and renders it again when the page is written, so a
street name ``{{ 7*7 }}`` would show "49" and ``{{ lipsum.__globals__.os… }}``
would run. :class:`OfflineMap` replaces those wrappers by :class:`Literal`
elements right after the first pass, for every element on the map (geolog's and
folium's), and the text geolog hands to templates is escaped so it holds no Jinja
tag at all (:func:`geolog._html.escape`, :func:`geolog._html.script_json`).
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from ._html import offline_head, script_json

__all__ = [
    "Literal",
    "freeze",
    "OfflineMap",
    "PolylineLayer",
    "GeoJsonLayer",
    "HtmlControl",
    "BasemapLayer",
    "PANES",
]

_CSS = """
.geolog-legend { background: rgba(255,255,255,.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font: 12px/1.35 system-ui, sans-serif; max-width: 240px; }
.geolog-legend h4 { margin: 0 0 4px; font-size: 12px; }
.geolog-legend i { display: inline-block; width: 18px; height: 10px; margin-right: 6px;
  vertical-align: middle; border-radius: 2px; }
.geolog-legend .geolog-legend-row { white-space: nowrap; }
.leaflet-container { background: #f2efe9; }
.leaflet-control-layers-base:empty { display: none; }
.geolog-label { white-space: nowrap; }
.geolog-label span { position: absolute; transform: translate(-50%, -50%); color: #1d1d1d;
  font: 600 12px/1.1 system-ui, sans-serif; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff,
  0 0 4px #fff; }
.geolog-label-major span { font-size: 15px; font-weight: 700; }
.geolog-label-minor span { font-size: 11px; font-weight: 500; color: #333; }
.geolog-label-ref span { font: 700 10px/1 system-ui, sans-serif; background: #fffbe6;
  border: 1px solid #6b5a2a; border-radius: 2px; padding: 1px 3px; text-shadow: none; }
.leaflet-tooltip.geolog-num { background: transparent; border: 0; box-shadow: none; padding: 0;
  color: #fff; font: 700 10px/1 system-ui, sans-serif; text-shadow: 0 0 2px #000; }
.leaflet-tooltip.geolog-num:before { display: none; }
.geolog-lowzoom .geolog-label-minor, .geolog-lowzoom .geolog-label-ref { display: none; }
"""


def _map_of(element: Any) -> folium.Map | None:
    """The map an element was added to (through layers and groups), or None."""
    parent = element._parent
    while parent is not None and not isinstance(parent, folium.Map):
        parent = parent._parent
    return parent


class Literal(Element):
    """Markup placed in the page exactly as given: never compiled or rendered as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


def freeze(figure: Figure) -> None:
    """Replace the rendered macro outputs in ``figure`` by :class:`Literal` elements.

    After the first rendering pass, the header, html and script parts of a
    figure hold plain ``Element`` objects whose template *is* the rendered text;
    rendering them again would run any Jinja tag that data put in that text.
    """
    for part in (figure.header, figure.html, figure.script):
        for key, child in list(part._children.items()):
            if type(child) is Element and child._template_str is not None:
                lit = Literal(child._template_str)
                lit._parent = part
                part._children[key] = lit


#: Map panes around Leaflet's overlay pane (400, where the data goes): the hillshade
#: (relief) and base-map areas and rivers under it, base-map labels over it (they take
#: no clicks), all under markers (600).
PANES = {"geolog-relief": 150, "geolog-basemap": 350, "geolog-labels": 450}


class OfflineMap(folium.Map):
    """A ``folium.Map`` whose page carries Leaflet inline and loads nothing from the web.

    Accepts every ``folium.Map`` argument; ``tiles`` defaults to ``None`` (no
    web basemap). Elements added to it that bring their own CDN links (folium
    plugins, ``folium.Icon``) keep those links and need the internet.
    """

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []

    def __init__(self, *args: Any, tiles: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, tiles=tiles, **kwargs)
        self._name = "Map"
        for pane, z in PANES.items():
            folium.map.CustomPane(pane, z_index=z, pointer_events=False).add_to(self)

    def _repr_html_(self, **kwargs: Any) -> str:
        """The notebook frame: as tall as the map when its height is in pixels.

        folium's default frame keeps a 60 % aspect ratio, which leaves blank space
        under a map of fixed pixel height (or cuts it).
        """
        height = getattr(self, "height", None)
        if isinstance(height, tuple) and height[1] == "px":
            if self._parent is None:
                Figure().add_child(self)
            if isinstance(self._parent, Figure):
                self._parent.height = f"{height[0] + 2:g}px"
        return super()._repr_html_(**kwargs)

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if isinstance(figure, Figure):
            figure.header.add_child(Literal(offline_head()), name="geolog_leaflet")
            figure.header.add_child(Literal(f"<style>{_CSS}</style>"), name="geolog_css")
        super().render(**kwargs)
        if isinstance(figure, Figure):
            freeze(figure)


class PanedImageOverlay(folium.raster_layers.ImageOverlay):
    """An image overlay placed in one of geolog's :data:`PANES` when its map has them.

    On a plain ``folium.Map`` (no such pane) it stays in Leaflet's overlay pane.
    """

    def __init__(self, *args: Any, geolog_pane: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.geolog_pane = geolog_pane

    def render(self, **kwargs: Any) -> None:
        if self.geolog_pane and isinstance(_map_of(self), OfflineMap):
            self.options["pane"] = self.geolog_pane
        super().render(**kwargs)


class PolylineLayer(Layer):
    """Many polylines from flat arrays (fast for whole road networks).

    ``data`` holds ``c`` (flat ``[lat, lon, lat, lon, …]``), ``o`` (offsets into
    the coordinate pairs, length n + 1), ``s`` (style index per line) and
    optional ``t`` (tooltip HTML per line, already escaped, or ``None``) and
    ``p`` (popup HTML). ``styles`` is a list of Leaflet path options.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var d = {{ this.data_json }};
            var styles = {{ this.styles_json }};
            var opts = {{ this.options_json }};
            var renderer = opts.canvas ? L.canvas({padding: 0.5}) : undefined;
            var g = L.featureGroup([], {attribution: opts.attribution});
            for (var i = 0; i + 1 < d.o.length; i++) {
                var ll = [];
                for (var k = d.o[i]; k < d.o[i + 1]; k++) { ll.push([d.c[2 * k], d.c[2 * k + 1]]); }
                var st = Object.assign({renderer: renderer}, styles[d.s[i]]);
                var line = L.polyline(ll, st);
                if (d.t && d.t[i]) { line.bindTooltip(d.t[i], {sticky: true}); }
                if (d.p && d.p[i]) { line.bindPopup(d.p[i], {maxWidth: 360}); }
                g.addLayer(line);
            }
            g.getAttribution = function () { return opts.attribution; };
            return g;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict,
        styles: list[dict],
        *,
        name: str,
        attribution: str | None = None,
        canvas: bool = True,
        overlay: bool = True,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "PolylineLayer"
        self.data_json = script_json(data)
        self.styles_json = script_json(styles)
        self.options_json = script_json({"attribution": attribution, "canvas": canvas})


class GeoJsonLayer(Layer):
    """A GeoJSON FeatureCollection with per-feature style, tooltip and popup.

    Feature properties used: ``style`` (Leaflet path options; for points also
    ``radius``), ``tooltip`` and ``popup`` (HTML strings already escaped), and
    ``label`` (escaped HTML shown permanently in the middle of a point, e.g. a
    stop number; the tooltip is then not bound).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var opts = {{ this.options_json }};
            return L.geoJSON({{ this.data_json }}, {
                attribution: opts.attribution,
                style: function (f) { return f.properties.style || {}; },
                pointToLayer: function (f, latlng) {
                    return L.circleMarker(latlng, f.properties.style || {});
                },
                onEachFeature: function (f, layer) {
                    if (f.properties.label) {
                        layer.bindTooltip(f.properties.label, {permanent: true, direction: "center",
                                                               className: "geolog-num"});
                    } else if (f.properties.tooltip) {
                        layer.bindTooltip(f.properties.tooltip, {sticky: true});
                    }
                    if (f.properties.popup) { layer.bindPopup(f.properties.popup, {maxWidth: 360}); }
                }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict,
        *,
        name: str,
        attribution: str | None = None,
        overlay: bool = True,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "GeoJsonLayer"
        self.data_json = script_json(data)
        self.options_json = script_json({"attribution": attribution})


class HtmlControl(MacroElement):
    """A Leaflet control (legend, note) showing an HTML snippet built and escaped in Python.

    Add it to a map, or as a child of a layer: then it is shown only while that
    layer is on the map.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this.map_name }};
            var c = L.control({position: {{ this.position_json }}});
            c.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.class_json }});
                div.innerHTML = {{ this.html_json }};
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            {%- if this.layer_name %}
            var layer = {{ this.layer_name }};
            layer.on("add", function () { c.addTo(map); });
            layer.on("remove", function () { c.remove(); });
            if (map.hasLayer(layer)) { c.addTo(map); }
            {%- else %}
            c.addTo(map);
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self, html: str, *, position: str = "bottomright", css_class: str = "geolog-legend"
    ) -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.html_json = script_json(html)
        self.position_json = script_json(position)
        self.class_json = script_json(css_class)
        self.map_name = ""
        self.layer_name = ""

    def render(self, **kwargs: Any) -> None:
        parent = self._parent
        self.layer_name = parent.get_name() if isinstance(parent, Layer) else ""
        m = _map_of(self)
        if m is None:
            raise ValueError("a geolog legend must be added to a map or to a layer on a map")
        self.map_name = m.get_name()
        super().render(**kwargs)


class BasemapLayer(Layer):
    """The OSM base map (areas, rivers, place and ref labels) in the panes of :data:`PANES`.

    ``geojson`` holds ``areas`` and ``lines``: GeoJSON *text* with property
    ``k`` (the style key) made by :func:`geolog._basemap._collection` from numbers
    and fixed kinds only (no data text), placed in the page as it is. ``data``
    holds ``styles``, ``river`` (colour and width per waterway), ``places``
    (``[lat, lon, name, class]``) and ``refs`` (``[lat, lon, ref]``). Labels are
    set with ``textContent``, so no name is parsed as HTML. Minor places and refs
    show from zoom 13.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this.map_name }};
            var d = {{ this.data_json }};
            d.areas = {{ this.areas_json }};
            d.lines = {{ this.lines_json }};
            var opts = {{ this.options_json }};
            function pane(n, z) {
                var p = map.getPane(n) || map.createPane(n);
                p.style.zIndex = z; p.style.pointerEvents = "none"; return n;
            }
            var ap = pane("geolog-basemap", 350), lp = pane("geolog-labels", 450);
            var rend = L.canvas({pane: ap, padding: 0.5});
            var g = L.featureGroup([], {attribution: opts.attribution});
            g.addLayer(L.geoJSON(d.areas, {pane: ap, renderer: rend, interactive: false,
                style: function (f) { return d.styles[f.properties.k] || {}; }}));
            g.addLayer(L.geoJSON(d.lines, {pane: ap, renderer: rend, interactive: false,
                style: function (f) {
                    return {color: d.river.color, weight: d.river.widths[f.properties.k] || 1,
                            opacity: 0.9};
                }}));
            function label(lat, lon, text, cls) {
                var s = document.createElement("span");
                s.textContent = text;
                var icon = L.divIcon({html: s, className: "geolog-label geolog-label-" + cls,
                                      iconSize: null});
                return L.marker([lat, lon], {icon: icon, pane: lp, interactive: false,
                                             keyboard: false});
            }
            d.places.forEach(function (p) { g.addLayer(label(p[0], p[1], p[2], p[3])); });
            d.refs.forEach(function (r) { g.addLayer(label(r[0], r[1], r[2], "ref")); });
            function zoomed() {
                map.getPane(lp).classList.toggle("geolog-lowzoom", map.getZoom() < 13);
            }
            map.on("zoomend", zoomed);
            map.whenReady(zoomed);
            g.getAttribution = function () { return opts.attribution; };
            return g;
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict,
        geojson: dict[str, str],
        *,
        name: str,
        attribution: str | None = None,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "BasemapLayer"
        self.data_json = script_json(data)
        self.areas_json = geojson["areas"]
        self.lines_json = geojson["lines"]
        self.options_json = script_json({"attribution": attribution})
        self.map_name = ""

    def render(self, **kwargs: Any) -> None:
        m = _map_of(self)
        if m is None:
            raise ValueError("a geolog base map must be added to a map")
        self.map_name = m.get_name()
        super().render(**kwargs)
