"""The torch renderer and the numpy exports/viewer evaluate the same written-once formulas
(engine.geometry's rotation, engine.sh's SH basis): the two paths agree number for number."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import geometry
from engine.io import export
from engine.render.projection import quat_to_rotmat
from engine.render.sh import sh_basis


def test_torch_rotation_is_the_numpy_one() -> None:
    q = np.random.default_rng(0).normal(size=(500, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    got = quat_to_rotmat(torch.from_numpy(q)).numpy()
    np.testing.assert_allclose(got, geometry.quat_to_matrix(q), atol=1e-15)


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 4])
def test_torch_sh_basis_is_the_numpy_one(degree: int) -> None:
    d = np.random.default_rng(degree).normal(size=(300, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    torch_basis = sh_basis(degree, torch.from_numpy(d)).numpy()
    assert torch_basis.shape == (300, (degree + 1) ** 2)
    np.testing.assert_allclose(torch_basis[:, 0], 0.28209479177387814)
    np.testing.assert_allclose(export.sh_basis(d, degree), torch_basis[:, 1:], atol=1e-15)


def test_sh_degree_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"SH degree must be 0\.\.4"):
        sh_basis(5, torch.zeros((1, 3)))
