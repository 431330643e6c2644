"""Travel profiles: speed curves against hand computation, maxspeed parsing, limits."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from scipy.optimize import brentq

import geolog
from geolog import profiles
from geolog._maxspeed import parse_maxspeed, parse_maxspeed_array
from geolog.errors import GeologWarning, InputError

G = 9.81


def edges_frame(**cols) -> gpd.GeoDataFrame:
    """A small edges frame: every column given as a list of equal length."""
    n = len(next(iter(cols.values())))
    geom = [
        shapely.LineString([(1.5, 42.5 + i * 1e-3), (1.501, 42.5 + i * 1e-3)]) for i in range(n)
    ]
    data = {"length_m": [100.0] * n, **cols}
    return gpd.GeoDataFrame(data, geometry=geom, crs="EPSG:4326")


# ----------------------------------------------------------------------------- Tobler


@pytest.mark.parametrize("grade", [-0.3, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2, 0.5])
def test_tobler_matches_formula(grade):
    expected = 6.0 * math.exp(-3.5 * abs(grade + 0.05))
    assert float(profiles.tobler_kph(grade)) == pytest.approx(expected, rel=1e-12)


def test_tobler_landmarks():
    # 6 km/h at a 5 % descent (the maximum), ~5.04 on the flat, symmetric about -5 %
    assert float(profiles.tobler_kph(-0.05)) == pytest.approx(6.0)
    assert float(profiles.tobler_kph(0.0)) == pytest.approx(5.0367, abs=1e-4)
    g = np.linspace(0, 0.4, 9)
    np.testing.assert_allclose(profiles.tobler_kph(-0.05 + g), profiles.tobler_kph(-0.05 - g))
    assert np.all(np.diff(profiles.tobler_kph(np.linspace(-0.05, 0.6, 20))) < 0)


def test_foot_profile_follows_tobler_and_caps():
    foot = geolog.get_profile("foot")
    grades = [-0.2, -0.05, 0.0, 0.1, 0.25, 0.1]
    e = edges_frame(
        highway=["footway", "residential", "path", "track", "footway", "steps"],
        grade=grades,
        max_grade=grades,
    )
    res = foot.evaluate(e)
    tobler = [6.0 * math.exp(-3.5 * abs(g + 0.05)) for g in grades]
    np.testing.assert_allclose(res["speed_kph"][:5], tobler[:5], rtol=1e-12)
    # steps are capped at the class speed of foot.yaml when Tobler is faster
    cap = yaml.safe_load(profiles.PROFILE_DIR.joinpath("foot.yaml").read_text())["highway"]["steps"]
    assert res["speed_kph"][5] == pytest.approx(min(cap, tobler[5]))
    assert (res["priority"] > 0).all()  # walkers have no grade limit


# ----------------------------------------------------------------------------- climb model


def test_climb_without_drag_is_power_over_force():
    # a hand example: 100 kW at the wheels, 10 t, Crr 0.01, 5 % grade
    p, m, crr, s = 100e3, 10_000.0, 0.01, 0.05
    theta = math.atan(s)
    force = m * G * (crr * math.cos(theta) + math.sin(theta))  # 5880 N
    expected = p / force * 3.6  # 61.2 km/h
    got = profiles.climb_speed_kph(s, power_kw=100, mass_kg=m, crr=crr, efficiency=1.0)
    assert float(got) == pytest.approx(expected, rel=1e-12)
    assert 60 < expected < 62  # sanity of the hand computation itself


@pytest.mark.parametrize("grade", [-0.15, -0.08, -0.02, 0.0, 0.03, 0.08, 0.15, 0.3, 0.6])
def test_climb_with_drag_solves_the_power_balance(grade):
    # an independent root finder on the same balance
    p, eta, m, crr, cda, rho = 213e3, 0.85, 18_000.0, 0.007, 5.6, 1.2
    theta = math.atan(grade)

    def balance(v):
        return (
            m * G * (crr * math.cos(theta) + math.sin(theta)) * v + 0.5 * rho * cda * v**3 - p * eta
        )

    v_ref = brentq(balance, 1e-9, 500.0, xtol=1e-12)
    got = profiles.climb_speed_kph(
        grade, power_kw=213, efficiency=eta, mass_kg=m, crr=crr, cda_m2=cda, air_density=rho
    )
    assert float(got) == pytest.approx(v_ref * 3.6, rel=1e-9)


def test_braking_limit_by_hand():
    # 150 kW endurance brake, 18 t, Crr 0.007, 10 % descent
    m, crr = 18_000.0, 0.007
    theta = math.atan(0.10)
    surplus = m * G * (math.sin(theta) - crr * math.cos(theta))
    expected = 150e3 / surplus * 3.6
    got = profiles.braking_speed_kph(-0.10, braking_power_kw=150, mass_kg=m, crr=crr)
    assert float(got) == pytest.approx(expected, rel=1e-12)
    # climbing or a descent gentler than rolling resistance needs no braking
    assert np.isinf(
        profiles.braking_speed_kph([0.05, -0.005], braking_power_kw=150, mass_kg=m, crr=crr)
    ).all()


def test_truck_profile_speed_is_min_of_base_climb_and_brake():
    spec = yaml.safe_load(profiles.PROFILE_DIR.joinpath("truck.yaml").read_text())
    gm = spec["grade_model"]
    grades = np.array([-0.12, -0.06, 0.0, 0.04, 0.08, 0.12, 0.2])
    e = edges_frame(highway=["primary"] * len(grades), grade=grades, max_grade=grades)
    res = geolog.get_profile("truck").evaluate(e)
    expected = []
    for s in grades:
        theta = math.atan(s)
        v_up = brentq(
            lambda v, t=theta: (
                gm["mass_kg"] * G * (gm["crr"] * math.cos(t) + math.sin(t)) * v
                + 0.5 * gm["air_density"] * gm["cda_m2"] * v**3
                - gm["power_kw"] * 1e3 * gm["efficiency"]
            ),
            1e-9,
            500,
            xtol=1e-12,
        )
        surplus = gm["mass_kg"] * G * (math.sin(-theta) - gm["crr"] * math.cos(theta))
        v_brake = gm["braking_power_kw"] * 1e3 / surplus if surplus > 0 else math.inf
        expected.append(
            min(spec["highway"]["primary"], v_up * 3.6, v_brake * 3.6, spec["max_speed_kph"])
        )
    np.testing.assert_allclose(res["speed_kph"], expected, rtol=1e-9)
    # heavier is slower uphill, never faster
    heavy = geolog.get_profile(
        {"base": "truck", "name": "truck_40t", "grade_model": {"mass_kg": 40_000}}
    )
    assert (heavy.evaluate(e)["speed_kph"] <= res["speed_kph"] + 1e-12).all()
    assert heavy.evaluate(e)["speed_kph"][-1] < res["speed_kph"][-1]


# ----------------------------------------------------------------------------- maxspeed

MAXSPEED_TABLE = [
    ("50", 50.0),
    (" 30 ", 30.0),
    ("50 mph", 50 * 1.609344),
    ("20mph", 20 * 1.609344),
    ("60 km/h", 60.0),
    ("10 knots", 18.52),
    ("RU:urban", 60.0),
    ("RU:rural", 90.0),
    ("DE:urban", 50.0),
    ("FR:rural", 80.0),
    ("DE:zone30", 30.0),
    ("DE:zone:20", 20.0),
    ("XX:urban", 50.0),  # unknown country, generic zone
    ("none", math.inf),
    ("walk", 7.0),
    ("50;70", 50.0),
    ("90;30;90;30;90;30", 30.0),
    ("fast", math.nan),
    ("50;fast", math.nan),
    ("-5", math.nan),
    ("0", math.nan),
    ("", math.nan),
    (None, math.nan),
]


@pytest.mark.parametrize(("text", "kph"), MAXSPEED_TABLE)
def test_parse_maxspeed_table(text, kph):
    got = parse_maxspeed(text)
    if math.isnan(kph):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(kph)


def test_parse_maxspeed_array_counts_garbage():
    values = pd.Series(["50", None, "fast", "fast", "RU:urban", "banana;30", "none"], dtype="str")
    out, invalid = parse_maxspeed_array(values)
    assert invalid == 3  # two "fast" and one list with garbage; None is untagged, not invalid
    assert out[0] == 50 and out[4] == 60 and np.isinf(out[6])
    assert np.isnan(out[[1, 2, 3, 5]]).all()


def test_maxspeed_replaces_class_speed_and_garbage_falls_back():
    car = geolog.get_profile("car")
    e = edges_frame(
        highway=["residential", "residential", "primary", "primary"],
        maxspeed=["50", "fast", None, "none"],
    )
    res = car.evaluate(e)
    assert res["speed_kph"][0] == pytest.approx(50 * car.maxspeed_factor)
    assert res["speed_kph"][1] == car.highway["residential"]  # garbage → class default
    assert res["speed_kph"][2] == car.highway["primary"]
    assert res["speed_kph"][3] == car.max_speed_kph  # "none" → vehicle top speed
    assert res["maxspeed_invalid"] == 1


# ----------------------------------------------------------------------------- limits


def test_grade_limits_forbid_with_terrain():
    truck = geolog.get_profile("truck")
    lim = truck.max_grade
    assert truck.grade_min_length_m == 0  # bundled profiles exempt no edge
    e = edges_frame(
        highway=["primary"] * 5,
        grade=[0.0, 0.1, -0.1, 0.1, 0.0],
        max_grade=[lim - 0.01, lim + 0.01, -(lim + 0.01), lim + 0.2, np.nan],
        length_m=[500.0, 500.0, 500.0, 10.0, 500.0],
    )
    res = truck.evaluate(e)
    # climbing over the limit and descending over it are forbidden, on a 10 m edge
    # too (terrain measures its max_grade over two DEM cells of its road); NaN is
    # not a violation
    np.testing.assert_array_equal(res["priority"] == 0, [False, True, True, True, False])
    assert res["forbidden"]["climb"].sum() == 2 and res["forbidden"]["descent"].sum() == 1
    # a custom profile can still exempt short edges (e.g. endpoint-only grades)
    lenient = profiles.Profile.from_dict(
        {**truck.to_dict(), "name": "truck_lenient", "grade_min_length_m": 50}
    )
    res = lenient.evaluate(e)
    np.testing.assert_array_equal(res["priority"] == 0, [False, True, True, False, False])
    assert res["forbidden"]["climb"].sum() == 1 and res["forbidden"]["descent"].sum() == 1


def test_forbidden_classes_access_and_weight():
    truck = geolog.get_profile("truck")
    e = edges_frame(
        highway=["footway", "primary", "primary", "primary", None],
        access=[None, "no", None, None, None],
        hgv=[None, None, "no", None, None],
        maxweight=[None, None, None, "7.5", None],
    )
    res = truck.evaluate(e)
    np.testing.assert_array_equal(res["priority"] == 0, [True, True, True, True, False])
    assert res["speed_kph"][4] == truck.default_speed_kph  # missing highway → default speed


def test_no_terrain_warns_for_grade_profiles_only(andorra):
    geolog.rules.clear_cache()
    with pytest.warns(GeologWarning, match="no terrain"):
        out = andorra.apply("truck")
    assert (out.edges["speed_kph"] > 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        andorra.apply("car")  # car speed does not depend on grade: silent


# ----------------------------------------------------------------------------- loading


def test_builtins_load_and_round_trip():
    for name in profiles.BUILTIN_PROFILES:
        p = geolog.get_profile(name)
        assert p.name == name and p.sources, f"{name} must document its sources"
        again = profiles.Profile.from_dict(p.to_dict())
        assert again.content_hash() == p.content_hash()


def test_custom_profile_from_yaml_file(tmp_path):
    f = tmp_path / "mule.yaml"
    f.write_text("name: mule\nbase: foot\nmax_speed_kph: 4\n")
    p = geolog.get_profile(f)
    assert p.name == "mule" and p.max_speed_kph == 4 and p.grade_model["model"] == "tobler"
    assert geolog.get_profile(str(f)).content_hash() == p.content_hash()


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"name": "x", "max_sped_kph": 10}, "max_speed_kph"),
        ({"max_speed_kph": 10}, "needs a 'name'"),
        ({"name": "x", "max_speed_kph": "fast"}, "finite number"),
        ({"name": "x", "max_speed_kph": -3}, ">= 0"),
        ({"name": "x", "grade_model": {"model": "magic"}}, "tobler"),
        ({"name": "x", "grade_model": {"model": "climb", "power_kw": 100}}, "needs 'mass_kg'"),
        ({"name": "x", "base": "hovercraft"}, "'base' must be one of"),
        ({"name": "x", "highway": ["primary"]}, "mapping"),
    ],
)
def test_bad_profiles_raise_input_error(spec, match):
    with pytest.raises(InputError, match=match):
        geolog.get_profile(spec)


def test_unknown_profile_name_suggests():
    with pytest.raises(InputError, match="did you mean 'truck'"):
        geolog.get_profile("truk")
    with pytest.raises(InputError, match="does not exist"):
        geolog.get_profile("nowhere/profile.yaml")


def test_weight_t_drives_the_climb_mass():
    t40 = geolog.get_profile({"base": "truck", "name": "truck_40t", "weight_t": 40})
    assert t40.grade_model["mass_kg"] == 40_000
    gm = geolog.get_profile("truck").grade_model
    # the heavier truck climbs slower: the power balance with m = 40 t, solved in the test
    want = brentq(
        lambda v: (
            gm["power_kw"] * 1e3 * gm["efficiency"]
            - 40_000 * G * (gm["crr"] * math.cos(math.atan(0.1)) + math.sin(math.atan(0.1))) * v
            - 0.5 * gm["air_density"] * gm["cda_m2"] * v**3
        ),
        0.01,
        100,
    )
    assert t40.grade_speed_kph(0.1) == pytest.approx(want * 3.6, rel=1e-9)
    assert t40.grade_speed_kph(0.1) < geolog.get_profile("truck").grade_speed_kph(0.1)
    by_mass = geolog.get_profile({"base": "truck", "name": "t26", "grade_model": {"mass_kg": 26e3}})
    assert by_mass.weight_t == 26
    with pytest.raises(InputError, match="disagree"):
        geolog.get_profile(
            {"base": "truck", "name": "x", "weight_t": 40, "grade_model": {"mass_kg": 18000}}
        )


def test_tracks_by_tracktype_surface_and_smoothness():
    car = geolog.get_profile("car")
    spec = yaml.safe_load((profiles.PROFILE_DIR / "car.yaml").read_text())
    e = edges_frame(
        highway=["track", "track", "track", "track", "residential", "residential", "track"],
        tracktype=["grade1", "grade3", None, "grade2", None, None, "grade1"],
        surface=[None, None, None, "gravel", "cobblestone", None, None],
        smoothness=[None, None, None, None, None, "very_bad", "impassable"],
        maxspeed=[None] * 7,
    )
    res = car.evaluate(e)
    ts, sf = spec["track_speed"], spec["surface_factor"]
    want = [
        ts["grade1"],
        ts["grade3"],
        spec["highway"]["track"],  # untagged grade: the class speed
        min(ts["grade2"] * sf["gravel"], spec["surface"]["gravel"]),
        min(spec["highway"]["residential"] * sf["cobblestone"], spec["surface"]["cobblestone"]),
        min(spec["highway"]["residential"], spec["smoothness"]["very_bad"]),
        0.0,  # impassable
    ]
    np.testing.assert_allclose(res["speed_kph"], want)
    # every track speed is slower than any paved road class
    assert max(ts.values()) < spec["highway"]["residential"]
