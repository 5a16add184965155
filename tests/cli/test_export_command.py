"""`facelift export HEAD -o OUT.(ply|compressed.ply|spz|splat|glb|obj)`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from export_sets import random_set

from engine.cli import main
from engine.gaussians import Gaussians
from engine.io.gaussians_file import load_gaussians
from engine.io.mesh_file import load_mesh, save_mesh
from engine.io.ply import save_ply

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def head_ply(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "head.ply"
    path.parent.mkdir()
    save_ply(random_set(900, seed=5), path)
    return path


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("facelift: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("name", ["out.ply", "out.compressed.ply", "out.spz", "out.splat"])
def test_gaussian_formats_round_trip(tmp_path: Path, head_ply: Path, name: str, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / name
    assert main(["export", str(head_ply), "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    source, back = load_gaussians(head_ply), load_gaussians(out)
    assert len(back) == len(source)
    lo, hi = source.bbox()
    blo, bhi = back.bbox()  # every format reads back in FaceLift's frame (SPZ from its RUB)
    np.testing.assert_allclose(blo, lo, atol=2e-3)
    np.testing.assert_allclose(bhi, hi, atol=2e-3)
    assert sorted(os.listdir(tmp_path)) == sorted(["src", name])


def test_up_y_turns_the_head_and_spz_refuses_z(tmp_path: Path, head_ply: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "y.compressed.ply"
    assert main(["export", str(head_ply), "-o", str(out), "--up", "y"]) == 0
    src = load_gaussians(head_ply)
    np.testing.assert_allclose(np.sort(load_gaussians(out).xyz[:, 1]), np.sort(src.xyz[:, 2]), atol=2e-3)
    assert main(["export", str(head_ply), "-o", str(tmp_path / "z.spz"), "--up", "z"]) == 2
    assert "spz files are RUB, y up by definition" in _error_line(capsys)
    assert not (tmp_path / "z.spz").exists()


def test_reconstruction_folder_and_filter(tmp_path: Path, head_ply: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "out" / "photo"
    folder.mkdir(parents=True)
    shutil.copy(head_ply, folder / "gaussians.ply")
    everything = tmp_path / "all.spz"
    assert main(["export", str(tmp_path / "out"), "-o", str(everything)]) == 0  # the one photo inside
    assert len(load_gaussians(everything)) == 900
    opaque = tmp_path / "opaque.spz"
    assert main(["export", str(folder), "-o", str(opaque), "--filter", "opacity=0.5"]) == 0
    expected = int((load_gaussians(head_ply).opacities > 0.5).sum())
    assert len(load_gaussians(opaque)) == expected < 900
    assert main(["export", str(folder), "-o", str(tmp_path / "x.spz"), "--filter", "opacity=lots"]) == 2
    assert "--filter: 'opacity=lots' needs a number" in _error_line(capsys)
    (tmp_path / "out" / "other").mkdir()
    shutil.copy(head_ply, tmp_path / "out" / "other" / "gaussians.ply")
    assert main(["export", str(tmp_path / "out"), "-o", str(tmp_path / "y.spz")]) == 2
    assert "holds 2 reconstructions; name one" in _error_line(capsys)


def test_own_mesh_of_a_reconstruction_is_exported(tmp_path: Path, head_ply: Path) -> None:
    folder = tmp_path / "photo"
    folder.mkdir()
    shutil.copy(head_ply, folder / "gaussians.ply")
    own = trimesh.creation.icosphere(subdivisions=2)
    own.visual.vertex_colors = np.tile([200, 120, 90, 255], (len(own.vertices), 1)).astype(np.uint8)
    save_mesh(own, folder / "mesh.glb")
    out = tmp_path / "head.obj"
    assert main(["export", str(folder), "-o", str(out)]) == 0
    back = load_mesh(out)
    assert len(back.faces) == len(own.faces) and back.visual.kind == "vertex"
    # OBJ defaults to y up: FaceLift's z becomes y
    np.testing.assert_allclose(np.sort(back.vertices[:, 1]), np.sort(own.vertices[:, 2]), atol=1e-6)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["-o", "{tmp}/x.stl"],
            "unknown export format .stl; use .ply, .compressed.ply, .spz, .splat, .glb, .obj",
        ),
        (["-o", "{tmp}/missing/x.spz"], "does not exist"),
        (["-o", "{tmp}/x.glb", "--up", "z"], "glb files are +Y up by definition"),
        (["-o", "{tmp}/x.glb", "--triangles", "5"], "too small"),
    ],
)
def test_bad_requests_are_one_line(
    tmp_path: Path, head_ply: Path, args: list[str], fragment: str, capsys
) -> None:  # type: ignore[no-untyped-def]
    argv = ["export", str(head_ply), *(a.format(tmp=tmp_path) for a in args)]
    assert main(argv) == 2
    assert fragment in _error_line(capsys)
    assert sorted(os.listdir(tmp_path)) == ["src"]


def test_existing_output_needs_overwrite(tmp_path: Path, head_ply: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "x.spz"
    out.write_bytes(b"mine")
    assert main(["export", str(head_ply), "-o", str(out)]) == 2
    assert "already exists" in _error_line(capsys) and out.read_bytes() == b"mine"
    assert main(["export", str(head_ply), "-o", str(out), "--overwrite"]) == 0
    assert len(load_gaussians(out)) == 900


@pytest.mark.parametrize("name", ["bad.spz", "bad.compressed.ply"])
def test_corrupt_head_files_are_one_line(tmp_path: Path, head_ply: Path, name: str, capsys) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / f"good{name[3:]}"
    assert main(["export", str(head_ply), "-o", str(good)]) == 0
    bad = tmp_path / name
    bad.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    assert main(["export", str(bad), "-o", str(tmp_path / "x.ply")]) == 2
    line = _error_line(capsys)
    assert str(bad) in line and "truncated" in line
    assert not (tmp_path / "x.ply").exists()


def test_unwritable_folder_is_one_line(tmp_path: Path, head_ply: Path) -> None:
    """A real EACCES: root without CAP_DAC_OVERRIDE (setpriv) cannot write into a 0o555 folder."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to drop the permission override")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    drop = [
        "setpriv",
        "--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name in ("x.spz", "x.compressed.ply", "x.glb"):
        run = subprocess.run(
            [*drop, sys.executable, "-m", "engine.cli", "export", str(head_ply), "-o", str(ro / name)],
            capture_output=True,
            text=True,
            env=env,
            cwd=str(REPO),
            check=False,
            timeout=300,
        )
        assert run.returncode == 2, run.stderr
        lines = [line for line in run.stderr.splitlines() if line.startswith("facelift: error:")]
        assert len(lines) == 1 and str(ro) in lines[0] and "Permission denied" in lines[0], run.stderr
    assert os.listdir(ro) == []


def test_empty_after_filter(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "faint.ply"
    save_ply(random_set(20).replace(opacity_logits=np.full(20, -9.0)), src)
    assert main(["export", str(src), "-o", str(tmp_path / "x.spz"), "--filter", "facelift"]) == 2
    assert "no Gaussians to export" in _error_line(capsys)
    assert isinstance(load_gaussians(src), Gaussians)


@pytest.mark.parametrize(
    ("name", "flavour"),
    [("x.ply", "facelift"), ("x.ply", "inria"), ("x.compressed.ply", "facelift"), ("x.splat", "facelift")],
)
def test_expected_size_is_exact_for_the_uncompressed_layouts(tmp_path: Path, name: str, flavour: str) -> None:
    from engine.io.formats import expected_size, export_head, format_of

    g = random_set(1000, degree=1)
    export_head(g, tmp_path / name, flavour=flavour)  # type: ignore[arg-type]
    expected = expected_size(format_of(name), g, flavour)  # type: ignore[arg-type]
    assert abs(expected - (tmp_path / name).stat().st_size) <= 1000  # the header is estimated
