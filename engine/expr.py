"""A small, safe expression language for rule checks.

Grammar (whitespace is insignificant)::

    check   := expr (CMP expr){1,2}          a = b,  a <= b,  lo <= a <= hi
    expr    := term (('+' | '-') term)*
    term    := factor (('*' | '×' | '/' | '÷') factor)*
    factor  := NUMBER UNIT? | NAME | '(' expr ')' | '-' factor

NAME is an input or parameter of the rule (Chinese or ASCII letters, digits, ``_``).
A NUMBER may carry a unit written right after it: ``12月/年``, ``3万元/村/年``, ``100%``.

The parser is a hand-written recursive descent over a closed token set. Nothing here — or
anywhere in hegui — hands rule text to ``eval``, ``exec``, ``compile`` or a pyDatalog
string parser: the tree is turned into pyDatalog terms by :mod:`hegui.engine.compiler`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from hegui.facts.units import DIMENSIONLESS, Unit, UnitError, parse_unit

MAX_EXPRESSION_LENGTH = 400
MAX_DEPTH = 16
MAX_DIGITS = 15  # integer digits: budgets are far below 10^15 元
MAX_DECIMALS = 6

COMPARATORS = {
    "=": "=",
    "==": "=",
    "＝": "=",
    "!=": "≠",
    "≠": "≠",
    "<=": "≤",
    "≤": "≤",
    "≦": "≤",
    ">=": "≥",
    "≥": "≥",
    "≧": "≥",
    "<": "<",
    "＜": "<",
    ">": ">",
    "＞": ">",
}
_OPERATORS = {"+": "+", "-": "-", "*": "*", "×": "*", "/": "/", "÷": "/"}


class ExpressionError(ValueError):
    """A check expression that cannot be parsed or whose units do not agree.

    ``column`` is the 1-based position in the expression text where the problem was found.
    """

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Num:
    value: Decimal  # in base units (元 for money)
    unit: Unit
    text: str  # as written, for explanations


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    operand: Node


Node = Num | Name | BinOp | Neg


@dataclass(frozen=True)
class Comparison:
    """``left op right``; a range ``lo <= x <= hi`` parses into two comparisons."""

    left: Node
    op: str  # = ≠ ≤ ≥ < >
    right: Node


def _is_name_start(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or "\u3400" <= ch <= "\u9fff"


def _is_name_char(ch: str) -> bool:
    return _is_name_start(ch) or ch.isdigit()


@dataclass(frozen=True)
class _Token:
    kind: str  # num, name, op, cmp, lparen, rparen, end
    text: str
    column: int
    number: Decimal | None = None
    unit_text: str = ""


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch.isspace():
            i += 1
            continue
        if unicodedata.category(ch) == "Nd" and not ("0" <= ch <= "9"):
            raise ExpressionError(f"请使用半角数字，第{col}个字符“{ch}”是全角或其他文字的数字", col)
        if "0" <= ch <= "9":
            j = i
            while j < n and ("0" <= text[j] <= "9" or text[j] == "."):
                j += 1
            digits = text[i:j]
            if digits.count(".") > 1 or digits.endswith("."):
                raise ExpressionError(f"数字“{digits}”格式不正确", col)
            whole, _, frac = digits.partition(".")
            if len(whole.lstrip("0")) > MAX_DIGITS or len(frac) > MAX_DECIMALS:
                raise ExpressionError(f"数字“{digits}”过长：整数部分至多{MAX_DIGITS}位，小数至多{MAX_DECIMALS}位", col)
            # A unit follows the number directly: letters of a unit and slashes, no spaces.
            k = j
            while k < n and (text[k] in "/／%" or _is_name_start(text[k])):
                k += 1
            unit_text = text[j:k].replace("／", "/")
            try:
                number = Decimal(digits)
            except InvalidOperation:  # pragma: no cover - guarded by the digit scan above
                raise ExpressionError(f"数字“{digits}”格式不正确", col) from None
            tokens.append(_Token("num", text[i:k], col, number, unit_text))
            i = k
            continue
        if _is_name_start(ch):
            j = i
            while j < n and _is_name_char(text[j]):
                j += 1
            tokens.append(_Token("name", text[i:j], col))
            i = j
            continue
        two = text[i : i + 2]
        if two in COMPARATORS:
            tokens.append(_Token("cmp", COMPARATORS[two], col))
            i += 2
            continue
        if ch in COMPARATORS:
            tokens.append(_Token("cmp", COMPARATORS[ch], col))
            i += 1
            continue
        if ch in _OPERATORS:
            tokens.append(_Token("op", _OPERATORS[ch], col))
            i += 1
            continue
        if ch in "(（":
            tokens.append(_Token("lparen", ch, col))
            i += 1
            continue
        if ch in ")）":
            tokens.append(_Token("rparen", ch, col))
            i += 1
            continue
        raise ExpressionError(
            f"表达式中不允许出现字符“{ch}”（第{col}个字符）；只能使用名称、数字、单位、+ - × ÷ 和比较符", col
        )
    tokens.append(_Token("end", "", n + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"表达式嵌套过深（超过{MAX_DEPTH}层）", self.peek().column)
        node = self.term(depth)
        while self.peek().kind == "op" and self.peek().text in "+-":
            op = self.take().text
            node = BinOp(op, node, self.term(depth))
        return node

    def term(self, depth: int) -> Node:
        node = self.factor(depth)
        while self.peek().kind == "op" and self.peek().text in "*/":
            op = self.take().text
            node = BinOp(op, node, self.factor(depth))
        return node

    def factor(self, depth: int) -> Node:
        token = self.take()
        if token.kind == "num":
            assert token.number is not None
            if token.unit_text:
                try:
                    scale, unit = parse_unit(token.unit_text)
                except UnitError as exc:
                    raise ExpressionError(f"{exc}（第{token.column}个字符）", token.column) from None
                return Num(token.number * scale, unit, token.text)
            return Num(token.number, DIMENSIONLESS, token.text)
        if token.kind == "name":
            return Name(token.text)
        if token.kind == "lparen":
            node = self.expr(depth + 1)
            closing = self.take()
            if closing.kind != "rparen":
                raise ExpressionError(f"第{token.column}个字符的括号没有闭合", closing.column)
            return node
        if token.kind == "op" and token.text == "-":
            return Neg(self.factor(depth + 1))
        if token.kind == "end":
            raise ExpressionError("表达式不完整：结尾缺少数值或名称", token.column)
        raise ExpressionError(f"第{token.column}个字符“{token.text}”处应为数值、名称或括号", token.column)


def parse_check(text: str) -> list[Comparison]:
    """Parse ``a = b``, ``a <= b`` or ``lo <= a <= hi`` into one or two comparisons."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("检查表达式为空")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"表达式过长（{len(text)}个字符，上限{MAX_EXPRESSION_LENGTH}）")
    parser = _Parser(text)
    operands = [parser.expr(0)]
    ops: list[str] = []
    columns: list[int] = []
    while parser.peek().kind == "cmp":
        token = parser.take()
        ops.append(token.text)
        columns.append(token.column)
        operands.append(parser.expr(0))
    tail = parser.peek()
    if tail.kind != "end":
        raise ExpressionError(f"第{tail.column}个字符“{tail.text}”多余或缺少运算符", tail.column)
    if not ops:
        raise ExpressionError("检查表达式需要比较符（= ≤ ≥ < > ≠），例如“金额 = 标准 × 村数”")
    if len(ops) > 2:
        raise ExpressionError("比较至多两段，例如“下限 ≤ 金额 ≤ 上限”", columns[2])
    if len(ops) == 2:
        if not ({ops[0], ops[1]} <= {"≤", "<"} or {ops[0], ops[1]} <= {"≥", ">"}):
            raise ExpressionError("区间比较的两个比较符方向必须一致，例如“下限 ≤ 金额 ≤ 上限”", columns[1])
        # lo <= x <= hi is checked as x >= lo and x <= hi so that x is the actual value.
        flipped = {"≤": "≥", "<": ">", "≥": "≤", ">": "<"}
        return [
            Comparison(operands[1], flipped[ops[0]], operands[0]),
            Comparison(operands[1], ops[1], operands[2]),
        ]
    return [Comparison(operands[0], ops[0], operands[1])]


