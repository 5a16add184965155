"""`facelift reconstruct` batches without Ray: --formats, --resume, --report, the option checks
and the completion marker that --resume trusts (engine.batch.complete)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from batch_photos import PHOTO, write_photos

from engine.cli import main

FAST = ["--steps", "2", "--size", "16", "--frames", "0"]


def _errors(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("facelift: error:")]


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_unknown_format_is_refused_before_any_work(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reconstruct", str(PHOTO), "-o", str(out), "--formats", "spz,fbx"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'fbx'" in err[0] and "spz" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--ray-workers", "2"], "--ray-workers only applies with --ray"),
        (["--ray", "--ray-workers", "0"], "--ray-workers must be 1 or more"),
        (["--threads", "0"], "--threads must be 1 or more"),
        (["--resume", "--overwrite"], "--resume redoes only incomplete photos; --overwrite"),
        (["--report", "."], "is a folder"),
    ],
)
def test_bad_batch_options_are_one_line(tmp_path, flags, message, capsys):
    """Refused before any work: exit 2, one line, no output folder."""
    code = main(["reconstruct", str(PHOTO), "-o", str(tmp_path / "out"), *flags])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_resume_skips_complete_photos_and_redoes_the_rest(
    tmp_path, conformance_dir, no_weights, capsys, monkeypatch
):
    """An interrupted batch: one photo complete, one half replaced (no marker), one never moved
    into place (a killed writer's staging folder). --resume redoes exactly those two."""
    import engine.engines.facelift as facelift_engine
    from engine.batch.complete import MARKER

    # The "auto" preset frees the diffusion models before GS-LRM (so the next photo loads them
    # again) when less than KEEP_DIFFUSION_MIN_RAM is available; "loaded once" must not depend
    # on what else the machine is running.
    monkeypatch.setattr(facelift_engine, "KEEP_DIFFUSION_MIN_RAM", 0)

    write_photos(tmp_path / "photos", 3)
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    args = ["reconstruct", str(tmp_path / "photos"), "-o", str(out), "--weights", str(conformance_dir), *FAST]
    args += ["--formats", "spz,compressed.ply,ply,splat"]
    assert main([*args, "--report", str(report)]) == 0
    capsys.readouterr()
    _check_formats(out / "photo0")
    first = json.loads(report.read_text())
    assert [p["status"] for p in first["photos"]] == ["done"] * 3
    assert {p["worker"] for p in first["photos"]} == {first["workers"][0]["worker"]}
    assert first["workers"][0]["model_loads"] == 1  # the models loaded once for three photos
    assert all(p["seconds"] > 0 and p["attempts"] == 1 for p in first["photos"])

    kept = _mtimes(out / "photo0")
    (out / "photo1" / MARKER).unlink()  # a replacement interrupted after the old marker went
    for p in (out / "photo2").iterdir():
        p.unlink()
    (out / "photo2").rmdir()
    staging = out / ".photo2.partial-0badc0de"
    staging.mkdir()
    (staging / "gaussians.ply").write_bytes(b"half a file")

    assert main([*args, "--resume", "--report", str(report)]) == 0
    err = capsys.readouterr().err
    assert "1 of 3 photos complete already, skipped" in err
    second = json.loads(report.read_text())
    assert [p["status"] for p in second["photos"]] == ["skipped", "done", "done"]
    assert second["counts"] == {"done": 2, "skipped": 1, "failed": 0, "not run": 0}
    assert _mtimes(out / "photo0") == kept  # untouched
    assert sorted(p.name for p in out.iterdir()) == ["photo0", "photo1", "photo2"]  # staging gone
    assert all((out / f"photo{i}" / MARKER).is_file() for i in range(3))

    # all complete: nothing to do, nothing loads
    assert main([*args, "--resume"]) == 0
    assert "all 3 photos are complete already" in capsys.readouterr().err


def _check_formats(head: Path) -> None:
    """--formats: each head also written as every format asked for, all listed in the marker."""
    from engine.batch.complete import MARKER, read_marker
    from engine.io.gaussians_file import load_gaussians
    from engine.io.ply import load_ply

    extra = ["gaussians.compressed.ply", "gaussians.splat", "gaussians.spz"]
    base = ["gaussians.ply", "input.png", "multiview.png", "output.png"]
    assert sorted(p.name for p in head.iterdir()) == sorted([MARKER, *base, *extra])
    n = len(load_ply(head / "gaussians.ply"))
    for name in extra:
        assert len(load_gaussians(head / name)) == n, name
    marker = read_marker(head)
    assert marker is not None
    assert marker["settings"]["formats"] == ["compressed.ply", "ply", "splat", "spz"]
    assert marker["files"] == {p.name: p.stat().st_size for p in head.iterdir() if p.name != MARKER}


def test_marker_is_moved_last_and_an_old_one_removed_first(tmp_path, monkeypatch):
    """Replacing outputs file by file: if that stops half way, no marker vouches for the mix."""
    from export_sets import random_set

    from engine.api import ReconstructionResult
    from engine.batch.complete import MARKER, is_complete, write_marker
    from engine.errors import OutputError
    from engine.outputs import OutputSpec, write_outputs

    result = ReconstructionResult(gaussians=random_set(30), input_image=None)
    out = tmp_path / "head"
    photo = tmp_path / "p.png"
    photo.write_bytes(b"photo")
    sig = {"k": 1}
    write_outputs(
        result,
        out,
        OutputSpec(turntable_frames=0, render_size=8),
        marker=lambda d: write_marker(d, sig, photo),
    )
    assert is_complete(out, sig, photo)
    assert not is_complete(out, {"k": 2}, photo)  # other settings
    photo.write_bytes(b"another photo")
    assert not is_complete(out, sig, photo)  # another input
    photo.write_bytes(b"photo")

    moved: list[str] = []
    real_replace = os.replace

    def replace(src, dst):  # moving the staged files into place fails at the second one
        if Path(dst).parent == out:
            moved.append(Path(dst).name)
            if len(moved) == 2:
                raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError):
        write_outputs(
            result,
            out,
            OutputSpec(turntable_frames=0, render_size=8),
            overwrite=True,
            marker=lambda d: write_marker(d, sig, photo),
        )
    assert moved == ["gaussians.ply", "output.png"]  # the first replaced, then the failure
    assert not (out / MARKER).exists() and not is_complete(out, sig, photo)


