"""Tests for geolog.distribution: both engines, one independent validator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from geolog.distribution import solve_cvrp
from geolog.errors import InputError, SolverError

CVRPLIB = Path(__file__).resolve().parent.parent / "data" / "cvrplib"
ENGINES = ["pyvrp", "ortools"]


# ---------------------------------------------------------------- independent oracles


def check_cvrp(matrix, demands, capacity, depot, routes, cost):
    """Independent CVRP validator: every client exactly once, loads, cost from the matrix."""
    n = len(matrix)
    visited = sorted(c for r in routes for c in r)
    assert visited == [i for i in range(n) if i != depot], "each client exactly once, no depot"
    for r in routes:
        assert r, "no empty routes"
        assert sum(demands[c] for c in r) <= capacity, f"route {r} over capacity"
    total = 0
    for r in routes:
        prev = depot
        for c in r:
            total += round(matrix[prev][c])
            prev = c
        total += round(matrix[prev][depot])
    assert total == cost, f"reported cost {cost} != recomputed {total}"
    return total


def read_cvrplib(name):
    import vrplib

    inst = vrplib.read_instance(str(CVRPLIB / f"{name}.vrp"), compute_edge_weights=True)
    best = json.loads((CVRPLIB / "best_known.json").read_text())[name]
    return inst, best


def random_instance(n, seed):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, size=(n, 2))
    m = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    d = rng.integers(1, 10, size=n)
    return m, d


# ---------------------------------------------------------------- plain-matrix core


@pytest.mark.parametrize("engine", ENGINES)
def test_cvrp_both_engines_feasible_with_recomputed_cost(engine):
    m, d = random_instance(25, seed=1)
    d[3] = 0
    routes, cost = solve_cvrp(m, d, 30, depot=3, time_limit_s=1, engine=engine)
    check_cvrp(m, d, 30, 3, routes, cost)


def test_cvrp_tiny_by_hand():
    # square of side 10, depot at a corner, capacity 3 -> one tour of the perimeter
    pts = np.array([[0, 0], [0, 10], [10, 0], [10, 10]])
    m = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    for engine in ENGINES:
        routes, cost = solve_cvrp(m, [0, 1, 1, 1], 3, time_limit_s=0.3, engine=engine)
        assert cost == 40
        assert len(routes) == 1
        # capacity 1: three out-and-back trips, 20 + 2*10*sqrt(2) rounded + 20
        routes, cost = solve_cvrp(m, [0, 1, 1, 1], 1, time_limit_s=0.3, engine=engine)
        assert cost == 20 + 2 * round(10 * 2**0.5) + 20
        assert len(routes) == 3


def test_cvrp_pyvrp_close_to_best_known_e_n22_k4():
    inst, best = read_cvrplib("E-n22-k4")
    depot = int(np.atleast_1d(inst["depot"])[0])
    routes, cost = solve_cvrp(
        inst["edge_weight"], inst["demand"], inst["capacity"], depot=depot, time_limit_s=2
    )
    check_cvrp(inst["edge_weight"], inst["demand"], inst["capacity"], depot, routes, cost)
    assert cost <= best * 1.01
    assert cost >= best  # a lower cost than the proven optimum would mean a wrong cost


def test_cvrp_ortools_on_cvrplib_is_feasible():
    inst, best = read_cvrplib("A-n32-k5")
    depot = int(np.atleast_1d(inst["depot"])[0])
    routes, cost = solve_cvrp(
        inst["edge_weight"],
        inst["demand"],
        inst["capacity"],
        depot=depot,
        time_limit_s=1,
        engine="ortools",
    )
    check_cvrp(inst["edge_weight"], inst["demand"], inst["capacity"], depot, routes, cost)
    assert best <= cost <= best * 1.10


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(demands=[0, -1, 1, 1]), InputError),
        (dict(demands=[0, 5, 1, 1]), InputError),  # above capacity 3
        (dict(demands=[0, 1, 1]), InputError),  # wrong length
        (dict(engine="gurobi"), InputError),
        (dict(time_limit_s=0), InputError),
        (dict(n_vehicles=1, capacity=1), SolverError),  # 3 units, 1 vehicle of 1
    ],
)
def test_cvrp_bad_input(kwargs, error):
    pts = np.array([[0, 0], [0, 10], [10, 0], [10, 10]])
    m = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    args = dict(matrix=m, demands=[0, 1, 1, 1], capacity=3, time_limit_s=0.2)
    args.update(kwargs)
    matrix, demands, capacity = args.pop("matrix"), args.pop("demands"), args.pop("capacity")
    with pytest.raises(error):
        solve_cvrp(matrix, demands, capacity, **args)


def test_cvrp_unreachable_node_is_an_error():
    m = np.ones((4, 4)) - np.eye(4)
    m[0, 2] = m[1, 2] = m[3, 2] = np.inf
    with pytest.raises(SolverError, match=r"\[2\]"):
        solve_cvrp(m, [0, 1, 1, 1], 3, time_limit_s=0.2)
