"""The ``geolog match`` command, kept out of ``cli.py`` (which is near its size limit).

:func:`add_match_command` registers it on the CLI app; ``cli.py`` passes the
helpers it shares with the other commands (network loading, safe printing,
output checks), so this module never imports ``cli.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

__all__ = ["add_match_command"]


def add_match_command(
    app: typer.Typer,
    command_cls: Any,
    *,
    network_arg: Any,
    profile_option: Any,
    load_network: Callable[[Path, list[Path] | None], Any],
    say: Callable[[str], None],
    check_writable: Callable[..., None],
    reported_warnings: Callable[[], Any],
) -> None:
    """Register ``geolog match TRACE NETWORK -o OUT`` on ``app``."""

    @app.command("match", cls=command_cls)
    def match_cmd(
        trace_file: Path = typer.Argument(..., help="GPS trace: .gpx, .csv or .parquet"),
        network_file: Path = network_arg,
        output: Path = typer.Option(
            ..., "-o", "--output", help="Matched edges: .geojson, .gpkg, .parquet or .csv"
        ),
        profile: str = profile_option,
        vehicle: str = typer.Option(None, "--vehicle", help="Vehicle to match (several in trace)"),
        sigma: float = typer.Option(20.0, "--sigma", help="GPS error in metres"),
        dem: list[Path] = typer.Option(None, "--dem", help="DEM tile(s) for terrain; repeat"),
    ) -> None:
        """Match a GPS trace onto the roads (HMM); write the matched edges, print a summary."""
        from ._io import file_format
        from .tracking import MATCH_FORMATS, clean_trace, match, read_trace

        file_format(output, MATCH_FORMATS, "a matched trace")
        check_writable(output)
        trace = clean_trace(read_trace(trace_file, vehicle=vehicle))
        net = load_network(network_file, dem)
        with reported_warnings():
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
