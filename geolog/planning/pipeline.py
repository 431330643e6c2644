"""The planning pipeline behind :func:`geolog.plan`: named steps from inputs to a Plan.

1. :func:`_read_problem` checks depots, stops and fleet;
2. :func:`_add_travel` computes travel matrices per vehicle profile
   (:func:`geolog.routing.matrix`, through :mod:`geolog.planning.legs`);
3. :func:`_screen_stops` finds the stops no vehicle could serve, whatever the
   others do, and why;
4. :func:`_build_model` writes the engine-neutral integer model over the rest;
5. :func:`geolog.planning.engines.solve_model` solves it (PyVRP or OR-Tools);
6. :func:`_tables` re-times every route with one schedule code;
7. :func:`_leg_geometries` draws the road path of every leg;
8. :func:`_assemble` builds the :class:`~geolog.planning.result.Plan`.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..errors import GeologWarning
from .engines import check_engine, check_time_limit, solve_model
from .inputs import FleetType, read_fleet, read_sites, stop_table
from .legs import leg_geometry, travel
from .model import BIG, UNBOUNDED, VehicleSpec, VRPModel, VRPSolution, schedule, to_int
from .result import _REASONS, Plan

__all__ = ["plan"]

logger = logging.getLogger(__name__)


def plan(
    net: Any,
    depots: Any,
    stops: Any,
    fleet: Any,
    *,
    rules: Any = None,
    time_limit_s: float = 10,
    engine: str = "pyvrp",
    seed: int = 0,
    geometry: bool = True,
) -> Plan:
    """Plan deliveries from depots to stops with a heterogeneous fleet on a road network.

    Travel times come from :func:`geolog.routing.matrix` under each vehicle
    type's profile and the route rules, so a truck that may not climb a grade
    takes the long way round or cannot serve a site. Stops that cannot be
    served are reported with the reason (see :data:`UNSERVED_REASONS`).

    Parameters
    ----------
    net
        A :class:`geolog.Network`.
    depots
        GeoDataFrame of points, list of dicts / DataFrame with ``lat``, ``lon``
        (degrees), or a GeoJSON path; ``id`` or ``name`` identifies each depot.
    stops
        Like ``depots``, with optional columns ``demand`` (a number, or a list
        for several dimensions; or columns ``demand_<dim>`` such as
        ``demand_kg``, ``demand_pallets``), ``service_s`` (seconds on site),
        ``tw_start_s`` / ``tw_end_s`` (time window for the start of service,
        seconds from the same origin as the shifts, e.g. midnight),
        ``penalty`` (cost of leaving the stop unserved; missing = the stop
        must be served if at all possible) and ``priority`` (> 0, scales the
        must-serve penalty). Demands are rounded to whole units.
    fleet
        List of vehicle types (dicts), ``{"vehicles": [...]}``, or a YAML file
        / text of the same. Keys: ``name``, ``count``, ``capacity`` (one value
        per demand dimension), ``profile`` (``car``, ``truck`` …), ``depot``
        (depot id; start and end), ``shift_start_s``, ``shift_end_s``,
        ``max_duration_s``, ``fixed_cost``.
    rules
        Route rules (see :func:`geolog.rules.load_rules`) applied to every profile.
    time_limit_s
        Solver time limit, seconds (the whole solve never runs longer).
    engine
        ``"pyvrp"`` (default) or ``"ortools"``.
    seed
        Random seed (PyVRP).
    geometry
        Build the road geometry of every leg (one route query per leg).

    Returns
    -------
    Plan
        The objective minimised is total route time in seconds (driving,
        service and waiting) plus vehicles' fixed costs plus penalties of
        unserved stops, all in the same seconds-like unit.

    Raises
    ------
    InputError
        Bad depots, stops (negative demand, window ending before it starts …)
        or fleet (unknown key, unknown depot, capacity of the wrong length).
    SolverError
        The engine failed.

    Examples
    --------
    >>> import geolog
    >>> net = geolog.read_osm(geolog.data.path("andorra"))
    >>> depots = [{"id": "DEP", "lat": 42.5063, "lon": 1.5218}]
    >>> stops = [{"id": "a", "lat": 42.5446, "lon": 1.5147, "demand": 3},
    ...          {"id": "b", "lat": 42.4620, "lon": 1.4930, "demand": 2}]
    >>> fleet = [{"name": "van", "count": 1, "capacity": 10}]
    >>> p = geolog.plan(net, depots, stops, fleet, time_limit_s=1)
    >>> p.totals["served"]
    2
    """
    check_engine(engine)
    tl = check_time_limit(time_limit_s)
    prob = _read_problem(depots, stops, fleet)
    t0 = time.perf_counter()
    _add_travel(prob, net, rules)
    t1 = time.perf_counter()
    pre_reason, cand = _screen_stops(prob)
    model, prize = _build_model(prob, cand)
    if len(cand):
        sol = solve_model(model, engine=engine, time_limit_s=tl, seed=seed)
    else:
        sol = VRPSolution((), (), engine, 0)
    t2 = time.perf_counter()
    tables = _tables(prob, model, sol, cand, prize, pre_reason)
    geoms = _leg_geometries(prob, tables.legs, net, rules, geometry=geometry)
    t3 = time.perf_counter()
    return _assemble(
        prob,
        tables,
        geoms,
        engine=engine,
        timings={"matrix_s": t1 - t0, "solve_s": t2 - t1, "geometry_s": t3 - t2},
        time_limit_s=tl,
        inputs={"_net": net, "_rules": rules, "_seed": seed, "_geometry": geometry},
    )


@dataclass
class _Problem:
    """Checked inputs of one planning run and, after :func:`_add_travel`, its matrices.

    Points are the depots then the stops (``nd + i`` is stop ``i``); times are
    integer seconds, distances integer metres.
    """

    dep: pd.DataFrame  # depots: id, lat, lon
    st_in: pd.DataFrame  # stops as given (checked)
    st: pd.DataFrame  # stops normalised: id, lat, lon, service_s, tw_*, penalty, priority
    dims: list[str]  # demand dimension names
    ftypes: list[FleetType]
    demand: np.ndarray  # (ns, k) int64, rounded up
    service: np.ndarray  # (ns,) int64
    tw_e: np.ndarray  # (ns,) int64
    tw_l: np.ndarray  # (ns,) int64, UNBOUNDED where open
    dur: dict[str, np.ndarray] = field(default_factory=dict)  # per profile, (n, n) int64
    dist: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def nd(self) -> int:
        return len(self.dep)

    @property
    def ns(self) -> int:
        return len(self.st)

    @property
    def dep_pos(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.dep["id"])}

    @property
    def profiles(self) -> list[str]:
        return list(dict.fromkeys(f.profile for f in self.ftypes))

    @property
    def latlon(self) -> np.ndarray:
        return np.r_[
            self.dep[["lat", "lon"]].to_numpy(float), self.st[["lat", "lon"]].to_numpy(float)
        ]

    def point_id(self, i: int) -> str:
        return self.dep["id"][i] if i < self.nd else self.st["id"][i - self.nd]


def _read_problem(depots: Any, stops: Any, fleet: Any) -> _Problem:
    """Step 1: check depots, stops and fleet; integer demands, service times and windows."""
    dep = read_sites(depots, "depots")
    st_in = read_sites(stops, "stops")
    st, dims = stop_table(st_in)
    k, ns = len(dims), len(st)
    demand_f = st.attrs["demand"]
    tw_end = st["tw_end_s"].to_numpy()
    return _Problem(
        dep=dep,
        st_in=st_in,
        st=st,
        dims=dims,
        ftypes=read_fleet(fleet, list(dep["id"]), k),
        demand=np.ceil(demand_f - 1e-9).astype(np.int64) if k else np.zeros((ns, 0), np.int64),
        service=np.rint(st["service_s"].to_numpy()).astype(np.int64),
        tw_e=np.rint(st["tw_start_s"].to_numpy()).astype(np.int64),
        tw_l=np.where(np.isfinite(tw_end), np.rint(np.nan_to_num(tw_end)), UNBOUNDED).astype(
            np.int64
        ),
    )


def _add_travel(prob: _Problem, net: Any, rules: Any) -> None:
    """Step 2: travel times and distances per profile over depots + stops (``BIG``: no road)."""
    latlon = prob.latlon
    for p in prob.profiles:
        trav = travel(net, latlon, p, rules)
        prob.dur[p] = to_int(trav.durations_s)
        prob.dist[p] = to_int(trav.distances_m)


def _screen_stops(prob: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """Step 3: why each stop cannot be served by any vehicle alone (None: a candidate).

    Returns the reasons (a key of :data:`UNSERVED_REASONS` or None per stop) and
    the indices of the candidate stops. Warns about depots that reach no stop.
    """
    nd, ns, k = prob.nd, prob.ns, len(prob.dims)
    dep_pos = prob.dep_pos
    reach, fits, window, shift = (np.zeros(ns, bool) for _ in range(4))
    loc = nd + np.arange(ns)
    for f in prob.ftypes:
        d = prob.dur[f.profile]
        di = dep_pos[f.depot]
        out_t, back_t = d[di, loc], d[loc, di]
        r = (out_t < BIG) & (back_t < BIG)
        c = r & ((prob.demand <= np.asarray(f.capacity)[None, :]).all(axis=1) if k else True)
        go = np.maximum(f.shift_start_s, prob.tw_e - out_t)
        svc = np.maximum(go + out_t, prob.tw_e)
        w = c & (svc <= prob.tw_l)
        back = svc + prob.service + back_t
        s = w & (back <= (f.shift_end_s if f.shift_end_s is not None else UNBOUNDED))
        if f.max_duration_s is not None:
            s &= back - go <= f.max_duration_s
        reach |= r
        fits |= c
        window |= w
        shift |= s
    _warn_isolated_depots(prob, loc)
    pre_reason = np.full(ns, None, dtype=object)
    pre_reason[~shift] = "shift"
    pre_reason[~window] = "time_window"
    pre_reason[~fits] = "capacity"
    pre_reason[~reach] = "unreachable"
    return pre_reason, np.flatnonzero(shift)


def _warn_isolated_depots(prob: _Problem, loc: np.ndarray) -> None:
    for di, d in enumerate(prob.dep["id"]):
        users = [f for f in prob.ftypes if f.depot == d]
        if users and prob.ns and not any((prob.dur[f.profile][di, loc] < BIG).any() for f in users):
            warnings.warn(
                f"depot {d!r} reaches no stop with its vehicles' profiles; it may sit on an "
                "isolated road fragment or a road its vehicles may not use — move it onto a main road",
                GeologWarning,
                stacklevel=4,
            )


def _build_model(prob: _Problem, cand: np.ndarray) -> tuple[VRPModel, np.ndarray]:
    """Step 4: the engine-neutral model over depots + candidate stops, and every stop's prize.

    A stop without a penalty gets a prize larger than any route could save by
    leaving it out (scaled by its priority), so it is dropped only when it
    must be.
    """
    nd, profiles = prob.nd, prob.profiles
    keep = np.r_[np.arange(nd), nd + cand]
    prof_idx = {p: i for i, p in enumerate(profiles)}
    fin = [prob.dur[p][np.ix_(keep, keep)] for p in profiles]
    worst = max((int(x[x < BIG].max()) if (x < BIG).any() else 0) for x in fin)
    base = 10 * (
        2 * worst
        + int(prob.service.max(initial=0))
        + int(max(f.fixed_cost for f in prob.ftypes))
        + 1
    )
    pen = prob.st["penalty"].to_numpy()
    prio = prob.st["priority"].to_numpy()
    prize = np.where(np.isfinite(pen), np.rint(np.nan_to_num(pen)), np.rint(base * prio)).astype(
        np.int64
    )
    dep_pos = prob.dep_pos
    vehicles = [_vehicle_spec(f, dep_pos[f.depot], prof_idx[f.profile]) for f in prob.ftypes]
    model = VRPModel(
        n_depots=nd,
        distances=[prob.dist[p][np.ix_(keep, keep)] for p in profiles],
        durations=fin,
        demand=prob.demand[cand],
        service=prob.service[cand],
        tw_early=prob.tw_e[cand],
        tw_late=prob.tw_l[cand],
        prize=prize[cand],
        required=np.zeros(len(cand), bool),
        vehicles=vehicles,
    )
    return model, prize


def _vehicle_spec(f: FleetType, depot: int, profile: int) -> VehicleSpec:
    """One fleet type as integers; route time (driving, service, waiting) is the cost."""
    return VehicleSpec(
        name=f.name,
        count=f.count,
        capacity=tuple(int(np.floor(c + 1e-9)) for c in f.capacity),
        depot=depot,
        profile=profile,
        fixed_cost=int(round(f.fixed_cost)),
        tw_early=int(round(f.shift_start_s)),
        tw_late=int(round(f.shift_end_s)) if f.shift_end_s is not None else UNBOUNDED,
        max_duration=int(round(f.max_duration_s)) if f.max_duration_s is not None else UNBOUNDED,
        unit_distance_cost=0,
        unit_duration_cost=1,
    )


@dataclass
class _Tables:
    """Rows of the plan's tables, built route by route."""

    stop_cols: dict[str, np.ndarray]
    itinerary: list[dict] = field(default_factory=list)
    legs: list[dict] = field(default_factory=list)
    travel_s: int = 0
    route_s: int = 0
    cost: int = 0
    vehicles: int = 0
    reason: np.ndarray | None = None


