"""The geolog error hierarchy.

Every failure a user can cause becomes one of these, with a message that says
what is wrong, where, and what to do. Each class also inherits the matching
built-in exception (rasterio's pattern), so ``except ValueError`` keeps working
for callers that do not know geolog.

Recoverable oddities (voids filled, edges dropped) are warnings of class
:class:`GeologWarning` and are also recorded on the result.
"""

from __future__ import annotations

__all__ = [
    "GeologError",
    "InputError",
    "OSMError",
    "DEMError",
    "RuleError",
    "NoRouteError",
    "SolverError",
    "GeologWarning",
]


class GeologError(Exception):
    """Root of every error geolog raises on purpose."""


class InputError(GeologError, ValueError):
    """A value or file given by the user is missing, malformed or out of range."""


class OSMError(GeologError, OSError):
    """An OpenStreetMap file cannot be read or holds no usable roads."""


class DEMError(GeologError, ValueError):
    """An elevation raster cannot be read, is void, or does not cover the network."""


class RuleError(GeologError, ValueError):
    """A route rule set is malformed, unsafe, or names unknown columns."""


class NoRouteError(GeologError, LookupError):
    """No path exists between the requested points under the rules in force."""


class SolverError(GeologError, RuntimeError):
    """A planning problem is infeasible or the solver failed."""


class GeologWarning(UserWarning):
    """Something was repaired or dropped; the result records what."""
