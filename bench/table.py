"""Fixed-width summary tables for the bench scripts: a header row of column titles, then one row
per measurement, each cell as wide as its title's column.

Imported by name (``from table import Column, print_table, ruled``): a bench script run as
``python bench/NAME.py`` has bench/ first on sys.path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column: ``title`` aligned in ``width`` characters; a value is formatted with ``spec``
    (a format spec without alignment or width, e.g. ".3f" or ","), followed by ``unit`` (e.g. "s"),
    the two together filling ``width``. ``align``: ">" right (the default), "<" left."""

    title: str
    width: int
    spec: str = ""
    unit: str = ""
    align: str = ">"

    def header(self) -> str:
        return f"{self.title:{self.align}{self.width}}"

    def cell(self, value: object) -> str:
        return f"{value:{self.align}{self.width - len(self.unit)}{self.spec}}{self.unit}"


def print_table(columns: Sequence[Column], rows: Iterable[Sequence[object]]) -> None:
    """Prints the titles of ``columns``, then each row (one value per column), cells one space apart."""
    print(" ".join(c.header() for c in columns))
    for row in rows:
        print(" ".join(c.cell(v) for c, v in zip(columns, row, strict=True)))


def ruled(header: str, rows: Iterable[str]) -> str:
    """``header``, a rule of dashes as wide, then one line per row (rows formatted to match)."""
    return "\n".join([header, "-" * len(header), *rows])
