"""A seeded mutator over every input hegui reads, shared by the fuzz test in the suite
(tests/test_fuzz.py, a bounded number of examples) and the long run by hand
(bench/fuzz_inputs.py, tens of thousands).

One *case* is ``(kind, seed)``: the kind picks a valid starting input (the example as a tab
dump, the corpus's pipe/markdown/indented/traditional layouts, CSV, HTML, .xlsx, .docx, .xls,
PDF, a rule pack, a rule test case file, a waiver file, an inline filing) and the seed drives
:func:`mutate`, which mixes byte damage with the tokens that broke hegui before (10^28
amounts, 5,000-digit numbers, BEL and U+0090, unbalanced quotes and tags). For .xlsx and .docx
the XML inside the zip is mutated and the zip rebuilt, so the damage reaches the parsers
instead of stopping at the zip's checksum.

:func:`run_case` then does what a run does — read, check, report (JSON and text) or load —
and returns what happened; the only acceptable failures are hegui's own located errors.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "shifeng-zzb-2023.txt"
CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"

#: Tokens a mutation may insert: what broke hegui before, and what parsers choke on.
TOKENS: tuple[bytes, ...] = (
    b"1" + b"0" * 28,
    b"9" * 5000,
    b"-" + b"9" * 45,
    b"0." + b"0" * 60 + b"1",
    b"\x07",
    "\u0090".encode(),
    b"\x00",
    b"\t",
    b"\n\n",
    b"|",
    b",",
    b'"',
    b"'",
    b"<",
    b">",
    b"&",
    b"&#0;",
    b"]]>",
    b"{",
    b"}",
    b"[",
    b":",
    b"- ",
    b"*a",
    b"&a ",
    b"!!python/object:os.system ",
    "≥".encode(),
    b"%",
    "万元".encode(),
    "附件3-".encode(),
    "合计".encode(),
    "資金總額".encode(),
    "\ufeff".encode(),
    "\u202e".encode(),
    b"\xff\xfe",
    b"\xe4\xb8",
)

READER_KINDS = ("txt", "pipe", "markdown", "indented", "trad", "csv", "html", "xlsx", "docx", "xls", "pdf")
YAML_KINDS = ("rules", "cases", "waivers", "inline")
KINDS = READER_KINDS + YAML_KINDS

_SUFFIX = {
    "txt": ".txt",
    "pipe": ".txt",
    "markdown": ".md",
    "indented": ".txt",
    "trad": ".txt",
    "csv": ".csv",
    "html": ".html",
    "xlsx": ".xlsx",
    "docx": ".docx",
    "xls": ".xls",
    "pdf": ".pdf",
    "rules": ".yaml",
    "cases": ".cases.yaml",
    "waivers": ".yaml",
    "inline": ".json",
}


def build_seeds(folder: Path) -> dict[str, bytes]:
    """A valid starting input of every kind (the office files written at run time)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_docx import write_docx
    from make_xlsx import write_form_xlsx
    from test_formats import CSV, PAGE, write_pdf, write_xls

    corpus = {p.name: p.read_bytes() for p in CORPUS.iterdir()}

    def pick(word: str) -> bytes:
        return next(data for name, data in sorted(corpus.items()) if word in name)

    folder.mkdir(parents=True, exist_ok=True)
    rules = REPO / "rules" / "hunan"
    return {
        "txt": EXAMPLE.read_bytes(),
        "pipe": pick("_pipe.txt"),
        "markdown": pick("markdown"),
        "indented": pick("indented"),
        "trad": pick("trad"),
        "csv": CSV.encode("gbk"),
        "html": PAGE.format(tail="").encode("utf-8"),
        "xlsx": write_form_xlsx(folder / "seed.xlsx").read_bytes(),
        "docx": write_docx(folder / "seed.docx").read_bytes(),
        "xls": write_xls(folder / "seed.xls").read_bytes(),
        "pdf": write_pdf(folder / "seed.pdf").read_bytes(),
        "rules": (rules / "pension.yaml").read_bytes(),
        "cases": (rules / "pension.cases.yaml").read_bytes(),
        "waivers": (
            'waivers:\n  - rule: QG-IND-003\n    filing: "*.txt"\n    item: 总费用控制\n'
            "    reason: 成本指标按全年口径填报\n    approved_by: 区财政局绩效科\n    expires: 2024-06-30\n"
        ).encode(),
        "inline": json.dumps(_inline_seed(), ensure_ascii=False, indent=1).encode("utf-8"),
    }


