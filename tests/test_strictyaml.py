"""Tests for strict YAML loading: no YAML 1.1 guesses, Decimal numbers, no aliases, tags or
merge keys, duplicate keys refused, size and depth limits, and correct line/column marks."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest

from hegui.engine import strictyaml
from hegui.engine.strictyaml import Located, LocatedList, Mark, YamlProblem, load_file, load_text

AMBIGUOUS_NUMBER = (
    "有歧义（前导零、科学计数法、八/十六进制或时间格式会被不同程序读成不同的数）：请写成普通十进制数，或加引号作为文字"
)


def problem(text: str) -> YamlProblem:
    with pytest.raises(YamlProblem) as info:
        load_text(text)
    return info.value


# --- YAML 1.1 booleans -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["NO", "No", "no", "yes", "Yes", "YES", "on", "On", "ON", "off", "Off", "y", "Y", "n", "N"]
)
def test_yaml11_boolean_words_are_refused(word: str) -> None:
    p = problem(f"pack:\n  name: 甲\n  flag: {word}\n")
    assert p.mark == Mark(3, 9)
    assert p.message == (
        f'“{word}”有歧义（旧版 YAML 会把它当作布尔值）：如果是文字请加引号写成 "{word}"，如果是布尔值请写 true 或 false'
    )


@pytest.mark.parametrize("word", ["True", "TRUE", "False", "FALSE", "tRuE"])
def test_capitalised_booleans_are_refused(word: str) -> None:
    p = problem(f"a: {word}")
    assert p.mark == Mark(1, 4)
    assert p.message == f"布尔值请写成小写 true 或 false，而不是“{word}”"


def test_lowercase_booleans() -> None:
    data = load_text("a: true\nb: false\n")
    assert data == {"a": True, "b": False}
    assert data["a"] is True and data["b"] is False


@pytest.mark.parametrize("text, value", [("a: ~", None), ("a: null", None), ("a: Null", None), ("a:", None)])
def test_nulls(text: str, value: None) -> None:
    assert load_text(text) == {"a": value}


# --- surprising numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "0012",
        "00",
        "1e3",
        "1E3",
        "1e-3",
        "1.5e3",
        "1.0e+3",
        "0x1F",
        "0o17",
        "0b11",
        "1:30",
        "12:30:00",
        "190:20:30",
        ".5",
        "-.5",
        "5.",
        ".inf",
        ".nan",
        "-.inf",
        ".NaN",
    ],
)
def test_surprising_numbers_are_refused(number: str) -> None:
    p = problem(f"rules:\n  - value: {number}\n")
    assert p.mark == Mark(2, 12)
    assert p.message == f"“{number}”{AMBIGUOUS_NUMBER}"


@pytest.mark.parametrize(
    "text, value",
    [
        ('a: "NO"', "NO"),
        ("a: 'yes'", "yes"),
        ('a: "True"', "True"),
        ("a: '0012'", "0012"),
        ('a: "1e3"', "1e3"),
        ("a: '0x1F'", "0x1F"),
        ('a: "1:30"', "1:30"),
        ("a: '.5'", ".5"),
        ('a: "2000"', "2000"),
        ("a: 'null'", "null"),
        ("a: |\n  NO\n", "NO\n"),
        ("a: >\n  0012\n", "0012\n"),
    ],
)
def test_quoted_values_are_plain_text(text: str, value: str) -> None:
    data = load_text(text)
    assert data == {"a": value}
    assert type(data["a"]) is str


@pytest.mark.parametrize(
    "text, value",
    [
        ("2000", Decimal("2000")),
        ("0.5", Decimal("0.5")),
        ("0", Decimal(0)),
        ("-3", Decimal(-3)),
        ("+3", Decimal(3)),
        ("1.50", Decimal("1.50")),
        ("0.1", Decimal("0.1")),
        ("123456789012345678901234567890", Decimal("123456789012345678901234567890")),
    ],
)
def test_numbers_are_decimals_never_floats(text: str, value: Decimal) -> None:
    data = load_text(f"a: {text}")
    assert type(data["a"]) is Decimal
    assert data["a"] == value
    assert str(data["a"]) == str(value)  # digits exactly as written (0.1 stays 0.1, 1.50 keeps its scale)


def test_numbers_inside_flow_collections_are_decimals() -> None:
    data = load_text("values:\n  - {value: 2000, from: 2021}\n  - [0.1, 0.2]\n")
    assert data["values"][0] == {"value": Decimal(2000), "from": Decimal(2021)}
    assert all(type(v) is Decimal for v in data["values"][1])
    assert sum(data["values"][1]) == Decimal("0.3")


@pytest.mark.parametrize("text", ["a: 2023-01-01", "a: 1_000", "a: 3万元", "a: 元/人/月", "a: 12月/年"])
def test_other_plain_scalars_stay_text(text: str) -> None:
    data = load_text(text)
    assert type(data["a"]) is str
    assert data["a"] == text[3:]


# --- duplicate keys --------------------------------------------------------------------------------


def test_duplicate_key_names_the_first_line() -> None:
    p = problem("a: 1\nb: 2\na: 3\n")
    assert p.mark == Mark(3, 1)
    assert p.message == "键“a”重复（第一次出现在第1行）"


def test_nested_duplicate_key() -> None:
    p = problem("rules:\n  - id: X-1\n    title: 甲\n    id: X-2\n")
    assert p.mark == Mark(4, 5)
    assert p.message == "键“id”重复（第一次出现在第2行）"


def test_duplicate_key_in_flow_mapping() -> None:
    p = problem("- {value: 1, from: 2021, value: 2}\n")
    assert p.mark == Mark(1, 26)
    assert p.message == "键“value”重复（第一次出现在第1行）"


# --- anchors, aliases, merge keys, tags ------------------------------------------------------------


def test_anchor_is_refused() -> None:
    p = problem("a: &x 1\nb: 2\n")
    assert p.mark == Mark(1, 4)
    assert p.message == "不允许使用 YAML 锚点（&名称）：规则文件中每个值请直接写出"


def test_anchor_on_sequence_item_is_refused() -> None:
    p = problem("- 1\n- &a x\n")
    assert p.mark == Mark(2, 3)


def test_alias_is_refused() -> None:
    # Reach the alias without an anchor first (an undefined alias): still refused as an alias.
    p = problem("a: 1\nb: *a\n")
    assert p.mark == Mark(2, 4)
    assert p.message == "不允许使用 YAML 别名（*引用）：规则文件中每个值请直接写出"


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    with pytest.raises(YamlProblem) as info:
        load_text("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 1.0
    assert info.value.mark == Mark(1, 4)


def test_merge_key_is_refused() -> None:
    p = problem("base:\n  x: 1\nrule:\n  <<: {x: 2}\n  y: 3\n")
    assert p.mark == Mark(4, 3)
    assert p.message == "不允许使用 YAML 合并键“<<”"


def test_local_tag_is_refused() -> None:
    p = problem("a: !foo x")
    assert p.mark == Mark(1, 4)
    assert p.message == "不允许使用 YAML 标签“!foo”：值的类型由规则格式决定"


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system [x]",
        "a: !!python/name:os.system x",
        "a: !!str 5",
        "a: !!int 5",
        "a: !!float 1",
        "a: !!binary aGVsbG8=",
        "a: !!set {x}",
        "!!map {a: 1}",
    ],
)
def test_every_explicit_tag_is_refused(text: str) -> None:
    p = problem(text)
    assert "标签" in p.message
    assert p.mark is not None and p.mark.line == 1


def test_python_tags_never_construct_objects() -> None:
    """Whatever happens to the tag, nothing is constructed from it: data stays plain."""
    try:
        data = load_text("a: !!python/object/apply:os.system [echo hacked]\n")
    except YamlProblem:
        return
    assert data == {"a": ["echo hacked"]}
    assert type(data["a"]) is LocatedList


def test_non_scalar_key_is_refused() -> None:
    p = problem("? [a]\n: 1\n")
    assert p.mark == Mark(1, 3)
    assert p.message == "键必须是简单文字"


def test_second_document_is_refused() -> None:
    p = problem("a: 1\n---\nb: 2\n")
    assert p.mark == Mark(2, 1)
    assert p.message.startswith("YAML 语法错误：")


# --- syntax errors ---------------------------------------------------------------------------------


def test_syntax_error_has_line_and_column() -> None:
    p = problem("a: [1, 2\n")
    assert p.mark == Mark(2, 1)
    assert p.message == "YAML 语法错误：expected ',' or ']', but got '<stream end>'"


def test_mapping_in_plain_value_is_a_syntax_error() -> None:
    p = problem("pack:\n  name: a: b\n")
    assert p.mark == Mark(2, 10)
    assert p.message == "YAML 语法错误：mapping values are not allowed here"


# --- size and depth --------------------------------------------------------------------------------


def test_oversized_text_is_refused() -> None:
    p = problem("a: " + "x" * strictyaml.MAX_RULE_FILE_BYTES)
    assert p.mark is None
    assert p.message == "文件过大（超过1000 KB）"


def test_size_is_counted_in_bytes() -> None:
    # 333,334 汉字 are fewer than a million characters but more than a million UTF-8 bytes.
    p = problem('a: "' + "汉" * 333_334 + '"')
    assert p.message == "文件过大（超过1000 KB）"


def test_text_at_the_size_limit_is_accepted() -> None:
    text = "a: 1\n#" + "x" * (strictyaml.MAX_RULE_FILE_BYTES - 6)
    assert len(text.encode()) == strictyaml.MAX_RULE_FILE_BYTES
    assert load_text(text) == {"a": Decimal(1)}


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (strictyaml.MAX_RULE_FILE_BYTES + 1))
    with pytest.raises(YamlProblem) as info:
        load_file(path)
    assert info.value.mark is None
    assert info.value.message == "文件过大（1000001 字节，上限 1000000 字节）"


def test_nesting_within_the_limit_is_accepted() -> None:
    depth = 40
    data = load_text("[" * depth + "]" * depth)
    for _ in range(depth - 1):
        assert isinstance(data, list) and len(data) == 1
        data = data[0]
    assert data == []


@pytest.mark.parametrize("depth", [50, 300])
def test_nesting_beyond_the_limit_is_refused(depth: int) -> None:
    p = problem("[" * depth + "]" * depth)
    assert p.message == "嵌套层数超过40层"
    assert p.mark == Mark(1, 41)  # the 41st bracket is the first level too deep


@pytest.mark.parametrize("depth", [2000, 20000])
def test_very_deep_nesting_is_a_yaml_problem_not_a_crash(depth: int) -> None:
    p = problem("a: " + "[" * depth + "]" * depth)
    assert p.message == "嵌套层数超过40层"


# --- files -----------------------------------------------------------------------------------------


def test_file_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffname: 株洲市\n".encode("utf-8"))
    assert load_file(path) == {"name": "株洲市"}


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes("name: 株洲市\n".encode("gbk"))
    with pytest.raises(YamlProblem) as info:
        load_file(path)
    assert info.value.mark == Mark(1, 7)
    assert "0xD6" in info.value.message and "UTF-8" in info.value.message


def test_non_utf8_byte_is_located_after_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: a\nnote: ok\xff\n")
    with pytest.raises(YamlProblem) as info:
        load_file(path)
    assert info.value.mark == Mark(2, 9)
    assert "0xFF" in info.value.message


def test_empty_text_is_none() -> None:
    assert load_text("") is None
    assert load_text("# only a comment\n") is None


# --- marks -----------------------------------------------------------------------------------------

DOC = """\
# comment line
pack:
  name: 株洲市
