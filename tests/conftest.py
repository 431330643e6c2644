"""Session fixtures: networks and DEM paths built once from the bundled data."""

from __future__ import annotations

import pytest

import geolog


@pytest.fixture(scope="session")
def andorra() -> geolog.Network:
    return geolog.read_osm(geolog.data.path("andorra"), network="drive")


@pytest.fixture(scope="session")
def liechtenstein() -> geolog.Network:
    return geolog.read_osm(geolog.data.path("liechtenstein"), network="drive")


@pytest.fixture(scope="session")
def andorra_dem_path():
    return geolog.data.dem_path("andorra")


@pytest.fixture(scope="session")
def monaco_dem_path():
    return geolog.data.dem_path("monaco")


@pytest.fixture(scope="session")
def andorra_dem(andorra_dem_path) -> geolog.DEM:
    """The Andorra SRTM tile (its voids are filled: that warning is expected)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", geolog.errors.GeologWarning)
        return geolog.DEM.open(andorra_dem_path)


@pytest.fixture(scope="session")
def andorra_terrain(andorra, andorra_dem) -> geolog.Network:
    """Andorra drive network with terrain."""
    return andorra.with_terrain(andorra_dem)