def _tables(
    prob: _Problem,
    model: VRPModel,
    sol: VRPSolution,
    cand: np.ndarray,
    prize: np.ndarray,
    pre_reason: np.ndarray,
) -> _Tables:
    """Step 6: re-time every route (one schedule code for both engines); visits, legs, reasons."""
    ns = prob.ns
    tab = _Tables(
        stop_cols={
            "vehicle": np.full(ns, None, dtype=object),
            "seq": np.full(ns, np.nan),
            "arrival_s": np.full(ns, np.nan),
            "start_s": np.full(ns, np.nan),
            "depart_s": np.full(ns, np.nan),
        }
    )
    for r in sol.routes:
        _add_route(tab, prob, model, r, [int(cand[c]) for c in r.clients])
    served = np.array([v is not None for v in tab.stop_cols["vehicle"]], dtype=bool)
    pen = prob.st["penalty"].to_numpy()
    reason = pre_reason.copy()
    for c in sol.dropped:
        s = int(cand[c])
        reason[s] = "penalty" if np.isfinite(pen[s]) else "fleet"
    tab.cost += int(prize[~served].sum())
    tab.reason = reason
    return tab


def _add_route(tab: _Tables, prob: _Problem, model: VRPModel, r: Any, sidx: list[int]) -> None:
    """Append one vehicle's visits (depot, stops, depot) and legs to ``tab``."""
    f = prob.ftypes[r.vtype]
    nd, dims = prob.nd, prob.dims
    veh = f"{f.name}-{r.vehicle + 1}"
    sc = schedule(model, r.vtype, r.clients)
    di = prob.dep_pos[f.depot]
    base = {"vehicle": veh, "vehicle_type": f.name}

    def visit(seq, kind, id_, point, arrival, start, depart, onboard):
        tab.itinerary.append(
            base
            | dict(
                seq=seq,
                kind=kind,
                id=id_,
                point=point,
                arrival_s=arrival,
                start_s=start,
                depart_s=depart,
            )
            | {f"load_{n}": onboard[j] for j, n in enumerate(dims)}
        )

    onboard = sc.load.astype(float).copy()
    visit(0, "depot", f.depot, di, np.nan, np.nan, sc.depart, onboard)
    for q, s in enumerate(sidx):
        depart = sc.start[q] + prob.service[s]
        for col, value in (
            ("vehicle", veh),
            ("seq", q + 1),
            ("arrival_s", sc.arrival[q]),
            ("start_s", sc.start[q]),
            ("depart_s", depart),
        ):
            tab.stop_cols[col][s] = value
        onboard = onboard - prob.demand[s]
        visit(q + 1, "stop", prob.st["id"][s], nd + s, sc.arrival[q], sc.start[q], depart, onboard)
    visit(len(sidx) + 1, "depot", f.depot, di, sc.end, np.nan, np.nan, np.zeros(len(dims)))
    pts_seq = [di, *(nd + s for s in sidx), di]
    times = [sc.depart, *(int(sc.start[q]) + int(prob.service[s]) for q, s in enumerate(sidx))]
    dur, dist = prob.dur[f.profile], prob.dist[f.profile]
    for q, (a, b) in enumerate(zip(pts_seq[:-1], pts_seq[1:], strict=True)):
        tab.legs.append(
            base
            | dict(
                leg=q + 1,
                from_id=prob.point_id(a),
                to_id=prob.point_id(b),
                distance_m=int(dist[a, b]),
                duration_s=int(dur[a, b]),
                depart_s=times[q],
                arrive_s=times[q] + int(dur[a, b]),
                _a=a,
                _b=b,
                _profile=f.profile,
            )
        )
    tab.vehicles += 1
    tab.travel_s += sc.travel
    tab.route_s += sc.end - sc.depart
    tab.cost += (sc.end - sc.depart) + f.fixed_cost


