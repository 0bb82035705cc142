"""JSON written piece by piece, byte-identical to ``json.dumps(..., sort_keys=True, indent=2)``.

A batch report of thousands of filings must not be built as one document in memory: the
JSON and SARIF formats describe their document as a *skeleton* (plain dicts and lists) in
which the long arrays are :class:`LazyArray` objects, and :func:`iter_json` writes it while
the arrays' items are produced one at a time. :func:`materialize` turns the same skeleton
into the plain document, so one builder serves both the in-memory and the streamed report.

Every key, separator and indent is the one ``json.dumps(value, ensure_ascii=False,
sort_keys=True, indent=2)`` writes: the streamed text equals the dumped text byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

INDENT = "  "
_END = object()


class Encoded:
    """An item of a :class:`LazyArray` that is already JSON text: ``json.dumps(value,
    ensure_ascii=False, sort_keys=True, indent=2)`` of it, written as it is (re-indented to
    its depth) rather than decoded and encoded again. A batch spools its entries in this form."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def compact(text: str) -> str:
    """The ``json.dumps(value, ensure_ascii=False, sort_keys=True)`` text (one line, default
    separators) of ``text``, the indented text of the same value.

    Cheap because it is safe: an encoded string never holds a raw newline, so every newline
    and the spaces after it are layout, and a comma before a newline separates items.
    """
    return _LAYOUT.sub("", _ITEM_BREAK.sub(", ", text))


_ITEM_BREAK = re.compile(",\n *")
_LAYOUT = re.compile("\n *")


class LazyArray:
    """A JSON array whose items are produced while the document is written.

    ``items`` is iterated once (by :func:`iter_json` or :func:`materialize`). The items are
    plain JSON data or :class:`Encoded` text: a :class:`LazyArray` inside an item is not expanded.
    """

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def _dumps(value: Any, level: int) -> str:
    text = value.text if isinstance(value, Encoded) else json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)
    # Encoded strings never hold a raw newline (it is escaped), so every newline is layout.
    return text.replace("\n", "\n" + INDENT * level) if level else text


def _has_lazy(value: Any) -> bool:
    if isinstance(value, LazyArray):
        return True
    if isinstance(value, dict):
        return any(_has_lazy(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_lazy(v) for v in value)
    return False


def iter_json(value: Any, level: int = 0) -> Iterator[str]:
    """The text of ``value`` (a skeleton that may hold :class:`LazyArray` objects) in pieces.

    ``"".join(iter_json(doc)) == json.dumps(materialize(doc), ensure_ascii=False,
    sort_keys=True, indent=2)``; ``level`` is the nesting depth the value is written at.
    """
    if isinstance(value, LazyArray):
        items = iter(value)
        first = next(items, _END)
        if first is _END:
            yield "[]"
            return
        inner = "\n" + INDENT * (level + 1)
        yield "[" + inner + _dumps(first, level + 1)
        for item in items:
            yield "," + inner + _dumps(item, level + 1)
        yield "\n" + INDENT * level + "]"
    elif isinstance(value, dict) and _has_lazy(value):
        inner = "\n" + INDENT * (level + 1)
        for n, (key, item) in enumerate(sorted(value.items())):
            if not isinstance(key, str):
                raise TypeError(f"keys of a streamed JSON object must be strings, not {type(key).__name__}")
            yield ("{" if n == 0 else ",") + inner + json.dumps(key, ensure_ascii=False) + ": "
            yield from iter_json(item, level + 1)
        yield "\n" + INDENT * level + "}"
    elif isinstance(value, list | tuple) and _has_lazy(value):
        inner = "\n" + INDENT * (level + 1)
        for n, item in enumerate(value):
            yield ("[" if n == 0 else ",") + inner
            yield from iter_json(item, level + 1)
        yield "\n" + INDENT * level + "]"
    else:
        yield _dumps(value, level)


def materialize(value: Any) -> Any:
    """The skeleton as plain JSON data: every :class:`LazyArray` read into a list."""
    if isinstance(value, LazyArray):
        return [json.loads(v.text) if isinstance(v, Encoded) else v for v in value]
    if not _has_lazy(value):
        return value  # shared, not copied: a batch's entries can be large
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    return [materialize(v) for v in value]
