"""docs/ARCHITECTURE.md stays true: every file or folder it names in `code` exists, and the
README links to it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "ARCHITECTURE.md"


def named_paths(text: str) -> list[str]:
    """The repository paths a Markdown text names in backticks (words with a '/' or a file suffix)."""
    spans = re.findall(r"`([^`\s]+)`", text)
    return [s for s in spans if re.fullmatch(r"[\w./-]+", s) and ("/" in s or re.search(r"\.\w+$", s))]


def test_every_path_the_architecture_page_names_exists() -> None:
    paths = named_paths(DOC.read_text(encoding="utf-8"))
    assert len(paths) > 30, "the page should say where things live"
    missing = [p for p in paths if not (REPO / p).exists()]
    assert not missing, f"docs/ARCHITECTURE.md names paths that do not exist: {missing}"


def test_the_check_catches_a_path_that_is_gone() -> None:
    assert named_paths("see `engine/nowhere.py` and `engine/` but not `--steps`") == [
        "engine/nowhere.py",
        "engine/",
    ]


def test_readme_links_the_architecture_page() -> None:
    assert "docs/ARCHITECTURE.md" in (REPO / "README.md").read_text(encoding="utf-8")
