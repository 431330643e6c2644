"""The ``geolog match`` command, kept out of ``cli.py`` (which is near its size limit).

:func:`add_match_command` registers it on the CLI app. ``cli.py`` passes
itself (the module object) so the command uses the helpers every command
shares — network loading, safe printing, output checks — without this
module importing ``cli.py`` (which imports it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

__all__ = ["add_match_command"]


def add_match_command(cli: Any) -> None:
    """Register ``geolog match TRACE NETWORK -o OUT`` on ``cli.app``."""

    @cli.app.command("match", cls=cli._Command)
    def match_cmd(
        trace_file: Path = typer.Argument(..., help="GPS trace: .gpx, .csv or .parquet"),
        network_file: Path = cli._NETWORK_ARG,
        output: Path = typer.Option(
            ..., "-o", "--output", help="Matched edges: .geojson, .gpkg, .parquet or .csv"
        ),
        profile: str = cli._PROFILE_OPTION,
        vehicle: str = typer.Option(None, "--vehicle", help="Vehicle to match (several in trace)"),
        sigma: float = typer.Option(20.0, "--sigma", help="GPS error in metres"),
        dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for terrain; repeat"),
    ) -> None:
        """Match a GPS trace onto the roads (HMM); write the matched edges, print a summary."""
        from ._io import file_format
        from .tracking import MATCH_FORMATS, clean_trace, match, read_trace

        def say(text: str) -> None:
            cli.out.print(cli._line(text), highlight=False, soft_wrap=True)

        file_format(output, MATCH_FORMATS, "a matched trace")
        cli._writable(output)
        trace = clean_trace(read_trace(trace_file, vehicle=vehicle))
        net = cli._routing_network(network_file, dem)
        with cli._reported_warnings():
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
