"""Old name of :mod:`geolog.drape` (it drapes edges on a DEM; it computes no cost).

Kept so ``geolog.costing.add_terrain`` and friends keep working; new code
imports from :mod:`geolog.drape`.
"""

from __future__ import annotations

from .drape import (
    GRADE_CLASS_BINS,
    GRADE_CLASSES,
    GRADE_WANDER,
    OBSTRUCTION_GRADE,
    add_terrain,
    elevation_profile,
    grade_classes,
    steepest_stretch,
)

__all__ = [
    "add_terrain",
    "GRADE_WANDER",
    "steepest_stretch",
    "elevation_profile",
    "grade_classes",
    "GRADE_CLASSES",
    "GRADE_CLASS_BINS",
    "OBSTRUCTION_GRADE",
]