def _inline_seed() -> dict:
    """The first inline filing of the shipped rule cases, as JSON."""
    import yaml

    for path in sorted((REPO / "rules").rglob("*.cases.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for cases in (data.get("cases") or {}).values() if isinstance(data, dict) else []:
            for case in cases.values() if isinstance(cases, dict) else []:
                if isinstance(case, dict) and isinstance(case.get("filing"), dict):
                    return case["filing"]
    raise AssertionError("no inline filing among the shipped rule cases")


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 5))):
        op = rng.randrange(8)
        at = rng.randrange(len(out) + 1)
        if op <= 2:
            token = rng.choice(TOKENS)
            out[at:at] = token * (rng.randrange(1, 4) if len(token) < 10 else 1)
        elif op == 3 and out:
            for _ in range(rng.randrange(1, 8)):
                out[rng.randrange(len(out))] = rng.randrange(256)
        elif op == 4 and out:
            del out[at : at + rng.randrange(1, 200)]
        elif op == 5 and out:
            chunk = bytes(out[at : at + rng.randrange(1, 400)])
            out[at:at] = chunk * rng.randrange(1, 5)
        elif op == 6:
            digits = [i for i in range(len(out)) if 48 <= out[i] <= 57]
            if digits:
                i = rng.choice(digits)
                out[i : i + 1] = rng.choice((b"1" + b"0" * 28, b"9" * 4400, b"1e400", b"0" * 50 + b"7"))
        elif op == 7 and len(out) > 1:
            del out[rng.randrange(1, len(out)) :]  # truncated in transit
    return bytes(out)


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
#: What a number may be replaced with: absurd magnitudes, other scripts, edge values.
NUMBERS = ("1" + "0" * 28, "9" * 45, "4" * 4400, "0", "-3", "1e5", "１２", "十八", "两万五", "99999999999999.99",
           "0.000001", "1,2", "3.", "2023年13月", "NaN", "∞")  # fmt: skip
#: Words a mutation may write into a cell: labels the recogniser looks for, units, comparators.
WORDS = ("合计", "资金总额", "附件3-1", "附件1", "≥95%", "万元", "元/人/年", "人", "年度", "指标值", "≤", "不低于",
         "产出指标", "填表人：", "/", "——", "金额", "2023年12月前")  # fmt: skip


def _mutate_text(text: str, rng: random.Random, *, xml: bool) -> str:
    """Edits that keep the text decodable (and, mostly, the XML well formed) so that the damage
    reaches the recogniser, the rules and the reports rather than the decoder."""
    lines = text.split("\n")
    for _ in range(rng.choice((1, 1, 2, 3))):
        op = rng.randrange(6)
        numbers = list(_NUMBER.finditer(text))
        if op <= 1 and numbers:
            m = rng.choice(numbers)
            text = text[: m.start()] + rng.choice(NUMBERS) + text[m.end() :]
        elif op == 2:
            at = rng.randrange(len(text) + 1)
            word = rng.choice(WORDS) if rng.random() < 0.7 else rng.choice(TOKENS).decode("utf-8", "replace")
            if xml:
                word = word.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            text = text[:at] + word + text[at:]
        elif not xml and op == 3 and len(lines) > 1:
            i = rng.randrange(len(lines))
            lines.insert(rng.randrange(len(lines)), lines[i]) if rng.random() < 0.5 else lines.pop(i)
            text = "\n".join(lines)
        elif not xml and op == 4 and len(lines) > 2:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif not xml and op == 5 and len(lines) > 2:
            text = "\n".join(lines[: rng.randrange(1, len(lines))])
        lines = text.split("\n")
    return text


def _mutate(kind: str, data: bytes, rng: random.Random, *, xml: bool = False) -> bytes:
    encoding = "gbk" if kind == "csv" else "utf-8"
    if kind not in ("xls", "pdf") and rng.random() < 0.7:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            return _mutate_bytes(data, rng)
        return _mutate_text(text, rng, xml=xml).encode(encoding, "replace")
    return _mutate_bytes(data, rng)


