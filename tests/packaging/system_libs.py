"""Does a package's Depends bring every system library the bundled Qt loads on an X11 desktop?

Measured, not restated: ``ldd`` resolves the Qt files the app loads under X11 (``QT_X11_FILES``:
the xcb platform plugin, its OpenGL integrations and the OpenGL widget library, each with
everything it links, transitively) the way the frozen app would; every library that resolves
outside the bundle is mapped to the Debian package that owns it (``dpkg -S``). Such a package
is covered when the installer guarantees it is present wherever ours is installed, i.e. when it is

* in our Depends (libc6 is: build_deb.py adds ``libc6 (>= 2.x)``), or
* Essential (Debian Policy 3.5: never declared; dpkg refuses to remove it), or
* reached from those two by hard dependencies of the installed packages: Depends and Pre-Depends
  entries that are not alternatives (``a | b`` guarantees neither). ``ldd`` lists the whole
  closure, so most of what it finds is what a system library needs (libXau6 behind libxcb1,
  libpcre2 behind glib): that is those packages' Depends to keep right, not ours to restate.
  The installed packages' own fields (``dpkg-query``), not ``apt-cache depends``: apt shows the
  candidate version's dependencies, dpkg the ones of the version actually installed.

The rest is missing from Depends: on a system without it, the xcb plugin fails to load and the
app does not start. test_install_deb.py checks the installed package (its Depends field, the
bundle under /opt); test_build_deb.py checks the venv's PySide6 against packaging/build_deb.py's
Depends, which is the same property before anything is frozen.

Not covered: libraries loaded with dlopen by name (libGL.so.1 from VisPy, Mesa's drivers), which
``ldd`` cannot see, and the Wayland platform plugin (Qt falls back to xcb without it).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

# Relative to PySide6's Qt folder (the one with lib/ and plugins/); a glob must match something.
QT_X11_FILES = (
    "plugins/platforms/libqxcb.so",  # the X11 platform: Qt6XcbQpa, Gui, Core, DBus, the xcb libraries
    "plugins/xcbglintegrations/*.so",  # OpenGL contexts on X11: GLX, EGL
    "lib/libQt6OpenGLWidgets.so.6",  # the 3D viewport (QOpenGLWidget): Qt6Widgets, Qt6OpenGL
)
_LDD_LINE = re.compile(r"^\s*(?:(\S+) => )?(\S+|not found)(?: \(0x[0-9a-f]+\))?\s*$")
_USR_MERGED = ("/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/", "/sbin/")


@dataclass(frozen=True)
class SystemLibrary:
    """One library a Qt file needs from outside the bundle.

    name: as the dynamic linker asks for it ("libxcb-cursor.so.0"); path: where ``ldd`` resolved
    it (None: not found); loaded_with: the first file of QT_X11_FILES whose ldd lists it (it or
    a library it loads links it).
    """

    name: str
    path: str | None
    loaded_with: Path


def qt_x11_files(qt_dir: Path) -> list[Path]:
    """The files of QT_X11_FILES under ``qt_dir``; AssertionError when one is not there (a Qt
    layout this check does not know must not pass by checking nothing)."""
    files: list[Path] = []
    for pattern in QT_X11_FILES:
        found = sorted(qt_dir.glob(pattern))
        assert found, f"{qt_dir / pattern}: not found"
        files += found
    return files


def parse_ldd(text: str) -> list[tuple[str, str | None]]:
    """``ldd`` output -> [(name, resolved path or None when "not found")]; the vDSO (no path) is
    left out, the dynamic loader ("/lib64/ld-linux-x86-64.so.2 (0x...)") is its own name."""
    libraries: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        match = _LDD_LINE.match(line)
        if not match:
            continue
        name, where = match.group(1), match.group(2)
        if where == "not found":
            libraries.append((name or where, None))
        elif where.startswith("/"):
            libraries.append((name or Path(where).name, where))
    return libraries


def system_libraries(files: Iterable[Path], bundle: Path, library_path: Path | None) -> list[SystemLibrary]:
    """Every library ``files`` need that ``ldd`` does not find under ``bundle``, each once.

    library_path: put on LD_LIBRARY_PATH as the frozen app has it (PyInstaller's bootloader
    prepends its _internal folder), so the libraries the bundle carries (libstdc++, ...) are
    found there and not taken for system ones; None for an unfrozen Qt.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"LD_LIBRARY_PATH", "LD_PRELOAD"}}
    if library_path is not None:
        env["LD_LIBRARY_PATH"] = str(library_path)
    found: dict[str, SystemLibrary] = {}
    for file in files:
        out = subprocess.run(["ldd", str(file)], capture_output=True, text=True, env=env, check=False)
        assert out.returncode == 0, f"{file}: ldd failed: {out.stderr.strip()}"
        for name, path in parse_ldd(out.stdout):
            if path is not None and Path(path).resolve().is_relative_to(bundle.resolve()):
                continue
            found.setdefault(name, SystemLibrary(name, path, file))
    return list(found.values())


