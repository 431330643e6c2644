"""Contraction hierarchies on the turn graph, checked against plain Dijkstra and A*.

- the compiled many-to-many (buckets) equals one Dijkstra per source
  (:func:`geolog._turn_kernels.one_to_many`) in cost, time and length, for
  sources and targets of several states with their own initial costs;
- a hierarchy route is a chain of the turn graph's arcs whose weights sum to
  the cost, and that cost is Dijkstra's;
- on Andorra with terrain (truck, a grade rule) and Liechtenstein (car, its
  turn restrictions), ``geolog.route`` gives A*'s costs with and without the
  hierarchy, and ``geolog.matrix`` Dijkstra's numbers;
- the policy: small graphs build at the first route, large ones once A* has
  worked as long as the build, big matrices at once, ``geolog.prepare`` now.
"""

from __future__ import annotations

import numpy as np
import pytest

import geolog
from geolog import _turn_ch as ch
from geolog import _turn_search as ts
from geolog._graph import graph_for
from geolog._turn_kernels import one_to_many
from geolog._turns import turn_graph

RULES = {
    "priority": [{"if": "highway in ('track', 'service')", "multiply_by": 0.5}],
    "speed": [{"if": "surface in ('gravel', 'unpaved')", "limit_to": 30}],
}
GRADE_RULES = {"profile": "truck", "priority": [{"if": "max_grade > 0.10", "multiply_by": 0}]}


@pytest.fixture(scope="module")
def li_tg(liechtenstein):
    g = graph_for(geolog.rules.apply(liechtenstein, "car", RULES), "cost")
    return turn_graph(g)


def _live(tg) -> np.ndarray:
    """States with ways in and out (a search can start and end there)."""
    return np.flatnonzero((np.diff(tg.indptr) > 0) & (np.diff(tg.rindptr) > 0))


def _sides(rng, states, k: int) -> tuple[np.ndarray, ...]:
    """``k`` random sides of one or two states each, with random initial cost/time/length."""
    sizes = rng.integers(1, 3, k)
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    st = rng.choice(states, ptr[-1]).astype(np.int64)
    return (
        ptr,
        st,
        rng.uniform(0, 30, ptr[-1]),
        rng.uniform(0, 20, ptr[-1]),
        rng.uniform(0, 99, ptr[-1]),
    )


def test_buckets_equal_one_dijkstra_per_source(li_tg):
    tg = li_tg
    h = ch.build(tg)
    assert h.shortcuts > 0 and len(h.rank) == tg.n
    assert sorted(h.rank) == list(range(tg.n))  # every state contracted once
    rng = np.random.default_rng(3)
    src, tgt = _sides(rng, _live(tg), 60), _sides(rng, _live(tg), 45)
    forward = (tg.indptr, tg.indices, tg.data, tg.arc_src, tg.arc_time, tg.arc_len)
    want = one_to_many(*forward, *src, *tgt, np.inf)
    got = ch.many(h, src, tgt)
    assert np.isfinite(want[0]).mean() > 0.9  # a real test: most pairs connect
    for w, g in zip(want, got, strict=True):
        np.testing.assert_array_equal(np.isfinite(w), np.isfinite(g))
        ok = np.isfinite(w)
        np.testing.assert_allclose(g[ok], w[ok], rtol=1e-9, atol=1e-6)
    # a cost limit leaves the pairs beyond it unreached, as Dijkstra's
    lim = float(np.nanmedian(np.where(np.isfinite(want[0]), want[0], np.nan)))
    cut = ch.many(h, src, tgt, lim)[0]
    np.testing.assert_array_equal(np.isfinite(cut), want[0] <= lim)


def test_hierarchy_routes_are_arc_chains_costing_dijkstras_least(li_tg):
    tg = li_tg
    h = ch.build(tg)
    scratch = ch.scratch(h)
    rng = np.random.default_rng(11)
    states = _live(tg)
    for _ in range(150):
        fs, ts_ = rng.choice(states, 2), rng.choice(states, 2)
        fc, tc = rng.uniform(0, 30, 2), rng.uniform(0, 30, 2)
        src = (np.array([0, 2]), fs, fc, fc, fc)
        tgt = (np.array([0, 2]), ts_, tc, tc, tc)
        want = one_to_many(tg.indptr, tg.indices, tg.data, tg.arc_src, tg.data, tg.data, *src, *tgt, np.inf)[0][0, 0]  # fmt: skip
        cost, arcs, i, j = ch.route(h, fs, fc, ts_, tc, scratch)
        if not np.isfinite(want):
            assert not np.isfinite(cost) and i == -1
            continue
        assert cost == pytest.approx(want, rel=1e-9, abs=1e-6)
        chain = np.concatenate([[fs[i]], tg.indices[arcs]])
        np.testing.assert_array_equal(tg.arc_src[arcs], chain[:-1])  # each arc leaves the last
        assert chain[-1] == ts_[j]
        assert fc[i] + tg.data[arcs].sum() + tc[j] == pytest.approx(cost, rel=1e-9, abs=1e-6)
    assert np.isinf(scratch[0]).all() and np.isinf(scratch[1]).all()  # scratch restored


