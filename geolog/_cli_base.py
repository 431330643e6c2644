"""What the ``geolog`` commands share: the app, consoles, option declarations, printing.

Private to :mod:`geolog.cli` and its command modules (``_cli_route``,
``_cli_match``): text from data is printed through :func:`_t` (rich markup and
non-printable characters escaped).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand

from ._io import check_writable
from .errors import GeologWarning

__all__ = ["app", "console", "out", "load_network"]

app = typer.Typer(
    name="geolog",
    help="Terrain-costed road networks, route rules, routing, planning and offline map briefings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console(stderr=True)
out = Console()

# Declarations shared by several commands (typer reads them; they hold no state).
_NETWORK_ARG = typer.Argument(..., help="Saved network (.parquet) or OSM file")
_RULES_OPTION = typer.Option(None, "--rules", help="Route rules YAML")
_PROFILE_OPTION = typer.Option(
    None,
    "--profile",
    "-p",
    help="car, truck, foot, tracked or a YAML path (default: the rules' or car)",
)


class _Command(TyperCommand):
    """A command whose help names arguments plainly: ``OSM_FILE``, not ``{osm_file} <path>``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [p.replace("{", "").replace("}", "") for p in super().collect_usage_pieces(ctx)]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        for param in self.params:
            if isinstance(param, TyperArgument):
                param.display_type_rich = lambda ctx: None  # the type is in the help text
        super().format_help(ctx, formatter)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        out.print(f"geolog {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print geolog's version and exit.",
        callback=_version,
        is_eager=True,
    ),
) -> None:
    """Terrain-costed road networks, route rules, routing, planning and offline map briefings."""


def _printable(value: object) -> str:
    """``str(value)`` with non-printable characters (terminal escape sequences, bidi
    controls) written as ``\\x1b``-style escapes."""
    s = str(value)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in s)


def _t(value: object) -> str:
    """Data text for rich: markup escaped and non-printable characters escaped."""
    return escape(_printable(value))


class _PlainFormatter(logging.Formatter):
    """Log records as one line, with non-printable characters from data escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(_printable(line) for line in super().format(record).splitlines())


def _line(message: object) -> str:
    """One terminal line: whitespace runs (newlines too) become one space, then :func:`_t`."""
    return _t(" ".join(str(message).split()))


def _print_warnings(messages: Iterable[object]) -> None:
    """Print each distinct warning once, one line each, on stderr."""
    for msg in dict.fromkeys(str(m) for m in messages):
        console.print(f"[yellow]warning:[/] {_line(msg)}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _reported_warnings() -> Iterator[None]:
    """Collect the geolog warnings raised in the block and print them after it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GeologWarning)
        yield
    _print_warnings(w.message for w in caught)


def _writable(*paths: Path | None) -> None:
    """Check every output path before any work (missing or read-only folders)."""
    for path in paths:
        if path is not None:
            check_writable(path)


def _progress() -> Any:
    """A spinner with the current step and elapsed time on stderr (only on a terminal)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,  # no blank line in logs and pipes
    )


def load_network(path: Path, network: str = "drive"):
    """Open a saved network (``.parquet``) or build one from an OSM file."""
    from . import load, read_osm

    if path.suffix == ".parquet":
        return load(path)
    return read_osm(path, network=network)


def _routing_network(network_file: Path, dem: list[Path] | None):

    with _reported_warnings():
        net = load_network(network_file)
        if dem:
            from .terrain import DEM

            net = net.with_terrain(DEM.open(dem))
    return net
