"""The result of an off-road or hybrid search: a :class:`~geolog.Route` made of road and off-road parts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ._route import Route
from .errors import InputError


@dataclass(frozen=True)
class OffroadLeg:
    """A cross-country stretch: vertices with their elevation and times from the leg's start.

    ``lon``, ``lat`` in degrees, ``x``, ``y`` metric (the surface CRS),
    ``z`` metres, ``t`` seconds (cumulative; 0 at the first vertex).
    """

    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    t: np.ndarray

    @property
    def steps_m(self) -> np.ndarray:
        """Ground length of each step between vertices (metres, plan distance)."""
        return np.hypot(np.diff(self.x), np.diff(self.y))

    @property
    def length_m(self) -> float:
        """Plan length (metres)."""
        return float(self.steps_m.sum())

    @property
    def duration_s(self) -> float:
        """Travel time (seconds)."""
        return float(self.t[-1] - self.t[0]) if len(self.t) else 0.0

    @property
    def line(self) -> shapely.LineString:
        """The leg in lon/lat."""
        xy = np.column_stack([self.lon, self.lat])
        return shapely.LineString(xy if len(xy) > 1 else np.vstack([xy, xy]))


def naismith_s(profile: pd.DataFrame, *, langmuir: bool = True) -> float:
    """Hill-walking time by Naismith's rule, with Langmuir's descent corrections (seconds).

    Naismith (1892): 1 hour per 5 km of distance plus 1 hour per 600 m of
    ascent. Langmuir (1984, *Mountaincraft and Leadership*): on descents
    of 5–12° take off 10 minutes per 300 m descended; on descents steeper
    than 12° add 10 minutes per 300 m. The rule r.walk's default
    coefficients were fitted to.

    Parameters
    ----------
    profile
        ``distance_m`` and ``elevation_m`` along the way (e.g. :meth:`geolog.Route.profile`).
    langmuir
        Apply the descent corrections.
    """
    d = np.diff(profile["distance_m"].to_numpy(float))
    dz = np.diff(profile["elevation_m"].to_numpy(float))
    hours = d.sum() / 5000.0 + dz[dz > 0].sum() / 600.0
    if langmuir:
        with np.errstate(invalid="ignore", divide="ignore"):
            angle = np.degrees(np.arctan2(-dz, d))
        drop = np.where(dz < 0, -dz, 0.0)
        hours -= drop[(angle >= 5) & (angle <= 12)].sum() / 300.0 * (10 / 60)
        hours += drop[angle > 12].sum() / 300.0 * (10 / 60)
    return float(hours * 3600.0)


class HybridRoute(Route):
    """A :class:`geolog.Route` whose parts are road and cross-country (off-road) stretches.

    Made by :func:`geolog.offroad_route` and :func:`geolog.hybrid_route`. The
    numbers (``length_m``, ``duration_s``, ``ascent_m``, ``descent_m``,
    ``max_grade``) cover the whole trip; ``edges`` has one row per road edge
    and one per off-road leg, told apart by ``kind`` (``road`` /
    ``offroad``); ``segments`` has one row per part.

    Attributes
    ----------
    parts
        ``[("offroad", OffroadLeg) | ("road", Route), …]`` in travel order.
    offroad_m, offroad_s
        Length (metres) and time (seconds) off the road.
    road
        The road part (a Route) or None.
    """

    def __init__(
        self,
        parts: list[tuple[str, Any]],
        *,
        origin: tuple[float, float],
        destination: tuple[float, float],
        profile_name: str,
        neighbours: int,
    ) -> None:
        self.parts = [(k, p) for k, p in parts if k == "road" or len(p.t) > 1]
        self.origin, self.destination, self.via = origin, destination, []
        self.profile_name = profile_name
        self.neighbours = neighbours
        self.rules = None
        self.weight = "travel_time_s"
        self.overlap = self.stretch = None
        roads = [p for k, p in self.parts if k == "road"]
        self.road = roads[0] if roads else None
        self.rows = self.road.rows if self.road is not None else np.empty(0, dtype=np.int64)
        self.turn_after_s = self.road.turn_after_s if self.road is not None else np.zeros(0)
        self.turn_s = float(np.add.reduce(self.turn_after_s))  # off-road legs have no turns
        legs = [p for k, p in self.parts if k == "offroad"]
        self.offroad_m = float(sum(leg.length_m for leg in legs))
        self.offroad_s = float(sum(leg.duration_s for leg in legs))
        self.length_m = self.offroad_m + sum(r.length_m for r in roads)
        self.duration_s = self.offroad_s + sum(r.duration_s for r in roads)
        self.cost = self.duration_s
        self.ascent_m, self.descent_m, self.max_grade = self._climb(legs, roads)

    @staticmethod
    def _climb(legs: list[OffroadLeg], roads: list[Route]) -> tuple[float, float, float]:
        asc = des = 0.0
        steep = -np.inf
        for leg in legs:
            dz = np.diff(leg.z)
            asc += float(dz[dz > 0].sum())
            des += float(-dz[dz < 0].sum())
            run = leg.steps_m
            if (run > 0).any():
                steep = max(steep, float(np.max(dz[run > 0] / run[run > 0])))
        for r in roads:
            asc += np.nan_to_num(r.ascent_m)
            des += np.nan_to_num(r.descent_m)
            if np.isfinite(r.max_grade):
                steep = max(steep, r.max_grade)
        return asc, des, steep if np.isfinite(steep) else float("nan")

    @cached_property
    def geometry(self) -> shapely.LineString:
        """The whole trip as one LineString in lon/lat (EPSG:4326)."""
        xy = [shapely.get_coordinates(self._part_line(k, p)) for k, p in self.parts]
        xy = np.vstack(xy) if xy else np.empty((0, 2))
        keep = np.r_[True, np.any(np.abs(np.diff(xy, axis=0)) > 1e-12, axis=1)] if len(xy) else []
        xy = xy[keep]
        return shapely.LineString(xy if len(xy) > 1 else np.vstack([xy, xy]))

    @staticmethod
    def _part_line(kind: str, part: Any) -> shapely.LineString:
        return part.line if kind == "offroad" else part.geometry

    @cached_property
    def segments(self):
        """One row per part: ``kind``, ``length_m``, ``duration_s``, ``ascent_m``, geometry."""
        import geopandas as gpd

        rows = [
            {
                "kind": k,
                "length_m": p.length_m,
                "duration_s": p.duration_s,
                "ascent_m": float(np.diff(p.z).clip(min=0).sum()) if k == "offroad" else p.ascent_m,
            }
            for k, p in self.parts
        ]
        geoms = [self._part_line(k, p) for k, p in self.parts]
        return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs="EPSG:4326")

    @cached_property
    def edges(self):
        """Road edges (as :attr:`geolog.Route.edges`) and off-road legs in travel order.

        ``kind`` is ``road`` or ``offroad``; off-road rows have ``edge`` -1,
        ``traversed_m``, ``traversed_s``, ``grade`` (mean, rise over run) and
        ``max_grade`` (steepest step).
        """
        import geopandas as gpd

        frames = []
        for k, p in self.parts:
            if k == "road":
                frames.append(p.edges.assign(kind="road"))
                continue
            dz, run = np.diff(p.z), p.steps_m
            with np.errstate(invalid="ignore", divide="ignore"):
                steep = np.where(run > 0, dz / run, np.nan)
            frames.append(
                gpd.GeoDataFrame(
                    {
                        "edge": [-1],
                        "kind": ["offroad"],
                        "highway": ["cross-country"],
                        "traversed_m": [p.length_m],
                        "traversed_s": [p.duration_s],
                        "turn_s": [0.0],
                        "grade": [(p.z[-1] - p.z[0]) / p.length_m if p.length_m else 0.0],
                        "max_grade": [float(np.nanmax(steep)) if np.isfinite(steep).any() else 0.0],
                    },
                    geometry=[p.line],
                    crs="EPSG:4326",
                )
            )
        if not frames:
            return gpd.GeoDataFrame({"kind": []}, geometry=[], crs="EPSG:4326")
        out = pd.concat(frames, ignore_index=True)
        return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")

    def profile(self) -> pd.DataFrame:
        """Elevation along the trip: ``distance_m``, ``elevation_m`` and ``kind`` of the part.

        Off-road parts use the DEM at the path's cells; road parts their
        road profile (:meth:`geolog.Route.profile`), or, on a network without
        terrain, the DEM under the road's vertices.
        """
        out, start = [], 0.0
        for k, p in self.parts:
            if k == "offroad":
                d = np.r_[0.0, np.cumsum(p.steps_m)]
                z = p.z
            else:
                d, z = self._road_profile(p)
            out.append(pd.DataFrame({"distance_m": d + start, "elevation_m": z, "kind": k}))
            start += float(d[-1]) if len(d) else 0.0
        return pd.concat(out, ignore_index=True)

    def _road_profile(self, road: Route) -> tuple[np.ndarray, np.ndarray]:
        try:
            prof = road.profile()
            return prof["distance_m"].to_numpy(float), prof["elevation_m"].to_numpy(float)
        except InputError:
            surf = getattr(self, "_surface", None)
            if surf is None:
                raise
            xy = shapely.get_coordinates(road.geometry)
            x, y = surf.to_grid(xy[:, 0], xy[:, 1])
            d = np.r_[0.0, np.cumsum(np.hypot(np.diff(x), np.diff(y)))]
            d *= road.length_m / d[-1] if d[-1] > 0 else 1.0
            return d, surf.dem.sample(xy[:, 0], xy[:, 1])

    def directions(self, *, min_step_m: float = 25.0) -> pd.DataFrame:
        """Directions: the road part's turn-by-turn steps, each off-road leg as one step.

        Off-road steps have ``turn`` ``offroad`` and the instruction
        "cross country …" with the leg's bearing; the columns are those of
        :meth:`geolog.Route.directions`.
        """
        frames = []
        for i, (k, p) in enumerate(self.parts):
            if k == "road":
                d = p.directions(min_step_m=min_step_m)
                last = i == len(self.parts) - 1
                frames.append(d if last else d[d["turn"] != "arrive"])  # the trip goes on
                continue
            bearing = (np.degrees(np.arctan2(p.x[-1] - p.x[0], p.y[-1] - p.y[0])) + 360) % 360
            frames.append(
                pd.DataFrame(
                    {
                        "instruction": [f"cross country, bearing {bearing:03.0f}°"],
                        "road": ["cross-country"],
                        "turn": ["offroad"],
                        "turn_deg": [0.0],
                        "distance_m": [p.length_m],
                        "duration_s": [p.duration_s],
                    }
                )
            )
        out = pd.concat(frames, ignore_index=True)
        out["step"] = np.arange(1, len(out) + 1)
        return out[["step", *[c for c in out.columns if c != "step"]]]

    def summary(self) -> dict:
        """The headline numbers (as :meth:`geolog.Route.summary`) plus ``offroad_m`` and ``offroad_s``."""
        s = super().summary()
        s["edges"] = len(self.rows)
        s["offroad_m"] = round(self.offroad_m, 6)
        s["offroad_s"] = round(self.offroad_s, 6)
        return s

    @property
    def _edge_index(self):
        """The local metric frame GPX export uses for vertex spacing."""
        from types import SimpleNamespace

        from ._snap import LocalFrame

        lon, lat = self.origin[1], self.origin[0]
        return SimpleNamespace(frame=LocalFrame(lon, lat))

    def __repr__(self) -> str:
        return (
            f"<HybridRoute {self.profile_name}: {self.length_m / 1000:.2f} km, "
            f"{self.duration_s / 60:.1f} min, off-road {self.offroad_m / 1000:.2f} km>"
        )
