"""Last-mile distribution planning: one API, two engines (PyVRP and OR-Tools).

:func:`solve_cvrp` solves a plain capacitated VRP on a matrix (checkable on
CVRPLIB instances). :func:`plan` builds the whole model from a road network:
depots, stops with demand / service time / time window / drop penalty, and a
heterogeneous fleet whose travel times come from :func:`geolog.routing.matrix`
under each vehicle type's profile and the route rules in force.

Both engines receive the same integer model (metres, seconds, cost units) and
every plan is re-timed by the same schedule code, so their plans can be checked
by one validator and compared with :func:`compare`.

Modules
-------
``inputs``
    Checking depots, stops and the fleet (:class:`~geolog.planning.inputs.FleetType`).
``legs``
    The road network side: travel matrices, leg geometries, road closures.
``model``
    The engine-neutral integer model and the one schedule code.
``engines``, ``pyvrp_engine``, ``ortools_engine``
    Solving the model; :func:`solve_cvrp` on a plain matrix.
``pipeline``
    :func:`plan` as named steps from inputs to a :class:`Plan`.
``result``, ``plan_map``, ``comparison``
    The :class:`Plan` dataclass and its outputs, its map, :func:`compare`.
"""

from __future__ import annotations

from .comparison import compare
from .engines import ENGINES, solve_cvrp, solve_model
from .pipeline import plan
from .result import PLAN_FORMATS, UNSERVED_REASONS, Plan

__all__ = [
    "ENGINES",
    "PLAN_FORMATS",
    "UNSERVED_REASONS",
    "Plan",
    "plan",
    "compare",
    "solve_cvrp",
    "solve_model",
]
