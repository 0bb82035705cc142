"""Strict YAML for rule files: no surprises, every value remembers its line and column.

Policy staff edit these files by hand, so YAML 1.1's guesses are errors rather than
conversions: ``NO`` is not ``False``, ``0012`` is not 10, ``1e3`` is not 1000.0. Numbers become
``Decimal`` straight from their text (never through float). Duplicate keys, anchors and
aliases (alias bombs) and oversized files are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

#: Digits a YAML number may have. Well above what a rule file's own checks refuse with a
#: breadcrumb ("数值过大"), well below Python's 4,300-digit limit for turning an int into text,
#: which a report printing such a number would hit.
MAX_YAML_DIGITS = 1000

MAX_RULE_FILE_BYTES = 1_000_000
MAX_NESTING = 40

_BOOL_WORDS = {"true": True, "false": False}
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?(0|[1-9][0-9]*)\.[0-9]+")
_SURPRISING_NUMBER = re.compile(
    r"[-+]?(0[0-9_]+|0[xXoObB][0-9a-fA-F_]+|[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+|\.[0-9]+|[0-9]+\.|[0-9][0-9_]*(:[0-5]?[0-9])+|\.(inf|Inf|INF|nan|NaN|NAN))"
)


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


class YamlProblem(Exception):
    """A YAML file that is not acceptable; ``mark`` locates the problem."""

    def __init__(self, message: str, mark: Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class Located(dict):
    """A mapping that remembers where each key and value was written."""

    def __init__(self) -> None:
        super().__init__()
        self.mark: Mark = Mark(0, 0)
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}


class LocatedList(list):
    def __init__(self) -> None:
        super().__init__()
        self.mark: Mark = Mark(0, 0)
        self.item_marks: list[Mark] = []


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _NoAliasComposer(yaml.SafeLoader):
    """Composes nodes but refuses aliases, anchors, explicit tags and deep nesting early.

    Depth is counted here, before PyYAML's recursive composer can exhaust the stack on a
    small file of nested brackets.
    """

    _depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        where = Mark(event.start_mark.line + 1, event.start_mark.column + 1)
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem("不允许使用 YAML 别名（*引用）：规则文件中每个值请直接写出", where)
        if getattr(event, "anchor", None):
            raise YamlProblem("不允许使用 YAML 锚点（&名称）：规则文件中每个值请直接写出", where)
        if getattr(event, "tag", None) not in (None, "!"):
            raise YamlProblem(f"不允许使用 YAML 标签“{event.tag}”：值的类型由规则格式决定", where)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise YamlProblem(f"嵌套层数超过{MAX_NESTING}层", where)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style is not None:  # quoted or block scalar: always text
        return text
    lowered = text.lower()
    if text == "" or text == "~" or lowered == "null":
        return None
    if lowered in _BOOL_WORDS:
        if text not in ("true", "false"):
            raise YamlProblem(f"布尔值请写成小写 true 或 false，而不是“{text}”", _mark(node))
        return _BOOL_WORDS[lowered]
    if lowered in _YAML11_BOOLS:
        raise YamlProblem(
            f'“{text}”有歧义（旧版 YAML 会把它当作布尔值）：如果是文字请加引号写成 "{text}"，如果是布尔值请写 true 或 false',
            _mark(node),
        )
    if _INT.fullmatch(text) or _DECIMAL.fullmatch(text):
        digits = sum(c.isdigit() for c in text)
        if digits > MAX_YAML_DIGITS:
            raise YamlProblem(f"数字有 {digits} 位，超过上限 {MAX_YAML_DIGITS} 位：不是有效的数值", _mark(node))
        return Decimal(text)
    if _SURPRISING_NUMBER.fullmatch(text):
        raise YamlProblem(
            f"“{text}”有歧义（前导零、科学计数法、八/十六进制或时间格式会被不同程序读成不同的数）：请写成普通十进制数，或加引号作为文字",
            _mark(node),
        )
    return text


def _convert(node: yaml.Node, depth: int = 0) -> Any:
    if depth > MAX_NESTING:
        raise YamlProblem(f"嵌套层数超过{MAX_NESTING}层", _mark(node))
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList()
        items.mark = _mark(node)
        for item in node.value:
            items.append(_convert(item, depth + 1))
            items.item_marks.append(_mark(item))
        return items
    if isinstance(node, yaml.MappingNode):
        out = Located()
        out.mark = _mark(node)
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlProblem("键必须是简单文字", _mark(key_node))
            if key_node.value == "<<":
                raise YamlProblem("不允许使用 YAML 合并键“<<”", _mark(key_node))
            key = str(key_node.value)
            if key in out:
                first = out.key_marks[key]
                raise YamlProblem(f"键“{key}”重复（第一次出现在第{first.line}行）", _mark(key_node))
            out[key] = _convert(value_node, depth + 1)
            out.key_marks[key] = _mark(key_node)
            out.value_marks[key] = _mark(value_node)
        return out
    raise YamlProblem("无法识别的 YAML 结构", _mark(node))  # pragma: no cover


def _unprintable(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    """A located problem for a character YAML does not allow (a control character)."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
    return YamlProblem(
        f"含有不允许的控制字符 U+{code:04X}：请删除该字符，它在编辑器中通常不可见",
        Mark(line, column),
    )


def load_text(text: str) -> Any:
    """Parse one YAML document strictly; raises :class:`YamlProblem`."""
    if len(text.encode("utf-8")) > MAX_RULE_FILE_BYTES:
        raise YamlProblem(f"文件过大（超过{MAX_RULE_FILE_BYTES // 1000} KB）", None)
    try:
        # PyYAML's reader rejects control characters (BEL, C1 codes such as U+0090) while
        # the loader is being built, so construction sits inside the same error handling.
        loader = _NoAliasComposer(text)
    except yaml.reader.ReaderError as exc:
        raise _unprintable(text, exc) from None
    try:
        node = loader.get_single_node()
    except YamlProblem:
        raise
    except yaml.reader.ReaderError as exc:
        raise _unprintable(text, exc) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else None
        raise YamlProblem(f"YAML 语法错误：{exc.problem}", where) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML 语法错误：{exc}", None) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    return _convert(node)


def load_file(path: Path) -> Any:
    """Read and strictly parse a UTF-8 YAML file."""
    size = path.stat().st_size
    if size > MAX_RULE_FILE_BYTES:
        raise YamlProblem(f"文件过大（{size} 字节，上限 {MAX_RULE_FILE_BYTES} 字节）", None)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc) from None
    return load_text(text)


def _undecodable(data: bytes, exc: UnicodeDecodeError) -> YamlProblem:
    """Where the first byte that is not UTF-8 sits, as a line and column like any other problem."""
    data = data.removeprefix(b"\xef\xbb\xbf")  # the utf-8-sig codec counts after the BOM
    start = exc.start
    before = data[:start]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    return YamlProblem(
        f"文件必须是 UTF-8 编码：字节 0x{data[start]:02X} 无法按 UTF-8 解码（可能是 GBK 等其他编码，请另存为 UTF-8）",
        Mark(line, column),
    )
