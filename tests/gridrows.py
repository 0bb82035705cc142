"""Grids written as rows of cell texts, for recogniser tests that must not depend on a reader.

``grid_of([["项目名称", "x"], …])`` gives each cell a source of its own (row = line, column in
the locator), as a reader of a table layout would.
"""

from __future__ import annotations

from hegui.facts.model import Cell, Grid, Row, Source


def grid_of(rows: list[list[str]], path: str = "表.txt") -> Grid:
    """A :class:`Grid` whose row n (1-based) is line n of ``path``; "" is a blank cell."""
    return Grid(
        path,
        [
            Row([Cell(text, Source(path, n, locator=f"第{n}行第{c}格")) for c, text in enumerate(row, start=1)])
            for n, row in enumerate(rows, start=1)
        ],
    )
