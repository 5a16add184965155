"""engine/io/mesh_file.py: GLB and OBJ(+MTL+PNG) out of a trimesh mesh, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from engine.api import InputError, OutputError
from engine.io.mesh_file import load_mesh, mesh_sidecars, save_mesh


def _coloured_sphere() -> trimesh.Trimesh:
    m = trimesh.creation.icosphere(subdivisions=2)
    rng = np.random.default_rng(1)
    colours = rng.integers(0, 256, (len(m.vertices), 4), dtype=np.uint8)
    colours[:, 3] = 255
    m.visual.vertex_colors = colours
    return m


def _textured_sphere() -> tuple[trimesh.Trimesh, np.ndarray]:
    m = trimesh.creation.icosphere(subdivisions=2)
    uv = np.stack(
        [np.arctan2(m.vertices[:, 1], m.vertices[:, 0]) / (2 * np.pi) + 0.5, m.vertices[:, 2] * 0.5 + 0.5],
        axis=1,
    )
    texture = np.zeros((16, 16, 3), np.uint8)
    texture[:, :8] = (200, 30, 40)
    texture[:, 8:] = (20, 180, 60)
    m.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(texture))
    return m, texture


@pytest.mark.parametrize("suffix", [".glb", ".obj"])
def test_vertex_colours_survive_a_round_trip(tmp_path: Path, suffix: str) -> None:
    mesh = _coloured_sphere()
    written = save_mesh(mesh, tmp_path / f"head{suffix}")
    assert written == [tmp_path / f"head{suffix}"]
    assert sorted(os.listdir(tmp_path)) == [f"head{suffix}"]
    back = load_mesh(tmp_path / f"head{suffix}")
    assert back.faces.shape == mesh.faces.shape
    np.testing.assert_allclose(back.vertices, mesh.vertices, atol=1e-6)
    assert back.visual.kind == "vertex"
    # OBJ stores colours as floats with 8 digits: back to the same bytes
    np.testing.assert_array_equal(back.visual.vertex_colors[:, :3], mesh.visual.vertex_colors[:, :3])


def test_textured_obj_writes_mtl_and_png_beside_it(tmp_path: Path) -> None:
    mesh, texture = _textured_sphere()
    out = tmp_path / "my head.obj"
    written = save_mesh(mesh, out)
    mtl, png = mesh_sidecars(out)
    assert written == [png, mtl, out]
    assert sorted(os.listdir(tmp_path)) == sorted(p.name for p in written)
    mtl_text = mtl.read_text()
    assert f"map_Kd {png.name}" in mtl_text and "Kd 1.0" in mtl_text
    assert f"mtllib {mtl.name}" in out.read_text()
    np.testing.assert_array_equal(np.asarray(Image.open(png).convert("RGB")), texture)
    back = load_mesh(out)
    assert back.visual.kind == "texture"
    np.testing.assert_allclose(back.visual.uv, mesh.visual.uv, atol=1e-6)


def test_textured_glb_carries_its_texture(tmp_path: Path) -> None:
    mesh, texture = _textured_sphere()
    save_mesh(mesh, tmp_path / "head.glb")
    back = load_mesh(tmp_path / "head.glb")
    assert back.visual.kind == "texture"
    image = np.asarray(back.visual.material.baseColorTexture.convert("RGB"))
    np.testing.assert_array_equal(image, texture)


def test_bad_requests_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    mesh = _coloured_sphere()
    with pytest.raises(InputError, match=r"head\.stl: unknown mesh format \.stl; use \.glb or \.obj"):
        save_mesh(mesh, tmp_path / "head.stl")
    with pytest.raises(InputError, match="no triangles"):
        save_mesh(trimesh.Trimesh(), tmp_path / "empty.glb")
    with pytest.raises(OutputError, match="does not exist"):
        save_mesh(mesh, tmp_path / "missing" / "head.glb")
    assert os.listdir(tmp_path) == []


def test_existing_sidecar_is_refused_without_overwrite(tmp_path: Path) -> None:
    mesh, _ = _textured_sphere()
    out = tmp_path / "head.obj"
    mtl, _png = mesh_sidecars(out)
    mtl.write_text("mine")
    with pytest.raises(OutputError, match=r"head\.mtl: already exists"):
        save_mesh(mesh, out, overwrite=False)
    assert sorted(os.listdir(tmp_path)) == ["head.mtl"] and mtl.read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only folder")
def test_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="cannot write"):
            save_mesh(_coloured_sphere(), folder / "head.glb")
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


def test_a_failing_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mesh, _ = _textured_sphere()
    calls = {"n": 0}
    real = Path.write_bytes

    def fail_on_second(self: Path, data: bytes) -> int:  # the disk fills up after the PNG
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device", str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", fail_on_second)
    with pytest.raises(OutputError, match=r"No space left on device"):
        save_mesh(mesh, tmp_path / "head.obj")
    assert os.listdir(tmp_path) == []


def test_unreadable_mesh_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.glb"
    bad.write_bytes(b"glTF not really")
    with pytest.raises(InputError, match=r"bad\.glb: cannot read as a mesh"):
        load_mesh(bad)
