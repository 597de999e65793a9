"""The studies from Python: a sweep's rows (a DataFrame with pandas) equal
to `voxfe sweep`'s results.jsonl, a convergence study, a design search."""

import json

import pytest

import voxfe
from conftest import SCENES, same_bits, strip

SMALL = {"specimen.size": [3.0, 3.0, 3.0], "voxel.size": 0.1}


@pytest.fixture(scope="module")
def scene():
    return voxfe.Scene.load(SCENES / "rd-compression.toml", SMALL).with_backend("cpu")


def test_sweep_rows_equal_the_cli_results(scene, cli, tmp_path):
    rows = voxfe.sweep(scene, vary={"porosity": [0.75, 0.85]}, frame=False)
    out = tmp_path / "sweep"
    cli("sweep", "scenes/rd-compression.toml", "--backend", "cpu",
        "--set", "specimen.size=[3.0, 3.0, 3.0]", "--set", "voxel.size=0.1",
        "--vary", "lattice.porosity=0.75,0.85", "--out", str(out), "-q")
    expected = [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(expected) == 2
    for got, want in zip(rows, expected):
        for r in (got, want):
            # The base scene's path as each was given.
            r["provenance"].pop("scene_path")
        same_bits(strip(got), strip(want))
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert rows[0]["e_eff"] > rows[1]["e_eff"]


def test_sweep_is_a_dataframe_with_pandas(scene):
    pd = pytest.importorskip("pandas")
    df = voxfe.sweep(scene, vary="lattice.porosity=0.75,0.85")
    assert isinstance(df, pd.DataFrame)
    assert list(df["lattice.porosity"]) == [0.75, 0.85]
    assert (df["status"] == "ok").all() and df["e_eff"].is_monotonic_decreasing


def test_converge_gives_the_estimate(scene):
    events = []
    study = voxfe.converge(scene, levels=3, ratio=1.5, progress=events.append)
    assert study["converged"] is True
    assert len(study["levels"]) == 3
    assert [e["level"] for e in events if e["stage"] == "level"] == [1, 2, 3]
    assert "e_eff" in json.dumps(study["estimates"] if "estimates" in study else study)


def test_design_hits_the_target(scene):
    target = 3000.0
    d = voxfe.design(scene, target_modulus=target, tolerance=0.02)
    assert d["e_eff"] == pytest.approx(target, rel=0.02 + 1e-9)
    assert d["target_modulus"] == target and d["solves"] >= 1
    assert 0.3 < d["porosity_nominal"] < 0.95