def test_ray_without_ray_installed_is_one_line_saying_how_to_get_it(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    out = tmp_path / "out"
    code = main(["reconstruct", str(PHOTO), "-o", str(out), "--engine", "instant", "--ray"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("facelift: error:")]
    assert code == 2
    assert len(err) == 1 and "--ray needs Ray" in err[0] and "[cluster]" in err[0]
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["facelift", "instant"])
def test_mesh_formats_share_one_mesh_fused_at_most_once(
    engine, tmp_path, conformance_dir, no_weights, monkeypatch
):
    """--formats glb,obj with --mesh: three mesh files of the same mesh, in the marker. A FaceLift
    head has no mesh of its own, so one is fused from its Gaussians -- once, not per file; the
    instant head's own fitted mesh is written as it is, with no fusion."""
    import engine.mesh.fuse as fuse
    from engine.batch.complete import read_marker
    from engine.io.export import Y_UP_ROTATION
    from engine.io.mesh_file import load_mesh
    from engine.io.ply import load_ply

    real, fused = fuse.head_mesh, []

    def small_fusion(g, options=None, on_progress=fuse.no_progress, cancel=None):  # minutes -> seconds
        fused.append(len(g))
        return real(g, fuse.MeshOptions(triangles=4000, resolution=64, image_size=96), on_progress, cancel)

    monkeypatch.setattr(fuse, "head_mesh", small_fusion)
    out = tmp_path / "out"
    chosen = ["--weights", str(conformance_dir)] if engine == "facelift" else ["--engine", "instant"]
    args = ["reconstruct", str(PHOTO), "-o", str(out), *chosen, *FAST, "--formats", "glb,obj", "--mesh"]
    assert main(args) == 0
    out = out / PHOTO.stem  # one folder per photo

    assert fused == ([len(load_ply(out / "gaussians.ply"))] if engine == "facelift" else [])
    glb, obj, own = (load_mesh(out / name) for name in ("head.glb", "head.obj", "mesh.glb"))
    assert len(glb.faces) == len(obj.faces) == len(own.faces) >= 1000
    np.testing.assert_allclose(glb.bounds, obj.bounds, atol=1e-4)  # both +Y up
    # mesh.glb is the same mesh in FaceLift's frame (z up), as the window reads it back
    np.testing.assert_allclose(np.asarray(own.vertices) @ Y_UP_ROTATION.T, glb.vertices, atol=1e-4)
    marker = read_marker(out)
    assert marker is not None and {"head.glb", "head.obj", "mesh.glb"} <= set(marker["files"])
