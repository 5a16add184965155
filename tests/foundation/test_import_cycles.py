"""No import cycle anywhere in engine/: every strongly connected group of modules in its import
graph (grimp, the graph import-linter builds) is a single module that does not import itself.

import-linter's acyclic_siblings contract sees cycles between sibling modules and packages
only, not one through a package's __init__ and a module inside it, so this checks the module
graph itself. TYPE_CHECKING imports count too: a cycle there is still a tangle to read.
"""

from __future__ import annotations

from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[2]


def import_cycles(package: str) -> list[list[str]]:
    """The import cycles among ``package``'s modules: each a sorted list of the modules in one
    strongly connected component of more than one module (or a module importing itself)."""
    graph = grimp.build_graph(package, cache_dir=None)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & graph.modules) for m in modules}
    # Tarjan's algorithm, iterative (no recursion limit on deep chains)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:  # back in the parent: pass the low-link up
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    cycles.append(sorted(group))
    return sorted(cycles)


def test_engine_has_no_import_cycle() -> None:
    cycles = import_cycles("engine")
    assert not cycles, "import cycles in engine/: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_check_sees_a_planted_cycle(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A package whose a -> b -> c -> a (and a clean d) is reported as exactly that cycle."""
    pkg = tmp_path / "planted"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from planted import b\n")
    (pkg / "b.py").write_text("import planted.c\n")
    (pkg / "c.py").write_text("from planted.a import x\nx = 1\n")
    (pkg / "d.py").write_text("import planted.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("planted") == [["planted.a", "planted.b", "planted.c"]]
