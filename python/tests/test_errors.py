"""Errors reach Python as exceptions: a bad key or value is a SceneError
naming the key, the value and what is allowed (the CLI's message); a solve
that does not converge is NotConverged with its residual; a panic is an
InternalError. Nothing unwinds into Python."""

import pytest

import voxfe
from conftest import SCENES

RD = SCENES / "rd-compression.toml"


def test_an_unknown_key_is_named():
    with pytest.raises(voxfe.SceneError) as e:
        voxfe.Scene.load(RD, **{"lattice.strutt": 0.3})
    assert e.value.key == "lattice.strutt"
    assert "lattice.strutt" in str(e.value) and "unknown field `strutt`" in str(e.value)
    assert "`strut`" in str(e.value), "the keys allowed are listed"


def test_a_bad_value_names_key_value_and_what_is_allowed():
    with pytest.raises(voxfe.SceneError) as e:
        voxfe.Scene.load(RD, porosity=1.5)
    assert (e.value.key, e.value.value) == ("lattice.porosity", "1.5")
    assert "0 < porosity < 1" in e.value.allowed
    assert str(e.value) == "lattice.porosity = 1.5: allowed: 0 < porosity < 1"


def test_a_non_finite_value_is_refused():
    with pytest.raises(voxfe.SceneError) as e:
        voxfe.Scene.load(RD).with_(size=[3.0, float("nan"), 3.0])
    assert (e.value.key, e.value.value) == ("specimen.size[1]", "NaN")
    assert "finite" in e.value.allowed


def test_an_unknown_friendly_name_is_a_scene_error():
    with pytest.raises(voxfe.SceneError) as e:
        voxfe.Scene.load(RD, porosty=0.8)
    assert e.value.key == "porosty"
    assert "voxel_size" in str(e.value), "the friendly names are listed"


def test_a_bad_backend_and_a_missing_file():
    with pytest.raises(voxfe.SceneError) as e:
        voxfe.run(voxfe.Scene.load(RD), backend="tpu")
    assert e.value.key == "backend" and "auto, cpu, gpu" in str(e.value)
    with pytest.raises(voxfe.SceneError, match="cannot read scene file"):
        voxfe.Scene.load(SCENES / "no-such-scene.toml")
    with pytest.raises(voxfe.SceneError, match="line 1"):
        voxfe.Scene.from_toml("name = ")


def test_every_error_is_a_voxfe_error():
    for e in (voxfe.SceneError, voxfe.NotConverged, voxfe.InternalError):
        assert issubclass(e, voxfe.VoxfeError) and issubclass(e, Exception)


def test_a_solve_that_does_not_converge_raises_with_its_residual():
    scene = voxfe.Scene.load(
        RD, {"specimen.size": [3.0, 3.0, 3.0], "voxel.size": 0.1, "voxel.fraction_exponent": 2.0,
             "solver.max_iterations": 3, "solver.preconditioner": "jacobi"}
    )
    with pytest.raises(voxfe.NotConverged) as e:
        voxfe.run(scene, backend="cpu")
    err = e.value
    assert err.iterations == 3
    assert err.residual > err.tolerance == 1e-6
    assert "did not converge" in str(err)
    # What the CLI prints as JSON with exit status 3.
    assert err.result.converged is False and err.result.e_eff is None
    assert err.result.relative_residual == err.residual


def test_a_panic_is_an_internal_error():
    with pytest.raises(voxfe.InternalError, match="internal error in voxfe.*boom"):
        voxfe._voxfe._panic("boom")
    # The interpreter goes on.
    assert voxfe.Scene.load(RD).name == "rd-compression"


def test_bad_study_settings_are_scene_errors():
    scene = voxfe.Scene.load(RD, voxel_size=0.1)
    with pytest.raises(voxfe.SceneError, match="nothing to vary|vary"):
        voxfe.sweep(scene, vary=[])
    with pytest.raises(voxfe.SceneError):
        voxfe.sweep(scene, vary={"lattice.porosity": [1.5]})
    with pytest.raises(voxfe.SceneError, match="levels=2: allowed: 3 to 8"):
        voxfe.converge(scene, levels=2)
    with pytest.raises(voxfe.SceneError, match="levels=40: allowed: 3 to 8"):
        voxfe.converge(scene, levels=40)
    with pytest.raises(voxfe.SceneError, match="error_from='study.json'.*periodic"):
        voxfe.run(scene.with_cells(1), error_from="study.json")
    # Named by the keyword the caller wrote, not by the CLI's flag.
    with pytest.raises(voxfe.SceneError, match="target_modulus=-1") as e:
        voxfe.design(scene, target_modulus=-1)
    assert "--" not in str(e.value)
    with pytest.raises(voxfe.SceneError, match="max_solves=0") as e:
        voxfe.design(scene, target_modulus=3000, max_solves=0)
    assert "--" not in str(e.value)
