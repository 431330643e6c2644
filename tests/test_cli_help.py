"""CLI help and usage: plain help texts, --version, one-line usage errors with exit 2."""

from __future__ import annotations

import pytest

from geolog import __version__
from geolog.cli import main

COMMANDS = [[], ["build"], ["info"], ["terrain"], ["plan"], ["route"], ["isochrone"], ["brief"]]
COMMANDS += [["rules"], ["rules", "check"]]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "geolog")
def test_help_has_no_python_types_or_braces(cmd, capsys):
    assert main([*cmd, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Usage: geolog")
    for bad in ("<bool>", "<str>", "<path>", "<float>", "<int>", "list[", "{", "}"):
        assert bad not in text, (bad, text)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"geolog {__version__}\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["rules", "explain"],
        ["route", "x.osm.pbf", "--from", "42.5,1.5"],
        ["brief", "x.osm.pbf", "--nope"],
        ["--versions"],
        ["plan"],
    ],
    ids=["rules explain", "missing --to", "unknown option", "unknown root option", "no args"],
)
def test_usage_errors_are_one_line_exit_2(argv, capsys):
    assert main(argv) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in cap.err
