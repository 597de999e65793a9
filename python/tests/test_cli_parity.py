"""The Python results are the CLI's `--json` objects, to the bit: every
shipped scene at a coarse voxel size (only wall times, the date and the
calibration cache's hit or miss may differ)."""

import json

import pytest

import voxfe
from conftest import SCENES, same_bits, strip

#: Each shipped scene at a coarse voxel size that divides it (a few
#: seconds each on two cores).
COARSE = {
    "bar-bending": 0.5,
    "rd-compression": 0.1,
    "ta-lattice-homogenized": 0.1,
    "ta-lattice-variants": 0.2,
    "ta-rd-bending-bar": 0.5,
    "ta-rd-porosity": 0.2,
    "tantalum-sebm": 0.1,
    "vbr-25": 0.5,
    "vbr-25-stl": 0.5,
}


def test_every_shipped_scene_is_covered():
    assert sorted(p.stem for p in SCENES.glob("*.toml")) == sorted(COARSE)


@pytest.mark.parametrize("name", sorted(COARSE))
def test_run_equals_the_cli_json(name, cli, monkeypatch):
    monkeypatch.chdir(SCENES.parent)
    h = COARSE[name]
    path = f"scenes/{name}.toml"
    # Python first: its calibration fills the cache the CLI then reads.
    scene = voxfe.Scene.load(path, **{"voxel.size": h})
    result = voxfe.run(scene, backend="cpu")
    text = cli("run", path, "--backend", "cpu", "--set", f"voxel.size={h}", "--json", "-q")
    expected = json.loads(text)
    got = result.to_dict()
    same_bits(strip(got), strip(expected))
    # Every field is an attribute too.
    for key, value in expected.items():
        assert hasattr(result, key), key
    if scene.is_periodic:
        assert isinstance(result, voxfe.Homogenized)
        assert result.C.shape == (6, 6)
    else:
        assert isinstance(result, voxfe.Result)
        q = {"compression": "e_eff", "three-point-bending": "e_flex"}.get(result.load_case)
        if q:
            assert result.modulus == expected[q]


def test_friendly_names_dotted_keys_and_strings_are_the_same_override():
    path = SCENES / "rd-compression.toml"
    a = voxfe.Scene.load(path, voxel_size=0.1, porosity=0.75)
    b = voxfe.Scene.load(path, {"voxel.size": 0.1, "lattice.porosity": 0.75})
    c = voxfe.Scene.load(path, ["voxel.size=0.1", "lattice.porosity=0.75"])
    d = voxfe.Scene.load(path).with_(voxel_size=0.1).with_(porosity=0.75)
    assert a == b == c == d
    assert a.overrides == ["voxel.size=0.1", "lattice.porosity=0.75"]
    assert a.voxel_size == 0.1
    text = (SCENES / "rd-compression.toml").read_text()
    e = voxfe.Scene.from_toml(text, voxel_size=0.1, porosity=0.75)
    assert e.to_toml() == a.to_toml() and str(e.path) == "<string>"
    assert "porosity = 0.75" in e.to_toml()


def test_homogenize_gives_c_as_a_6x6_array_equal_to_the_cli(cli, monkeypatch):
    import numpy as np

    monkeypatch.chdir(SCENES.parent)
    scene = voxfe.Scene.load("scenes/rd-compression.toml", voxel_size=0.1)
    cell = voxfe.homogenize(scene, backend="cpu")
    expected = json.loads(
        cli("homogenize", "scenes/rd-compression.toml", "--set", "voxel.size=0.1",
            "--backend", "cpu", "--json", "-q")
    )
    same_bits(strip(cell.to_dict()), strip(expected))
    assert cell.C.shape == (6, 6) and cell.C.dtype == np.float64
    assert np.array_equal(cell.C, np.array(expected["result"]["stiffness"]))
    assert np.allclose(cell.C, cell.C.T, rtol=0, atol=1e-5 * cell.C[0, 0])
    # Cubic symmetry of the RD cell: C11 = C22 = C33 > C12 > 0.
    assert cell.C[0, 0] == pytest.approx(cell.C[1, 1], rel=1e-3)
    assert cell.C[0, 0] > cell.C[0, 1] > 0
    assert cell.e_h == pytest.approx(expected["derived"]["e_h"])
    assert np.allclose(cell.S @ cell.C, np.eye(6), atol=1e-9)
