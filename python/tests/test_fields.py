"""The fields as numpy arrays: shapes, dtypes, and values equal to what
`voxfe run --vtk` writes; the pyvista grid where pyvista is installed."""

import re
import struct

import numpy as np
import pytest

import voxfe
from conftest import SCENES

SMALL = {"specimen.size": [3.0, 3.0, 3.0], "voxel.size": 0.1}


def read_vti(path):
    """voxfe's .vti (raw appended data, UInt64 headers): dims, spacing and
    the named arrays, each flat in file order."""
    raw = path.read_bytes()
    start = raw.index(b'<AppendedData encoding="raw">')
    header = raw[:start].decode()
    base = raw.index(b"_", start) + 1
    ext = re.search(r'WholeExtent="0 (\d+) 0 (\d+) 0 (\d+)"', header)
    dims = tuple(int(x) for x in ext.groups())
    spacing = float(re.search(r'Spacing="([^ ]+) ', header).group(1))
    types = {"Float32": "<f4", "Float64": "<f8", "UInt8": "|u1", "Int32": "<i4"}
    arrays = {}
    for m in re.finditer(
        r'<DataArray type="(\w+)" Name="(\w+)" NumberOfComponents="(\d+)" format="appended" offset="(\d+)"',
        header,
    ):
        ty, name, comps, offset = m.groups()
        at = base + int(offset)
        (n,) = struct.unpack("<Q", raw[at : at + 8])
        a = np.frombuffer(raw[at + 8 : at + 8 + n], dtype=types[ty])
        arrays[name] = a.reshape(-1, int(comps)) if int(comps) > 1 else a
    return dims, spacing, arrays


@pytest.fixture(scope="module")
def solved(tmp_path_factory, cli):
    path = SCENES / "rd-compression.toml"
    vti = tmp_path_factory.mktemp("vti") / "rd.vti"
    cli("run", str(path), "--backend", "cpu", "--set", "specimen.size=[3.0, 3.0, 3.0]",
        "--set", "voxel.size=0.1", "--vtk", str(vti), "-q")
    result = voxfe.run(voxfe.Scene.load(path, SMALL), backend="cpu")
    return result, read_vti(vti)


def test_shapes_and_dtypes(solved):
    r, _ = solved
    nx, ny, nz = r.dims
    assert (nx, ny, nz) == tuple(r.to_dict()["dims"]) == (30, 30, 30)
    assert r.h == 0.1
    assert r.displacement.shape == (r.active_nodes, 3) and r.displacement.dtype == np.float64
    assert r.node_ids.shape == (r.active_nodes,)
    for name in ("von_mises", "sed", "ees", "solid_fraction"):
        a = getattr(r, name)
        assert a.shape == (nx, ny, nz) and a.dtype == np.float32, name
        assert not a.flags.writeable
    assert r.solid.shape == (nx, ny, nz) and r.solid.dtype == np.uint8
    assert int(r.solid.sum()) == r.solid_voxels
    # φ is in [0, 1], 0 exactly where the voxel is void; von Mises too.
    assert r.solid_fraction.min() >= 0 and r.solid_fraction.max() <= 1
    assert np.all((r.solid_fraction > 0) == (r.solid == 1))
    assert np.all(r.von_mises[r.solid == 0] == 0)
    assert 1 - r.solid_fraction.mean() == pytest.approx(r.porosity_measured, abs=1e-6)


def test_values_equal_the_vti(solved):
    r, (dims, spacing, a) = solved
    assert dims == r.dims and spacing == r.h
    assert np.array_equal(a["solid"], r.solid.ravel(order="F"))
    for name in ("von_mises", "sed", "ees"):
        assert np.array_equal(a[name], getattr(r, name).ravel(order="F")), name
    u = r.displacement_grid()
    assert u.shape == (dims[0] + 1, dims[1] + 1, dims[2] + 1, 3)
    assert np.array_equal(a["displacement"], u.reshape(-1, 3, order="F").astype(np.float32))
    # Indexing is [i, j, k]: voxel (i, j, k) is voxel id i + nx (j + ny k).
    nx, ny, _ = r.dims
    i, j, k = 3, 7, 11
    assert r.von_mises[i, j, k] == a["von_mises"][i + nx * (j + ny * k)]


def test_the_top_platen_moves_by_delta(solved):
    r, _ = solved
    u = r.displacement_grid()
    # Compression: the top face's active nodes move by δ in z, the
    # bottom's not at all.
    active = np.zeros(np.prod(u.shape[:3]), dtype=bool)
    active[r.node_ids] = True
    active = active.reshape(u.shape[:3], order="F")
    moved = np.abs(u[:, :, -1, 2][active[:, :, -1]])
    assert moved.size > 0
    assert np.allclose(moved, r.delta, rtol=1e-12)
    assert np.abs(u[:, :, 0, 2]).max() < 1e-6 * r.delta


def test_to_pyvista(solved):
    pv = pytest.importorskip("pyvista")
    r, _ = solved
    g = r.to_pyvista()
    assert isinstance(g, pv.ImageData)
    assert g.n_cells == r.total_voxels and g.n_points == np.prod(np.array(r.dims) + 1)
    assert np.array_equal(g.cell_data["von_mises"], r.von_mises.ravel(order="F"))
    solid = g.threshold(0.5, scalars="solid")
    assert solid.n_cells == r.solid_voxels
