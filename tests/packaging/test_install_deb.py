"""Build the .deb, install it with dpkg, use the installed app and CLI, remove it: nothing remains.

Runs only with PACKAGING=1 (``PACKAGING=1 ./test.sh``): it freezes the app with PyInstaller
(incremental; several minutes on two cores), needs root for ``dpkg -i``/``dpkg -r`` and an X
display (test.sh provides Xvfb). PACKAGING_REUSE_BUNDLE=1 packages the existing
dist/facelift-desktop instead of rebuilding it first.

The tests run in file order and share one installation: the last one removes the package.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import debs
import numpy as np
import pytest
import system_libs
from debs import BIN_APP, BIN_CLI, OPT, SAMPLE
from PIL import Image

PACKAGE = debs.CPU.package
DESKTOP_FILE = Path(f"/usr/share/applications/{PACKAGE}.desktop")
ICON_256 = Path(f"/usr/share/icons/hicolor/256x256/apps/{PACKAGE}.png")
SHORT_VIDEO = ("--frames", "12", "--size", "256")

pytestmark = [
    pytest.mark.packaging,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("PACKAGING") != "1", reason="builds and installs the .deb: run PACKAGING=1 ./test.sh"
    ),
]


@pytest.fixture(scope="module")
def variant() -> debs.Variant:
    """The package the shared deb/installed fixtures (conftest.py) build and install."""
    return debs.CPU


def test_deb_metadata_and_contents(deb: Path) -> None:
    fields = debs.run(["dpkg-deb", "-f", str(deb)], timeout=60).stdout
    control = dict(
        line.split(": ", 1) for line in fields.splitlines() if ": " in line and not line.startswith(" ")
    )
    assert control["Package"] == PACKAGE
    assert control["Version"] == debs.version()
    assert control["Architecture"] == "amd64"
    assert "<" in control["Maintainer"] and "@" in control["Maintainer"]
    assert control["Description"].strip()
    listing = debs.run(["dpkg-deb", "-c", str(deb)], timeout=600).stdout
    for expected in (
        f"./opt/{PACKAGE}/{PACKAGE}",
        f"./usr/bin/{PACKAGE} -> /opt/{PACKAGE}/{PACKAGE}",
        f"./usr/bin/facelift -> /opt/{PACKAGE}/facelift",
        f"./usr/share/applications/{PACKAGE}.desktop",
        f"./usr/share/icons/hicolor/256x256/apps/{PACKAGE}.png",
        f"./usr/share/icons/hicolor/scalable/apps/{PACKAGE}.svg",
    ):
        assert expected in listing, expected
    # The release's weights are never shipped (size, licence). Weight files in the package are the
    # prompt embeddings and the doctor's tiny random conformance weights, a few MB in all.
    weights = {
        path: int(size)
        for size, path in (
            (fields[2], fields[5]) for fields in (line.split() for line in listing.splitlines())
        )
        if path.endswith((".safetensors", ".pt", ".pth", ".bin", ".ckpt"))
    }
    internal = f"./opt/{PACKAGE}/_internal/"
    fixtures = {p: n for p, n in weights.items() if p.startswith(f"{internal}engine/conformance/reference/")}
    assert set(weights) - set(fixtures) == {f"{internal}resources/clr_embeds.safetensors"}, weights
    assert any("/unet/" in p for p in fixtures) and any("/gslrm/" in p for p in fixtures)  # the doctor's
    assert sum(fixtures.values()) < 10_000_000, sum(fixtures.values())


def test_installed_entry_points_and_desktop_integration(installed: list[Path]) -> None:
    assert BIN_APP.resolve() == OPT / PACKAGE and os.access(BIN_APP, os.X_OK)
    assert BIN_CLI.resolve() == OPT / PACKAGE and os.access(BIN_CLI, os.X_OK)
    entry = DESKTOP_FILE.read_text(encoding="utf-8")
    assert f"Exec={BIN_APP} %f" in entry
    assert f"Icon={PACKAGE}" in entry
    mime = next(line for line in entry.splitlines() if line.startswith("MimeType="))
    assert {"image/jpeg", "image/png", "image/webp"} <= set(mime.removeprefix("MimeType=").split(";"))
    with Image.open(ICON_256) as icon:
        assert icon.size == (256, 256)
    if shutil.which("desktop-file-validate"):
        check = debs.run(["desktop-file-validate", str(DESKTOP_FILE)], timeout=60)
        assert check.returncode == 0, check.stdout + check.stderr
    cache = Path("/usr/share/applications/mimeinfo.cache")
    if shutil.which("update-desktop-database"):  # postinst ran it: "Open with" knows the app
        assert f"{PACKAGE}.desktop" in cache.read_text(encoding="utf-8")
    version = debs.run([str(BIN_CLI), "--version"], timeout=120)
    assert version.returncode == 0 and debs.version() in version.stdout


def test_installed_qt_gets_every_system_library_it_needs_from_depends(installed: list[Path]) -> None:
    """The bundled xcb platform plugin and the Qt/OpenGL libraries it and the viewport load, as
    ``ldd`` resolves them under /opt: every library found outside /opt belongs to a package the
    installed package's Depends guarantee (system_libs.py says which count and why)."""
    # PySide6's, the app's Qt (OpenCV's wheel brings a Qt5 of its own, cv2/qt/plugins/..., for
    # HighGUI windows, which the app never opens)
    qxcb = [p for p in installed if p.match("*/PySide6/Qt/plugins/platforms/libqxcb.so")]
    assert len(qxcb) == 1, qxcb
    depends = debs.run(["dpkg-query", "-W", "-f=${Depends}", PACKAGE], timeout=30).stdout
    assert depends.startswith("libc6 ("), depends
    missing = system_libs.missing_from_depends(
        qxcb[0].parents[2], depends, bundle=OPT, library_path=OPT / "_internal"
    )
    assert missing == [], "\n".join(missing)


