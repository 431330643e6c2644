"""The sample regions bundled in the project's ``data/`` folder.

Real OpenStreetMap extracts and SRTM elevation tiles, small enough to run every
test and notebook offline. ``SOURCES.md`` beside them gives their provenance.

Where the files are (:data:`DATA_DIR`): the ``GEOLOG_DATA`` environment variable
if set; else the ``data/`` folder of a source checkout (the one beside
``pyproject.toml``); else the copy the wheel carries inside the installed
package (``geolog/_data``, about 5 MB), so ``pip install geolog`` has the samples.

Examples
--------
>>> import geolog
>>> geolog.data.path("andorra").name
'andorra.osm.pbf'
>>> geolog.data.dem_path("andorra").name
'N42E001.hgt.zip'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

__all__ = ["DATA_DIR", "Region", "regions", "path", "dem_path", "region"]


def _data_dir() -> Path:
    """``GEOLOG_DATA``, else a checkout's ``data/``, else the copy packaged in the wheel."""
    if os.environ.get("GEOLOG_DATA"):
        return Path(os.environ["GEOLOG_DATA"])
    here = Path(__file__).resolve().parent
    checkout = here.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "data" / "SOURCES.md").is_file():
        return checkout / "data"
    return here / "_data"


#: Folder holding the bundled data; override with the ``GEOLOG_DATA`` variable.
DATA_DIR = _data_dir()


@dataclass(frozen=True)
class Region:
    """One bundled sample region: its OSM extract, its DEM tiles, its provenance."""

    name: str
    osm: Path
    dem: tuple[Path, ...]
    extent: str
    source: str
    terms: str


_OSM = "ODbL 1.0, © OpenStreetMap contributors"
_SRTM = "SRTM3 (NASA/USGS), public domain"
_REGIONS = {
    "andorra": (
        "andorra/andorra.osm.pbf",
        ("andorra/N42E001.hgt.zip",),
        "42.435–42.657 N, 1.422–1.780 E",
        "OSM snapshot 2013-05-28 and SRTM3 tile, via graphhopper/graphhopper core/files @ c058139f",
        f"{_OSM}; {_SRTM}",
    ),
    "monaco": (
        "monaco/monaco.osm.gz",
        ("monaco/N43E007.hgt.zip",),
        "43.51–43.75 N, 7.38–7.50 E",
        "OSM XML extract and SRTM3 tile, via graphhopper/graphhopper core/files @ c058139f",
        f"{_OSM}; {_SRTM}",
    ),
    "liechtenstein": (
        "liechtenstein/liechtenstein.osm.pbf",
        (),
        "47.05–47.27 N, 9.47–9.64 E",
        "OSM snapshot 2015-07-27, via valhalla/valhalla test/data @ 14582d25",
        _OSM,
    ),
    "porto": (
        "porto/porto.osm.pbf",
        (),
        "40.981–41.399 N, 8.795–8.358 W",
        "OSM extract for scaling benchmarks, via conveyal/r5 src/test/resources @ 6f355429",
        _OSM,
    ),
    "west-oakland": (
        "west-oakland/west-oakland.osm.bz2",
        (),
        "37.806–37.809 N, 122.298–122.303 W",
        "tiny OSM XML extract, via gboeing/osmnx tests/input_data @ 74e68ce2",
        _OSM,
    ),
}


def regions() -> list[Region]:
    """List the bundled regions with their files and provenance."""
    return [region(name) for name in _REGIONS]


def region(name: str) -> Region:
    """Return one bundled region by name (``"andorra"``, ``"monaco"``, …)."""
    try:
        osm, dem, extent, source, terms = _REGIONS[name]
    except KeyError:
        raise InputError(
            f"unknown sample region {name!r}; choose one of {', '.join(map(repr, _REGIONS))}"
        ) from None
    return Region(name, DATA_DIR / osm, tuple(DATA_DIR / d for d in dem), extent, source, terms)


def path(name: str) -> Path:
    """Path of the OSM extract of a bundled region."""
    p = region(name).osm
    if not p.exists():
        raise InputError(f"bundled file {p} is missing; is GEOLOG_DATA ({DATA_DIR}) right?")
    return p


def dem_path(name: str) -> Path:
    """Path of the (first) SRTM tile of a bundled region."""
    r = region(name)
    if not r.dem:
        raise InputError(f"no elevation tile is bundled for {name!r}")
    return r.dem[0]
