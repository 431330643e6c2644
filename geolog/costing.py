"""Old name of :mod:`geolog.drape` (it drapes edges on a DEM; it computes no cost).

Kept so ``geolog.costing.add_terrain`` and friends keep working; new code
imports from :mod:`geolog.drape`.
"""

from __future__ import annotations

from .drape import *  # noqa: F403  (exactly drape's public names)
from .drape import __all__  # noqa: F401