def test_installed_self_test_passes(installed: list[Path], user_home: Path) -> None:
    run = debs.run(debs.gui([str(BIN_APP), "--self-test"]), timeout=900, env=debs.user_env(user_home))
    assert run.returncode == 0, f"self-test failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    assert "self-test passed" in run.stdout
    assert "(bundle," in run.stdout  # it really ran frozen, not from a source checkout


def test_on_an_nvidia_computer_the_cpu_package_names_the_cuda_one(
    installed: list[Path], user_home: Path, tmp_path: Path
) -> None:
    """Simulated: a fake ``nvidia-smi`` on PATH answers as a driver-580 machine would."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "nvidia-smi").write_text("#!/bin/sh\necho 580.95.05\n")
    (fake_bin / "nvidia-smi").chmod(0o755)
    env = debs.user_env(user_home, path_first=fake_bin)
    run = debs.run(debs.gui([str(BIN_APP), "--self-test"]), timeout=900, env=env)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (
        "  ok   GPU: no CUDA device: running on the CPU (this is the CPU package, but this computer has "
        "an NVIDIA GPU, driver 580.95.05: install facelift-desktop-cuda to run FaceLift on it" in run.stdout
    ), run.stdout


def test_installed_app_shows_the_head(installed: list[Path], user_home: Path, tmp_path: Path) -> None:
    shot = tmp_path / "window.png"
    run = debs.run(
        debs.gui([str(BIN_APP), str(SAMPLE), "--screenshot", str(shot), "--quit"]),
        timeout=900,
        env=debs.user_env(user_home),
    )
    assert run.returncode == 0, f"app failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert shot.is_file(), run.stderr[-3000:]
    img = np.asarray(Image.open(shot).convert("RGB")).astype(np.int16)
    assert img.shape[0] >= 300 and img.shape[1] >= 400, img.shape
    assert_viewport_shows_head(img)


def assert_viewport_shows_head(img: np.ndarray) -> None:
    """Pixel probes on the window screenshot: the viewport is where the viewer's (default, dark)
    background colour is; its corners must be background and its centre must show the head --
    a good part of it not background, and brighter than it."""
    from scipy import ndimage

    from viewer.canvas import BACKGROUNDS

    bg = np.round(np.array(BACKGROUNDS["dark"]) * 255).astype(np.int16)
    is_bg = np.all(np.abs(img - bg) <= 1, axis=-1)
    # The viewport is the largest connected region of its background colour (other panels, such
    # as the empty views strip, can share the colour but are separated from it by widgets).
    labels, count = ndimage.label(is_bg)
    assert count, f"no viewport background {tuple(bg)} found in the screenshot"
    largest = int(np.argmax(ndimage.sum(is_bg, labels, range(1, count + 1)))) + 1
    rows_slice, cols_slice = ndimage.find_objects(labels)[largest - 1]
    top, bottom = rows_slice.start, rows_slice.stop - 1
    left, right = cols_slice.start, cols_slice.stop - 1
    view = is_bg[top : bottom + 1, left : right + 1]
    pixels = img[top : bottom + 1, left : right + 1]
    h, w = img.shape[:2]
    assert view.shape[0] > h // 4 and view.shape[1] > w // 4, ("viewport too small", top, bottom, left, right)
    corners = [view[:10, :10], view[:10, -10:], view[-10:, :10], view[-10:, -10:]]
    assert all(c.mean() > 0.9 for c in corners), "the viewport corners are not background"
    vh, vw = view.shape
    centre_bg = view[vh // 4 : 3 * vh // 4, vw // 4 : 3 * vw // 4]
    centre = pixels[vh // 4 : 3 * vh // 4, vw // 4 : 3 * vw // 4]
    covered = 1.0 - centre_bg.mean()
    assert covered > 0.10, f"the viewport centre is empty ({covered:.1%} not background)"
    head = centre[~centre_bg]
    assert head.mean() > bg.mean() + 30, (
        f"the head pixels are not brighter than the background ({head.mean():.0f})"
    )


def test_installed_cli_reconstructs(installed: list[Path], user_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = debs.run(
        # a short small turntable: the CPU rasteriser needs seconds per 512 px frame
        [str(BIN_CLI), "reconstruct", str(SAMPLE), "-o", str(out), "--engine", "instant", *SHORT_VIDEO],
        timeout=900,
        env=debs.user_env(user_home),
    )
    assert run.returncode == 0, f"facelift reconstruct failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    result = out / SAMPLE.stem
    ply = result / "gaussians.ply"
    with ply.open("rb") as fh:
        header = fh.read(4096).split(b"end_header")[0].decode("ascii", "replace")
    count = int(next(line.split()[-1] for line in header.splitlines() if line.startswith("element vertex")))
    assert count > 1000, header
    mp4 = result / "turntable.mp4"
    assert mp4.read_bytes()[4:8] == b"ftyp"
    with Image.open(result / "output.png") as rendered:
        assert rendered.size[0] >= 256


def test_installed_doctor_finds_its_fixtures_and_passes(installed: list[Path], user_home: Path) -> None:
    assert any(p.name == "render_expected.npz" for p in installed), "the doctor's fixtures are not packaged"
    run = debs.run(debs.gui([str(BIN_CLI), "doctor"]), timeout=900, env=debs.user_env(user_home))
    assert run.returncode == 0, f"facelift doctor failed:\n{run.stdout[-4000:]}\n{run.stderr[-3000:]}"
    passed = [line.split()[1] for line in run.stdout.splitlines() if line.strip().startswith("PASS")]
    assert passed[:4] == ["GS-LRM", "UNet", "sampler", "renderer"], run.stdout
    opengl = next(line for line in run.stdout.splitlines() if line.strip().startswith("OpenGL"))
    assert "unknown" not in opengl and "not usable" not in opengl, opengl


def test_nothing_was_written_under_opt(installed: list[Path]) -> None:
    """Self-test, app and CLI ran: settings, caches and outputs went to the user's folders."""
    debs.assert_nothing_added_under_opt(installed)


def test_remove_leaves_nothing(installed: list[Path]) -> None:
    debs.remove(debs.CPU, installed)
    for path in (OPT, BIN_APP, BIN_CLI, DESKTOP_FILE, ICON_256, Path(f"/usr/share/doc/{PACKAGE}")):
        assert not os.path.lexists(path), path
    cache = Path("/usr/share/applications/mimeinfo.cache")
    if cache.is_file():
        assert f"{PACKAGE}.desktop" not in cache.read_text(encoding="utf-8")
    debs.purge(debs.CPU)
