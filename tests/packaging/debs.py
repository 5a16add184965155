"""What the two install tests share (test_install_deb.py: the CPU package, test_install_cuda_deb.py:
the CUDA one): building the .deb, installing and removing it, running the installed programs as a
fresh user. Imported by name: tests/packaging/conftest.py puts this folder on ``sys.path``.

Both packages install the same app to the same place (/opt/facelift-desktop, /usr/bin/...); they
differ in the package name, the build flag and how long building and dpkg take (``Variant``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = "facelift-desktop"
OPT = Path("/opt") / APP
BIN_APP = Path("/usr/bin") / APP
BIN_CLI = Path("/usr/bin/facelift")
SAMPLE = REPO / "resources" / "samples" / "astronaut.png"
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24 +extension GLX"]


@dataclass(frozen=True)
class Variant:
    """One of the two packages.

    package: its name; build_flags: what packaging/build_deb.py adds to build it;
    build_timeout / dpkg_timeout: seconds allowed for building it and for one ``dpkg -i``/``-r``.
    """

    package: str
    build_flags: tuple[str, ...]
    build_timeout: float
    dpkg_timeout: float


CPU = Variant(APP, (), build_timeout=3 * 3600, dpkg_timeout=900)
CUDA = Variant(f"{APP}-cuda", ("--cuda",), build_timeout=4 * 3600, dpkg_timeout=1800)


def version() -> str:
    """``project.version`` from pyproject.toml: the version both packages carry."""
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def run(
    cmd: list[str], timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``cmd`` with its output captured as text; a non-zero exit is the caller's to judge."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def gui(cmd: list[str]) -> list[str]:
    """Run under the current display, or a private Xvfb when there is none."""
    if os.environ.get("DISPLAY"):
        return cmd
    if shutil.which("xvfb-run") is None:
        pytest.fail("no DISPLAY and no xvfb-run: install xvfb (./test.sh does as root)")
    return [*XVFB, *cmd]


def user_env(home: Path, path_first: Path | None = None) -> dict[str, str]:
    """A fresh user: settings and caches go to this HOME's XDG folders (never /opt);
    ``path_first`` goes before /usr/bin on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "QT_"))}
    path = "/usr/local/bin:/usr/bin:/bin"
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        PATH=f"{path_first}:{path}" if path_first else path,
    )
    return env


def is_installed(package: str) -> bool:
    """dpkg's status for ``package`` is "install ok installed"."""
    out = run(["dpkg-query", "-W", "-f=${Status}", package], timeout=30)
    return out.returncode == 0 and "install ok installed" in out.stdout


def build(variant: Variant) -> Path:
    """Build ``variant``'s .deb with packaging/build_deb.py (the bundle rebuilt first, unless
    PACKAGING_REUSE_BUNDLE=1); returns dist/<package>_<version>_amd64.deb."""
    if shutil.which("dpkg-deb") is None:
        pytest.fail("dpkg-deb not found: the .deb can only be built on Debian/Ubuntu")
    cmd = [sys.executable, str(REPO / "packaging" / "build_deb.py"), *variant.build_flags]
    if os.environ.get("PACKAGING_REUSE_BUNDLE") != "1":
        cmd.append("--rebuild")
    built = run(cmd, timeout=variant.build_timeout)
    what = " ".join(["build_deb", *variant.build_flags])
    assert built.returncode == 0, f"{what} failed:\n{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
    path = REPO / "dist" / f"{variant.package}_{version()}_amd64.deb"
    assert path.is_file(), built.stdout
    return path


def installation(variant: Variant, deb: Path) -> Iterator[list[Path]]:
    """Install ``deb`` with dpkg and yield what ``dpkg -L`` lists (absolute paths, "/." left out);
    afterwards remove the package unless a test already did. For a module-scoped fixture."""
    if os.geteuid() != 0:
        pytest.fail("dpkg -i needs root (run PACKAGING=1 ./test.sh as root)")
    done = run(["dpkg", "-i", str(deb)], timeout=variant.dpkg_timeout)
    assert done.returncode == 0, done.stderr
    listed = run(["dpkg", "-L", variant.package], timeout=60)
    yield [Path(line) for line in listed.stdout.splitlines() if line.strip() and line != "/."]
    if is_installed(variant.package):
        run(["dpkg", "-r", variant.package], timeout=variant.dpkg_timeout)


def assert_nothing_added_under_opt(installed: list[Path]) -> None:
    """Under /opt/facelift-desktop is only what the package installed (``installed``: its
    ``dpkg -L``): the programs wrote settings, caches and outputs to the user's folders."""
    packaged = {p for p in installed if p.is_relative_to(OPT)}
    present = {OPT} | set(OPT.rglob("*"))
    assert present - packaged == set(), sorted(present - packaged)[:20]


def remove(variant: Variant, installed: list[Path]) -> None:
    """``dpkg -r`` succeeds and leaves none of the installed files of ours (anything under /opt,
    or named after the app) behind."""
    done = run(["dpkg", "-r", variant.package], timeout=variant.dpkg_timeout)
    assert done.returncode == 0, done.stderr
    assert not is_installed(variant.package)
    ours = [p for p in installed if p.is_relative_to(OPT) or APP in p.name]
    assert [p for p in ours if os.path.lexists(p)] == []


def purge(variant: Variant) -> None:
    """dpkg keeps its own record (state "rc") until a purge; purge forgets the package entirely."""
    purged = run(["dpkg", "--purge", variant.package], timeout=variant.dpkg_timeout)
    assert purged.returncode == 0, purged.stderr
    assert run(["dpkg-query", "-W", variant.package], timeout=30).returncode != 0
