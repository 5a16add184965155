#!/usr/bin/env python3
"""Build ``dist/facelift-desktop_<version>_amd64.deb`` from the PyInstaller bundle.

    packaging/build_deb.py                 build the bundle first if dist/facelift-desktop is missing
    packaging/build_deb.py --rebuild       rebuild the bundle (incremental) before packaging
    packaging/build_deb.py --bundle DIR    package an existing bundle folder
    packaging/build_deb.py --cuda          the CUDA package: makes build/venv-cuda (torch's CUDA 13
                                           build, packaging/cuda_env.py), freezes dist/cuda/facelift-desktop,
                                           checks its CUDA libraries, then
                                           dist/facelift-desktop-cuda_<version>_amd64.deb

Both packages install the same files (the CUDA one's doc folder is named after it); the CUDA
package Conflicts/Replaces/Provides ``facelift-desktop``, so installing one removes the other.

Layout of the package:
  /opt/facelift-desktop/                     the bundle (executable ``facelift-desktop``, ``facelift``)
  /usr/bin/facelift-desktop, /usr/bin/facelift   symlinks into /opt
  /usr/share/applications/facelift-desktop.desktop   menu entry, "Open with" for JPEG/PNG/WebP
  /usr/share/icons/hicolor/{48x48,128x128,256x256}/apps/facelift-desktop.png, scalable/...svg
  /usr/share/doc/facelift-desktop/copyright
Nothing is written anywhere else; the maintainer scripts only refresh the desktop/MIME/icon
caches when those tools exist, so ``dpkg -r`` leaves no file of ours behind. Weights and
settings live in the user's XDG folders, never under /opt.

Only the standard library is used (plus Pillow, if present, to scale the icon), so it runs with
any Python 3.11.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "facelift-desktop"
PREFIX = f"/opt/{PACKAGE}"
MAINTAINER = "FaceLift Desktop maintainers <facelift-desktop@users.noreply.github.com>"
HOMEPAGE = "https://github.com/weijielyu/FaceLift"
CUDA_PACKAGE = f"{PACKAGE}-cuda"
CUDA_BUNDLE = ROOT / "dist" / "cuda" / PACKAGE
# The oldest NVIDIA driver the bundled CUDA 13.0 runtime runs on (engine.gpu_status.MIN_DRIVER).
CUDA_MIN_DRIVER = "580.65.06"

# What the bundled Qt xcb platform plugin and Mesa need from the system (the bundle carries
# Python, torch, Qt itself and everything else).
DEPENDS = [
    "libgl1",
    "libegl1",
    "libx11-6",
    "libx11-xcb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-xfixes0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "libxrender1",
    "libxi6",
    "libfontconfig1",
    "libfreetype6",
    "libdbus-1-3",
    "libglib2.0-0",
]
RECOMMENDS = ["libgl1-mesa-dri"]  # software OpenGL when there is no GPU driver
ICON_SIZES = (48, 128, 256)
MIME_TYPES = ("image/jpeg", "image/png", "image/webp")

# StartupWMClass: Qt's X11 WM_CLASS class is the application name ("FaceLift Desktop", set in
# facelift_desktop/app.py); the launcher uses it to tie the window to this entry.
DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Version=1.4
Name=FaceLift Desktop
GenericName=3D Head from a Photo
Comment=Turn one portrait photo into an interactive 3D Gaussian-splat head
Exec=/usr/bin/facelift-desktop %f
TryExec=/usr/bin/facelift-desktop
Icon=facelift-desktop
Terminal=false
Categories=Graphics;3DGraphics;
MimeType={mime};
Keywords=3D;face;head;portrait;gaussian;splat;photo;
StartupNotify=true
StartupWMClass=FaceLift Desktop
"""

# The caches are refreshed on install and removal; the tools may be missing on minimal systems.
MAINTAINER_SCRIPT = """\
#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f /usr/share/icons/hicolor/index.theme ]; then
    gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
fi
if command -v xdg-icon-resource >/dev/null 2>&1; then
    xdg-icon-resource forceupdate --theme hicolor >/dev/null 2>&1 || true
fi
exit 0
"""


class BuildError(Exception):
    """The package cannot be built (one-line reason)."""


