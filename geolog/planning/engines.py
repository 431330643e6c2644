"""Solving an engine-neutral model with PyVRP or OR-Tools, and the plain-matrix CVRP.

:func:`solve_cvrp` solves a capacitated VRP on a matrix (checkable on CVRPLIB
instances); :func:`solve_model` hands a :class:`~geolog.planning.model.VRPModel`
to the chosen engine. Both engines receive the same integer model (metres,
seconds, cost units).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import InputError, SolverError
from .model import BIG, VehicleSpec, VRPModel, VRPSolution, to_int

__all__ = ["ENGINES", "check_engine", "check_time_limit", "solve_cvrp", "solve_model"]

#: Planning engines; ``"pyvrp"`` (hybrid/iterated local search) is the default.
ENGINES = ("pyvrp", "ortools")


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(map(repr, ENGINES))}, not {engine!r}")
    return engine


def check_time_limit(time_limit_s: float) -> float:
    try:
        t = float(time_limit_s)
    except (TypeError, ValueError):
        t = float("nan")
    if not (t > 0 and math.isfinite(t)):
        raise InputError(f"time_limit_s must be a positive number of seconds, not {time_limit_s!r}")
    return t


def solve_model(
    model: VRPModel, *, engine: str = "pyvrp", time_limit_s: float = 10, seed: int = 0
) -> VRPSolution:
    """Solve an engine-neutral :class:`~geolog.planning.model.VRPModel` (advanced use)."""
    check_engine(engine)
    t = check_time_limit(time_limit_s)
    if engine == "pyvrp":
        from .pyvrp_engine import solve_pyvrp

        return solve_pyvrp(model, time_limit_s=t, seed=seed)
    from .ortools_engine import solve_ortools

    return solve_ortools(model, time_limit_s=t, seed=seed)


def _ffd_bins(demands: np.ndarray, capacity: int) -> int:
    """Number of vehicles first-fit-decreasing packing needs (a feasible fleet size)."""
    loads: list[int] = []
    for d in sorted((int(x) for x in demands), reverse=True):
        for i, used in enumerate(loads):
            if used + d <= capacity:
                loads[i] += d
                break
        else:
            loads.append(d)
    return max(len(loads), 1)


def solve_cvrp(
    matrix: np.ndarray | Sequence[Sequence[float]],
    demands: np.ndarray | Sequence[float],
    capacity: int,
    *,
    depot: int = 0,
    n_vehicles: int | None = None,
    time_limit_s: float = 10,
    engine: str = "pyvrp",
    seed: int = 0,
) -> tuple[list[list[int]], float]:
    """Solve a capacitated vehicle routing problem on a cost matrix.

    Parameters
    ----------
    matrix
        Square ``(n, n)`` matrix of arc costs (e.g. metres or seconds), not
        necessarily symmetric. Non-integer values are rounded to the nearest
        integer (the CVRPLIB convention); ``inf`` means no arc.
    demands
        Demand of each of the ``n`` nodes (the depot's is ignored), non-negative.
    capacity
        Capacity of every vehicle, in the demand's unit.
    depot
        Index of the depot node.
    n_vehicles
        Number of available vehicles; ``None`` means as many as needed.
    time_limit_s
        Wall-clock time limit of the search, seconds.
    engine
        ``"pyvrp"`` (default) or ``"ortools"``.
    seed
        Random seed (PyVRP).

    Returns
    -------
    routes, cost
        ``routes`` lists, per used vehicle, the visited node indices in order
        (depot excluded); ``cost`` is the total of the (rounded) matrix over
        all routes, depot to depot.

    Raises
    ------
    InputError
        Malformed matrix or demands, negative demand, a demand above capacity.
    SolverError
        No feasible solution (too few vehicles, unreachable node).

    Examples
    --------
    >>> import numpy as np
    >>> from geolog.distribution import solve_cvrp
    >>> pts = np.array([[0, 0], [0, 10], [10, 0], [10, 10]])
    >>> d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    >>> routes, cost = solve_cvrp(d, [0, 1, 1, 1], capacity=3, time_limit_s=0.2)
    >>> cost
    40.0
    """
    check_engine(engine)
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 2:
        raise InputError(f"matrix must be square (n, n) with n >= 2, got shape {m.shape}")
    n = m.shape[0]
    if np.isnan(m).any() or (m < 0).any():
        raise InputError("matrix holds NaN or negative values; use inf for a missing arc")
    dem = np.asarray(demands, dtype=float)
    if dem.shape != (n,):
        raise InputError(f"demands must have one value per node ({n}), got shape {dem.shape}")
    if not np.isfinite(dem).all() or (dem < 0).any():
        bad = np.flatnonzero(~np.isfinite(dem) | (dem < 0))[:5].tolist()
        raise InputError(f"demands must be finite and non-negative; bad nodes {bad}")
    if not 0 <= depot < n:
        raise InputError(f"depot {depot} is not a node index 0..{n - 1}")
    if not capacity or capacity <= 0:
        raise InputError(f"capacity must be positive, not {capacity!r}")
    order = [depot] + [i for i in range(n) if i != depot]
    im = to_int(m)[np.ix_(order, order)]
    cdem = np.rint(dem[order[1:]]).astype(np.int64)
    cap = int(round(capacity))
    if (cdem > cap).any():
        bad = [order[1 + i] for i in np.flatnonzero(cdem > cap)[:5]]
        raise InputError(f"nodes {bad} demand more than the vehicle capacity {cap}")
    unreachable = np.flatnonzero((im[0, 1:] >= BIG) | (im[1:, 0] >= BIG))
    if unreachable.size:
        bad = [order[1 + i] for i in unreachable[:5]]
        raise SolverError(f"nodes {bad} cannot be reached from / return to the depot {depot}")
    nc = n - 1
    if n_vehicles is None:
        n_veh = nc if engine == "pyvrp" else min(nc, _ffd_bins(cdem, cap) + 2)
    else:
        n_veh = int(n_vehicles)
        if n_veh < 1:
            raise InputError(f"n_vehicles must be at least 1, not {n_vehicles!r}")
    if n_veh * cap < int(cdem.sum()):
        raise SolverError(
            f"{n_veh} vehicles of capacity {cap} cannot carry the total demand {int(cdem.sum())}; "
            "add vehicles"
        )
    model = VRPModel(
        n_depots=1,
        distances=[im],
        durations=[np.zeros_like(im)],
        demand=cdem[:, None],
        service=np.zeros(nc, np.int64),
        tw_early=np.zeros(nc, np.int64),
        tw_late=np.full(nc, 10**13, np.int64),
        prize=np.zeros(nc, np.int64),
        required=np.ones(nc, bool),
        vehicles=[VehicleSpec("vehicle", n_veh, (cap,), 0, 0)],
        uses_time=False,
    )
    sol = solve_model(model, engine=engine, time_limit_s=time_limit_s, seed=seed)
    if sol.dropped:
        raise SolverError(f"{len(sol.dropped)} nodes left unserved; add vehicles")
    routes = [[order[1 + c] for c in r.clients] for r in sol.routes]
    cost = 0
    for r in routes:
        path = [depot, *r, depot]
        cost += int(np.rint(m[path[:-1], path[1:]]).sum())
    return routes, float(cost)
