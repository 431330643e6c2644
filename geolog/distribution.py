"""Last-mile distribution planning: one API, two engines (PyVRP and OR-Tools).

:func:`solve_cvrp` solves a plain capacitated VRP on a matrix (checkable on
CVRPLIB instances). :func:`plan` builds the whole model from a road network:
depots, stops with demand / service time / time window / drop penalty, and a
heterogeneous fleet whose travel times come from :func:`geolog.routing.matrix`
under each vehicle type's profile and the route rules in force.

Both engines receive the same integer model (metres, seconds, cost units) and
every plan is re-timed by the same schedule code, so their plans can be checked
by one validator and compared with :func:`compare`.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._io import atomic_write_text
from ._vrp_model import BIG, VehicleSpec, VRPModel, VRPSolution
from .errors import GeologWarning, InputError, SolverError

__all__ = ["ENGINES", "UNSERVED_REASONS", "Plan", "plan", "compare", "solve_cvrp", "solve_model"]

logger = logging.getLogger(__name__)

#: Planning engines; ``"pyvrp"`` (hybrid/iterated local search) is the default.
ENGINES = ("pyvrp", "ortools")


def _check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(map(repr, ENGINES))}, not {engine!r}")
    return engine


def _check_time_limit(time_limit_s: float) -> float:
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
    """Solve an engine-neutral :class:`~geolog._vrp_model.VRPModel` (advanced use)."""
    _check_engine(engine)
    t = _check_time_limit(time_limit_s)
    if engine == "pyvrp":
        from ._vrp_pyvrp import solve_pyvrp

        return solve_pyvrp(model, time_limit_s=t, seed=seed)
    from ._vrp_ortools import solve_ortools

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
    _check_engine(engine)
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
    im = np.where(np.isfinite(m), np.rint(np.minimum(m, BIG)), BIG).astype(np.int64)
    im = im[np.ix_(order, order)]
    np.fill_diagonal(im, 0)
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


# ====================================================================== network level


def _hhmm(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}"


_REASONS = {
    "unreachable": "no vehicle can reach it from its depot and return under its profile and the rules",
    "capacity": "its demand exceeds the capacity of every vehicle that can reach it",
    "time_window": "no vehicle can arrive before its time window closes",
    "shift": "no vehicle can serve it and return within its shift / maximum duration",
    "fleet": "the fleet's capacity or shift time is used up; add vehicles or relax windows",
    "penalty": "serving it costs more than its drop penalty",
}
#: Reasons a stop can be left unserved, with their meaning.
UNSERVED_REASONS = dict(_REASONS)


class Plan:
    """A delivery plan: routes per vehicle, timings, loads, unserved stops with reasons.

    Attributes
    ----------
    stops : geopandas.GeoDataFrame
        One row per input stop: ``id``, ``vehicle`` (None if unserved), ``seq``,
        ``arrival_s``, ``start_s`` (service start), ``depart_s``, ``served``,
        ``reason`` and ``detail`` for unserved stops, geometry (input point).
    itinerary : pandas.DataFrame
        One row per visit including depot departure and return: ``vehicle``,
        ``vehicle_type``, ``seq``, ``kind`` (depot/stop), ``id``, ``point``
        (index into :attr:`points`), ``arrival_s``, ``start_s``, ``depart_s``,
        and ``load_<dim>`` (load on board when leaving).
    routes : geopandas.GeoDataFrame
        One row per leg: ``vehicle``, ``vehicle_type``, ``leg``, ``from_id``,
        ``to_id``, ``distance_m``, ``duration_s``, ``depart_s``, ``arrive_s``,
        geometry (road path of the leg).
    unserved : pandas.DataFrame
        ``id``, ``reason`` (a key of :data:`UNSERVED_REASONS`), ``detail``.
    totals : dict
        ``served``, ``unserved``, ``vehicles_used``, ``distance_km``,
        ``driving_h``, ``route_h`` (incl. service and waiting), ``cost``,
        ``engine``.
    points : pandas.DataFrame
        Depots then stops (``id``, ``kind``, ``lat``, ``lon``): the order of the
        matrices.
    matrices : dict
        Per profile, ``(durations_s, distances_m)`` integer arrays over
        :attr:`points` the solver used (``BIG`` where no road).
    timings : dict
        ``matrix_s``, ``solve_s``, ``geometry_s`` wall-clock seconds.
    """

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)

    def __repr__(self) -> str:
        t = self.totals
        return (
            f"<Plan {t['engine']}: {t['served']} served, {t['unserved']} unserved, "
            f"{t['vehicles_used']} vehicles, {t['distance_km']:.1f} km, {t['driving_h']:.2f} h driving>"
        )

    # ------------------------------------------------------------------ tables

    def summary(self) -> pd.DataFrame:
        """One row per used vehicle: type, depot, stops, km, hours, times, load and use of capacity."""
        rows = []
        for (veh, vtype), legs in self.routes.groupby(["vehicle", "vehicle_type"], sort=False):
            it = self.itinerary[self.itinerary["vehicle"] == veh]
            ft = self._fleet_by_name[vtype]
            row = {
                "vehicle": veh,
                "vehicle_type": vtype,
                "depot": ft.depot,
                "stops": int((it["kind"] == "stop").sum()),
                "distance_km": legs["distance_m"].sum() / 1000,
                "driving_h": legs["duration_s"].sum() / 3600,
                "start": _hhmm(it["depart_s"].iloc[0]),
                "end": _hhmm(it["arrival_s"].iloc[-1]),
                "route_h": (it["arrival_s"].iloc[-1] - it["depart_s"].iloc[0]) / 3600,
            }
            for k, dim in enumerate(self.demand_names):
                load = float(it[f"load_{dim}"].iloc[0])
                row[f"load_{dim}"] = load
                cap = ft.capacity[k]
                row[f"use_{dim}_pct"] = 100 * load / cap if cap else float("nan")
            rows.append(row)
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ scenarios

    def replan(
        self,
        *,
        closures: Any = None,
        surge: dict | None = None,
        fleet: Any = None,
        time_limit_s: float | None = None,
        engine: str | None = None,
    ) -> Plan:
        """Plan again under a scenario; this plan is left unchanged.

        Parameters
        ----------
        closures
            Roads to close: OSM way id(s), road name(s) / ``ref`` (e.g.
            ``"CG-2"``), or shapely geometries / a GeoDataFrame in EPSG:4326
            (edges crossing them are closed — buffer a point for a bridge).
        surge
            ``{stop id: factor}``: multiply those stops' demand (all dimensions).
        fleet
            A new fleet (same forms as in :func:`plan`); default the same fleet.
        time_limit_s, engine
            Default to this plan's.
        """
        from ._plan_net import close_roads

        net = self._net
        if closures is not None:
            net, _ = close_roads(net, closures)
        stops = self._stops_input.copy()
        if surge:
            unknown = [k for k in surge if str(k) not in set(stops["id"])]
            if unknown:
                raise InputError(
                    f"surge names unknown stops {unknown[:5]}; stop ids are e.g. {list(stops['id'][:3])}"
                )
            cols = [c for c in stops.columns if str(c).startswith("demand_")] or ["demand"]
            if cols == ["demand"] and "demand" not in stops.columns:
                raise InputError("surge needs stops with a demand")
            for sid, factor in surge.items():
                f = _check_factor(factor, sid)
                mask = stops["id"] == str(sid)
                for c in cols:
                    stops[c] = stops[c].astype(object)
                    stops.loc[mask, c] = stops.loc[mask, c].map(lambda v, f=f: _scale(v, f))
        return plan(
            net,
            self._depots_input,
            stops,
            self._fleet_input if fleet is None else fleet,
            rules=self._rules,
            time_limit_s=self.time_limit_s if time_limit_s is None else time_limit_s,
            engine=self.totals["engine"] if engine is None else engine,
            seed=self._seed,
            geometry=self._geometry,
        )

    # ------------------------------------------------------------------ output

    def to_geojson(self, path: str | os.PathLike) -> Path:
        """Write legs (LineStrings) and stops/depots (Points) as one GeoJSON file, atomically."""
        import geopandas as gpd

        legs = self.routes.assign(kind="leg")
        pts = self.stops.assign(kind="stop")
        dep = gpd.GeoDataFrame(
            self._depots_input[["id"]].assign(kind="depot"),
            geometry=gpd.points_from_xy(self._depots_input["lon"], self._depots_input["lat"]),
            crs="EPSG:4326",
        )
        frame = pd.concat([legs, pts, dep], ignore_index=True)
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
        for c in frame.columns:
            if c != "geometry" and frame[c].dtype == object:
                frame[c] = frame[c].map(
                    lambda v: (
                        None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                    )
                )
        text = frame.to_json(drop_id=True)
        return atomic_write_text(path, text)

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the itinerary (one row per visit) as CSV, atomically."""
        return atomic_write_text(path, self.itinerary.to_csv(index=False))

    def to_map(
        self, *, m: Any = None, name: str | None = None, osm_tiles: bool = False, tiles: Any = None
    ):
        """Offline folium map: one colour per vehicle, depots, served and unserved stops.

        The map carries Leaflet inline (:func:`geolog.maps.base_map`), so it
        opens with no internet; all labels are HTML-escaped.

        Parameters
        ----------
        m
            An existing map to draw on (to compare plans on one map).
        name
            Prefix of this plan's layers in the layer control.
        osm_tiles
            Add OpenStreetMap web tiles as an optional layer (off at opening).
        tiles
            Deprecated, ignored: geolog maps have no web basemap by default.
        """
        from ._html import escape
        from ._leaflet import GeoJsonLayer
        from .maps import _feature, base_map, finish

        esc = escape
        label = f"{name}: " if name else ""
        pts = self.points
        if m is None:
            m = base_map(
                bounds=(pts["lon"].min(), pts["lat"].min(), pts["lon"].max(), pts["lat"].max()),
                osm_tiles=osm_tiles,
            )
        vehicles = list(dict.fromkeys(self.routes["vehicle"]))
        colours = {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(vehicles)}
        for veh in vehicles:
            legs = self.routes[self.routes["vehicle"] == veh]
            km = legs["distance_m"].sum() / 1000
            style = {"color": colours[veh], "weight": 4, "opacity": 0.8}
            feats = [
                _feature(g, style=style, tooltip=esc(f"{label}{veh}: {km:.1f} km"))
                for g in legs.geometry
            ]
            stop_style = {"color": colours[veh], "fillOpacity": 0.9, "fill": True, "radius": 6}
            feats += [
                _feature(
                    s.geometry,
                    style=stop_style,
                    tooltip=esc(
                        f"{_label(s)} — {veh} #{int(s['seq'])}, arrive {_hhmm(s['arrival_s'])}"
                    ),
                )
                for _, s in self.stops[self.stops["vehicle"] == veh].iterrows()
            ]
            GeoJsonLayer(
                {"type": "FeatureCollection", "features": feats}, name=esc(f"{label}{veh}")
            ).add_to(m)
        if len(self.unserved):
            style = {"color": "#555555", "fillColor": "#ffffff", "fillOpacity": 1, "radius": 7}
            feats = [
                _feature(
                    s.geometry,
                    style=style,
                    tooltip=esc(f"{_label(s)} unserved: {s['reason']} — {s['detail']}"),
                )
                for _, s in self.stops[~self.stops["served"]].iterrows()
            ]
            GeoJsonLayer(
                {"type": "FeatureCollection", "features": feats}, name=esc(f"{label}unserved")
            ).add_to(m)
        style = {
            "color": "#000000",
            "fillColor": "#000000",
            "fillOpacity": 1,
            "radius": 9,
            "weight": 2,
        }
        feats = [
            _feature(
                shapely.Point(d["lon"], d["lat"]), style=style, tooltip=esc(f"depot {d['id']}")
            )
            for _, d in self._depots_input.iterrows()
        ]
        GeoJsonLayer(
            {"type": "FeatureCollection", "features": feats}, name=esc(f"{label}depots")
        ).add_to(m)
        return finish(m)


