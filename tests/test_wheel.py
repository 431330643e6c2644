"""A plain ``pip install`` of the wheel carries the sample data (offline build, no network)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import geolog

REPO = Path(__file__).resolve().parent.parent


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_wheel_installs_with_sample_data(tmp_path):
    dist, site, elsewhere = tmp_path / "dist", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("GEOLOG_DATA", "PYTHONPATH")}
    env |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    # python -m build: the sdist first, then the wheel built from the unpacked sdist
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist)]
    subprocess.run([*build, str(REPO)], check=True, capture_output=True, env=env, timeout=600)
    (wheel,) = dist.glob("geolog-*.whl")
    (sdist,) = dist.glob("geolog-*.tar.gz")
    with tarfile.open(sdist) as tar:
        assert not [n for n in tar.getnames() if "/.hypothesis/" in n or "__pycache__" in n]
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "data"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked and {f"geolog/_data/{f[len('data/') :]}" for f in tracked} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True, env=env, timeout=300)
    code = (
        "import json, geolog\n"
        "p = geolog.data.path('andorra')\n"
        "net = geolog.read_osm(p)\n"
        "print(json.dumps({'module': geolog.__file__, 'path': str(p), 'dem': str(geolog.data.dem_path('andorra')),"
        " 'nodes': len(net.nodes), 'edges': len(net.edges),"
        " 'length_m': float(net.edges['length_m'].sum())}))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=elsewhere,
        env=env | {"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    installed = site / "geolog"
    assert Path(got["module"]).resolve().is_relative_to(installed.resolve())
    packaged = Path(got["path"])
    assert packaged.resolve().is_relative_to((installed / "_data").resolve())
    assert _sha(packaged) == _sha(REPO / "data" / "andorra" / "andorra.osm.pbf")
    assert _sha(Path(got["dem"])) == _sha(REPO / "data" / "andorra" / "N42E001.hgt.zip")
    # the installed copy reads the same network as the checkout's data
    net = geolog.read_osm(REPO / "data" / "andorra" / "andorra.osm.pbf")
    assert (got["nodes"], got["edges"]) == (len(net.nodes), len(net.edges))
    assert abs(got["length_m"] - float(net.edges["length_m"].sum())) < 1e-6 * got["length_m"]


def test_checkout_uses_its_data_folder_and_geolog_data_overrides(tmp_path):
    assert geolog.data.DATA_DIR.resolve() == (REPO / "data").resolve()
    code = "import geolog; print(geolog.data.DATA_DIR)"
    env = os.environ | {"GEOLOG_DATA": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert Path(out.stdout.strip()) == tmp_path