def mutate(kind: str, data: bytes, seed: int) -> bytes:
    """A damaged copy of ``data`` (an input of ``kind``), the same for the same seed."""
    rng = random.Random(f"{kind}:{seed}")
    if kind in ("xlsx", "docx") and rng.random() < 0.85:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            members = {i.filename: source.read(i.filename) for i in source.infolist()}
        xml = sorted(name for name in members if name.endswith(".xml"))
        main = [n for n in xml if n.startswith(("xl/worksheets/", "xl/sharedStrings", "word/document"))]
        name = rng.choice(main if main and rng.random() < 0.8 else xml)
        members[name] = _mutate(kind, members[name], rng, xml=True)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for member, content in members.items():
                target.writestr(member, content)
        return buffer.getvalue()
    if kind in ("xlsx", "docx"):
        return _mutate_bytes(data, rng)
    return _mutate(kind, data, rng)


@dataclass
class Outcome:
    """What one case did: ``"ok"`` (read and checked, or loaded), ``"refused"`` (a located
    error of hegui's own), or ``"crash"`` with the traceback."""

    status: str
    detail: str = ""


class Runner:
    """Runs cases against one loaded rule set (loading it once per process)."""

    def __init__(self, folder: Path) -> None:
        from hegui.engine.evaluate import Evaluator
        from hegui.engine.rules import load_rules
        from hegui.plugins import builtin_rule_paths
        from hegui.plugins.manager import build_registry

        self.folder = folder
        self.ruleset = load_rules(builtin_rule_paths())
        # The Evaluator, not app.checker.Checker: the Checker turns any exception into the
        # input's error record, which would hide exactly the crashes a fuzzer looks for.
        self.checker = Evaluator(self.ruleset, build_registry(entry_points=False))

    def run(self, kind: str, data: bytes, *, check: bool = True) -> Outcome:
        import traceback

        from hegui.engine.rules import RuleLoadError
        from hegui.engine.strictyaml import YamlProblem
        from hegui.facts.errors import InputError

        path = self.folder / f"fuzz{_SUFFIX[kind]}"
        path.write_bytes(data)
        action: Callable[[], object] = {
            "rules": lambda: self._rules(path),
            "cases": lambda: self._cases(path),
            "waivers": lambda: self._waivers(path),
            "inline": lambda: self._inline(data, check),
        }.get(kind, lambda: self._filing(path, check))
        try:
            action()
        except (InputError, RuleLoadError, YamlProblem) as exc:
            text = str(exc)
            if not text.strip():
                return Outcome("crash", f"empty error message: {exc!r}")
            return Outcome("refused", text[:300])
        except Exception:
            return Outcome("crash", traceback.format_exc())
        return Outcome("ok")

    def _filing(self, path: Path, check: bool) -> None:
        from hegui.facts.read import read_filing

        filing = read_filing(path)
        if check:
            self._report(path, filing)

    def _inline(self, data: bytes, check: bool) -> None:
        from hegui.engine.cases import inline_filing_from_text
        from hegui.facts.errors import InputError

        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError("filing.json", f"不是 UTF-8（第{exc.start}字节）") from None
        filing = inline_filing_from_text(text, "filing.json")
        if check:
            self._report(Path("filing.json"), filing)

    def _report(self, path: Path, filing) -> None:
        from hegui.reports import FilingOutcome, to_json, to_text

        result = self.checker.check(filing)
        outcome = FilingOutcome(str(path), filing, result.findings, jurisdiction=result.jurisdiction)
        json.loads(to_json([outcome], self.ruleset))
        to_text([outcome], self.ruleset)

    def _rules(self, path: Path) -> None:
        from hegui.engine.rules import load_rules

        load_rules([path])

    def _cases(self, path: Path) -> None:
        from hegui.engine.cases import load_case_file
        from hegui.engine.rules import RuleLoadError

        problems: list = []
        load_case_file(path, self.ruleset, problems)
        if problems:
            raise RuleLoadError(problems)

    def _waivers(self, path: Path) -> None:
        from hegui.engine.waivers import load_waivers

        load_waivers(path)