def _leg_geometries(
    prob: _Problem, legs: list[dict], net: Any, rules: Any, *, geometry: bool
) -> list[shapely.LineString]:
    """Step 7: the road path of each leg (a straight line when ``geometry`` is False)."""
    latlon = prob.latlon
    geoms = []
    cache: dict = {}
    for lr in legs:
        key = (lr["_profile"], lr["_a"], lr["_b"])
        if key not in cache:
            a, b = tuple(latlon[lr["_a"]]), tuple(latlon[lr["_b"]])
            if geometry:
                cache[key] = leg_geometry(net, a, b, lr["_profile"], rules)
            else:
                cache[key] = shapely.LineString([(a[1], a[0]), (b[1], b[0])])
        geoms.append(cache[key])
    return geoms


_LEG_COLS = [
    "vehicle",
    "vehicle_type",
    "leg",
    "from_id",
    "to_id",
    "distance_m",
    "duration_s",
    "depart_s",
    "arrive_s",
]


def _assemble(
    prob: _Problem,
    tab: _Tables,
    geoms: list,
    *,
    engine: str,
    timings: dict,
    time_limit_s: float,
    inputs: dict,
) -> Plan:
    """Step 8: the Plan's tables (GeoDataFrames in EPSG:4326) and totals."""
    import geopandas as gpd

    st, st_in, dims, nd, ns = prob.st, prob.st_in, prob.dims, prob.nd, prob.ns
    latlon = prob.latlon
    routes = gpd.GeoDataFrame(
        pd.DataFrame(tab.legs, columns=[*_LEG_COLS, "_a", "_b", "_profile"])[_LEG_COLS],
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    served = np.array([v is not None for v in tab.stop_cols["vehicle"]], dtype=bool)
    reason = tab.reason
    detail = np.array([_REASONS[x] if x else None for x in reason], dtype=object)
    stops_out = gpd.GeoDataFrame(
        st_in.drop(columns=[c for c in ("lat", "lon") if c in st_in.columns]).assign(
            **tab.stop_cols, served=served, reason=reason, detail=detail
        ),
        geometry=gpd.points_from_xy(st["lon"], st["lat"]),
        crs="EPSG:4326",
    )
    it_cols = ["vehicle", "vehicle_type", "seq", "kind", "id", "point", "arrival_s"]
    it_cols += ["start_s", "depart_s", *(f"load_{n}" for n in dims)]
    unserved = pd.DataFrame(
        {"id": st["id"][~served], "reason": reason[~served], "detail": detail[~served]}
    ).reset_index(drop=True)
    points = pd.DataFrame(
        {
            "id": [*prob.dep["id"], *st["id"]],
            "kind": ["depot"] * nd + ["stop"] * ns,
            "lat": latlon[:, 0],
            "lon": latlon[:, 1],
        }
    )
    totals = {
        "served": int(served.sum()),
        "unserved": int((~served).sum()),
        "vehicles_used": tab.vehicles,
        "distance_km": float(routes["distance_m"].sum() / 1000) if len(routes) else 0.0,
        "driving_h": tab.travel_s / 3600,
        "route_h": tab.route_s / 3600,
        "cost": int(tab.cost),
        "engine": engine,
    }
    logger.info("plan: %s", totals)
    fleet = [f.as_dict() for f in prob.ftypes]
    return Plan(
        stops=stops_out,
        itinerary=pd.DataFrame(tab.itinerary, columns=it_cols),
        routes=routes,
        unserved=unserved,
        totals=totals,
        points=points,
        matrices={p: (prob.dur[p], prob.dist[p]) for p in prob.profiles},
        timings=timings,
        demand_names=dims,
        fleet=fleet,
        time_limit_s=time_limit_s,
        _fleet_by_name={f.name: f for f in prob.ftypes},
        _depots_input=prob.dep,
        _stops_input=st_in,
        _fleet_input=[f.as_dict() for f in prob.ftypes],
        _planner=plan,
        **inputs,
    )