def project_version(root: Path = ROOT) -> str:
    """``project.version`` from pyproject.toml."""
    return str(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


def deb_path(out_dir: Path, version: str, package: str = PACKAGE) -> Path:
    return out_dir / f"{package}_{version}_amd64.deb"


def ensure_bundle(bundle: Path, rebuild: bool, cuda: bool = False) -> None:
    """Run packaging/build_bundle.sh when the bundle is missing (or ``rebuild``); ``cuda``: in the
    CUDA build environment, which is made first (packaging/cuda_env.py)."""
    if bundle.joinpath(PACKAGE).is_file() and not rebuild:
        return
    env = dict(os.environ)
    if cuda:
        sys.path.insert(0, str(ROOT / "packaging"))
        from cuda_env import EnvError, ensure_cuda_env

        try:
            env.update(PYTHON=str(ensure_cuda_env()), FACELIFT_VARIANT="cuda")
        except EnvError as exc:
            raise BuildError(str(exc)) from exc
    print(
        f"== building the {'CUDA ' if cuda else ''}bundle ({'rebuild' if rebuild else 'missing'}): "
        "packaging/build_bundle.sh",
        flush=True,
    )
    subprocess.run([str(ROOT / "packaging" / "build_bundle.sh")], check=True, cwd=ROOT, env=env)
    if not bundle.joinpath(PACKAGE).is_file():
        raise BuildError(f"{bundle}: the bundle build finished but {PACKAGE} is not in it")


def _source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH, else the last commit's time, so repeated builds stamp the same times."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        return int(out.stdout.strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def _install_icons(stage: Path, icons_dir: Path) -> None:
    png = icons_dir / f"{PACKAGE}.png"
    svg = icons_dir / f"{PACKAGE}.svg"
    if not png.is_file():
        raise BuildError(f"{png}: app icon missing (run packaging/make_icon.py)")
    hicolor = stage / "usr/share/icons/hicolor"
    for size in ICON_SIZES:
        dest = hicolor / f"{size}x{size}/apps/{PACKAGE}.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if size == 256:
            shutil.copyfile(png, dest)
            continue
        try:
            from PIL import Image
        except ImportError:  # only the 256 px icon then; desktops scale it
            dest.parent.rmdir()
            continue
        with Image.open(png) as im:
            im.resize((size, size), Image.Resampling.LANCZOS).save(dest, optimize=True)
    if svg.is_file():
        dest = hicolor / f"scalable/apps/{PACKAGE}.svg"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(svg, dest)


def _normalise_tree(stage: Path, epoch: int) -> None:
    """Files 0644 (executables 0755), folders 0755, every mtime = epoch (reproducible)."""
    for dirpath, dirnames, filenames in os.walk(stage):
        d = Path(dirpath)
        for name in filenames:
            p = d / name
            if p.is_symlink():
                continue
            if p.parent == stage / "DEBIAN":
                executable = name in {"postinst", "postrm", "preinst", "prerm"}
            else:
                executable = os.access(p, os.X_OK)
            p.chmod(0o755 if executable else 0o644)
        for name in dirnames:
            if not (d / name).is_symlink():
                (d / name).chmod(0o755)
    for dirpath, dirnames, filenames in os.walk(stage, topdown=False):
        for name in [*filenames, *dirnames]:
            os.utime(Path(dirpath) / name, (epoch, epoch), follow_symlinks=False)
    os.utime(stage, (epoch, epoch))


def _md5sums(stage: Path) -> str:
    lines = []
    for path in sorted(p for p in stage.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(stage).as_posix()
        if rel.startswith("DEBIAN/"):
            continue
        lines.append(f"{hashlib.md5(path.read_bytes()).hexdigest()}  {rel}")
    return "\n".join(lines) + "\n"


def _installed_size_kib(stage: Path) -> int:
    total = 0
    for path in stage.rglob("*"):
        if path.is_relative_to(stage / "DEBIAN"):
            continue
        total += 1 if path.is_symlink() or path.is_dir() else -(-path.stat().st_size // 1024)
    return total


def required_glibc(bundle: Path) -> tuple[int, int]:
    """The newest GLIBC_2.x symbol version any ELF file of the bundle asks for (libc6's minimum).

    The bundle carries some system libraries of the build machine (libstdc++, glib, ...), so it
    runs only where glibc is at least as new as the build machine's.
    """
    newest = (2, 17)
    pattern = re.compile(rb"GLIBC_2\.(\d+)(?:\.\d+)?\x00")
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as fh:
            if fh.read(4) != b"\x7fELF":
                continue
        for match in pattern.finditer(path.read_bytes()):
            newest = max(newest, (2, int(match.group(1))))
    return newest


def check_cuda_bundle(bundle: Path) -> None:
    """Every CUDA runtime library torch's CUDA 13 build loads is in the bundle (the app checks the
    same at start, engine.gpu_status); PyInstaller misses libraries that are only dlopen'd."""
    sys.path.insert(0, str(ROOT))
    from engine.gpu_status import CUDA_LIBRARIES

    names = {p.name for p in bundle.rglob("*.so*")}
    missing = [name for name in CUDA_LIBRARIES[13] if name not in names]
    if missing:
        raise BuildError(f"{bundle}: CUDA libraries missing from the bundle: {', '.join(missing)}")


def control_text(
    version: str, installed_kib: int, glibc: tuple[int, int] = (2, 17), package: str = PACKAGE
) -> str:
    """The DEBIAN/control file (``package``: facelift-desktop or facelift-desktop-cuda)."""
    cuda = package == CUDA_PACKAGE
    description = (
        "one portrait photo to an interactive 3D Gaussian-splat head\n"
        " FaceLift Desktop turns a single portrait photo into a 3D Gaussian-splat head\n"
        " (FaceLift, ICCV 2025: multi-view diffusion, then GS-LRM), shown in an\n"
        " interactive viewer and exported as PLY, MP4, PNG. A built-in instant engine\n"
        " works offline on the CPU; the FaceLift weights are not included (size and\n"
        " non-commercial licence): the app offers to download them, or to choose a\n"
        " folder, on first start.\n"
        " .\n"
        " Also installs the `facelift` command line."
    )
    if cuda:
        description = description.replace(
            "one portrait photo to an interactive 3D Gaussian-splat head\n",
            "one portrait photo to a 3D Gaussian-splat head, on an NVIDIA GPU\n",
        ) + (
            "\n .\n This is the CUDA package: torch with the CUDA 13.0 runtime, which\n"
            f" needs the NVIDIA driver {CUDA_MIN_DRIVER} or newer (no CUDA toolkit). Without\n"
            " it the app runs on the CPU and says why; for CPU-only computers the\n"
            f" smaller {PACKAGE} package is the one to install."
        )
    fields = {
        "Package": package,
        "Version": version,
        "Architecture": "amd64",
        "Maintainer": MAINTAINER,
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join([f"libc6 (>= {glibc[0]}.{glibc[1]})", *DEPENDS]),
        "Recommends": ", ".join(RECOMMENDS),
        **({"Conflicts": PACKAGE, "Replaces": PACKAGE, "Provides": PACKAGE} if cuda else {}),
        "Section": "graphics",
        "Priority": "optional",
        "Homepage": HOMEPAGE,
        "Description": description,
    }
    return "".join(f"{k}: {v}\n" for k, v in fields.items())


def stage_package(
    bundle: Path, stage: Path, version: str, icons_dir: Path, epoch: int, package: str = PACKAGE
) -> None:
    """Lay out the package tree in ``stage`` (emptied first)."""
    if stage.exists():
        shutil.rmtree(stage)
    opt = stage / PREFIX.lstrip("/")
    opt.parent.mkdir(parents=True)
    shutil.copytree(bundle, opt, symlinks=True)
    for stray in opt.rglob("__pycache__"):
        shutil.rmtree(stray)
    if not (opt / "facelift").exists():
        (opt / "facelift").symlink_to(PACKAGE)

    usr_bin = stage / "usr/bin"
    usr_bin.mkdir(parents=True)
    (usr_bin / PACKAGE).symlink_to(f"{PREFIX}/{PACKAGE}")
    (usr_bin / "facelift").symlink_to(f"{PREFIX}/facelift")

    _write(
        stage / f"usr/share/applications/{PACKAGE}.desktop", DESKTOP_ENTRY.format(mime=";".join(MIME_TYPES))
    )
    _install_icons(stage, icons_dir)
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8") if (ROOT / "LICENSE").is_file() else ""
    _write(
        stage / f"usr/share/doc/{package}/copyright",
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {PACKAGE}\n\nFiles: *\nLicense: Apache-2.0\n"
        " The FaceLift model weights are NOT included in this package; they are\n"
        " released separately under a non-commercial licence.\n"
        " .\n" + "".join(f" {line}\n" if line.strip() else " .\n" for line in licence.splitlines()),
    )

    debian = stage / "DEBIAN"
    debian.mkdir()
    _write(debian / "postinst", MAINTAINER_SCRIPT, 0o755)
    _write(debian / "postrm", MAINTAINER_SCRIPT, 0o755)
    _write(debian / "md5sums", _md5sums(stage))
    _write(
        debian / "control",
        control_text(version, _installed_size_kib(stage), required_glibc(opt), package),
    )
    _normalise_tree(stage, epoch)


def build_deb(
    bundle: Path,
    out_dir: Path,
    *,
    version: str | None = None,
    icons_dir: Path = ROOT / "resources" / "icons",
    work_dir: Path = ROOT / "build" / "deb",
    compression: str = "zstd",
    level: int | None = None,
    package: str = PACKAGE,
) -> Path:
    """Stage ``bundle`` and run dpkg-deb; returns the .deb path (written atomically).

    level: the compressor's level (dpkg-deb -z; None: dpkg-deb's default)."""
    if shutil.which("dpkg-deb") is None:
        raise BuildError("dpkg-deb not found (install dpkg)")
    if not bundle.joinpath(PACKAGE).is_file():
        raise BuildError(f"{bundle}: not a FaceLift bundle (no {PACKAGE} executable in it)")
    version = version or project_version()
    epoch = _source_date_epoch()
    stage = work_dir / f"{package}_{version}_amd64"
    stage_package(bundle, stage, version, icons_dir, epoch, package)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = deb_path(out_dir, version, package)
    tmp = target.with_name(f".{target.name}.tmp")
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}
    try:
        subprocess.run(
            [
                "dpkg-deb",
                "--root-owner-group",
                f"-Z{compression}",
                *([f"-z{level}"] if level is not None else []),
                "--build",
                str(stage),
                str(tmp),
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    shutil.rmtree(stage)
    return target


def _size(path: Path) -> str:
    if path.is_file():
        n = path.stat().st_size
    else:
        n = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return f"{n / 2**20:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bundle", type=Path, help="bundle folder (default dist/facelift-desktop, --cuda: dist/cuda/...)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .deb goes")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the bundle first (incremental)")
    parser.add_argument(
        "--cuda",
        action="store_true",
        help=f"build {CUDA_PACKAGE}: torch's CUDA 13 build from build/venv-cuda (made if missing)",
    )
    parser.add_argument(
        "--compression",
        default="zstd",
        choices=["zstd", "xz", "gzip"],
        help="dpkg-deb compressor (default zstd: every system new enough to run the bundle's glibc reads it)",
    )
    parser.add_argument("--level", type=int, help="compression level (dpkg-deb -z; default: dpkg-deb's)")
    args = parser.parse_args(argv)
    default_bundle = CUDA_BUNDLE if args.cuda else ROOT / "dist" / PACKAGE
    bundle = args.bundle or default_bundle
    try:
        if bundle == default_bundle:
            ensure_bundle(bundle, args.rebuild, cuda=args.cuda)
        if args.cuda:
            check_cuda_bundle(bundle)
        start = time.monotonic()
        deb = build_deb(
            bundle,
            args.out,
            compression=args.compression,
            level=args.level,
            package=CUDA_PACKAGE if args.cuda else PACKAGE,
        )
    except (BuildError, subprocess.CalledProcessError, OSError) as exc:
        print(f"build_deb: error: {exc}", file=sys.stderr)
        return 1
    print(f"deb: {deb} ({_size(deb)}; bundle {_size(bundle)}) packed in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