rules:
  - id: ZZ-X-001
    title:   驻村工作队
    values: [1, 二]
    where:
      - {field: 名称, contains_any: [驻村]}
"""


def test_marks_on_keys_and_values() -> None:
    data = load_text(DOC)
    assert isinstance(data, Located)
    assert data.mark == Mark(2, 1)
    assert data.key_marks == {"pack": Mark(2, 1), "rules": Mark(4, 1)}
    assert data.value_marks == {"pack": Mark(3, 3), "rules": Mark(5, 3)}

    pack = data["pack"]
    assert pack.key_marks["name"] == Mark(3, 3)
    assert pack.value_marks["name"] == Mark(3, 9)

    rules = data["rules"]
    assert isinstance(rules, LocatedList)
    assert rules.mark == Mark(5, 3)
    assert rules.item_marks == [Mark(5, 5)]

    rule = rules[0]
    assert rule.mark == Mark(5, 5)
    assert rule.key_marks == {"id": Mark(5, 5), "title": Mark(6, 5), "values": Mark(7, 5), "where": Mark(8, 5)}
    assert rule.value_marks["id"] == Mark(5, 9)
    assert rule.value_marks["title"] == Mark(6, 14)  # extra spaces before the value are skipped
    assert rule.value_marks["values"] == Mark(7, 13)
    assert rule["values"].item_marks == [Mark(7, 14), Mark(7, 17)]
    assert rule["values"] == [Decimal(1), "二"]


def test_marks_count_characters_not_bytes() -> None:
    rule = load_text(DOC)["rules"][0]
    condition = rule["where"][0]
    assert rule["where"].item_marks == [Mark(9, 9)]
    assert condition.key_marks == {"field": Mark(9, 10), "contains_any": Mark(9, 21)}
    # "名称" is two characters (six bytes); the next key's column counts characters.
    assert condition.value_marks == {"field": Mark(9, 17), "contains_any": Mark(9, 35)}
    assert condition["contains_any"].item_marks == [Mark(9, 36)]


def test_problem_mark_on_a_value_deep_in_a_document() -> None:
    p = problem(DOC + "    severity: Yes\n")
    assert p.mark == Mark(10, 15)


@pytest.mark.parametrize(
    ("text", "line", "column", "code"),
    [
        ("rules:\n  - id: X\x07\n", 2, 10, "U+0007"),  # BEL inside a value
        ("a: 1\nb: 2\n\x90c: 3\n", 3, 1, "U+0090"),  # a C1 control at the start of a line
    ],
)
def test_control_characters_are_located_problems(text: str, line: int, column: int, code: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        load_text(text)
    assert caught.value.mark == Mark(line, column)
    assert code in caught.value.message


def test_control_character_in_a_rule_file_is_a_located_load_error(tmp_path: Path) -> None:
    from hegui.engine.rules import RuleLoadError, load_rules

    pack = tmp_path / "bad.yaml"
    pack.write_text("pack:\n  name: 测试\x07\n", encoding="utf-8")
    with pytest.raises(RuleLoadError) as caught:
        load_rules([pack])
    text = str(caught.value)
    assert "bad.yaml" in text and "U+0007" in text and "2" in text
