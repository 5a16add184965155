"""engine/mesh: the fused mesh of a FaceLift-style head is one closed piece that matches the
Gaussians' silhouette and colours, within its triangle budget, and travels as GLB and OBJ."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import trimesh
from export_sets import facelift_style_head, mesh_silhouette, surface_colour

from engine.api import Cancelled, CancelToken, InputError
from engine.cameras import view_camera
from engine.gaussians import Gaussians
from engine.io.mesh_file import load_mesh, save_mesh
from engine.mesh.fuse import MeshOptions, head_mesh
from engine.render import render

pytestmark = pytest.mark.slow

SMALL = MeshOptions(triangles=8000, resolution=80, image_size=96)


@pytest.fixture(scope="module")
def head() -> Gaussians:
    return facelift_style_head(40).filter()


@pytest.fixture(scope="module")
def mesh(head: Gaussians) -> trimesh.Trimesh:
    return head_mesh(head, SMALL)


def test_one_closed_piece_within_the_budget(mesh: trimesh.Trimesh) -> None:
    assert mesh.is_watertight and mesh.body_count == 1
    assert mesh.euler_number == 2  # a sphere's topology: no tunnels through the head
    assert mesh.volume > 0  # faces point outward
    assert 0.9 * SMALL.triangles <= len(mesh.faces) <= SMALL.triangles


def test_front_silhouette_matches_the_gaussians(head: Gaussians, mesh: trimesh.Trimesh) -> None:
    cam = view_camera("front", 192)
    gaussians = render(head, cam.c2w[0], cam.fxfycxcy[0], 192, 192).alpha >= 0.5
    covered = mesh_silhouette(
        np.asarray(mesh.vertices), np.asarray(mesh.faces), cam.c2w[0], cam.fxfycxcy[0], 192
    )
    iou = (gaussians & covered).sum() / (gaussians | covered).sum()
    assert iou >= 0.95, iou


def test_vertex_colours_follow_the_head(mesh: trimesh.Trimesh) -> None:
    colours = mesh.visual.vertex_colors[:, :3] / 255.0
    expected = surface_colour(np.asarray(mesh.vertices))
    assert np.median(np.abs(colours - expected)) < 0.06
    lips = (
        (np.abs(mesh.vertices[:, 0]) < 0.1)
        & (np.abs(mesh.vertices[:, 2] + 0.27) < 0.02)
        & (mesh.vertices[:, 1] < -0.3)
    )
    assert lips.any() and (colours[lips, 0] - colours[lips, 1]).mean() > 0.2  # red lips


@pytest.mark.parametrize("suffix", [".glb", ".obj"])
def test_exports_load_back_with_colours(tmp_path: Path, mesh: trimesh.Trimesh, suffix: str) -> None:
    save_mesh(mesh, tmp_path / f"head{suffix}")
    back = load_mesh(tmp_path / f"head{suffix}")
    assert len(back.faces) == len(mesh.faces) and back.visual.kind == "vertex"
    np.testing.assert_array_equal(back.visual.vertex_colors, mesh.visual.vertex_colors)


def test_baked_texture(tmp_path: Path, head: Gaussians) -> None:
    textured = head_mesh(head, MeshOptions(triangles=3000, resolution=64, image_size=64, texture_size=256))
    assert textured.visual.kind == "texture" and textured.visual.material.image.size == (256, 256)
    # sample the texture at each vertex's uv: the colours agree with the head's
    image = np.asarray(textured.visual.material.image.convert("RGB")) / 255.0
    uv = textured.visual.uv
    rows = np.clip(((1 - uv[:, 1]) * 256).astype(int), 0, 255)
    cols = np.clip((uv[:, 0] * 256).astype(int), 0, 255)
    assert np.median(np.abs(image[rows, cols] - surface_colour(np.asarray(textured.vertices)))) < 0.08
    written = save_mesh(textured, tmp_path / "head.obj")
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in written) and len(written) == 3
    assert load_mesh(tmp_path / "head.obj").visual.kind == "texture"


def test_cancel_and_empty(head: Gaussians) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        head_mesh(head, SMALL, cancel=token)
    with pytest.raises(InputError, match="no Gaussians"):
        head_mesh(Gaussians.empty(), SMALL)
    with pytest.raises(InputError, match="too small"):
        MeshOptions(triangles=10)