def names(node: Node) -> list[str]:
    """Names used in ``node``, in first-use order."""
    if isinstance(node, Name):
        return [node.name]
    if isinstance(node, BinOp):
        seen = names(node.left)
        return seen + [n for n in names(node.right) if n not in seen]
    if isinstance(node, Neg):
        return names(node.operand)
    return []


TEXT = Unit(0, (("文本", 1),))


def infer_unit(node: Node, units: dict[str, Unit]) -> Unit:
    """The unit of ``node`` given the units of its names; raises ExpressionError on a mismatch."""
    if isinstance(node, Num):
        return node.unit
    if isinstance(node, Name):
        return units[node.name]
    if isinstance(node, Neg):
        return infer_unit(node.operand, units)
    left, right = infer_unit(node.left, units), infer_unit(node.right, units)
    if TEXT in (left, right):
        raise ExpressionError("文本不能参与算术运算")
    if node.op in "+-":
        if left != right:
            raise ExpressionError(
                f"单位不一致：{render(node.left)}（{left}）与 {render(node.right)}（{right}）不能相{'加' if node.op == '+' else '减'}"
            )
        return left
    return left * right if node.op == "*" else left / right


def render(node: Node, leaf: Callable[[Node], str] | None = None) -> str:
    """The expression as a reader would write it (× and ÷, minimal parentheses).

    ``leaf`` may replace names and numbers by other text (explanations put values there).
    """
    if isinstance(node, (Num, Name)):
        if leaf is not None:
            return leaf(node)
        return node.text if isinstance(node, Num) else node.name
    if isinstance(node, Neg):
        inner = render(node.operand, leaf)
        return f"-({inner})" if isinstance(node.operand, BinOp) else f"-{inner}"
    symbol = {"+": " + ", "-": " - ", "*": " × ", "/": " ÷ "}[node.op]
    left, right = render(node.left, leaf), render(node.right, leaf)
    if node.op in "*/" and isinstance(node.left, BinOp) and node.left.op in "+-":
        left = f"({left})"
    if isinstance(node.right, BinOp) and (node.op == "/" or (node.op in "*-" and node.right.op in "+-")):
        right = f"({right})"
    return left + symbol + right


def evaluate(node: Node, values: dict[str, Decimal]) -> Decimal:
    """Exact Decimal value of ``node`` (used for explanations and rule tests, not for checking)."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Name):
        return values[node.name]
    if isinstance(node, Neg):
        return -evaluate(node.operand, values)
    left, right = evaluate(node.left, values), evaluate(node.right, values)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    return left / right
