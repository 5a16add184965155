"""`facelift weights where|verify|download`."""

from __future__ import annotations

import shutil

from engine.cli import main


def test_where_lists_search_order_and_the_folder_used(no_weights, conformance_dir, capsys):
    assert main(["weights", "where", "--dir", str(conformance_dir)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "--weights" in lines[1] and "weights present" in lines[1]
    assert "FACELIFT_WEIGHTS" in lines[2] and "not set" in lines[2]
    assert "user data folder" in lines[3] and str(conformance_dir) in out
    assert f"using: {conformance_dir}" in out
    assert "non-commercial" in out


def test_where_without_weights_says_instant(no_weights, capsys):
    assert main(["weights", "where"]) == 0
    out = capsys.readouterr().out
    assert "instant engine" in out and "facelift-desktop/weights" in out


def test_verify_fixture_ok(conformance_dir, capsys):
    assert main(["weights", "verify", "--dir", str(conformance_dir)]) == 0
    out = capsys.readouterr().out
    assert "mvdiffusion/unet" in out and "complete" in out


def test_verify_broken_copy_exits_2_naming_the_components(tmp_path, conformance_dir, capsys):
    dst = tmp_path / "w"
    shutil.copytree(conformance_dir / "mvdiffusion" / "pipeckpts", dst / "mvdiffusion" / "pipeckpts")
    shutil.rmtree(dst / "mvdiffusion" / "pipeckpts" / "image_encoder")
    (dst / "gslrm").mkdir()
    src = (conformance_dir / "gslrm" / "ckpt_0000000000000000.pt").read_bytes()
    (dst / "gslrm" / "ckpt_0000000000000000.pt").write_bytes(src[:5000])
    shutil.copy(conformance_dir / "gslrm" / "gslrm.yaml", dst / "gslrm")
    assert main(["weights", "verify", "--dir", str(dst)]) == 2
    out = capsys.readouterr().out
    broken = [ln for ln in out.splitlines() if ln.strip().startswith(("broken", "missing"))]
    assert any("gslrm" in ln and "cannot load" in ln for ln in broken)
    assert any("mvdiffusion/image_encoder" in ln for ln in broken)
    assert out.strip().splitlines()[-1].endswith("(and 1 more problems)")


def test_download_offline_one_line_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["weights", "download", "--dir", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("facelift: error: cannot download wlyu/OpenFaceLift")
    assert "non-commercial" in err
    assert not (tmp_path / "w").exists()
