"""OR-Tools back end: a :class:`~geolog.planning.model.VRPModel` -> ``RoutingModel`` -> solution.

Nodes are the model's locations (depots first, then clients). Each vehicle gets
the transit matrix of its routing profile; time windows, shifts and maximum
durations live in one time dimension, each load dimension in its own capacity
dimension, and droppable clients in single-node disjunctions with their prize.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from ..errors import SolverError
from .model import BIG, UNBOUNDED, RouteSol, VRPModel, VRPSolution

__all__ = ["solve_ortools"]

logger = logging.getLogger(__name__)


def solve_ortools(model: VRPModel, *, time_limit_s: float, seed: int = 0) -> VRPSolution:
    """Solve with OR-Tools' routing solver (guided local search) for ``time_limit_s`` seconds."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    del seed  # OR-Tools' routing search is deterministic for a fixed model
    nd, nc = model.n_depots, model.n_clients
    n_nodes = nd + nc
    owner: list[tuple[int, int]] = []  # vehicle -> (type, number within type)
    for t, v in enumerate(model.vehicles):
        owner += [(t, i) for i in range(v.count)]
    n_veh = len(owner)
    starts = [model.vehicles[t].depot for t, _ in owner]
    manager = pywrapcp.RoutingIndexManager(n_nodes, n_veh, starts, starts)
    routing = pywrapcp.RoutingModel(manager)

    service = np.zeros(n_nodes, dtype=np.int64)
    service[nd:] = model.service

    # one arc-cost and one time-transit matrix per (profile, unit costs) actually used
    cost_cb: dict[tuple[int, int, int], int] = {}
    time_cb: dict[int, int] = {}
    for v in model.vehicles:
        key = (v.profile, v.unit_distance_cost, v.unit_duration_cost)
        if key not in cost_cb:
            dist = model.distances[v.profile].astype(np.int64)
            travel = model.durations[v.profile].astype(np.int64) + service[:, None]
            cost = v.unit_distance_cost * dist + v.unit_duration_cost * travel
            cost = np.minimum(cost, BIG)
            cost_cb[key] = routing.RegisterTransitMatrix(cost.tolist())
        if model.uses_time and v.profile not in time_cb:
            travel = model.durations[v.profile].astype(np.int64) + service[:, None]
            time_cb[v.profile] = routing.RegisterTransitMatrix(np.minimum(travel, BIG).tolist())
    for k, (t, _) in enumerate(owner):
        v = model.vehicles[t]
        routing.SetArcCostEvaluatorOfVehicle(
            cost_cb[(v.profile, v.unit_distance_cost, v.unit_duration_cost)], k
        )
        if v.fixed_cost:
            routing.SetFixedCostOfVehicle(int(v.fixed_cost), k)

    for d in range(model.n_dims):
        vec = np.zeros(n_nodes, dtype=np.int64)
        vec[nd:] = model.demand[:, d]
        cb = routing.RegisterUnaryTransitVector(vec.tolist())
        caps = [int(model.vehicles[t].capacity[d]) for t, _ in owner]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, f"load{d}")

    if model.uses_time:
        _add_time(model, routing, manager, owner, time_cb)

    ok_by_type = [model.allowed(t) for t in range(len(model.vehicles))]
    for c in range(nc):
        idx = manager.NodeToIndex(nd + c)
        banned = [k for k, (t, _) in enumerate(owner) if not ok_by_type[t][c]]
        if banned:  # (SetAllowedVehiclesForIndex does not take a list in the 9.15 wrapper)
            routing.VehicleVar(idx).RemoveValues(banned)
        if not model.required[c]:
            routing.AddDisjunction([idx], int(model.prize[c]))

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    secs = max(float(time_limit_s), 0.001)
    params.time_limit.seconds = int(secs)
    params.time_limit.nanos = int((secs - math.floor(secs)) * 1e9)
    solution = routing.SolveWithParameters(params)
    if solution is None:
        raise SolverError(
            f"OR-Tools found no feasible plan within {time_limit_s:g} s "
            f"(status {routing.status()}); add vehicles, relax windows/shifts, "
            "or give stops a penalty so they may be dropped"
        )
    return _read_routes(model, routing, manager, owner, solution)


def _add_time(model: VRPModel, routing, manager, owner: list[tuple[int, int]], time_cb) -> None:
    """One time dimension: client windows, shifts, maximum durations, waiting at route cost."""
    nd, nc = model.n_depots, model.n_clients
    horizon = model.horizon()
    cbs = [time_cb[model.vehicles[t].profile] for t, _ in owner]
    routing.AddDimensionWithVehicleTransits(cbs, horizon, horizon, False, "time")
    time = routing.GetDimensionOrDie("time")
    for c in range(nc):
        idx = manager.NodeToIndex(nd + c)
        late = min(int(model.tw_late[c]), horizon)
        time.CumulVar(idx).SetRange(int(model.tw_early[c]), late)
    for k, (t, _) in enumerate(owner):
        v = model.vehicles[t]
        late = min(v.tw_late, horizon)
        time.CumulVar(routing.Start(k)).SetRange(int(v.tw_early), late)
        time.CumulVar(routing.End(k)).SetRange(int(v.tw_early), late)
        if v.max_duration < UNBOUNDED:
            time.SetSpanUpperBoundForVehicle(int(v.max_duration), k)
        if v.unit_duration_cost:
            time.SetSlackCostCoefficientForVehicle(int(v.unit_duration_cost), k)
        routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(k)))
        routing.AddVariableMaximizedByFinalizer(time.CumulVar(routing.Start(k)))


def _read_routes(model: VRPModel, routing, manager, owner, solution) -> VRPSolution:
    """Routes of the used vehicles, renumbered 0.. within each type like the PyVRP back end."""
    nd, nc = model.n_depots, model.n_clients
    routes: list[RouteSol] = []
    for k, (t, i) in enumerate(owner):
        idx = solution.Value(routing.NextVar(routing.Start(k)))
        visits = []
        while not routing.IsEnd(idx):
            visits.append(manager.IndexToNode(idx) - nd)
            idx = solution.Value(routing.NextVar(idx))
        if visits:
            routes.append(RouteSol(t, i, tuple(visits)))
    served = {c for r in routes for c in r.clients}
    dropped = tuple(c for c in range(nc) if c not in served)
    # renumber vehicles within each type 0.. in order of use, like the PyVRP back end
    seen: dict[int, int] = {}
    renum = []
    for r in routes:
        n = seen.get(r.vtype, 0)
        seen[r.vtype] = n + 1
        renum.append(RouteSol(r.vtype, n, r.clients))
    logger.debug("ortools: objective %s, %d routes", solution.ObjectiveValue(), len(renum))
    return VRPSolution(tuple(renum), dropped, "ortools", int(solution.ObjectiveValue()))
