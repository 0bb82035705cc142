"""Reader for .csv files: one :class:`Row` per record, one :class:`Cell` per field.

The bytes are decoded as the text reader does (UTF-8, UTF-8 with BOM, GBK/GB18030, which is
what Excel and WPS write for Chinese CSV depending on the version); the delimiter is the one
of ``,``, ``;``, TAB or ``|`` that splits the first lines most consistently. A quoted field may
hold line breaks; every cell keeps the line range of its record. A cut-off last record (an
unclosed quote) gives the fields that are there.
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter

from hegui.facts.files import file_size, read_bytes
from hegui.facts.layouts import decode_any
from hegui.facts.model import Cell, Grid, Row, Source
from hegui.facts.textdump import DEFAULT_MAX_BYTES, _too_large

_DELIMITERS = (",", "\t", ";", "|")


def read_csv(path: str | os.PathLike, data: bytes | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Grid:
    """Read a CSV file into a :class:`Grid` with line provenance."""
    name = os.fsdecode(path)
    from_disk = data is None
    data = read_bytes(name, max_bytes) if data is None else bytes(data)
    if len(data) > max_bytes:
        raise _too_large(name, max(file_size(name, len(data)) if from_disk else 0, len(data)), max_bytes)
    text, encoding = decode_any(name, data)
    delimiter = _delimiter(text)
    csv.field_size_limit(max_bytes)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    rows: list[Row] = []
    start = 1
    try:
        for record in reader:
            end = reader.line_num
            while record and not record[-1].strip():
                record.pop()  # trailing empty fields are padding to the widest row
            if any(field.strip() for field in record):
                source = Source(name, start, end)
                rows.append(Row([Cell(field.strip(), source) for field in record]))
            start = end + 1
    except csv.Error:
        pass  # a broken last record: keep the rows read so far
    return Grid(path=name, rows=rows, encoding=encoding)


def _delimiter(text: str) -> str:
    sample = [line for line in text.split("\n")[:50] if line.strip()]
    best, best_score = ",", -1
    for delimiter in _DELIMITERS:
        counts = Counter(line.count(delimiter) for line in sample)
        if not counts:
            continue
        common, seen = counts.most_common(1)[0]
        score = seen * (common > 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best
