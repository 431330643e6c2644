"""Speed against grade: Tobler's hiking function and a vehicle's climbing and braking limits.

The physics behind a profile's ``grade_model`` (see :mod:`geolog.profiles`);
public through :mod:`geolog.profiles`.
"""

from __future__ import annotations

import numpy as np

G = 9.81

_GRADE_MODELS = {
    "none": {},
    "tobler": {},
    "climb": {
        "power_kw": None,
        "efficiency": 0.85,
        "mass_kg": None,
        "crr": None,
        "cda_m2": 0.0,
        "air_density": 1.2,
        "braking_power_kw": None,
    },
}


def tobler_kph(grade: np.ndarray | float) -> np.ndarray:
    """Tobler's hiking function: walking speed on a slope.

    Parameters
    ----------
    grade
        Grade as a fraction in the direction of walking (rise / run; 0.1 = 10 %).

    Returns
    -------
    numpy.ndarray
        Speed in km/h: 6·exp(−3.5·|grade + 0.05|); 6 km/h at a 5 % descent,
        5.04 km/h on the flat.

    References
    ----------
    W. Tobler (1993), *Three presentations on geographical analysis and
    modeling*, NCGIA technical report 93-1.
    """
    g = np.asarray(grade, dtype=float)
    return 6.0 * np.exp(-3.5 * np.abs(g + 0.05))


def climb_speed_kph(
    grade: np.ndarray | float,
    *,
    power_kw: float,
    mass_kg: float,
    crr: float,
    efficiency: float = 1.0,
    cda_m2: float = 0.0,
    air_density: float = 1.2,
) -> np.ndarray:
    """Steady speed a vehicle of given power can hold on a grade.

    Solves ``P·η = m·g·(Crr·cos θ + sin θ)·v + ½·ρ·CdA·v³`` for ``v`` with
    ``θ = atan(grade)`` (closed form, Cardano / trigonometric root).

    Parameters
    ----------
    grade
        Grade as a fraction in the direction of travel (negative = downhill).
    power_kw
        Engine power, kW.
    mass_kg
        Gross mass, kg.
    crr
        Rolling resistance coefficient (dimensionless).
    efficiency
        Share of engine power reaching the wheels, 0-1.
    cda_m2
        Drag coefficient times frontal area, m² (0 = ignore air drag).
    air_density
        kg/m³.

    Returns
    -------
    numpy.ndarray
        Speed in km/h; ``inf`` where no power is needed (gravity alone
        overcomes rolling resistance and there is no air drag).
    """
    g = np.asarray(grade, dtype=float)
    theta = np.arctan(g)
    p = power_kw * 1000.0 * efficiency  # W
    b = mass_kg * G * (crr * np.cos(theta) + np.sin(theta))  # N
    a = 0.5 * air_density * cda_m2  # N/(m/s)^2
    if a <= 0:
        with np.errstate(divide="ignore"):
            v = np.where(b > 0, p / np.where(b > 0, b, 1.0), np.inf)
        return v * 3.6
    # depressed cubic v^3 + pp v + qq = 0, exactly one positive root
    pp = b / a
    qq = -p / a
    disc = (qq / 2.0) ** 2 + (pp / 3.0) ** 3
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.sqrt(np.where(disc >= 0, disc, 0.0))
        v_cardano = np.cbrt(-qq / 2.0 + sq) + np.cbrt(-qq / 2.0 - sq)
        r = np.sqrt(np.where(pp < 0, -pp / 3.0, 1.0))
        arg = np.clip((3.0 * qq / (2.0 * pp)) * np.sqrt(np.where(pp < 0, -3.0 / pp, 1.0)), -1, 1)
        v_trig = 2.0 * r * np.cos(np.arccos(arg) / 3.0)
    v = np.where(disc >= 0, v_cardano, v_trig)
    # one Newton step polishes the rounding of the closed form
    f = a * v**3 + b * v - p
    df = 3.0 * a * v**2 + b
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(df > 0, v - f / df, v)
    return v * 3.6


def braking_speed_kph(
    grade: np.ndarray | float, *, braking_power_kw: float, mass_kg: float, crr: float
) -> np.ndarray:
    """Highest safe descent speed when endurance brakes must hold the vehicle.

    On a descent steeper than the rolling resistance, gravity supplies a
    surplus force ``m·g·(sin θ − Crr·cos θ)``; the engine brake / retarder can
    dissipate ``P_brake`` continuously, so the speed is limited to
    ``P_brake / (m·g·(sin θ − Crr·cos θ))`` (air drag ignored: conservative).

    Parameters
    ----------
    grade
        Grade in the direction of travel (negative = downhill).
    braking_power_kw
        Continuous braking power, kW.
    mass_kg
        Gross mass, kg.
    crr
        Rolling resistance coefficient.

    Returns
    -------
    numpy.ndarray
        Speed in km/h, ``inf`` where the grade needs no braking.
    """
    g = np.asarray(grade, dtype=float)
    theta = np.arctan(-g)  # positive on descents
    surplus = mass_kg * G * (np.sin(theta) - crr * np.cos(theta))
    with np.errstate(divide="ignore"):
        v = np.where(
            surplus > 0, braking_power_kw * 1000.0 / np.where(surplus > 0, surplus, 1.0), np.inf
        )
    return v * 3.6
