"""``geolog route`` and ``geolog isochrone``: routes and reachable areas from the command line."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ._cli_base import (
    _NETWORK_ARG,
    _PROFILE_OPTION,
    _RULES_OPTION,
    _reported_warnings,
    _routing_network,
    _t,
    _writable,
    console,
    out,
)
from ._geometry import parse_latlon_text as _latlon
from .errors import InputError


def route_cmd(
    network_file: Path = _NETWORK_ARG,
    origin: str = typer.Option(..., "--from", help="Origin as LAT,LON"),
    destination: str = typer.Option(..., "--to", help="Destination as LAT,LON"),
    via: list[str] = typer.Option(None, "--via", help="Via point LAT,LON; repeat for several"),
    profile: str = _PROFILE_OPTION,
    rules: Path = _RULES_OPTION,
    dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for terrain; repeat"),
    alternatives: int = typer.Option(1, "--alternatives", "-k", help="Number of routes (>= 1)"),
    as_json: bool = typer.Option(False, "--json", help="Print GeoJSON instead of a table"),
    output: Path = typer.Option(
        None, "-o", "--output", help="Also write: .gpx .kml .gpkg .geojson"
    ),
    offroad: bool = typer.Option(False, "--offroad", help="Allow cross-country legs (needs a DEM)"),
) -> None:
    """Route between two points under a profile and rules; print a summary or GeoJSON."""
    import json

    from . import routing
    from ._route_export import route_format

    o = _latlon(origin, "--from")
    d = _latlon(destination, "--to")
    vias = [_latlon(v, "--via") for v in via or []]
    if alternatives < 1:
        raise InputError(f"--alternatives must be at least 1, got {alternatives}")
    if alternatives > 1 and (vias or offroad):
        raise InputError("--alternatives cannot be combined with --via or --offroad")
    if output is not None:
        route_format(output)
    _writable(output)
    net = _routing_network(network_file, dem)
    with _reported_warnings():
        if alternatives > 1:
            found = routing.alternatives(net, o, d, k=alternatives, profile=profile, rules=rules)
        else:
            r = routing.route(net, o, d, via=vias, profile=profile, rules=rules, offroad=offroad)
            found = [r]
    if len(found) < alternatives:
        console.print(
            f"note: {len(found)} of {alternatives} routes found: no other route shares at most "
            "70 % of its length with those found and costs at most 1.5 times the best",
            highlight=False,
            soft_wrap=True,
        )
    features = []
    for i, r in enumerate(found):
        feat = r.__geo_interface__["features"][0]
        feat["properties"]["rank"] = i + 1
        features.append(feat)
    text = json.dumps({"type": "FeatureCollection", "features": features})
    if output is not None and output.suffix.lower() in (".geojson", ".json"):
        from ._html import atomic_write_text

        atomic_write_text(output, text)
    elif output is not None:  # the other formats hold one route: the best
        found[0].to_file(output)
    if as_json:
        out.print_json(text, ensure_ascii=True) if out.is_terminal else print(text)
        return
    extra = f", {found[0].offroad_m / 1000:,.2f} km of it off-road" if offroad else ""
    table = Table(title=f"{_t(network_file.name)}: {_t(found[0].profile_name)} route{extra}")
    for col in ("#", "km", "time", "ascent m", "descent m", "max grade", "stretch", "overlap"):
        table.add_column(col, justify="right")
    for i, r in enumerate(found):
        s = r.summary()
        table.add_row(
            str(i + 1),
            f"{r.length_m / 1000:,.2f}",
            routing._fmt_duration(r.duration_s),
            routing._fmt(r.ascent_m, ",.0f"),
            routing._fmt(r.descent_m, ",.0f"),
            routing._fmt_pct(r.max_grade),
            "" if s["stretch"] is None else f"{s['stretch']:.2f}",
            "" if s["overlap"] is None else f"{s['overlap']:.0%}",
        )
    out.print(table)
    steps = found[0].directions()
    dirs = Table(title="directions (route 1)")
    for col, justify in (("step", "right"), ("instruction", "left"), ("km", "right")):
        dirs.add_column(col, justify=justify)
    for st in steps.itertuples(index=False):
        dirs.add_row(str(st.step), _t(st.instruction), f"{st.distance_m / 1000:,.2f}")
    out.print(dirs)
    if output is not None:
        out.print(f"wrote {_t(output)}", highlight=False)


def isochrone_cmd(
    network_file: Path = _NETWORK_ARG,
    origin: str = typer.Option(..., "--from", help="Origin as LAT,LON"),
    minutes: str = typer.Option("10,30", "--minutes", help="Budgets in minutes, e.g. 10,30"),
    profile: str = typer.Option(
        None, "--profile", "-p", help="car, truck, foot, tracked or a YAML path"
    ),
    rules: Path = _RULES_OPTION,
    dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for terrain; repeat"),
    kind: str = typer.Option("area", "--kind", help="area (reachable area) or band (along roads)"),
    buffer_m: float = typer.Option(50.0, "--buffer-m", help="Margin around reached roads (m)"),
    fill_m: float = typer.Option(200.0, "--fill-m", help="area: fill gaps under 2x this (m)"),
    output: Path = typer.Option(..., "-o", "--output", help="File: .geojson .kml .gpkg .parquet"),
    offroad: bool = typer.Option(False, "--offroad", help="Roads and cross country (needs a DEM)"),
) -> None:
    """Areas reachable from a point within travel-time budgets, as polygons (GeoJSON, KML …)."""
    from . import routing
    from .export import AREA_FORMATS, export_format, to_file
    from .offroad import offroad_isochrones

    export_format(output, AREA_FORMATS, "isochrones")
    o = _latlon(origin, "--from")
    try:
        budgets = [float(m) * 60 for m in minutes.split(",") if m.strip()]
    except ValueError:
        raise InputError(f"--minutes {minutes!r} is not a list of numbers like 10,30") from None
    _writable(output)
    net = _routing_network(network_file, dem)
    with _reported_warnings():
        kw = {"profile": profile, "rules": rules}
        if offroad:
            iso = offroad_isochrones(None, o, budgets, net=net, **kw)
        else:
            iso = routing.isochrones(
                net, o, budgets, kind=kind, buffer_m=buffer_m, fill_m=fill_m, **kw
            )
    to_file(iso, output, layer="isochrones", color_by="time_s")
    for row in iso.itertuples():
        how = "by road and cross country" if offroad else (
            f"({kind}), {row.reached_km:,.1f} directed km of road reached")  # fmt: skip
        out.print(f"{row.time_s / 60:g} min: {row.area_km2:,.1f} km² {how}")
    out.print(f"wrote {_t(output)}", highlight=False)
