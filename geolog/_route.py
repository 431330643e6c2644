"""The :class:`Route` result: numbers, geometry, edges, elevation profile, exports.

Directions are built in :mod:`geolog._directions`, the terminal and notebook
displays in :mod:`geolog._route_display`.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._graph import RoutingGraph
from ._route_display import route_html, route_repr
from ._route_search import _Leg
from ._route_snap import _index, _Snap
from ._snap import cut_lines
from .errors import InputError

__all__ = ["Route"]

logger = logging.getLogger("geolog.routing")


class Route:
    """A route found by :func:`route` (or one of :func:`alternatives`).

    Attributes
    ----------
    length_m, duration_s
        Length (metres) and travel time (seconds) of the route, partial edges
        at both ends included. ``duration_s`` is NaN on a network without
        ``travel_time_s`` (no profile applied).
    ascent_m, descent_m
        Total climb and descent (metres) from the edges' ``ascent_m`` /
        ``descent_m`` (terrain), else from node elevations; NaN without either.
    max_grade
        Steepest climb on the route (fraction, 0.12 = 12 %, signed in the
        direction of travel, so a route that only descends has a negative
        value); NaN without terrain.
    cost
        Sum of the routing weight (``weight`` column, e.g. ``cost``).
    turn_s, turn_after_s
        Seconds spent turning at junctions (the profile's ``turn_costs``,
        part of ``duration_s``), in total and per edge of ``rows``: the turn
        at the junction after that edge (numpy array; 0 after the last edge
        and at via points; a start at the very end of an edge puts the turn
        made there on the first edge).
    origin, destination, via
        The points as given, ``(lat, lon)``.
    snapped
        The snapped points in travel order (origin, via …, destination):
        ``lat``, ``lon``, ``distance_m`` (to the query point, metres),
        ``edge`` (row label snapped to) and ``fraction`` along it, ``node``
        (OSM id when the point is at a node, -1 otherwise) and ``note`` (a
        nearer road that is not routable, and why; '' if none).
    profile_name, rules, weight
        What the route was computed under.
    overlap, stretch
        Set by :func:`alternatives`: the largest share of this route's length
        it shares with a route listed before it, and its cost relative to the
        best route (1.0 for the best).
    """

    def __init__(
        self,
        net: Any,
        g: RoutingGraph,
        legs: list[_Leg],
        snaps: list[_Snap],
        *,
        profile_name: str | None,
        rules: Any,
        weight: str,
    ) -> None:
        self._net = net
        self._g = g
        one = len(legs) == 1  # a leg's arrays are its own: no copies needed
        self.rows = legs[0].rows if one else np.concatenate([leg.rows for leg in legs])
        self.f0 = legs[0].f0 if one else np.concatenate([leg.f0 for leg in legs])
        self.f1 = legs[0].f1 if one else np.concatenate([leg.f1 for leg in legs])
        self.turn_after_s = (
            legs[0].turn_after_s if one else np.concatenate([leg.turn_after_s for leg in legs])
        )
        self.leg_sizes = [len(leg.rows) for leg in legs]
        self.cost = float(sum(leg.cost for leg in legs))
        self.origin = snaps[0].query
        self.destination = snaps[-1].query
        self.via = [s.query for s in snaps[1:-1]]
        self._snaps = snaps
        self.profile_name = profile_name
        self.rules = rules
        self.weight = weight
        self.overlap: float | None = None
        self.stretch: float | None = None
        frac = self.f1 - self.f0
        self._frac = frac
        self.length_m = float(np.add.reduce(frac * g.length[self.rows]))
        #: seconds spent turning at junctions (the profile's turn costs), in duration_s
        self.turn_s = float(np.add.reduce(self.turn_after_s))
        self.duration_s = float(np.add.reduce(frac * g.time[self.rows])) + self.turn_s

    # ascent_m, descent_m, max_grade: worked out on first access (subclasses may set them)
    @cached_property
    def ascent_m(self) -> float:
        return self._terrain_summary[0]

    @cached_property
    def descent_m(self) -> float:
        return self._terrain_summary[1]

    @cached_property
    def max_grade(self) -> float:
        return self._terrain_summary[2]

    @cached_property
    def _terrain_summary(self) -> tuple[float, float, float]:
        return self._terrain()

    @cached_property
    def snapped(self) -> pd.DataFrame:
        """The snapped points in travel order (see the class docstring)."""
        snaps = self._snaps
        ids = self._net.nodes.index.to_numpy()
        labels = self._net.edges.index
        return pd.DataFrame(
            {
                "role": ["origin", *["via"] * (len(snaps) - 2), "destination"],
                "lat": [s.lat for s in snaps],
                "lon": [s.lon for s in snaps],
                "distance_m": [s.distance_m for s in snaps],
                "edge": [labels[s.rows[0]] if len(s.rows) else -1 for s in snaps],
                "fraction": [float(s.fracs[0]) if len(s.fracs) else np.nan for s in snaps],
                "node": [int(ids[s.node]) if s.node >= 0 else -1 for s in snaps],
                "note": [s.note for s in snaps],
            }
        )

    # terrain summary --------------------------------------------------------
    def _node_elev(self) -> tuple[np.ndarray, np.ndarray] | None:
        nodes = self._net.nodes
        if "elevation" not in nodes.columns:
            return None
        z = nodes["elevation"].to_numpy(dtype=float)
        zu, zv = z[self._g.upos[self.rows]], z[self._g.vpos[self.rows]]
        return zu + self.f0 * (zv - zu), zu + self.f1 * (zv - zu)

    def _terrain(self) -> tuple[float, float, float]:
        e = self._net.edges
        used = self._frac > 0
        if "ascent_m" in e.columns and "descent_m" in e.columns:
            asc = e["ascent_m"].to_numpy(dtype=float)[self.rows]
            des = e["descent_m"].to_numpy(dtype=float)[self.rows]
            ascent = float(np.nansum(self._frac * asc))
            descent = float(np.nansum(self._frac * des))
        else:
            ze = self._node_elev()
            if ze is None:
                ascent = descent = float("nan")
            else:
                d = ze[1] - ze[0]
                ascent, descent = float(d[d > 0].sum()), float(-d[d < 0].sum())
        col = "max_grade" if "max_grade" in e.columns else "grade" if "grade" in e.columns else None
        if col is not None and used.any():
            g = e[col].to_numpy(dtype=float)[self.rows][used]
            max_grade = float(np.nanmax(g)) if np.isfinite(g).any() else float("nan")
        else:
            ze = self._node_elev()
            L = self._g.length[self.rows] * self._frac
            if ze is None or not (used & (L > 0)).any():
                max_grade = float("nan")
            else:
                ok = used & (L > 0)
                max_grade = float(np.max((ze[1] - ze[0])[ok] / L[ok]))
        return ascent, descent, max_grade

    # geometry and frames ----------------------------------------------------
    @property
    def _edge_index(self):
        """The snapping index of the routable rows (geometries in a metric frame)."""
        return _index(self._net, self._g)

    @cached_property
    def _pieces(self) -> np.ndarray:
        idx = self._edge_index
        return cut_lines(idx.geoms_m[self.rows], self.f0, self.f1, idx.frame)

    @cached_property
    def geometry(self) -> shapely.LineString:
        """The route as one LineString in lon/lat (EPSG:4326)."""
        xy = shapely.get_coordinates(self._pieces)
        if len(xy) == 0:
            return shapely.LineString()
        keep = np.r_[True, np.any(np.abs(np.diff(xy, axis=0)) > 1e-12, axis=1)]
        xy = xy[keep]
        if len(xy) == 1:
            xy = np.vstack([xy, xy])
        return shapely.LineString(xy)

    @cached_property
    def edges(self):
        """The traversed edges in order (GeoDataFrame).

        A copy of the network's edge rows with ``edge`` (row label),
        ``kind`` (``"road"``; hybrid routes also have ``"offroad"`` rows),
        ``leg`` (0 for the first leg, +1 at each via point), ``fraction_start``,
        ``fraction_end`` (part of the edge travelled), ``traversed_m``,
        ``traversed_s``, ``turn_s`` (seconds of the turn at the junction
        after the edge, :attr:`turn_after_s`) and the geometry cut to the
        travelled part.
        """
        import geopandas as gpd

        e = self._net.edges.iloc[self.rows]
        e = e.reset_index(names="edge")
        leg = np.repeat(np.arange(len(self.leg_sizes)), self.leg_sizes)
        extra = pd.DataFrame(
            {
                "kind": "road",  # hybrid routes (geolog.offroad) also have "offroad" rows
                "leg": leg,
                "fraction_start": self.f0,
                "fraction_end": self.f1,
                "traversed_m": self._frac * self._g.length[self.rows],
                "traversed_s": self._frac * self._g.time[self.rows],
                "turn_s": self.turn_after_s,
            }
        )
        out = pd.concat([e.drop(columns=e.geometry.name), extra], axis=1)
        return gpd.GeoDataFrame(out, geometry=self._pieces, crs="EPSG:4326")

    def profile(self) -> pd.DataFrame:
        """Elevation along the route: ``distance_m`` from the start and ``elevation_m``.

        Uses :func:`geolog.costing.elevation_profile` (DEM samples along each
        edge) when the terrain module provides it, else the node elevations
        (one point per edge end, linear between).

        Raises
        ------
        InputError
            If the network has no elevations (add terrain first:
            ``net.with_terrain(DEM.open(...))``).
        """
        try:
            from .costing import elevation_profile
        except ImportError:
            elevation_profile = None
        if elevation_profile is not None:
            try:
                return self._profile_from_costing(elevation_profile)
            except (InputError, KeyError, ValueError, TypeError) as err:
                logger.debug("elevation_profile failed (%s); using node elevations", err)
        ze = self._node_elev()
        if ze is None:
            raise InputError(
                "this route's network has no elevations; add terrain first with "
                "net.with_terrain(geolog.DEM.open(...))"
            )
        L = self._frac * self._g.length[self.rows]
        start = np.concatenate([[0.0], np.cumsum(L)[:-1]])
        d = np.column_stack([start, start + L]).ravel()
        z = np.column_stack([ze[0], ze[1]]).ravel()
        keep = np.r_[True, np.diff(d) > 0]
        return pd.DataFrame({"distance_m": d[keep], "elevation_m": z[keep]})

    def _profile_from_costing(self, elevation_profile) -> pd.DataFrame:
        labels = self._net.edges.index[self.rows]
        p = elevation_profile(self._net, list(labels))
        d = p["distance_m"].to_numpy(dtype=float)
        z = p["elevation_m"].to_numpy(dtype=float)
        full = self._g.length[self.rows]
        S = np.concatenate([[0.0], np.cumsum(full)[:-1]])  # start of each row, full edges
        lo, hi = S + self.f0 * full, S + self.f1 * full  # traversed part, full-edge axis
        R = np.concatenate([[0.0], np.cumsum(hi - lo)[:-1]])  # its start on the route axis
        k = np.clip(np.searchsorted(S, d, side="right") - 1, 0, len(S) - 1)
        inside = (d > lo[k]) & (d < hi[k])
        dd = np.concatenate([lo, d[inside], hi])
        kk = np.concatenate([np.arange(len(S)), k[inside], np.arange(len(S))])
        pos = np.concatenate([np.zeros(len(S)), np.ones(inside.sum()), np.full(len(S), 2.0)])
        order = np.lexsort((dd, pos, kk))
        dd, kk = dd[order], kk[order]
        out = pd.DataFrame({"distance_m": dd - lo[kk] + R[kk], "elevation_m": np.interp(dd, d, z)})
        keep = np.r_[True, np.diff(out["distance_m"].to_numpy()) > 1e-9]
        return out[keep].reset_index(drop=True)

    def directions(self, *, min_step_m: float = 25.0) -> pd.DataFrame:
        """Turn-by-turn directions: one row per stretch of the same road.

        Stretches shorter than ``min_step_m`` metres (junction links, slivers
        of roundabouts) are folded into the step before them.

        Returns
        -------
        pandas.DataFrame
            ``step``, ``instruction`` (e.g. "turn left onto CG-2"), ``road``
            (name and/or ref, "unnamed road" when untagged), ``turn``
            (``depart``, ``straight``, ``slight left`` / ``slight right``
            (20–45°), ``left`` / ``right`` (45–135°), ``sharp left`` /
            ``sharp right``, ``u-turn`` (> 170°), ``roundabout``,
            ``arrive``), ``turn_deg`` (signed heading change, + = right),
            ``distance_m`` along it, ``duration_s`` and ``exit`` (at a
            roundabout the number of the exit taken, counting the ways out
            of the ring passed since entering: "enter the roundabout and
            take the 2nd exit"; 0 elsewhere).
        """
        from ._directions import directions

        return directions(self, min_step_m=min_step_m)

    # export ------------------------------------------------------------------
    def summary(self) -> dict:
        """The headline numbers as a plain dict (JSON-ready).

        geolog's rule: ``summary()`` of one thing (a network, a route) is a
        dict; of many things (:meth:`geolog.Plan.summary`, one row per
        vehicle) a DataFrame.
        """

        def num(x: float | None) -> float | None:
            return None if x is None or not np.isfinite(x) else round(float(x), 6)

        return {
            "profile": self.profile_name,
            "weight": self.weight,
            "length_m": num(self.length_m),
            "duration_s": num(self.duration_s),
            "ascent_m": num(self.ascent_m),
            "descent_m": num(self.descent_m),
            "max_grade": num(self.max_grade),
            "cost": num(self.cost),
            "origin": list(self.origin),
            "destination": list(self.destination),
            "via": [list(v) for v in self.via],
            "edges": len(self.rows),
            "overlap": num(self.overlap),
            "stretch": num(self.stretch),
        }

    @property
    def __geo_interface__(self) -> dict:
        """GeoJSON FeatureCollection: the route line with its summary."""
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(self.geometry),
                    "properties": self.summary(),
                }
            ],
        }

    def to_geojson(self, **kwargs: Any) -> str:
        """GeoJSON text (a FeatureCollection with one LineString feature, lon/lat).

        Returns the text; :meth:`to_file` writes a file.
        """
        return json.dumps(self.__geo_interface__, **kwargs)

    def to_file(self, path: str | os.PathLike) -> Path:
        """Write the route atomically; the format comes from the suffix.

        ``.gpx`` (GPX 1.1: a ``<rte>`` through the origin, via points and
        destination, a ``<trk>`` of the road geometry with ``<ele>`` in metres
        when the network has terrain, the summary in ``<desc>``), ``.kml``
        (the styled line with the same points), ``.geojson`` / ``.json`` (as
        :meth:`to_geojson`), ``.gpkg`` (layers ``route``, ``edges`` and
        ``stops``) or ``.parquet`` (GeoParquet, the line and its summary).
        See :mod:`geolog.export`. An existing file is replaced only once the
        new one is complete.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        InputError
            Unknown suffix (the message lists the formats), or the folder is
            not writable.

        Examples
        --------
        >>> import geolog, tempfile, pathlib
        >>> net = geolog.read_osm(geolog.data.path("andorra"))
        >>> r = geolog.route(net, (42.5078, 1.5211), (42.5440, 1.5140), profile="car")
        >>> r.to_file(pathlib.Path(tempfile.mkdtemp()) / "route.gpx").suffix
        '.gpx'
        """
        from ._route_export import write_route

        return write_route(self, path)

    def __repr__(self) -> str:
        return route_repr(self)

    def _repr_html_(self) -> str:
        return route_html(self)
