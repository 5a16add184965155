"""Shared fixtures for the GS-LRM tests and `facelift lrm`: the conformance data (as arrays and as
Gaussians) and a PLY comparison (tests/conftest.py imports them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engine.gaussians import Gaussians


@pytest.fixture(scope="session")
def gslrm_inputs(conformance_dir: Path) -> dict[str, np.ndarray]:
    with np.load(conformance_dir / "gslrm" / "inputs.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="session")
def gslrm_expected(conformance_dir: Path) -> dict[str, np.ndarray]:
    with np.load(conformance_dir / "gslrm" / "expected.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="session")
def gslrm_expected_gaussians(gslrm_expected: dict[str, np.ndarray]) -> Gaussians:
    """The reference GS-LRM output of the conformance fixture as Gaussians: all 2 + 6*64*64 of
    them, unfiltered, in the reference's order (SH degree 0). Read-only, so one copy serves all."""
    n = len(gslrm_expected["xyz"])
    return Gaussians(
        xyz=gslrm_expected["xyz"],
        sh_dc=gslrm_expected["features_dc"],
        sh_rest=np.zeros((n, 0, 3), np.float32),
        log_scales=gslrm_expected["scaling_pre"],
        quats=gslrm_expected["rotation_raw"],
        opacity_logits=gslrm_expected["opacity_pre"][:, 0],
    )


def _header(path: Path) -> list[str]:
    raw = path.read_bytes()
    end = raw.index(b"end_header\n") + len(b"end_header\n")
    return raw[:end].decode("ascii").splitlines()


@pytest.fixture(scope="session")
def assert_matches_expected_ply(
    conformance_dir: Path, gslrm_expected: dict[str, np.ndarray]
) -> Callable[[Path], None]:
    """A check that a PLY written from the engine's own Gaussians equals expected_filtered.ply:
    same header, same points except where a value sits within 1e-5 of a filter threshold,
    floats within 1e-5, colour bytes within 1 (fixtures README §4)."""
    from plyfile import PlyData
    from scipy.spatial import cKDTree

    expected_path = conformance_dir / "gslrm" / "expected_filtered.ply"
    expected = PlyData.read(str(expected_path))["vertex"].data
    keep = gslrm_expected["keep_mask"]
    near = gslrm_expected["near_threshold"]
    all_xyz = gslrm_expected["xyz"]
    tree = cKDTree(all_xyz)

    def check(path: Path) -> None:
        ours_header, exp_header = _header(path), _header(expected_path)
        count_line = [i for i, line in enumerate(exp_header) if line.startswith("element vertex")]
        assert len(ours_header) == len(exp_header)
        for i, (a, b) in enumerate(zip(ours_header, exp_header)):
            if i not in count_line:
                assert a == b, f"header line {i}: {a!r} != {b!r}"
        ours = PlyData.read(str(path))["vertex"].data
        assert ours.dtype.names == expected.dtype.names
        assert ours.dtype == expected.dtype
        ours_xyz = np.stack([ours["x"], ours["y"], ours["z"]], axis=1)
        dist, idx = tree.query(ours_xyz)
        assert dist.max() < 1e-5, "a written point is not one of the reference Gaussians"
        ours_set = np.zeros(len(all_xyz), bool)
        ours_set[idx] = True
        differ = ours_set != keep
        assert not (differ & ~near).any(), f"{int((differ & ~near).sum())} points kept/dropped differently"
        assert int(ours_set.sum()) == len(ours)
        # Rows of both files in reference order; compare the points both kept.
        assert (np.diff(idx) > 0).all(), "points are not in the reference (patch-major) order"
        exp_rows = np.cumsum(keep) - 1
        our_rows = np.cumsum(ours_set) - 1
        both = keep & ours_set
        a, b = ours[our_rows[both]], expected[exp_rows[both]]
        for name in expected.dtype.names:
            if name in ("red", "green", "blue"):
                assert np.abs(a[name].astype(int) - b[name].astype(int)).max() <= 1, name
            else:
                np.testing.assert_allclose(a[name], b[name], atol=1e-5, rtol=1e-5, err_msg=name)

    return check
