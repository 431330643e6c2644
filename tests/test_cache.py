"""One cache registry: geolog.clear_cache() empties every cache geolog keeps."""

from __future__ import annotations

import subprocess
import sys

import pytest

import geolog
from geolog import _cache, _graph, rules

A, B = (42.5078, 1.5211), (42.5440, 1.5140)
AREA = {
    "type": "Polygon",
    "coordinates": [[[1.50, 42.50], [1.55, 42.50], [1.55, 42.55], [1.50, 42.50]]],
}
RULES = {"areas": {"zone": AREA}, "priority": [{"if": "in_area(zone)", "multiply_by": 0.5}]}
EXPECTED = {"network views", "routing graphs", "costed networks", "rule area masks",
            "bundled profiles", "bundled profile files"}  # fmt: skip


def test_clear_cache_empties_every_registered_cache(andorra):
    first = geolog.route(andorra, A, B, profile="car", rules=RULES)
    applied = rules.apply(andorra, "car", RULES)
    graph = _graph.graph_for(applied, "cost")
    assert rules.apply(andorra, "car", RULES) is applied  # cached: the same object
    assert EXPECTED <= set(_cache.registered())
    full = _cache.sizes()
    assert all(full[name] > 0 for name in EXPECTED), full

    geolog.clear_cache()

    assert all(n in (0, None) for n in _cache.sizes().values()), _cache.sizes()
    assert andorra._cache == {}
    again = rules.apply(andorra, "car", RULES)
    assert again is not applied  # recomputed, not served from the cache
    assert _graph.graph_for(again, "cost") is not graph
    # the results do not depend on the caches
    second = geolog.route(andorra, A, B, profile="car", rules=RULES)
    assert second.length_m == first.length_m and second.cost == first.cost
    assert list(second.rows) == list(first.rows)


def test_rules_clear_cache_is_the_one_clear_cache():
    assert rules.clear_cache is geolog.clear_cache is _cache.clear_cache
    assert "clear_cache" in geolog.__all__


def test_clear_cache_by_name(andorra):
    applied = rules.apply(andorra, "car", RULES)
    andorra.fingerprint()  # a network view
    geolog.clear_cache("costed networks")
    assert rules.apply(andorra, "car", RULES) is not applied
    assert "fingerprint" in andorra._cache  # the other caches are kept
    with pytest.raises(geolog.errors.InputError, match="costed networks"):
        geolog.clear_cache("costed netwroks")


def test_every_registered_cache_is_known_by_name():
    """Naming a cache works before its module is imported (fresh interpreter)."""
    code = (
        "import geolog, geolog._cache as c\n"
        "geolog.clear_cache('costed networks', 'opened DEMs')\n"
        "import geolog.rules, geolog.drape, geolog.terrain, geolog.routing, geolog._basemap\n"
        "print(sorted(set(c.registered()) - set(c.KNOWN)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_lru_drops_the_least_recently_used():
    lru = _cache.LRU("test lru", 2)
    try:
        lru.put("a", 1)
        lru.put("b", 2)
        assert lru.get("a") == 1  # "a" is now the most recent
        lru.put("c", 3)
        assert lru.get("b") is None and lru.get("a") == 1 and lru.get("c") == 3
        assert _cache.sizes()["test lru"] == 2
        geolog.clear_cache()
        assert len(lru) == 0
    finally:
        _cache._CLEARERS.pop("test lru", None)


def test_clear_cache_empties_the_base_map_caches(andorra):
    from geolog import _basemap

    assert _basemap.osm_source(andorra) is not None  # checksums the source file
    _basemap.read_basemap(geolog.data.path("andorra"))
    sizes = _cache.sizes()
    assert sizes["base maps"] > 0 and sizes["source checksums"] > 0
    geolog.clear_cache()
    sizes = _cache.sizes()
    assert sizes["base maps"] == 0 and sizes["source checksums"] == 0
