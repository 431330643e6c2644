"""Distribution planning (the name of :mod:`geolog.planning` before it became a package).

Every name here is :mod:`geolog.planning`'s; new code imports from there.
"""

from __future__ import annotations

from .planning import (
    ENGINES,
    PLAN_FORMATS,
    UNSERVED_REASONS,
    Plan,
    compare,
    plan,
    solve_cvrp,
    solve_model,
)

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
