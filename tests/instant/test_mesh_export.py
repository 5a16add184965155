"""The instant head's own mesh leaves with the result: `reconstruct --mesh`, then `export` GLB/OBJ."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from engine.cli import main

REPO = Path(__file__).resolve().parents[2]
PHOTO = REPO / "resources" / "samples" / "astronaut.png"


def _check_mesh(mesh: trimesh.Trimesh, lo: np.ndarray, hi: np.ndarray) -> None:
    """One watertight, coloured piece whose box is within 2 % of the Gaussians' (lo, hi)."""
    assert mesh.is_watertight and mesh.body_count == 1
    colours = np.asarray(mesh.visual.vertex_colors)[:, :3].astype(float)
    assert colours.std(axis=0).min() > 10
    extent = hi - lo
    assert np.all(np.abs(mesh.bounds[0] - lo) <= 0.02 * extent), (mesh.bounds, lo, hi)
    assert np.all(np.abs(mesh.bounds[1] - hi) <= 0.02 * extent), (mesh.bounds, lo, hi)


@pytest.mark.slow
def test_reconstruct_writes_the_fitted_mesh_and_export_writes_glb_and_obj(tmp_path, monkeypatch, capsys):
    from engine.io.export import orient
    from engine.io.ply import load_ply

    monkeypatch.delenv("FACELIFT_WEIGHTS", raising=False)
    out = tmp_path / "out"
    args = ["reconstruct", str(PHOTO), "-o", str(out), "--engine", "instant", "--mesh", "--frames", "0"]
    assert main([*args, "--size", "64"]) == 0, capsys.readouterr().err
    head = out / "astronaut"
    assert (head / "mesh.glb").is_file()
    g = load_ply(head / "gaussians.ply")
    own = trimesh.load(head / "mesh.glb", force="mesh", process=False)
    _check_mesh(own, *g.bbox())  # the folder's mesh is in the FaceLift frame, like the PLY

    # Exports turn it to +Y up (glTF's frame), the Gaussians' box turns with it.
    lo, hi = orient(g, "y").bbox()
    for name in ("head.glb", "head.obj"):
        assert main(["export", str(head), "-o", str(tmp_path / name)]) == 0, capsys.readouterr().err
        _check_mesh(trimesh.load(tmp_path / name, force="mesh", process=False), lo, hi)

    # Without --mesh an overwrite removes the earlier run's mesh (it would not be this head's).
    assert main([*args[:-3], "--frames", "0", "--size", "64", "--overwrite"]) == 0
    assert not (head / "mesh.glb").exists()
