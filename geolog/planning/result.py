"""The result of :func:`geolog.plan`: the :class:`Plan` dataclass and its outputs."""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._format import fmt_clock
from .._io import atomic_write_text, file_format
from ..errors import InputError
from ..export import geojson_text, plan_date, write_layers

__all__ = ["Plan", "UNSERVED_REASONS", "PLAN_FORMATS"]

#: File formats :meth:`Plan.to_file` writes, by suffix.
PLAN_FORMATS = {
    ".gpx": "GPX 1.1: per vehicle a <rte> of its visits and a <trk> of its roads; <wpt> stops",
    ".kml": "KML 2.2: one colour per vehicle; routes, legs, stops and depots in folders",
    ".geojson": "GeoJSON: routes, legs, stops and depots in one FeatureCollection (``kind``)",
    ".json": "GeoJSON (as .geojson)",
    ".gpkg": "GeoPackage with four layers: routes, legs, stops, depots",
    ".parquet": "GeoParquet: routes, legs, stops and depots in one table (``kind`` column)",
    ".csv": "the itinerary (one row per visit), no geometry",
}


def plan_format(path: str | os.PathLike) -> str:
    """The suffix of ``path`` if :meth:`Plan.to_file` writes it, else an InputError."""
    return file_format(path, PLAN_FORMATS, "a plan")


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


@dataclass(eq=False, repr=False)
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

    Notes
    -----
    Methods ``to_file(path)`` (format from the suffix, see :data:`PLAN_FORMATS`),
    ``to_geojson()`` (text), ``to_csv(path)``, ``to_map()``, ``summary()`` and
    ``replan(...)`` are the ways out.
    """

    stops: Any
    itinerary: pd.DataFrame
    routes: Any
    unserved: pd.DataFrame
    totals: dict
    points: pd.DataFrame
    matrices: dict
    timings: dict
    demand_names: list
    fleet: list
    time_limit_s: float
    # what the plan was made from, for replan()
    _fleet_by_name: dict = field(default_factory=dict)
    _net: Any = None
    _depots_input: Any = None
    _stops_input: Any = None
    _fleet_input: Any = None
    _rules: Any = None
    _seed: int = 0
    _geometry: bool = True
    # the pipeline that made the plan (geolog.plan): replan() runs it again,
    # so this module needs no import of the pipeline (which imports Plan)
    _planner: Any = None

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
                "start": fmt_clock(it["depart_s"].iloc[0]),
                "end": fmt_clock(it["arrival_s"].iloc[-1]),
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
        from .legs import close_roads

        if self._planner is None or self._net is None:
            raise InputError(
                "this Plan keeps no inputs to plan again; make it with geolog.plan(...)"
            )
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
        return self._planner(
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

    def to_geojson(
        self, path: str | os.PathLike | None = None, *, date: dt.date | str | None = None
    ) -> str | Path:
        """Routes, legs (LineStrings), stops and depots (Points) as one GeoJSON FeatureCollection.

        Each feature's ``kind`` is ``route`` (one per vehicle), ``leg``,
        ``stop`` or ``depot``; times are ISO 8601 on ``date`` (see :meth:`to_file`).

        Parameters
        ----------
        path
            If given, write the GeoJSON there atomically and return the path
            (the behaviour of earlier versions; prefer :meth:`to_file`).
        date
            The plan's day (default: today).

        Returns
        -------
        str or Path
            The GeoJSON text, or ``path`` when one is given.
        """
        from .plan_export import plan_layers

        text = geojson_text(plan_layers(self, plan_date(date)))
        if path is None:
            return text
        return atomic_write_text(path, text)

    def to_file(self, path: str | os.PathLike, *, date: dt.date | str | None = None) -> Path:
        """Write the plan atomically; the format comes from the suffix (:data:`PLAN_FORMATS`).

        Layers ``routes`` (one MultiLineString per vehicle), ``legs``,
        ``stops`` and ``depots``: ``.gpkg`` holds them as four layers,
        ``.geojson``/``.json`` and ``.parquet`` in one table with a ``kind``
        column; ``.gpx`` writes each vehicle's visits as a ``<rte>`` and its
        road path as a ``<trk>`` (one ``<trkseg>`` per leg, ``<ele>`` from the
        network's node elevations), stops and depots as ``<wpt>``; ``.kml``
        draws one colour per vehicle; ``.csv`` is the itinerary.

        Attributes are typed: ``served`` is a boolean, clock times are
        date-times on ``date`` (``arrival``, ``start``, ``depart``, ``arrive``,
        local time, beside the ``*_s`` seconds after midnight), durations are
        seconds and distances metres.

        Parameters
        ----------
        path
            The file to write.
        date
            The plan's day, a :class:`datetime.date` or ``"YYYY-MM-DD"``
            (default: today).

        Raises
        ------
        InputError
            Unknown suffix (the message lists the formats), a malformed date,
            or the folder is not writable; an existing file is left as it was.
        """
        from .plan_export import plan_description, plan_gpx_routes, plan_layers, plan_title

        path = Path(path)
        suffix = plan_format(path)
        day = plan_date(date)
        if suffix == ".csv":
            return self.to_csv(path)
        layers = plan_layers(self, day)
        if suffix == ".gpx":  # each vehicle's <trk> already has one <trkseg> per leg
            del layers["legs"]
        return write_layers(
            layers,
            path,
            name=plan_title(self),
            description=plan_description(self),
            color_by="vehicle",
            gpx_routes=plan_gpx_routes(self, day) if suffix == ".gpx" else None,
            formats=PLAN_FORMATS,
            what="a plan",
        )

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the itinerary (one row per visit) as CSV, atomically."""
        return atomic_write_text(path, self.itinerary.to_csv(index=False))

    def to_map(
        self,
        *,
        m: Any = None,
        name: str | None = None,
        title: str | None = None,
        osm_tiles: bool = False,
        basemap: Any = None,
        tiles: Any = None,
    ):
        """Offline folium map: one colour per vehicle, numbered stops, depots, unserved stops.

        A new map has a title, the hillshade of the network's DEM (when the
        network has terrain), the offline OSM base map (place names, water,
        built-up areas), the roads in grey and a vehicle legend. The map carries
        Leaflet inline (:func:`geolog.maps.base_map`), so it opens with no
        internet; all labels are HTML-escaped.

        Several plans on one map: ``m = p.to_map(name="base");
        q.to_map(m=m, name="disrupted")`` — the second plan's vehicles get the
        next colours and dashed lines, and the layer control lists both.

        Parameters
        ----------
        m
            An existing map to draw on (to compare plans on one map).
        name
            Prefix of this plan's layers in the layer control.
        title
            Title shown on a new map (default "Distribution plan — n vehicles").
        basemap
            Offline base map: ``None`` uses the network's OSM file when found,
            a path reads that file, ``False`` draws none.
        osm_tiles
            Add OpenStreetMap web tiles as an optional layer (off at opening).
        tiles
            Deprecated, ignored: geolog maps have no web basemap by default.
        """
        from .plan_map import draw_plan

        return draw_plan(self, m=m, name=name, osm_tiles=osm_tiles, title=title, basemap=basemap)


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
