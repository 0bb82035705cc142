"""The one exception type for bad input files."""

from __future__ import annotations


class InputError(Exception):
    """A file that cannot be read as a filing.

    ``message`` is Chinese and meant for the person who submitted the file; ``location`` is a
    line (``第12行``), a cell or empty when the problem concerns the whole file.
    """

    def __init__(self, path: str, message: str, location: str = "") -> None:
        super().__init__(path, message, location)
        self.path = path
        self.message = message
        self.location = location

    def __str__(self) -> str:
        where = f"{self.path}（{self.location}）" if self.location else self.path
        return f"{where}：{self.message}"
