"""Read a filing from a file, whatever reader its format needs."""

from __future__ import annotations

import os

from hegui.facts.model import Filing
from hegui.facts.tables import build_filing
from hegui.facts.textdump import read_text_dump


def read_filing(path: str | os.PathLike) -> Filing:
    """Read ``path`` into a :class:`Filing`; raises :class:`~hegui.facts.errors.InputError`."""
    grid = read_text_dump(path)
    return build_filing(grid)
