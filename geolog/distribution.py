"""Distribution planning (the name of :mod:`geolog.planning` before it became a package).

Every name here is :mod:`geolog.planning`'s, the very same objects; new code
imports from there.
"""

from __future__ import annotations

from . import planning as _planning
from .planning import (  # noqa: F401 - re-exported under the old name
    ENGINES,
    PLAN_FORMATS,
    UNSERVED_REASONS,
    Plan,
    compare,
    plan,
    solve_cvrp,
    solve_model,
)

__all__ = list(_planning.__all__)
