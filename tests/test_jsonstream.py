"""The streamed JSON writer (reports/jsonstream.py) against ``json.dumps``, byte for byte."""

from __future__ import annotations

import json
import random

import pytest

from hegui.reports.jsonstream import Encoded, LazyArray, compact, iter_json, materialize


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


def _random_value(rng: random.Random, depth: int):
    kind = rng.choice(["str", "int", "float", "none", "bool", "list", "dict", "lazy"] if depth < 4 else ["str", "int"])
    if kind == "str":
        return rng.choice(["", "a", "文件\n第2行", 'quote "x" \\ tab\t', "\u2028", "z" * rng.randint(0, 5)])
    if kind == "int":
        return rng.randint(-(10**20), 10**20)
    if kind == "float":
        return rng.choice([0.1, -2.5, 1e300, 3.0])
    if kind == "none":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    size = rng.choice([0, 0, 1, 2, 4])
    if kind == "dict":
        return {
            rng.choice(["b", "a", "$s", "中", "A", "z1"]) + str(i): _random_value(rng, depth + 1) for i in range(size)
        }
    items = [_random_value(rng, depth + 1) for _ in range(size)]
    if kind == "lazy":
        # Lazy items are plain data (a LazyArray is not expanded inside an item).
        return LazyArray(iter([materialize(item) for item in items]))
    return items


@pytest.mark.parametrize("seed", range(60))
def test_streamed_text_is_json_dumps_of_the_materialized_document(seed):
    # Build the same skeleton twice (lazy arrays are read once each).
    document = _random_value(random.Random(seed), 0)
    twin = _random_value(random.Random(seed), 0)
    assert "".join(iter_json(document)) == _dumps(materialize(twin))


def test_lazy_arrays_at_every_depth_and_empty_ones():
    def skeleton():
        return {
            "z": [1, {"deep": LazyArray(iter([{"k": [1, 2]}, "two"]))}],
            "a": LazyArray(iter([])),
            "m": {"n": LazyArray(x for x in range(3)), "o": {}},
            "e": [],
        }

    assert "".join(iter_json(skeleton())) == _dumps(materialize(skeleton()))
    # materialize leaves plain parts shared rather than copied (entries can be large)
    plain = {"big": [1, 2, 3]}
    assert materialize({"x": plain, "y": LazyArray(iter([]))})["x"] is plain


def test_items_are_produced_only_as_the_text_is_taken():
    produced: list[int] = []

    def items():
        for n in range(3):
            produced.append(n)
            yield {"n": n}

    pieces = iter_json({"head": 1, "list": LazyArray(items())})
    text = next(pieces)
    assert produced == [] and text.startswith("{")
    for piece in pieces:
        if '"n": 0' in piece:
            assert produced == [0]  # one item in hand, the next not yet made
    assert produced == [0, 1, 2]


def test_keys_must_be_strings_where_the_writer_sorts_them_itself():
    with pytest.raises(TypeError):
        "".join(iter_json({1: LazyArray(iter([]))}))


@pytest.mark.parametrize("seed", range(60))
def test_compact_is_the_one_line_dumps_of_the_indented_text(seed):
    value = materialize(_random_value(random.Random(seed), 0))
    indented = _dumps(value)
    assert compact(indented) == json.dumps(value, ensure_ascii=False, sort_keys=True)


def test_encoded_items_are_copied_not_decoded():
    items = [{"b": [1, {"c": "第2行\n"}], "a": {}}, [], "x"]
    document = {"list": LazyArray(Encoded(_dumps(item)) for item in items), "k": 1}
    assert "".join(iter_json(document)) == _dumps({"list": items, "k": 1})
    assert materialize({"list": LazyArray(Encoded(_dumps(item)) for item in items)}) == {"list": items}
