"""Engine-neutral vehicle-routing model shared by the PyVRP and OR-Tools back ends.

Everything here is integer (metres, seconds, cost units) so both engines see the
very same numbers. Locations are numbered depots first (``0 .. n_depots-1``),
then clients (``n_depots .. n_depots+n_clients-1``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BIG",
    "UNBOUNDED",
    "VehicleSpec",
    "VRPModel",
    "RouteSol",
    "VRPSolution",
    "schedule",
    "to_int",
]

logger = logging.getLogger(__name__)

#: Edge value standing for "no road": larger than any penalty, so a solver always
#: prefers dropping a stop to using such an edge.
BIG = 10**12
#: "No limit" for time windows and durations (kept well below int64 overflow).
UNBOUNDED = 10**13


def to_int(a: np.ndarray) -> np.ndarray:
    """A float matrix of seconds / metres as int64: rounded, ``BIG`` where not finite, 0 diagonal."""
    out = np.where(np.isfinite(a), np.rint(np.minimum(a, BIG)), BIG).astype(np.int64)
    np.fill_diagonal(out, 0)
    return out


@dataclass(frozen=True)
class VehicleSpec:
    """One vehicle type, all values integers (seconds, metres, cost units)."""

    name: str
    count: int
    capacity: tuple[int, ...]
    depot: int  # depot index 0..n_depots-1 (start and end)
    profile: int  # index into VRPModel.distances / durations
    fixed_cost: int = 0
    tw_early: int = 0
    tw_late: int = UNBOUNDED
    max_duration: int = UNBOUNDED
    unit_distance_cost: int = 1
    unit_duration_cost: int = 0


@dataclass
class VRPModel:
    """A capacitated VRP with time windows, several depots, profiles and drops."""

    n_depots: int
    distances: list[np.ndarray]  # per profile, (L, L) int64, BIG where no road
    durations: list[np.ndarray]  # per profile, (L, L) int64, BIG where no road
    demand: np.ndarray  # (C, K) int64
    service: np.ndarray  # (C,) int64
    tw_early: np.ndarray  # (C,) int64
    tw_late: np.ndarray  # (C,) int64
    prize: np.ndarray  # (C,) int64: penalty for leaving the client unserved
    required: np.ndarray  # (C,) bool: must be served (no drop allowed)
    vehicles: list[VehicleSpec] = field(default_factory=list)
    uses_time: bool = True  # False for a plain CVRP (no time dimension needed)

    @property
    def n_clients(self) -> int:
        return int(len(self.service))

    @property
    def n_dims(self) -> int:
        return int(self.demand.shape[1])

    def loc(self, client: int) -> int:
        """Location index of a client."""
        return self.n_depots + client

    def horizon(self) -> int:
        """A finite upper bound on every time value of a sensible schedule."""
        lates = [v.tw_late for v in self.vehicles if v.tw_late < UNBOUNDED]
        lates += [int(t) for t in self.tw_late if t < UNBOUNDED]
        if lates:
            return int(max(lates))
        finite = [d[d < BIG] for d in self.durations]
        worst = max((int(f.max()) if f.size else 0) for f in finite)
        start = max((v.tw_early for v in self.vehicles), default=0)
        return int(start + (self.n_clients + 1) * worst + int(self.service.sum()) + 1)

    def allowed(self, vtype: int) -> np.ndarray:
        """Clients that vehicle type ``vtype`` can reach, serve and bring back (bool, (C,))."""
        v = self.vehicles[vtype]
        locs = self.n_depots + np.arange(self.n_clients)
        dur = self.durations[v.profile]
        ok = (dur[v.depot, locs] < BIG) & (dur[locs, v.depot] < BIG)
        cap = np.asarray(v.capacity, dtype=np.int64)
        if self.n_dims:
            ok &= (self.demand <= cap[None, :]).all(axis=1)
        return ok


@dataclass(frozen=True)
class RouteSol:
    """One used vehicle: its type, its number within the type and its clients in order."""

    vtype: int
    vehicle: int
    clients: tuple[int, ...]


@dataclass(frozen=True)
class VRPSolution:
    """Engine output: routes and the clients left unserved."""

    routes: tuple[RouteSol, ...]
    dropped: tuple[int, ...]
    engine: str
    objective: int  # the engine's own objective value


@dataclass(frozen=True)
class Schedule:
    """Times along one route (seconds): departure, per-stop arrival and service start, return."""

    depart: int
    arrival: np.ndarray
    start: np.ndarray
    end: int
    distance: int
    travel: int
    wait: int
    late: int  # total lateness (service starting after tw_late); 0 in a feasible plan
    load: np.ndarray  # (K,) total delivered


def schedule(model: VRPModel, vtype: int, clients: list[int] | tuple[int, ...]) -> Schedule:
    """Earliest schedule of a route, with the departure pushed as late as waiting allows.

    The vehicle leaves at its shift start, waits where it arrives before a window
    opens, and the departure is then delayed by the largest amount that removes
    waiting without making any stop (or the return) later than its window — the
    classic forward time slack. This minimises the route duration for the order.
    """
    v = model.vehicles[vtype]
    dist = model.distances[v.profile]
    dur = model.durations[v.profile]
    path = [v.depot] + [model.loc(c) for c in clients] + [v.depot]

    def forward(depart: int):
        t = depart
        arr, sta, waits = [], [], []
        for k, c in enumerate(clients):
            t += int(dur[path[k], path[k + 1]])
            arr.append(t)
            s = max(t, int(model.tw_early[c]))
            waits.append(s - t)
            sta.append(s)
            t = s + int(model.service[c])
        t += int(dur[path[-2], path[-1]])
        return arr, sta, waits, t

    arr, sta, waits, end = forward(v.tw_early)
    # forward time slack: a delay d shifts service at stop i by max(0, d - W_i), with W_i
    # the waiting up to and including stop i; keep every stop (and the return) on time
    cum_wait = np.cumsum(waits) if waits else np.zeros(0, dtype=np.int64)
    slack = [
        int(model.tw_late[c]) - s + int(cw) for c, s, cw in zip(clients, sta, cum_wait, strict=True)
    ]
    total_wait = int(sum(waits))
    room_end = v.tw_late - end + total_wait
    delay = max(0, min([total_wait, room_end, *slack]))
    if delay:
        arr, sta, waits, end = forward(v.tw_early + delay)
    depart = v.tw_early + delay
    late = sum(max(0, s - int(model.tw_late[c])) for c, s in zip(clients, sta, strict=True))
    late += max(0, end - v.tw_late)
    distance = int(sum(int(dist[a, b]) for a, b in zip(path[:-1], path[1:], strict=True)))
    travel = int(sum(int(dur[a, b]) for a, b in zip(path[:-1], path[1:], strict=True)))
    load = model.demand[list(clients)].sum(axis=0) if clients else np.zeros(model.n_dims, np.int64)
    return Schedule(
        depart=depart,
        arrival=np.asarray(arr, dtype=np.int64),
        start=np.asarray(sta, dtype=np.int64),
        end=end,
        distance=distance,
        travel=travel,
        wait=int(sum(waits)),
        late=int(late),
        load=np.asarray(load, dtype=np.int64),
    )
