"""scripts/bootstrap.sh (sourced by run.sh and test.sh): install once, skip what is done,
never reinstall into another checkout's environment, install missing Debian packages as root.

The real commands (pip, apt-get, dpkg-query, id) are replaced by logging stubs on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/usr/bin/env bash\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def sandbox(tmp_path):
    """A copy of scripts/bootstrap.sh in a fake checkout, a fake venv python that logs its
    arguments, and a bin folder for command stubs."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "bootstrap.sh", repo / "scripts" / "bootstrap.sh")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    log = tmp_path / "calls.log"
    return repo, stubs, log


def _make_venv(where: Path, log: Path) -> None:
    (where / "bin").mkdir(parents=True)
    _stub(where / "bin", "python", f'echo "python $*" >> {log}')


def _run(repo: Path, stubs: Path, script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}"}
    env.pop("FACELIFT_TORCH_INDEX", None)
    return subprocess.run(
        ["bash", "-c", f"source {repo}/scripts/bootstrap.sh && {script}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_installs_once_and_plain_run_after_dev_skips(sandbox):
    repo, stubs, log = sandbox
    _make_venv(repo / ".venv", log)
    assert _run(repo, stubs, "ensure_venv dev").returncode == 0
    calls = _calls(log)
    assert any("-e" in c and c.endswith(f"{repo}[dev]") for c in calls), calls
    assert any("torch==2.13.0" in c for c in calls)
    log.unlink()
    assert _run(repo, stubs, "ensure_venv dev").returncode == 0  # second test.sh
    assert _run(repo, stubs, "ensure_venv").returncode == 0  # run.sh after test.sh
    assert _calls(log) == []


def test_changed_pyproject_reinstalls_and_drops_stale_stamps(sandbox):
    repo, stubs, log = sandbox
    _make_venv(repo / ".venv", log)
    _run(repo, stubs, "ensure_venv dev")
    old = {p.name for p in (repo / ".venv").glob("installed-*")}
    (repo / "pyproject.toml").write_text("[project]\nname = 'y'\n")
    log.unlink()
    _run(repo, stubs, "ensure_venv dev")
    assert _calls(log), "a changed pyproject.toml must reinstall"
    new = {p.name for p in (repo / ".venv").glob("installed-*")}
    assert len(new) == 1 and not (new & old)


def test_never_installs_into_a_linked_environment(sandbox, tmp_path):
    repo, stubs, log = sandbox
    _make_venv(tmp_path / "shared-venv", log)
    (repo / ".venv").symlink_to(tmp_path / "shared-venv")
    out = _run(repo, stubs, "ensure_venv dev")
    assert out.returncode == 0
    assert _calls(log) == []
    assert "not reinstalling" in out.stderr


def test_missing_system_packages_are_installed_as_root(sandbox):
    repo, stubs, log = sandbox
    # dpkg-query: everything installed except xvfb and xauth; id -u: root
    _stub(
        stubs,
        "dpkg-query",
        'pkg="${!#}"; case "$pkg" in xvfb|xauth) exit 1;; *) printf "install ok installed";; esac',
    )
    _stub(stubs, "id", "echo 0")
    _stub(stubs, "apt-get", f'echo "apt-get $*" >> {log}')
    out = _run(repo, stubs, "ensure_system_packages")
    assert out.returncode == 0, out.stderr
    calls = _calls(log)
    assert calls[0].endswith("update -qq")
    assert calls[1].startswith("apt-get install") and calls[1].endswith("xvfb xauth")


def test_nothing_to_do_when_all_packages_are_there(sandbox):
    repo, stubs, log = sandbox
    _stub(stubs, "dpkg-query", 'printf "install ok installed"')
    _stub(stubs, "apt-get", f'echo "apt-get $*" >> {log}')
    assert _run(repo, stubs, "ensure_system_packages").returncode == 0
    assert _calls(log) == []


def test_non_root_only_warns(sandbox):
    repo, stubs, log = sandbox
    _stub(stubs, "dpkg-query", "exit 1")
    _stub(stubs, "id", "echo 1000")
    _stub(stubs, "apt-get", f'echo "apt-get $*" >> {log}')
    out = _run(repo, stubs, "ensure_system_packages")
    assert out.returncode == 0
    assert "missing system packages" in out.stderr and "xvfb" in out.stderr
    assert _calls(log) == []
