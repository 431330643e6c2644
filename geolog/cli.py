"""The ``geolog`` command line.

Each command is a thin layer over the Python API. Errors a user can cause
(:class:`~geolog.errors.GeologError`, a usage error such as a missing or
malformed option or an unknown command, a file that cannot be read or written)
print one line on stderr and exit with status 2; anything else is a bug and
keeps its traceback. Text that comes from data (street names, stop ids, rule
conditions, file names) is printed with rich markup and non-printable
characters escaped, so a terminal escape sequence in a name shows as ``\x1b``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import sys
import warnings
from pathlib import Path

import typer
from rich.table import Table

from ._cli_base import (
    _NETWORK_ARG,
    _PROFILE_OPTION,
    _RULES_OPTION,
    _Command,
    _line,
    _PlainFormatter,
    _progress,
    _reported_warnings,
    _routing_network,
    _t,
    _writable,
    app,
    console,
    load_network,
    out,
)
from ._cli_match import match_cmd
from ._cli_route import isochrone_cmd, route_cmd
from ._geometry import parse_latlon_text as _latlon
from .errors import GeologError, GeologWarning, InputError

__all__ = ["app", "main"]


@app.command(cls=_Command)
def build(
    osm_file: Path = typer.Argument(..., help="OSM file: .osm.pbf, .osm, .osm.gz or .osm.bz2"),
    output: Path = typer.Option(..., "-o", "--output", help="Network file to write (.parquet)"),
    network: str = typer.Option("drive", "--network", "-n", help="drive, truck, walk or all"),
    dem: list[Path] = typer.Option(
        None, "--dem", help="DEM tile(s) for terrain; repeat for several"
    ),
    truck_weight_t: float = typer.Option(18.0, help="Truck gross weight (t) for --network truck"),
) -> None:
    """Build a routable network from an OSM file (and DEM tiles) and save it."""
    from . import read_osm

    if output.suffix != ".parquet":
        raise InputError(f"{output}: the output must be a .parquet file")
    _writable(output)
    with _progress() as progress:
        name = _t(osm_file.name)
        task = progress.add_task(f"reading {name}", total=None)
        net = read_osm(
            osm_file,
            network=network,
            truck_weight_t=truck_weight_t,
            progress=lambda status: progress.update(task, description=f"{name}: {_t(status)}"),
        )
        if dem:
            from .terrain import DEM

            progress.update(task, description=f"terrain from {len(dem)} DEM tile(s)")
            net = net.with_terrain(DEM.open(dem))
        progress.update(task, description=f"writing {output.name}")
        net.save(output)
    out.print(f"wrote {_t(output)}: {_t(repr(net))}", highlight=False)


@app.command(cls=_Command)
def info(
    network_file: Path = _NETWORK_ARG,
) -> None:
    """Summarise a network: counts, km by highway class, bounding box, provenance."""
    net = load_network(network_file)
    s = net.summary()
    table = Table(title=f"{_t(network_file.name)}: {_t(s['network_type'])} network")
    table.add_column("item")
    table.add_column("value", justify="right")
    for key in ("nodes", "edges", "segments", "oneway_edges"):
        table.add_row(key, f"{s[key]:,}")
    table.add_row("length (km of road, each road once)", f"{s['length_km']:,.1f}")
    table.add_row("bbox", ", ".join(f"{b:.4f}" for b in s["bbox"]))
    for hw, km in s["km_by_highway"].items():
        table.add_row(f"  {_t(hw)}", f"{km:,.1f} km")
    for src in net.meta.get("sources", []):
        table.add_row("source", _t(f"{src.get('file', src)} {str(src.get('sha256', ''))[:12]}"))
    table.add_row("fingerprint", net.fingerprint()[:16])
    out.print(table)


@app.command(cls=_Command)
def terrain(
    dem: list[Path] = typer.Argument(..., help="DEM tile(s): .hgt, .hgt.zip, GeoTIFF, VRT"),
    slope: Path = typer.Option(None, "--slope", help="Write slope (degrees) GeoTIFF here"),
    hillshade: Path = typer.Option(None, "--hillshade", help="Write hillshade GeoTIFF here"),
    mobility: Path = typer.Option(
        None, "--mobility", help="Write mobility classes (0 GO, 1 SLOW-GO, 2 NO-GO) here"
    ),
    vehicle: str = typer.Option("truck", "--vehicle", help="Vehicle in profiles/mobility.yaml"),
    bbox: str = typer.Option(None, "--bbox", help="Clip first: west,south,east,north (degrees)"),
) -> None:
    """Derive slope, hillshade and mobility-class GeoTIFFs (UTM grid) from DEM tiles."""
    from .terrain import DEM

    targets = {"slope": slope, "hillshade": hillshade, "mobility": mobility}
    targets = {k: v for k, v in targets.items() if v is not None}
    if not targets:
        raise InputError("nothing to do: give --slope, --hillshade and/or --mobility")
    _writable(*targets.values())
    box = _bbox(bbox) if bbox else None  # checked before reading any DEM
    with _reported_warnings():
        grid = DEM.open(dem)
    if box:
        grid = grid.clip(box)
    # compute everything before writing anything, so an error leaves no files behind
    rasters = {}
    if "slope" in targets:
        rasters["slope"] = grid.slope(units="degrees")
    if "hillshade" in targets:
        rasters["hillshade"] = grid.hillshade()
    if "mobility" in targets:
        rasters["mobility"] = grid.mobility(vehicle)
    for key, path in targets.items():
        rasters[key].write(path)
        out.print(
            f"wrote {_t(path)}: {key} {rasters[key].shape[1]}x{rasters[key].shape[0]} "
            f"{rasters[key].crs.to_string()}",
            highlight=False,
        )


@app.command(cls=_Command)
def plan(
    network_file: Path = _NETWORK_ARG,
    depots: Path = typer.Option(..., "--depots", help="Depots: GeoJSON points with an id"),
    stops: Path = typer.Option(..., "--stops", help="Stops: GeoJSON points with demand etc."),
    fleet: Path = typer.Option(..., "--fleet", help="Fleet YAML (vehicle types)"),
    output: Path = typer.Option(..., "-o", "--output", help="Plan: .gpx .kml .gpkg .geojson .csv"),
    date: str = typer.Option(None, "--date", help="Day of the plan, YYYY-MM-DD (default today)"),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Solver time limit (s)"),
    engine: str = typer.Option("pyvrp", "--engine", help="pyvrp or ortools"),
    rules: Path = _RULES_OPTION,
    dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for terrain; repeat"),
    map_html: Path = typer.Option(None, "--map", help="Also write a folium map (.html)"),
    csv: Path = typer.Option(None, "--csv", help="Also write the itinerary (.csv)"),
) -> None:
    """Plan deliveries from depots to stops with a fleet; write the plan (and a map)."""
    from .export import plan_date
    from .planning import plan as make_plan
    from .planning.result import plan_format

    plan_format(output)
    day = plan_date(date)
    _writable(output, map_html, csv)
    with _reported_warnings(), _progress() as progress:
        task = progress.add_task(f"reading {network_file.name}", total=None)
        net = load_network(network_file)
        if dem:
            from .terrain import DEM

            progress.update(task, description=f"terrain from {len(dem)} DEM tile(s)")
            net = net.with_terrain(DEM.open(dem))
        progress.update(
            task, description=f"travel times and {engine} solver (limit {time_limit:g} s)"
        )
        p = make_plan(
            net, depots, stops, fleet, rules=rules, time_limit_s=time_limit, engine=engine
        )
    # everything is computed; now write (each file atomically) and say so
    p.to_file(output, date=day)
    if csv is not None:
        out.print(f"wrote {_t(p.to_csv(csv))}", highlight=False)
    if map_html is not None:
        from ._html import atomic_write_text

        out.print(
            f"wrote {_t(atomic_write_text(map_html, p.to_map().get_root().render()))}",
            highlight=False,
        )
    t = p.totals
    out.print(
        f"wrote {_t(output)}: {t['served']} served, {t['unserved']} unserved, "
        f"{t['vehicles_used']} vehicles, {t['distance_km']:.1f} km, {t['driving_h']:.2f} h driving",
        highlight=False,
    )
    for _, u in p.unserved.iterrows():
        out.print(f"  unserved {_t(u['id'])}: {_t(u['reason'])}", highlight=False)


def _bbox(text: str) -> list[float]:
    """Parse --bbox "west,south,east,north" (finite degrees) or raise InputError."""
    try:
        box = [float(b) for b in text.split(",")]
    except ValueError:
        box = []
    if len(box) != 4 or not all(math.isfinite(b) for b in box):
        raise InputError(f"--bbox must be west,south,east,north in finite degrees, got {text!r}")
    return box


# kept in _cli_route and _cli_match (this module's size); registered here, in the help's order
app.command("route", cls=_Command)(route_cmd)
app.command("isochrone", cls=_Command)(isochrone_cmd)
app.command("match", cls=_Command)(match_cmd)

rules_app = typer.Typer(help="Route rules: validate and explain rule files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("check", cls=_Command)
def rules_check(
    rules_file: Path = typer.Argument(..., help="Rule file (.yaml)"),
    network_file: Path = _NETWORK_ARG,
    profile: str = typer.Option(
        None,
        "--profile",
        "-p",
        help="car, truck, foot, tracked or a YAML path (default: the rules')",
    ),
    dem: list[Path] = typer.Option(
        None, "--dem", help="DEM tile(s) to add terrain first (rules on grade need it)"
    ),
) -> None:
    """Validate a rule file against a network and show what each rule touches."""
    from .errors import RuleError
    from .rules import explain, load_rules

    rs = load_rules(rules_file)  # syntax + whitelist errors before loading any data
    net = load_network(network_file)
    with _reported_warnings():
        if dem:
            net = net.with_terrain(list(dem))
        table_df = explain(rs, net, profile=profile)
    attrs = table_df.attrs
    table = Table(
        title=f"{_t(rules_file.name)} on {_t(network_file.name)}, profile {_t(attrs['profile'])}"
    )
    for col, justify in (
        ("rule", "left"),
        ("condition", "left"),
        ("action", "left"),
        ("edges", "right"),
        ("km", "right"),
        ("forbidden", "right"),
    ):
        table.add_column(col, justify=justify)
    for r in table_df.itertuples(index=False):
        if r.section == "profile" and r.edges_matched == 0:
            continue
        action = "forbid" if r.action == "forbid" else f"{r.action} {r.value:g}"
        table.add_row(
            f"{r.section}[{r.index}]",
            _t(r.condition),
            action,
            f"{r.edges_matched:,}",
            f"{r.km_affected:,.1f}",
            f"{r.edges_forbidden:,}",
        )
    out.print(table)
    n, k = attrs["edges"], attrs["forbidden_edges"]
    out.print(
        f"{n:,} edges; {k:,} forbidden ({100 * k / max(n, 1):.1f} %); "
        f"distance_influence {attrs['distance_influence']:g} s/km; "
        f"{attrs['maxspeed_invalid']:,} unparseable maxspeed tags",
        highlight=False,
    )
    if attrs["all_forbidden"]:
        raise RuleError(
            f"{rules_file}: the rules forbid every edge of {network_file.name}; see the table above"
        )
    out.print("[green]rules OK[/]")


@app.command(cls=_Command)
def brief(
    network_file: Path = _NETWORK_ARG,
    origin: str = typer.Option(..., "--from", help="Start as LAT,LON (degrees)"),
    destination: str = typer.Option(..., "--to", help="End as LAT,LON (degrees)"),
    via: list[str] = typer.Option(None, "--via", help="Intermediate LAT,LON; repeat"),
    profile: str = _PROFILE_OPTION,
    rules: Path = _RULES_OPTION,
    dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for terrain/hillshade"),
    title: str = typer.Option("Route briefing", "--title", help="Briefing title"),
    purpose: str = typer.Option("", "--purpose", help="One-paragraph purpose"),
    threats: Path = typer.Option(
        None, "--threats", help="Threat zones (GeoJSON/GPKG, 'level'): map and risk section"
    ),
    contingency: bool = typer.Option(
        False, "--contingency", help="List a detour for each road of the route if it is closed"
    ),
    output: Path = typer.Option(..., "-o", "--output", help="Briefing HTML to write"),
) -> None:
    """Route from --from to --to and write a self-contained offline HTML map briefing."""
    from .briefing import briefing
    from .routing import route

    o, d = _latlon(origin, "--from"), _latlon(destination, "--to")
    vias = [_latlon(v, "--via") for v in via or []] or None
    _writable(output)
    net = _routing_network(network_file, dem)  # adds terrain from --dem, prints warnings
    r = route(net, o, d, via=vias, profile=profile, rules=rules)
    # the hillshade DEM is re-opened from what with_terrain recorded in net.meta
    path = briefing(net, r, title=title, purpose=purpose, rules=rules, path=output,
                    threats=threats, contingency=True if contingency else None)  # fmt: skip
    out.print(
        f"wrote {_t(path)} ({path.stat().st_size / 1e6:.2f} MB): {_t(repr(r))}", highlight=False
    )


@app.command("risk")
def risk_cmd(
    network_file: Path = _NETWORK_ARG,
    threats: Path = typer.Option(None, "--threats", help="Threat zones (GeoJSON/GPKG, 'level')"),
    observers: Path = typer.Option(None, "--observers", help="Observation posts (points)"),
    sites: Path = typer.Option(None, "--sites", help="Key sites (points, 'name') for links"),
    dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for viewsheds; repeat"),
    profile: str = typer.Option("car", "--profile", "-p", help="car, truck, foot, tracked or YAML"),
    rules: Path = _RULES_OPTION,
    top: int = typer.Option(10, "--top", help="Critical links to list"),
    output: Path = typer.Option(..., "-o", "--output", help="Risk map HTML to write"),
) -> None:
    """Map threat zones, viewsheds and the critical links between sites; list the links."""
    import geopandas as gpd

    from . import maps, risk
    from ._html import atomic_write_text

    if observers is not None and not dem:
        raise InputError("--observers needs a DEM for the viewshed: add --dem TILE")
    _writable(output)
    net = _routing_network(network_file, None)
    m = maps.base_map(net)
    if threats is not None:
        maps.threat_layer(threats).add_to(m)
    if observers is not None:
        from .terrain import DEM

        with _reported_warnings():
            vs = risk.viewshed(DEM.open(dem), gpd.read_file(observers))
        maps.viewshed_layer(vs).add_to(m)
    if sites is not None:
        costed = net.with_threats(threats) if threats is not None else net
        links = risk.critical_links(costed, gpd.read_file(sites), profile=profile, rules=rules)
        maps.critical_links_layer(links, top=top).add_to(m)
        table = Table(title=f"{_t(network_file.name)}: critical links ({_t(profile)})")
        for col in ("#", "road", "added min", "pairs cut", "cut off"):
            table.add_column(col, justify="left" if col in ("road", "cut off") else "right")
        for r in links.head(top).itertuples():
            road = r.name if isinstance(r.name, str) and r.name else f"{r.highway} (edge {r.edge})"
            table.add_row(str(r.rank), _t(road), f"{r.added_s / 60:,.1f}", str(r.cut_pairs),
                          _t(r.cut_off))  # fmt: skip
        out.print(table)
    atomic_write_text(output, maps.finish(m).get_root().render())
    out.print(f"wrote {_t(output)}", highlight=False)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """geolog warnings (voids filled, edges dropped) as one line, not a source listing."""
    label = "[yellow]warning:[/]" if issubclass(category, GeologWarning) else category.__name__
    console.print(f"{label} {_line(message)}", highlight=False, soft_wrap=True)


def _fail(message: object) -> int:
    console.print(f"[bold red]error:[/] {_line(message)}", highlight=False, soft_wrap=True)
    return 2


def _click_exit(err: Exception) -> int | None:
    """Exit status for typer's/click's own exceptions (recognised by class name, since
    typer bundles its own copy of click), after printing them; ``None`` for others."""
    kinds = {c.__name__ for c in type(err).__mro__}
    if "NoArgsIsHelpError" in kinds:  # bare `geolog` or `geolog rules`: the help text
        out.print(err.format_message(), markup=False, highlight=False)
        return 2
    if "Exit" in kinds:
        return int(getattr(err, "exit_code", 0) or 0)
    if "Abort" in kinds:
        console.print("aborted")
        return 1
    if "ClickException" in kinds:
        ctx = getattr(err, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        return _fail(f"{err.format_message()}{hint}")
    return None


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # runs the cleanup of atomic writes in progress


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app; every error a user can cause is one line on stderr and exit 2.

    That covers :class:`~geolog.errors.GeologError`, usage errors (missing,
    malformed or unknown options and commands) and files that cannot be read or
    written. ``SIGTERM`` stops the command like Ctrl-C, removing half-written
    temporary files.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(_PlainFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    warnings.showwarning = _show_warning
    with contextlib.suppress(ValueError):  # not in the main thread: keep the default
        signal.signal(signal.SIGTERM, _terminate)
    try:
        rv = app(args=argv, standalone_mode=False, prog_name="geolog")
    except GeologError as err:
        return _fail(err)
    except OSError as err:  # a path the user gave cannot be read or written
        name = f"{err.filename}: " if err.filename else ""
        return _fail(f"{name}{err.strerror or err}")
    except Exception as err:
        code = _click_exit(err)
        if code is None:
            raise
        return code
    return rv if isinstance(rv, int) else 0


def _plain_metavars(typer_app: typer.Typer) -> None:
    """Help shows PATH, TEXT, NUMBER and argument names in capitals, not ``<list[Path]>``."""
    import inspect
    import typing

    from typer.models import ArgumentInfo, OptionInfo

    apps = [typer_app, *(g.typer_instance for g in typer_app.registered_groups)]
    for cmd in (c for a in apps for c in a.registered_commands):
        hints = typing.get_type_hints(cmd.callback)
        for name, p in inspect.signature(cmd.callback).parameters.items():
            info = p.default
            if not isinstance(info, OptionInfo | ArgumentInfo) or info.metavar is not None:
                continue
            hint = hints.get(name)
            base = (typing.get_args(hint) or (hint,))[0]
            if isinstance(info, ArgumentInfo):
                info.metavar = name.upper()
            elif base is not bool:
                info.metavar = _METAVARS.get(base, "TEXT")


_METAVARS = {Path: "PATH", float: "NUMBER", int: "INTEGER", str: "TEXT"}
_plain_metavars(app)


if __name__ == "__main__":
    sys.exit(main())
