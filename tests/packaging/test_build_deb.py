"""packaging/build_deb.py on a stand-in bundle (fast; no PyInstaller, no install).

The full build + install + use + remove runs in test_install_deb.py (PACKAGING=1).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import system_libs

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")


def _load_build_deb() -> ModuleType:
    # The folder is called "packaging" like the PyPI library, so load the file directly.
    spec = importlib.util.spec_from_file_location("facelift_build_deb", REPO / "packaging" / "build_deb.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_deb() -> ModuleType:
    return _load_build_deb()


@pytest.fixture
def fake_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "facelift-desktop"
    (bundle / "_internal" / "resources").mkdir(parents=True)
    exe = bundle / "facelift-desktop"
    exe.write_text("#!/bin/sh\necho fake\n")
    exe.chmod(0o755)
    (bundle / "_internal" / "resources" / "data.txt").write_text("x" * 5000)
    (bundle / "_internal" / "__pycache__").mkdir()
    (bundle / "_internal" / "__pycache__" / "stray.pyc").write_bytes(b"\0")
    # an ELF-looking library that asks for GLIBC_2.34: the package must depend on libc6 >= 2.34
    (bundle / "_internal" / "libfake.so").write_bytes(b"\x7fELF" + b"\0" * 60 + b"GLIBC_2.17\0GLIBC_2.34\0")
    return bundle


def _fields(deb: Path) -> dict[str, str]:
    out = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line and not line.startswith(" "))


def test_deb_from_a_bundle_has_the_layout_and_metadata(
    build_deb: ModuleType, fake_bundle: Path, tmp_path: Path
) -> None:
    deb = build_deb.build_deb(fake_bundle, tmp_path / "out", version="9.8.7", work_dir=tmp_path / "work")
    assert deb == tmp_path / "out" / "facelift-desktop_9.8.7_amd64.deb"
    assert not list((tmp_path / "out").glob(".*tmp")), "temporary file left behind"

    fields = _fields(deb)
    assert fields["Package"] == "facelift-desktop"
    assert fields["Version"] == "9.8.7"
    assert fields["Architecture"] == "amd64"
    depends = [d.strip() for d in fields["Depends"].split(",")]
    assert "libc6 (>= 2.34)" in depends
    # which system packages Qt needs is test_every_system_library_the_venv_qt_needs_comes_with_depends's
    assert set(build_deb.DEPENDS) <= set(depends), set(build_deb.DEPENDS) - set(depends)
    assert int(fields["Installed-Size"]) >= 5  # KiB, data.txt alone is 5 kB

    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./opt/facelift-desktop/facelift-desktop\n" in listing
    assert "-rwxr-xr-x root/root" in next(
        line for line in listing.splitlines() if line.endswith("/facelift-desktop")
    )
    assert "./opt/facelift-desktop/facelift -> facelift-desktop" in listing
    assert "./usr/bin/facelift -> /opt/facelift-desktop/facelift" in listing
    assert "./usr/bin/facelift-desktop -> /opt/facelift-desktop/facelift-desktop" in listing
    assert "__pycache__" not in listing
    for size in (48, 128, 256):
        assert f"./usr/share/icons/hicolor/{size}x{size}/apps/facelift-desktop.png" in listing
    assert "./usr/share/icons/hicolor/scalable/apps/facelift-desktop.svg" in listing
    # nothing outside /opt and /usr/share apart from the two /usr/bin links
    paths = [line.split()[5] for line in listing.splitlines()]
    assert all(
        p.startswith(("./opt/facelift-desktop", "./usr/share/", "./usr/bin/"))
        or p in {"./", "./opt/", "./usr/", "./usr/bin/", "./usr/share/"}
        for p in paths
    ), paths

    extracted = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-R", str(deb), str(extracted)], check=True)
    desktop = (extracted / "usr/share/applications/facelift-desktop.desktop").read_text()
    assert "Exec=/usr/bin/facelift-desktop %f" in desktop
    assert "MimeType=image/jpeg;image/png;image/webp;" in desktop
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(extracted / "usr/share/applications/facelift-desktop.desktop")],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stdout
    for script in ("postinst", "postrm"):
        path = extracted / "DEBIAN" / script
        assert path.stat().st_mode & 0o111
        assert subprocess.run(["sh", "-n", str(path)]).returncode == 0


def test_same_inputs_give_the_same_deb(
    build_deb: ModuleType, fake_bundle: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_deb.build_deb(
        fake_bundle, tmp_path / "a", version="1.0", work_dir=tmp_path / "w1"
    ).read_bytes()
    second = build_deb.build_deb(
        fake_bundle, tmp_path / "b", version="1.0", work_dir=tmp_path / "w2"
    ).read_bytes()
    assert first == second


def test_not_a_bundle_is_a_one_line_error(build_deb: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(build_deb.BuildError, match=r"not a FaceLift bundle"):
        build_deb.build_deb(tmp_path, tmp_path / "out", version="1.0", work_dir=tmp_path / "w")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_cuda_package_replaces_the_cpu_one_and_names_the_driver(
    build_deb: ModuleType, fake_bundle: Path, tmp_path: Path
) -> None:
    deb = build_deb.build_deb(
        fake_bundle,
        tmp_path / "out",
        version="9.8.7",
        work_dir=tmp_path / "work",
        package="facelift-desktop-cuda",
    )
    assert deb == tmp_path / "out" / "facelift-desktop-cuda_9.8.7_amd64.deb"
    fields = _fields(deb)
    assert fields["Package"] == "facelift-desktop-cuda"
    # one installation at a time: the same /opt/facelift-desktop and /usr/bin/facelift
    assert fields["Conflicts"] == fields["Replaces"] == fields["Provides"] == "facelift-desktop"
    description = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Description"], capture_output=True, text=True
    ).stdout
    assert "NVIDIA driver 580.65.06 or newer" in description and "CUDA 13.0" in description
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    assert "./opt/facelift-desktop/facelift-desktop\n" in listing
    assert "./usr/share/doc/facelift-desktop-cuda/copyright" in listing
    cpu = _fields(
        build_deb.build_deb(fake_bundle, tmp_path / "cpu", version="9.8.7", work_dir=tmp_path / "w")
    )
    assert "Conflicts" not in cpu and "Provides" not in cpu  # the CPU package stays as it was


def test_a_cuda_bundle_without_its_runtime_libraries_is_refused(
    build_deb: ModuleType, fake_bundle: Path
) -> None:
    from engine.gpu_status import CUDA_LIBRARIES

    lib = fake_bundle / "_internal" / "nvidia" / "cu13" / "lib"
    lib.mkdir(parents=True)
    for name in CUDA_LIBRARIES[13]:
        (lib / name).write_bytes(b"\x7fELF")
    build_deb.check_cuda_bundle(fake_bundle)  # complete: no error
    (lib / "libcudnn_graph.so.9").unlink()
    (lib / "libnvrtc.so.13").unlink()
    with pytest.raises(
        build_deb.BuildError,
        match=r"CUDA libraries missing from the bundle: libcudnn_graph.so.9, libnvrtc.so.13$",
    ):
        build_deb.check_cuda_bundle(fake_bundle)


def test_the_cuda_build_environment_swaps_torch_and_leaves_out_gsplat() -> None:
    spec = importlib.util.spec_from_file_location("facelift_cuda_env", REPO / "packaging" / "cuda_env.py")
    assert spec and spec.loader
    cuda_env = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cuda_env)
    reqs = cuda_env.requirements()
    names = [cuda_env._name(r) for r in reqs]
    assert "torch==2.14.1" in reqs and names.count("torch") == 1
    assert "gsplat" not in names and "torchvision" not in names
    assert "pyinstaller==6.22.3" in reqs and "mediapipe==0.10.21" in reqs
    assert cuda_env.VENV == REPO / "build" / "venv-cuda"  # its own environment, not .venv


needs_ldd_and_dpkg = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("ldd", "dpkg", "dpkg-query")),
    reason="needs ldd, dpkg and dpkg-query (a Debian/Ubuntu system)",
)


@pytest.fixture
def pyside() -> Path:
    """The venv's PySide6 folder (Qt/ holds its Qt): the Qt the bundle is frozen from."""
    spec = importlib.util.find_spec("PySide6")
    assert spec and spec.origin
    return Path(spec.origin).parent


