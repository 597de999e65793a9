"""The GPU path from Python: the same scene on the GPU backend (a software
adapter in CI: lavapipe) gives the CPU's modulus within the solver's
tolerance, and the result says which adapter solved. Skipped without an
adapter unless VOXFE_REQUIRE_GPU=1."""

import os

import numpy as np
import pytest

import voxfe
from conftest import SCENES


@pytest.fixture(scope="module")
def adapter():
    name = voxfe.gpu_adapter()
    if name is None:
        if os.environ.get("VOXFE_REQUIRE_GPU") == "1":
            pytest.fail("VOXFE_REQUIRE_GPU=1 but no GPU adapter was found")
        pytest.skip("no GPU adapter")
    return name


def test_gpu_backend_matches_the_cpu(adapter):
    scene = voxfe.Scene.load(SCENES / "rd-compression.toml",
                             specimen__size=[3.0, 3.0, 3.0], voxel_size=0.1)
    gpu = voxfe.run(scene, backend="gpu")
    cpu = voxfe.run(scene, backend="cpu")
    assert gpu.backend == "gpu" and gpu.adapter == adapter
    assert gpu.provenance["backend"] == "gpu"
    assert gpu.converged and gpu.relative_residual <= 1e-6
    assert gpu.e_eff == pytest.approx(cpu.e_eff, rel=1e-4)
    assert gpu.von_mises.shape == cpu.von_mises.shape
    assert np.allclose(gpu.displacement, cpu.displacement, rtol=0,
                       atol=1e-4 * np.abs(cpu.displacement).max())
