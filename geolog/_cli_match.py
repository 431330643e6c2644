"""``geolog match``: a GPS trace matched onto the roads from the command line."""

from __future__ import annotations

from pathlib import Path

import typer

from ._cli_base import (
    _NETWORK_ARG,
    _PROFILE_OPTION,
    _line,
    _reported_warnings,
    _routing_network,
    _writable,
    out,
)

__all__ = ["match_cmd"]


def match_cmd(
    trace_file: Path = typer.Argument(..., help="GPS trace: .gpx, .csv or .parquet"),
    network_file: Path = _NETWORK_ARG,
    output: Path = typer.Option(
        ..., "-o", "--output", help="Matched edges: .geojson, .gpkg, .parquet or .csv"
    ),
    profile: str = _PROFILE_OPTION,
    vehicle: str = typer.Option(None, "--vehicle", help="Vehicle to match (several in trace)"),
    sigma: float = typer.Option(20.0, "--sigma", help="GPS error in metres"),
    dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for terrain; repeat"),
) -> None:
    """Match a GPS trace onto the roads (HMM); write the matched edges, print a summary."""
    from ._io import file_format
    from .tracking import MATCH_FORMATS, clean_trace, match, read_trace

    def say(text: str) -> None:
        out.print(_line(text), highlight=False, soft_wrap=True)

    file_format(output, MATCH_FORMATS, "a matched trace")
    _writable(output)
    trace = clean_trace(read_trace(trace_file, vehicle=vehicle))
    net = _routing_network(network_file, dem)
    with _reported_warnings():
        m = match(net, trace, profile=profile or "car", vehicle=vehicle, sigma_m=sigma)
    m.to_file(output)
    s = m.summary()
    say(
        f"{s['vehicle']}: {s['fixes']} fixes, {s['matched_km']:.2f} km on {s['edges']} "
        f"edges, {s['segments']} segment(s), {s['breaks']} break(s), {s['gaps']} gap(s), "
        f"mean confidence {s['mean_confidence']:.2f}"
    )
    for b in m.breaks.itertuples():
        say(f"break ({b.kind}): {b.from_time.isoformat()} to {b.to_time.isoformat()}")
    say(f"wrote {output}")