def _other_usr_spelling(path: str) -> str | None:
    """/lib/x -> /usr/lib/x and back: on a merged-/usr system both are the same file, and a
    package's file list has whichever its build used (bookworm: libc6 /lib/..., libxcb1 /usr/lib/...)."""
    if path.startswith("/usr/") and path.removeprefix("/usr").startswith(_USR_MERGED):
        return path.removeprefix("/usr")
    if path.startswith(_USR_MERGED):
        return "/usr" + path
    return None


def dpkg_spellings(path: str) -> list[str]:
    """The paths under which dpkg may list the file ``ldd`` printed as ``path``: as printed (the
    soname link), the file the link leads to, each also with /usr toggled."""
    spellings: list[str] = []
    for p in (path, os.path.realpath(path)):
        for q in (p, _other_usr_spelling(p)):
            if q is not None and q not in spellings:
                spellings.append(q)
    return spellings


def owners(paths: Iterable[str]) -> dict[str, set[str]]:
    """{path: the packages whose file list has it} from one ``dpkg -S`` (architecture suffixes
    such as ":amd64" dropped); a path no package lists is absent."""
    wanted = list(paths)
    if not wanted:
        return {}
    out = subprocess.run(["dpkg", "-S", *wanted], capture_output=True, text=True, check=False)
    owned: dict[str, set[str]] = {}
    for line in out.stdout.splitlines():
        if line.startswith("diversion by "):
            continue
        packages, sep, path = line.partition(": ")
        if sep and path in wanted:
            owned.setdefault(path, set()).update(p.strip().split(":")[0] for p in packages.split(","))
    return owned


def hard_dependencies(field: str) -> set[str]:
    """Package names of a Depends/Pre-Depends field that are not alternatives, without version
    and architecture qualifiers: "libc6 (>= 2.36), a | b, libx:any" -> {"libc6", "libx"}."""
    names = set()
    for entry in field.split(","):
        entry = entry.strip()
        if entry and "|" not in entry:
            names.add(entry.split("(")[0].split(":")[0].strip())
    return names


@dataclass(frozen=True)
class Installed:
    """An installed package's fields that matter here: Essential, and its hard dependencies."""

    essential: bool
    requires: frozenset[str]


def installed_packages() -> dict[str, Installed]:
    """Every package dpkg has installed ("ii"), from one ``dpkg-query``; a package installed for
    two architectures is one entry (the union of both)."""
    out = subprocess.run(
        [
            "dpkg-query",
            "-W",
            "-f=${db:Status-Abbrev}\t${Package}\t${Essential}\t${Pre-Depends}\t${Depends}\n",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    packages: dict[str, Installed] = {}
    for line in out.stdout.splitlines():
        status, name, essential, pre_depends, depends = line.split("\t")
        if status.startswith("ii"):
            before = packages.get(name, Installed(False, frozenset()))
            requires = hard_dependencies(pre_depends) | hard_dependencies(depends) | before.requires
            packages[name] = Installed(essential == "yes" or before.essential, frozenset(requires))
    return packages


def guaranteed(declared: Iterable[str], packages: Mapping[str, Installed]) -> set[str]:
    """The packages present wherever ``declared`` are installed: those, the Essential ones, and
    everything they hard-depend on, transitively (over ``packages``, the installed ones)."""
    todo = [*declared, *(name for name, p in packages.items() if p.essential)]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += packages[name].requires if name in packages else ()
    return seen


def missing_from_depends(
    qt_dir: Path, depends: str, bundle: Path, library_path: Path | None = None
) -> list[str]:
    """One line per system library the Qt under ``qt_dir`` needs that ``depends`` (a Depends
    field) does not guarantee, naming the library, where it was found and its package; [] when
    every one is covered. bundle, library_path: as for ``system_libraries``."""
    libraries = system_libraries(qt_x11_files(qt_dir), bundle, library_path)
    spellings = {lib.name: dpkg_spellings(lib.path) for lib in libraries if lib.path is not None}
    owned = owners(p for paths in spellings.values() for p in paths)
    covered = guaranteed(hard_dependencies(depends), installed_packages())
    problems = []
    for lib in libraries:
        where = f"{lib.name} (loaded with {lib.loaded_with.relative_to(qt_dir)}"
        if lib.path is None:
            problems.append(f"{where}): not found, neither in the bundle nor on the system")
            continue
        packages = set().union(*(owned.get(p, set()) for p in spellings[lib.name]))
        if not packages:
            problems.append(f"{where}, at {lib.path}): no Debian package owns it")
        elif not packages & covered:
            names = " or ".join(sorted(packages))
            problems.append(f"{where}, at {lib.path}): package {names} is missing from Depends")
    return problems