def _costs(net, pts, *, profile, rules) -> list[float]:
    """Route cost per pair of points (inf where a point is off the usable roads or cut off)."""
    out = []
    for a, b in pts:
        try:
            out.append(geolog.route(net, a, b, profile=profile, rules=rules).cost)
        except (geolog.errors.NoRouteError, geolog.errors.InputError):
            out.append(np.inf)
    return out


@pytest.mark.parametrize(
    ("region", "profile", "rules"),
    [("andorra_terrain", "truck", GRADE_RULES), ("liechtenstein", "car", RULES)],
)
def test_routes_cost_the_same_with_and_without_the_hierarchy(
    request, monkeypatch, region, profile, rules
):
    net = request.getfixturevalue(region)
    applied = geolog.rules.apply(net, profile, rules)
    rng = np.random.default_rng(5)
    xy = applied.nodes[["y", "x"]].to_numpy()
    pts = [(tuple(xy[i]), tuple(xy[j])) for i, j in rng.integers(0, len(xy), (60, 2))]
    geolog.clear_cache("routing graphs")
    monkeypatch.setattr(ts, "EAGER_STATES", 0)
    astar = _costs(net, pts, profile=profile, rules=rules)
    tg = turn_graph(graph_for(geolog.rules.apply(net, profile, rules), "cost"))
    assert "ch" not in tg._work and tg._work["astar_work"] > 0
    info = geolog.prepare(net, profile=profile, rules=rules)
    assert "ch" in tg._work and info["shortcuts"] == tg._work["ch"].shortcuts
    assert info["states"] == tg.n and info["seconds"] > 0
    assert geolog.prepare(net, profile=profile, rules=rules)["shortcuts"] == info["shortcuts"]
    hier = _costs(net, pts, profile=profile, rules=rules)
    assert np.isfinite(astar).sum() >= 40
    np.testing.assert_allclose(hier, astar, rtol=1e-9, atol=1e-6)


def test_matrix_by_buckets_equals_the_dijkstras(liechtenstein, monkeypatch):
    applied = geolog.rules.apply(liechtenstein, "car", RULES)
    rng = np.random.default_rng(8)
    xy = applied.nodes[["y", "x"]].to_numpy()
    pts = [tuple(p) for p in xy[rng.choice(len(xy), 40, replace=False)]]
    geolog.clear_cache("routing graphs")
    monkeypatch.setattr(ts, "EAGER_STATES", 0)
    plain = geolog.matrix(liechtenstein, pts, profile="car", rules=RULES)
    tg = turn_graph(graph_for(geolog.rules.apply(liechtenstein, "car", RULES), "cost"))
    assert "ch" not in tg._work
    monkeypatch.setattr(ts, "MATRIX_SOURCES", 40)  # this matrix is now big enough to build it
    fast = geolog.matrix(liechtenstein, pts, profile="car", rules=RULES)
    assert "ch" in tg._work
    for name in ("durations_s", "distances_m"):
        a, b = getattr(plain, name), getattr(fast, name)
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b))
        np.testing.assert_allclose(b[np.isfinite(b)], a[np.isfinite(a)], rtol=1e-9, atol=1e-6)


def test_a_large_graph_builds_once_its_searches_have_paid_for_it(liechtenstein, monkeypatch):
    geolog.clear_cache("routing graphs")
    monkeypatch.setattr(ts, "EAGER_STATES", 0)
    monkeypatch.setattr(ts, "BUILD_WORK", 1)  # build once A* touched as many states as the graph
    applied = geolog.rules.apply(liechtenstein, "car", RULES)
    tg = turn_graph(graph_for(applied, "cost"))
    xy = applied.nodes[["y", "x"]].to_numpy()
    rng = np.random.default_rng(2)
    built_at = None
    for k in range(400):
        before = tg._work.get("astar_work", 0)
        i, j = rng.integers(0, len(xy), 2)
        try:
            geolog.route(liechtenstein, tuple(xy[i]), tuple(xy[j]), profile="car", rules=RULES)
        except geolog.errors.NoRouteError:
            continue
        if "ch" in tg._work:
            built_at = k
            break
        assert before < tg.n  # not yet paid for: the query ran A*
    assert built_at is not None and built_at > 0
    assert before >= tg.n  # the query that built it found the work done
