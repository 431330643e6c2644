"""One length: km of road counted the same way (each road once) in repr, summary() and the CLI."""

from __future__ import annotations

import re

import geolog
from geolog.cli import main


def test_km_of_road_agrees_everywhere(andorra, capsys, tmp_path):
    e = andorra.edges
    # each road once: a two-way road is two directed rows with swapped ends and equal length
    m = e["length_m"].round(1).astype(str)
    pair = e["u"].astype(str) + ">" + e["v"].astype(str) + ":" + m
    back = e["v"].astype(str) + ">" + e["u"].astype(str) + ":" + m
    twin = back.isin(set(pair))
    once = e.loc[~twin, "length_m"].sum() + e.loc[twin, "length_m"].sum() / 2
    km = float(re.search(r"([\d,.]+) km of road", repr(andorra)).group(1).replace(",", ""))
    directed = float(re.search(r"([\d,.]+) directed km", repr(andorra)).group(1).replace(",", ""))
    assert km == round(andorra.summary()["length_km"], 1)
    assert abs(km - once / 1000) < 0.1
    assert directed == round(e["length_m"].sum() / 1000, 1)
    assert main(["info", str(geolog.data.path("andorra"))]) == 0
    assert f"{km:,.1f}" in capsys.readouterr().out
    argv = ["isochrone", str(geolog.data.path("andorra")), "--from", "42.5063,1.5218"]
    assert main([*argv, "--minutes", "5", "-o", str(tmp_path / "iso.geojson")]) == 0
    assert "directed km of road reached" in capsys.readouterr().out