@needs_ldd_and_dpkg
def test_every_system_library_the_venv_qt_needs_comes_with_depends(
    build_deb: ModuleType, pyside: Path
) -> None:
    """The property test_install_deb.py checks on the installed package (system_libs.py), on
    the venv's PySide6 and build_deb's Depends: a library the xcb plugin or the viewport links
    that no declared package brings would keep the app from starting on a system without it."""
    control = build_deb.control_text("0", 0)
    fields = dict(line.split(": ", 1) for line in control.splitlines() if not line.startswith(" "))
    missing = system_libs.missing_from_depends(pyside / "Qt", fields["Depends"], bundle=pyside)
    assert missing == [], "\n".join(missing)


@needs_ldd_and_dpkg
def test_a_depends_without_the_xcb_libraries_is_caught_naming_library_and_package(pyside: Path) -> None:
    """The check can fail: with libc6 alone in Depends, the library every xcb plugin links
    (libxcb.so.1) is reported with the package that has it."""
    missing = system_libs.missing_from_depends(pyside / "Qt", "libc6 (>= 2.17)", bundle=pyside)
    xcb = [
        line
        for line in missing
        if line.startswith("libxcb.so.1 (loaded with plugins/platforms/libqxcb.so, at ")
    ]
    assert len(xcb) == 1, missing
    assert xcb[0].endswith("): package libxcb1 is missing from Depends"), xcb
