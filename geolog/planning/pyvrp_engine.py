"""PyVRP back end: a :class:`~geolog.planning.model.VRPModel` -> ``pyvrp.ProblemData`` -> solution."""

from __future__ import annotations

import logging
import warnings

import numpy as np

from ..errors import SolverError
from .model import UNBOUNDED, RouteSol, VRPModel, VRPSolution

__all__ = ["solve_pyvrp"]

logger = logging.getLogger(__name__)

_I64 = np.iinfo(np.int64).max


def _t(value: int) -> int:
    """Map geolog's "unbounded" onto PyVRP's own default."""
    return _I64 if value >= UNBOUNDED else int(value)


def solve_pyvrp(model: VRPModel, *, time_limit_s: float, seed: int = 0) -> VRPSolution:
    """Solve with PyVRP's iterated local search for ``time_limit_s`` seconds."""
    import pyvrp
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType
    from pyvrp.stop import MaxRuntime

    n_loc = model.n_depots + model.n_clients
    locations = [Location(0, 0) for _ in range(n_loc)]  # coordinates unused: explicit matrices
    depots = [Depot(i) for i in range(model.n_depots)]
    k = model.n_dims
    clients = [
        Client(
            model.loc(c),
            delivery=[int(x) for x in model.demand[c]] if k else [],
            service_duration=int(model.service[c]),
            tw_early=int(model.tw_early[c]),
            tw_late=_t(int(model.tw_late[c])),
            prize=int(model.prize[c]),
            required=bool(model.required[c]),
        )
        for c in range(model.n_clients)
    ]
    vtypes = [
        VehicleType(
            num_available=v.count,
            capacity=list(v.capacity),
            start_depot=v.depot,
            end_depot=v.depot,
            fixed_cost=int(v.fixed_cost),
            tw_early=int(v.tw_early),
            tw_late=_t(v.tw_late),
            shift_duration=_t(v.max_duration),
            unit_distance_cost=int(v.unit_distance_cost),
            unit_duration_cost=int(v.unit_duration_cost),
            profile=v.profile,
            name=v.name,
        )
        for v in model.vehicles
    ]
    dist = [np.ascontiguousarray(d, dtype=np.int64) for d in model.distances]
    dur = [np.ascontiguousarray(d, dtype=np.int64) for d in model.durations]
    from pyvrp.exceptions import PenaltyBoundWarning

    try:
        data = ProblemData(locations, clients, depots, vtypes, dist, dur)
        with warnings.catch_warnings():
            # an infeasible best solution is reported below as a SolverError
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            result = pyvrp.solve(
                data, MaxRuntime(float(time_limit_s)), seed=seed, collect_stats=False, display=False
            )
    except (ValueError, IndexError, OverflowError) as err:
        raise SolverError(f"PyVRP rejected the planning model: {err}") from err
    best = result.best
    if not best.is_feasible():
        raise SolverError(
            "PyVRP found no feasible plan within "
            f"{time_limit_s:g} s (capacity or time limits cannot all be met); "
            "add vehicles, relax windows/shifts, or give stops a penalty so they may be dropped"
        )
    routes: list[RouteSol] = []
    per_type: dict[int, int] = {}
    for r in best.routes():
        vt = r.vehicle_type()
        visits = tuple(a.idx for a in r.schedule() if a.is_client())
        if not visits:
            continue
        n = per_type.get(vt, 0)
        per_type[vt] = n + 1
        routes.append(RouteSol(vt, n, visits))
    served = {c for r in routes for c in r.clients}
    dropped = tuple(c for c in range(model.n_clients) if c not in served)
    logger.debug("pyvrp: cost %s, %d routes, %d dropped", result.cost(), len(routes), len(dropped))
    return VRPSolution(tuple(routes), dropped, "pyvrp", int(result.cost()))