_PALETTE = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939",
]  # fmt: skip


def _label(row: pd.Series) -> str:
    name = row.get("name")
    if (
        name is None
        or (isinstance(name, float) and math.isnan(name))
        or str(name) == str(row["id"])
    ):
        return str(row["id"])
    return f"{row['id']} {name}"


def _check_factor(factor: Any, sid: Any) -> float:
    try:
        f = float(factor)
    except (TypeError, ValueError):
        f = float("nan")
    if not (math.isfinite(f) and f >= 0):
        raise InputError(f"surge factor for stop {sid!r} must be a number >= 0, not {factor!r}")
    return f


def _scale(value: Any, f: float) -> Any:
    if isinstance(value, list | tuple | np.ndarray):
        return [float(x) * f for x in value]
    return float(value) * f


def _to_int(a: np.ndarray) -> np.ndarray:
    """Seconds / metres as int64, ``BIG`` where not finite."""
    out = np.where(np.isfinite(a), np.rint(np.minimum(a, BIG)), BIG).astype(np.int64)
    np.fill_diagonal(out, 0)
    return out


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
    import time

    from ._plan_input import read_fleet, read_sites, stop_table
    from ._plan_net import leg_geometry, travel
    from ._vrp_model import UNBOUNDED, schedule

    _check_engine(engine)
    tl = _check_time_limit(time_limit_s)
    dep = read_sites(depots, "depots")
    st_in = read_sites(stops, "stops")
    st, dims = stop_table(st_in)
    demand_f = st.attrs["demand"]
    k = len(dims)
    ftypes = read_fleet(fleet, list(dep["id"]), k)
    fleet_by_name = {f.name: f for f in ftypes}
    dep_pos = {d: i for i, d in enumerate(dep["id"])}
    nd, ns = len(dep), len(st)

    # ---- travel matrices per profile over depots + stops
    t0 = time.perf_counter()
    latlon = np.r_[dep[["lat", "lon"]].to_numpy(float), st[["lat", "lon"]].to_numpy(float)]
    profiles = list(dict.fromkeys(f.profile for f in ftypes))
    trav = {p: travel(net, latlon, p, rules) for p in profiles}
    dur = {p: _to_int(trav[p].durations_s) for p in profiles}
    dist = {p: _to_int(trav[p].distances_m) for p in profiles}
    t1 = time.perf_counter()

    # ---- stops no vehicle can serve, whatever the others do
    demand = np.ceil(demand_f - 1e-9).astype(np.int64) if k else np.zeros((ns, 0), np.int64)
    service = np.rint(st["service_s"].to_numpy()).astype(np.int64)
    tw_e = np.rint(st["tw_start_s"].to_numpy()).astype(np.int64)
    tw_end = st["tw_end_s"].to_numpy()
    tw_l = np.where(np.isfinite(tw_end), np.rint(np.nan_to_num(tw_end)), UNBOUNDED).astype(np.int64)
    reach = np.zeros(ns, bool)
    fits = np.zeros(ns, bool)
    window = np.zeros(ns, bool)
    shift = np.zeros(ns, bool)
    loc = nd + np.arange(ns)
    for f in ftypes:
        d = dur[f.profile]
        di = dep_pos[f.depot]
        out_t, back_t = d[di, loc], d[loc, di]
        r = (out_t < BIG) & (back_t < BIG)
        c = r & ((demand <= np.asarray(f.capacity)[None, :]).all(axis=1) if k else True)
        go = np.maximum(f.shift_start_s, tw_e - out_t)
        svc = np.maximum(go + out_t, tw_e)
        w = c & (svc <= tw_l)
        back = svc + service + back_t
        s = w & (back <= (f.shift_end_s if f.shift_end_s is not None else UNBOUNDED))
        if f.max_duration_s is not None:
            s &= back - go <= f.max_duration_s
        reach |= r
        fits |= c
        window |= w
        shift |= s
    for di, d in enumerate(dep["id"]):
        users = [f for f in ftypes if f.depot == d]
        if users and ns and not any((dur[f.profile][di, loc] < BIG).any() for f in users):
            warnings.warn(
                f"depot {d!r} reaches no stop with its vehicles' profiles; it may sit on an "
                "isolated road fragment or a road its vehicles may not use — move it onto a main road",
                GeologWarning,
                stacklevel=2,
            )
    pre_reason = np.full(ns, None, dtype=object)
    pre_reason[~shift] = "shift"
    pre_reason[~window] = "time_window"
    pre_reason[~fits] = "capacity"
    pre_reason[~reach] = "unreachable"
    cand = np.flatnonzero(shift)

    # ---- the engine-neutral model over depots + candidate stops
    keep = np.r_[np.arange(nd), nd + cand]
    prof_idx = {p: i for i, p in enumerate(profiles)}
    fin = [dur[p][np.ix_(keep, keep)] for p in profiles]
    worst = max((int(x[x < BIG].max()) if (x < BIG).any() else 0) for x in fin)
    base = 10 * (
        2 * worst + int(service.max(initial=0)) + int(max(f.fixed_cost for f in ftypes)) + 1
    )
    pen = st["penalty"].to_numpy()
    prio = st["priority"].to_numpy()
    prize = np.where(np.isfinite(pen), np.rint(np.nan_to_num(pen)), np.rint(base * prio)).astype(
        np.int64
    )
    vehicles = [
        VehicleSpec(
            name=f.name,
            count=f.count,
            capacity=tuple(int(np.floor(c + 1e-9)) for c in f.capacity),
            depot=dep_pos[f.depot],
            profile=prof_idx[f.profile],
            fixed_cost=int(round(f.fixed_cost)),
            tw_early=int(round(f.shift_start_s)),
            tw_late=int(round(f.shift_end_s)) if f.shift_end_s is not None else UNBOUNDED,
            max_duration=int(round(f.max_duration_s))
            if f.max_duration_s is not None
            else UNBOUNDED,
            unit_distance_cost=0,
            unit_duration_cost=1,
        )
        for f in ftypes
    ]
    model = VRPModel(
        n_depots=nd,
        distances=[dist[p][np.ix_(keep, keep)] for p in profiles],
        durations=fin,
        demand=demand[cand],
        service=service[cand],
        tw_early=tw_e[cand],
        tw_late=tw_l[cand],
        prize=prize[cand],
        required=np.zeros(len(cand), bool),
        vehicles=vehicles,
    )
    if len(cand):
        sol = solve_model(model, engine=engine, time_limit_s=tl, seed=seed)
    else:
        sol = VRPSolution((), (), engine, 0)
    t2 = time.perf_counter()

    # ---- tables
    stop_cols = {
        "vehicle": np.full(ns, None, dtype=object),
        "seq": np.full(ns, np.nan),
        "arrival_s": np.full(ns, np.nan),
        "start_s": np.full(ns, np.nan),
        "depart_s": np.full(ns, np.nan),
    }
    it_rows, leg_rows = [], []
    total_travel = total_route = 0
    cost = 0
    for r in sol.routes:
        f = ftypes[r.vtype]
        veh = f"{f.name}-{r.vehicle + 1}"
        sc = schedule(model, r.vtype, r.clients)
        sidx = [int(cand[c]) for c in r.clients]
        di = dep_pos[f.depot]
        pts_seq = [di, *(nd + s for s in sidx), di]
        onboard = sc.load.astype(float).copy()
        row0 = dict(
            vehicle=veh,
            vehicle_type=f.name,
            seq=0,
            kind="depot",
            id=f.depot,
            point=di,
            arrival_s=np.nan,
            start_s=np.nan,
            depart_s=sc.depart,
        )
        it_rows.append(row0 | {f"load_{n}": onboard[j] for j, n in enumerate(dims)})
        for q, s in enumerate(sidx):
            stop_cols["vehicle"][s] = veh
            stop_cols["seq"][s] = q + 1
            stop_cols["arrival_s"][s] = sc.arrival[q]
            stop_cols["start_s"][s] = sc.start[q]
            stop_cols["depart_s"][s] = sc.start[q] + service[s]
            onboard = onboard - demand[s]
            it_rows.append(
                dict(
                    vehicle=veh,
                    vehicle_type=f.name,
                    seq=q + 1,
                    kind="stop",
                    id=st["id"][s],
                    point=nd + s,
                    arrival_s=sc.arrival[q],
                    start_s=sc.start[q],
                    depart_s=sc.start[q] + service[s],
                )
                | {f"load_{n}": onboard[j] for j, n in enumerate(dims)}
            )
        it_rows.append(
            dict(
                vehicle=veh,
                vehicle_type=f.name,
                seq=len(sidx) + 1,
                kind="depot",
                id=f.depot,
                point=di,
                arrival_s=sc.end,
                start_s=np.nan,
                depart_s=np.nan,
            )
            | {f"load_{n}": 0.0 for n in dims}
        )
        times = [sc.depart, *(int(sc.start[q]) + int(service[s]) for q, s in enumerate(sidx))]
        for q, (a, b) in enumerate(zip(pts_seq[:-1], pts_seq[1:], strict=True)):
            leg_rows.append(
                dict(
                    vehicle=veh,
                    vehicle_type=f.name,
                    leg=q + 1,
                    from_id=dep["id"][a] if a < nd else st["id"][a - nd],
                    to_id=dep["id"][b] if b < nd else st["id"][b - nd],
                    distance_m=int(dist[f.profile][a, b]),
                    duration_s=int(dur[f.profile][a, b]),
                    depart_s=times[q],
                    arrive_s=times[q] + int(dur[f.profile][a, b]),
                    _a=a,
                    _b=b,
                    _profile=f.profile,
                )
            )
        total_travel += sc.travel
        total_route += sc.end - sc.depart
        cost += (sc.end - sc.depart) + f.fixed_cost
    served = np.array([v is not None for v in stop_cols["vehicle"]])
    reason = pre_reason.copy()
    for c in sol.dropped:
        s = int(cand[c])
        reason[s] = "penalty" if np.isfinite(pen[s]) else "fleet"
    cost += int(prize[~served].sum())
    detail = np.array([_REASONS[x] if x else None for x in reason], dtype=object)

    # ---- road geometry of each leg
    geoms = []
    cache: dict = {}
    for lr in leg_rows:
        key = (lr["_profile"], lr["_a"], lr["_b"])
        if key not in cache:
            a, b = tuple(latlon[lr["_a"]]), tuple(latlon[lr["_b"]])
            if geometry:
                cache[key] = leg_geometry(net, a, b, lr["_profile"], rules)
            else:
                cache[key] = shapely.LineString([(a[1], a[0]), (b[1], b[0])])
        geoms.append(cache[key])
    t3 = time.perf_counter()

    import geopandas as gpd

    leg_cols = [
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
    routes = gpd.GeoDataFrame(
        pd.DataFrame(leg_rows, columns=[*leg_cols, "_a", "_b", "_profile"])[leg_cols],
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326")
        if geoms
        else gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )
    stops_out = gpd.GeoDataFrame(
        st_in.drop(columns=[c for c in ("lat", "lon") if c in st_in.columns]).assign(
            **stop_cols, served=served, reason=reason, detail=detail
        ),
        geometry=gpd.points_from_xy(st["lon"], st["lat"]),
        crs="EPSG:4326",
    )
    it_cols = [
        "vehicle",
        "vehicle_type",
        "seq",
        "kind",
        "id",
        "point",
        "arrival_s",
        "start_s",
        "depart_s",
        *(f"load_{n}" for n in dims),
    ]
    itinerary = pd.DataFrame(it_rows, columns=it_cols)
    unserved = pd.DataFrame(
        {"id": st["id"][~served], "reason": reason[~served], "detail": detail[~served]}
    )
    unserved = unserved.reset_index(drop=True)
    points = pd.DataFrame(
        {
            "id": [*dep["id"], *st["id"]],
            "kind": ["depot"] * nd + ["stop"] * ns,
            "lat": latlon[:, 0],
            "lon": latlon[:, 1],
        }
    )
    totals = {
        "served": int(served.sum()),
        "unserved": int((~served).sum()),
        "vehicles_used": len(sol.routes),
        "distance_km": float(routes["distance_m"].sum() / 1000) if len(routes) else 0.0,
        "driving_h": total_travel / 3600,
        "route_h": total_route / 3600,
        "cost": int(cost),
        "engine": engine,
    }
    logger.info("plan: %s", totals)
    return Plan(
        stops=stops_out,
        itinerary=itinerary,
        routes=routes,
        unserved=unserved,
        totals=totals,
        points=points,
        matrices={p: (dur[p], dist[p]) for p in profiles},
        timings={"matrix_s": t1 - t0, "solve_s": t2 - t1, "geometry_s": t3 - t2},
        demand_names=dims,
        fleet=[f.as_dict() for f in ftypes],
        time_limit_s=tl,
        _fleet_by_name=fleet_by_name,
        _net=net,
        _depots_input=dep,
        _stops_input=st_in,
        _fleet_input=[f.as_dict() for f in ftypes],
        _rules=rules,
        _seed=seed,
        _geometry=geometry,
    )


def _match_vehicles(va: pd.Series, vb: pd.Series) -> dict:
    """Map plan-b vehicle labels to plan-a labels of the same type sharing most stops.

    Vehicles of one type are interchangeable, so "truck-2" in one plan may be
    "truck-1" in the other; matching by overlap (an assignment problem) keeps
    a stop from counting as moved only because of the numbering.
    """
    from scipy.optimize import linear_sum_assignment

    mapping: dict = {}
    la, lb = list(dict.fromkeys(va)), list(dict.fromkeys(vb))
    kind = lambda v: v.rsplit("-", 1)[0]  # noqa: E731
    for t in dict.fromkeys(map(kind, la + lb)):
        ta, tb = [v for v in la if kind(v) == t], [v for v in lb if kind(v) == t]
        overlap = np.array([[((va == x) & (vb == y)).sum() for x in ta] for y in tb], dtype=float)
        if overlap.size:
            rows, cols = linear_sum_assignment(-overlap)
            mapping.update({tb[r]: ta[c] for r, c in zip(rows, cols, strict=True)})
        for y in tb:
            mapping.setdefault(y, y if y not in ta else f"{y}'")
    return mapping


def compare(a: Plan, b: Plan, *, names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Side-by-side table of two plans (e.g. before / after a closure).

    Rows: stops served, unserved, served late (after the window; 0 in a valid
    plan), km, driving hours, route hours, vehicles used, cost, and the number
    of stops that changed vehicle (or became served / unserved; vehicles of one
    type are matched between the plans by the stops they share, so renumbering
    does not count as a change). The stops that changed are listed in ``result.attrs["moved"]`` (a DataFrame with the
    vehicle in each plan).
    """
    na, nb = names

    def late(p: Plan) -> int:
        s = p.stops
        tw = pd.to_numeric(s["tw_end_s"], errors="coerce") if "tw_end_s" in s else None
        if tw is None:
            return 0
        return int(((s["start_s"] > tw) & s["served"]).sum())

    va = a.stops.set_index("id")["vehicle"].astype(object).fillna("(unserved)")
    vb = b.stops.set_index("id")["vehicle"].reindex(va.index).astype(object).fillna("(unserved)")
    vb = vb.map(_match_vehicles(va, vb))
    changed = [i for i in va.index if va[i] != vb[i]]
    moved = pd.DataFrame(
        {
            "id": changed,
            f"vehicle_{na}": va[changed].to_numpy(),
            f"vehicle_{nb}": vb[changed].to_numpy(),
        }
    )
    rows = {}
    for key, fa, fb in (
        ("served", a.totals["served"], b.totals["served"]),
        ("unserved", a.totals["unserved"], b.totals["unserved"]),
        ("late", late(a), late(b)),
        ("km", a.totals["distance_km"], b.totals["distance_km"]),
        ("driving_h", a.totals["driving_h"], b.totals["driving_h"]),
        ("route_h", a.totals["route_h"], b.totals["route_h"]),
        ("vehicles", a.totals["vehicles_used"], b.totals["vehicles_used"]),
        ("cost", a.totals["cost"], b.totals["cost"]),
    ):
        rows[key] = (fa, fb, fb - fa)
    rows["stops_changed_vehicle"] = (0, len(changed), len(changed))
    table = pd.DataFrame.from_dict(rows, orient="index", columns=[na, nb, "change"])
    table.attrs["moved"] = moved
    return table
