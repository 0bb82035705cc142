"""The mechanisms that make a check fast keep its results exactly as they were.

No timings here: each test pins what a mechanism does (which facts are asserted, what the
rule-set cache reads and writes) and that findings and explanations do not change with it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from hegui.engine import compiler, datalog, rulecache
from hegui.engine import evaluate as evaluate_module
from hegui.engine import rules as rules_module
from hegui.engine.evaluate import Evaluator
from hegui.engine.rules import load_rules
from hegui.facts.read import read_filing
from hegui.facts.vocabulary import filing_facts
from hegui.plugins import builtin_rule_paths

REPO = Path(__file__).resolve().parent.parent
FILINGS = [REPO / "examples" / "shifeng-zzb-2023.txt", *sorted((REPO / "tests/fixtures/corpus").glob("*.txt"))]


# --- facts: only what some rule can read is asserted ---------------------------------------------


@pytest.fixture(scope="module")
def unfiltered_results(evaluator):
    """Findings (with explanations) of every filing when every fact is asserted."""
    saved = datalog.Program.fact_filter
    families = evaluator.compiled.precomputed.families
    datalog.Program.fact_filter = lambda self, roots: _EveryFact()  # type: ignore[assignment,method-assign]
    evaluator.compiled.precomputed.families = None
    try:
        return {path.name: evaluator.check(read_filing(path), explain=True).findings for path in FILINGS}
    finally:
        datalog.Program.fact_filter = saved  # type: ignore[method-assign]
        evaluator.compiled.precomputed.families = families


class _EveryFact(dict):
    """A fact filter that keeps every fact of every predicate."""

    def get(self, key, default=None):
        return None


@pytest.mark.parametrize("path", FILINGS, ids=lambda p: p.name)
def test_filtered_facts_give_the_same_findings_and_explanations(evaluator, unfiltered_results, path):
    filing = read_filing(path)
    assert evaluator.check(filing, explain=True).findings == unfiltered_results[path.name]
    plain = evaluator.check(filing).findings
    assert [f.id for f in plain] == [f.id for f in unfiltered_results[path.name]]


def test_facts_no_rule_reads_are_not_asserted(evaluator, example_path, monkeypatch):
    asserted: list[tuple] = []
    real = datalog._fact_clauses

    def spy(facts, *rest):
        asserted.extend(facts)
        return real(facts, *rest)

    monkeypatch.setattr(datalog, "_fact_clauses", spy)
    filing = read_filing(example_path)
    evaluator.check(filing)
    facts = filing_facts(filing).raw
    # Every fact of the filing a rule reads is there; the rest (blank fields, claims of kinds
    # no rule counts, the department's phone number …) is not.
    assert 0 < len([f for f in asserted if f in set(facts)]) < len(facts)
    assert not any(f[0] == "missing" for f in asserted)  # no built-in rule reads a blank as a fact
    assert ("text", "附件1", "联系电话") not in {f[:3] for f in asserted}
    wanted = evaluator.compiled.program.fact_filter(["hegui_outcome"])
    assert datalog._kept(asserted, wanted) == asserted


def test_facts_made_for_every_filing_are_made_only_when_some_clause_reads_them(evaluator, example_path):
    """hegui_field, hegui_related, hegui_has_child and hegui_child_of facts exist for a rule set whose
    clauses read them (a rule or check kind may), and are not built for one whose clauses do not."""
    raw = filing_facts(read_filing(example_path)).raw
    families = {compiler.FIELD, compiler.RELATED, compiler.HAS_CHILD, compiler.CHILD_OF}
    read = evaluator.compiled.precomputed.families
    assert read is not None and not read & families  # the built-in rules read none of them
    assert not {f[0] for f in compiler.presence_facts(raw, evaluator.compiled.precomputed)} & families
    p = datalog.Program()
    compiler._builtins(p)
    s = p.var()
    p.clause("goal", [s], [p.lit("hegui_has_field", s, "金额")])
    p.clause(compiler.OUTCOME, [s], [p.lit("goal", s)])
    assert compiler.FIELD in p.fact_filter([compiler.OUTCOME])
    assert {f[0] for f in compiler.presence_facts(raw, compiler.Precomputed())} >= families


def test_call_constants_narrow_what_a_builtin_reads():
    """``hegui_has_field(S, "金额")`` makes the generic builtin read only 金额 facts."""
    p = datalog.Program()
    e, f, v, s = p.var(), p.var(), p.var(), p.var()
    p.clause("has_field", [e, f], [p.lit("amount", e, f, v)])
    p.clause("goal", [s], [p.lit("entity", s, "明细"), p.lit("has_field", s, "金额")])
    wanted = p.fact_filter(["goal"])
    assert wanted["amount"] == (1, frozenset({"金额"}))
    assert datalog._kept([("amount", "x", "金额", 1)], wanted)
    assert not datalog._kept([("amount", "x", "单价", 1)], wanted)
    assert not datalog._kept([("text", "x", "金额", "a")], wanted)  # nothing reads text


def test_squash_drops_exactly_what_a_whitespace_pattern_drops():
    """squash splits instead of running re.sub(r"\\s+"): the same characters for every code point."""
    import re

    from hegui.facts import review, values, vocabulary

    every = "".join(map(chr, range(0x110000)))
    expected = re.sub(r"\s+", "", every)
    assert len(expected) < len(every)  # some characters are whitespace
    assert values.squash(every) == expected
    assert vocabulary.squash is values.squash and review.squash is values.squash  # one squash


def test_fact_set_sorts_only_when_asked(example_path):
    facts = filing_facts(read_filing(example_path))
    assert facts._sorted is None  # building the facts did not sort them
    assert len(set(facts.raw)) == len(facts.raw)
    assert facts.facts == sorted(facts.raw, key=lambda f: tuple((type(a).__name__, str(a)) for a in f))


# --- start-up: the rule-set cache ----------------------------------------------------------------


@pytest.fixture
def packs(tmp_path):
    """A private copy of the built-in packs (so a test may edit them) and a private cache."""
    folder = tmp_path / "rules"
    for source in builtin_rule_paths():
        shutil.copytree(source, folder / source.name)
    cache = tmp_path / "cache"
    return folder, cache


@pytest.fixture
def parses(monkeypatch):
    """How many rule files were parsed from YAML."""
    count = {"files": 0}
    real = rules_module.load_pack_file

    def spy(*args, **kwargs):
        count["files"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(rules_module, "load_pack_file", spy)
    return count


def _cache_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("rules-*.pickle"))


def test_second_load_comes_from_the_cache(packs, parses, monkeypatch):
    folder, cache = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    first = load_rules([folder])
    parsed = parses["files"]
    assert parsed > 0 and len(_cache_files(cache)) == 1
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    assert oct(_cache_files(cache)[0].stat().st_mode & 0o777) == oct(0o600)
    hits = rulecache.stats["hits"]
    second = load_rules([folder])
    assert parses["files"] == parsed  # nothing parsed again
    assert rulecache.stats["hits"] == hits + 1
    assert second == first and second is not first


def test_cached_rules_check_the_same(packs, monkeypatch, example_path, registry):
    folder, cache = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    fresh = Evaluator(load_rules([folder], cache=False), registry).check(read_filing(example_path), explain=True)
    load_rules([folder])
    cached = Evaluator(load_rules([folder]), registry).check(read_filing(example_path), explain=True)
    assert cached.findings == fresh.findings


def test_editing_a_rule_file_invalidates_the_cache(packs, parses, monkeypatch):
    folder, cache = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    before = load_rules([folder])
    target = next(p for p in sorted(folder.rglob("*.yaml")) if not p.name.endswith(".cases.yaml"))
    rule = before.rules[[r.file for r in before.rules].index(str(target))]
    target.write_text(
        target.read_text(encoding="utf-8").replace(f"title: {rule.title}", f"title: {rule.title}（改）", 1),
        encoding="utf-8",
    )
    parsed = parses["files"]
    after = load_rules([folder])
    assert parses["files"] > parsed
    assert after.by_id(rule.id).title == f"{rule.title}（改）"
    assert len(_cache_files(cache)) == 2


def test_another_hegui_version_does_not_use_the_cache(packs, parses, monkeypatch):
    folder, cache = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    load_rules([folder])
    parsed = parses["files"]
    monkeypatch.setattr(rulecache, "_version", lambda: "999.0.0")
    load_rules([folder])
    assert parses["files"] == 2 * parsed


def test_a_corrupt_cache_file_is_ignored(packs, parses, monkeypatch):
    folder, cache = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    expected = load_rules([folder])
    (entry,) = _cache_files(cache)
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0xFF
    entry.write_bytes(bytes(data))
    rejected, parsed = rulecache.stats["rejected"], parses["files"]
    assert load_rules([folder]) == expected
    assert rulecache.stats["rejected"] == rejected + 1
    assert parses["files"] == 2 * parsed  # loaded from the YAML instead
    # and the entry was rewritten: the next load is a hit again
    hits = rulecache.stats["hits"]
    assert load_rules([folder]) == expected
    assert rulecache.stats["hits"] == hits + 1


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other_key", "group_writable"])
def test_untrusted_cache_files_are_never_unpickled(packs, monkeypatch, damage):
    folder, cache = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    expected = load_rules([folder])
    (entry,) = _cache_files(cache)
    if damage == "truncate":
        entry.write_bytes(entry.read_bytes()[:100])
    elif damage == "garbage":
        entry.write_bytes(b"\x80\x04not a hegui cache")
    elif damage == "other_key":
        # a valid entry for other rules, renamed to this entry's name
        other = folder.parent / "other"
        other.mkdir()
        pack = next(p for p in sorted(folder.rglob("*.yaml")) if not p.name.endswith(".cases.yaml"))
        shutil.copy(pack, other / "one.yaml")
        load_rules([other])
        foreign = next(p for p in _cache_files(cache) if p != entry)
        os.replace(foreign, entry)
    else:
        entry.chmod(0o664)
    loads = []
    monkeypatch.setattr(rulecache.pickle, "loads", lambda *a, **k: loads.append(a) or None)
    assert load_rules([folder]) == expected
    assert loads == []


def test_a_cache_folder_others_can_write_is_not_used(packs, parses, monkeypatch):
    folder, cache = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    load_rules([folder])
    cache.chmod(0o777)
    try:
        parsed = parses["files"]
        load_rules([folder])
        assert parses["files"] == 2 * parsed
    finally:
        cache.chmod(0o700)


def test_empty_cache_dir_setting_turns_the_cache_off(packs, parses, monkeypatch, tmp_path):
    folder, _ = packs
    monkeypatch.setenv("HEGUI_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    load_rules([folder])
    load_rules([folder])
    assert parses["files"] == 2 * len([p for p in folder.rglob("*.yaml") if not p.name.endswith(".cases.yaml")])
    assert not list(tmp_path.rglob("rules-*.pickle"))


def test_default_cache_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("HEGUI_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert rulecache.cache_dir() == tmp_path / "hegui"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert rulecache.cache_dir() == Path.home() / ".cache" / "hegui"


def test_rule_errors_are_not_cached(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(cache))
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: {name: 坏}\nrules: 3\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(rules_module.RuleLoadError):
            load_rules([bad])
    assert not _cache_files(cache)


# --- start-up: what a command does not need is not imported ----------------------------------------


def test_help_does_not_import_the_engine_or_the_readers():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from hegui.cli import main\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = ['pyDatalog', 'hegui.engine.evaluate', 'hegui.engine.rules', 'hegui.facts.read', 'hegui.reports', 'yaml']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- compiling: the same rules are compiled once per process -------------------------------------


def test_equal_rules_share_one_compiled_program(registry, example_path, monkeypatch, tmp_path):
    monkeypatch.setenv("HEGUI_CACHE_DIR", str(tmp_path / "cache"))
    parsed = load_rules(builtin_rule_paths(), cache=False)
    load_rules(builtin_rule_paths())
    hits = rulecache.stats["hits"]
    unpickled = load_rules(builtin_rule_paths())  # equal content, other objects, other sharing
    assert rulecache.stats["hits"] == hits + 1 and unpickled.rules is not parsed.rules
    shared = Evaluator(unpickled, registry)
    assert shared.compiled is Evaluator(parsed, registry).compiled
    own = Evaluator(parsed, registry, reuse_compiled=False)
    assert own.compiled is not shared.compiled
    filing = read_filing(example_path)
    assert shared.check(filing, explain=True).findings == own.check(filing, explain=True).findings


def test_changed_rules_get_their_own_program(ruleset, registry, example_path):
    dropped = next(r.id for r in ruleset.rules if r.id == "ZZ-ZCDY-001")
    fewer = replace(ruleset, rules=[r for r in ruleset.rules if r.id != dropped])
    evaluator = Evaluator(fewer, registry)
    assert evaluator.compiled is not Evaluator(ruleset, registry).compiled
    assert dropped not in evaluator.compiled.rules
    rule_ids = {f.rule_id for f in evaluator.check(read_filing(example_path)).findings}
    assert dropped not in rule_ids and rule_ids  # the example fails ZZ-ZCDY-001 with every rule


def test_the_process_keeps_only_the_latest_programs(ruleset, registry):
    singles = [replace(ruleset, rules=[rule]) for rule in ruleset.rules[: evaluate_module._COMPILED_LIMIT + 1]]
    first = Evaluator(singles[0], registry).compiled
    assert Evaluator(singles[0], registry).compiled is first
    for single in singles[1:]:
        Evaluator(single, registry)
    assert len(evaluate_module._compiled) <= evaluate_module._COMPILED_LIMIT
    assert Evaluator(singles[0], registry).compiled is not first  # the oldest was let go


def test_a_rule_is_written_down_by_content_and_class():
    @dataclass
    class Kind:
        limit: Decimal

    @dataclass
    class Other:
        limit: Decimal

    Other.__qualname__ = Kind.__qualname__  # same name, another module: still another class
    Other.__module__ = "district_plugin.kinds"
    assert evaluate_module._content(Kind(Decimal("1.0"))) == evaluate_module._content(Kind(Decimal("1.0")))
    assert evaluate_module._content(Kind(Decimal("1.0"))) != evaluate_module._content(Kind(Decimal("1.00")))
    assert evaluate_module._content(Kind(Decimal("1"))) != evaluate_module._content(Other(Decimal("1")))
    with pytest.raises(evaluate_module._Unkeyable):  # no content to compare: compiled every time
        evaluate_module._content(Kind(object()))


# --- joins done once in Python give what the engine's join gave -----------------------------------


@pytest.mark.parametrize("path", FILINGS[:4], ids=lambda p: p.name)
def test_child_facts_equal_the_join_they_replace(path):
    """The hegui_has_child/child_of/child_text/text_number facts are computed beside the facts
    instead of joined per subject by the engine: the same rows as the engine's joins."""
    raw = filing_facts(read_filing(path)).raw
    p = datalog.Program()
    c, e, k, f, v = (p.var() for _ in range(5))
    p.clause("join_child", [e, k], [p.lit("rel", c, "所属", e), p.lit("entity", c, k)])
    p.clause("join_text", [e, k, f, v], [p.lit("rel", c, "所属", e), p.lit("entity", c, k), p.lit("text", c, f, v)])
    p.clause("join_child_of", [e, k, c], [p.lit("rel", c, "所属", e), p.lit("entity", c, k)])
    n = p.var()
    p.clause("join_text_number", [e, v, n], [p.lit("text", e, "对象", v), p.lit("number", e, "数量", n)])
    joined = p.evaluate(
        raw,
        {
            "join_child": 2,
            "join_text": 4,
            "join_child_of": 3,
            "join_text_number": 3,
        },
    )
    kinds = {fact[2] for fact in raw if fact[0] == "entity"}
    everything = {(kind, t[2]) for kind in kinds for t in raw if t[0] in ("amount", "number", "text")}
    computed = compiler.presence_facts(
        raw, compiler.Precomputed(child_fields=everything, text_numbers={("对象", "数量")})
    )
    assert joined["join_child"] and joined["join_text"]
    assert sorted(joined["join_child"]) == sorted(fact[1:] for fact in computed if fact[0] == compiler.HAS_CHILD)
    assert sorted(joined["join_text"]) == sorted(fact[1:] for fact in computed if fact[0] == compiler.CHILD_TEXT)
    assert sorted(joined["join_child_of"]) == sorted(fact[1:] for fact in computed if fact[0] == compiler.CHILD_OF)
    rows = sorted((f[1], f[3], f[5]) for f in computed if f[0] == compiler.TEXT_NUMBER)
    assert sorted(joined["join_text_number"], key=str) == sorted(rows, key=str)
    assert rows or path != FILINGS[0]  # the example states counts of named objects
    # only the (kind, field) pairs some rule reads are computed
    narrow = compiler.presence_facts(raw, compiler.Precomputed(child_fields={("指标", "指标类别")}))
    assert {fact[2:4] for fact in narrow if fact[0] == compiler.CHILD_TEXT} == {("指标", "指标类别")}


def _same_rows(computed: list[tuple], reads: list[tuple[str, str]], joined: dict, prefix: str) -> list[int]:
    """Assert that for each (predicate, key) of ``reads`` the computed facts of the predicate with that
    key (their entity and the columns after the key) are the engine's rows ``{prefix}_{index}``;
    returns how many rows each has."""
    counts = []
    for index, (predicate, key) in enumerate(reads):
        mine = sorted(f[1:2] + f[3:] for f in computed if f[0] == predicate and f[2] == key)
        assert len(mine) == len(set(mine)), key
        assert mine == sorted(joined.get(f"{prefix}_{index}", [])), key
        counts.append(len(mine))
    return counts


def _selection_reference(p: datalog.Program, head: str, selection: compiler.Selection) -> None:
    """``head(S)`` for the entities ``selection`` selects, as the engine's clauses that rule subjects
    compiled to before the selection was made beside the facts (the meaning it must keep)."""
    s = p.var()
    body = [p.lit("entity", s, selection.kind)]
    for index, condition in enumerate(selection.where):
        name, values = condition.field, condition.values
        if condition.op == "equals":
            body.append(p.lit("text", s, name, values[0]))
        elif condition.op == "contains_all":
            body += [p.lit("matches", s, name, needle) for needle in values]
        elif condition.op in ("contains_any", "excludes_any"):
            for needle in values:
                e = p.var()
                p.clause(f"{head}_any_{index}", [e], [p.lit("matches", e, name, needle)])
            literal = p.lit(f"{head}_any_{index}", s)
            body.append(literal if condition.op == "contains_any" else p.neg(literal))
        elif condition.op in ("present", "absent"):
            literal = p.lit(compiler.FIELD, s, name)
            body.append(literal if condition.op == "present" else p.neg(literal))
        elif condition.op == "has_children":
            c = p.var()
            body += [p.lit("rel", c, "所属", s), p.lit("entity", c, values[0])]
        elif condition.op == "in_table":
            t = p.var()
            body += [p.lit("rel", s, "所属表", t), p.lit("entity", t, values[0])]
        else:
            raise AssertionError(condition.op)
    p.clause(head, [s], body)


def _all_matches(raw: list[tuple], selections: list[compiler.Selection]) -> list[tuple]:
    """The ``matches`` facts for every word the selections look for (substring, as the evaluator's)."""
    words = {
        (c.field, n)
        for sel in selections
        for c in sel.where
        if c.op.startswith(("contains", "excludes"))
        for n in c.values
    }
    return [
        ("matches", f[1], f[2], n) for f in raw if f[0] == "text" for field, n in words if f[2] == field and n in f[3]
    ]


def _extra_selections(raw: list[tuple]) -> list[compiler.Selection]:
    """Selections with every kind of condition, on fields and texts the filing has (so some select
    entities and some do not), beyond those the built-in rules use."""
    cond = rules_module.Condition
    texts = sorted({(f[2], f[3]) for f in raw if f[0] == "text" and len(f[3]) >= 2})[:40:4]
    kinds = sorted({(f[1], f[2]) for f in raw if f[0] == "entity"})
    kind_of = dict(kinds)
    out = []
    for name, text in texts:
        owner = next(f[1] for f in raw if f[0] == "text" and f[2] == name and f[3] == text)
        kind = kind_of.get(owner, "明细")
        word = text[:2]
        out += [
            compiler.Selection(kind, (cond(name, "equals", (text,)),)),
            compiler.Selection(kind, (cond(name, "contains_all", (word, text[-1:])),)),
            compiler.Selection(kind, (cond(name, "contains_any", ("不会出现的词", word)),)),
            compiler.Selection(kind, (cond(name, "excludes_any", (word,)), cond("金额", "present"))),
            compiler.Selection(kind, (cond(name, "absent"),)),
        ]
    for kind in sorted({k for _, k in kinds}):
        out += [
            compiler.Selection(kind, (cond("", "has_children", ("明细",)),)),
            compiler.Selection(kind, (cond("", "in_table", ("附件3",)), cond("名称", "present"))),
        ]
    return out


@pytest.mark.parametrize("path", FILINGS, ids=lambda p: p.name)
def test_subject_facts_select_what_the_engine_conditions_selected(path, evaluator):
    """hegui_subject facts name the entities each rule is about, tested beside the facts instead of
    by a subgoal per condition and subject: the same entities as the Datalog the subject and its
    where-conditions compiled to, for every built-in rule and for every kind of condition."""
    raw = filing_facts(read_filing(path)).raw
    builtin = sorted(evaluator.compiled.precomputed.subjects, key=lambda s: s.key)
    assert {c.op for sel in builtin for c in sel.where} >= {"equals", "present", "has_children", "contains_any"}
    selections = builtin + _extra_selections(raw)
    p = datalog.Program()
    for index, selection in enumerate(selections):
        _selection_reference(p, f"sel_{index}", selection)
    presence = compiler.presence_facts(raw, compiler.Precomputed())
    joined = p.evaluate(raw + presence + _all_matches(raw, selections), {f"sel_{i}": 1 for i in range(len(selections))})
    computed = compiler.presence_facts(raw, compiler.Precomputed(subjects=set(selections)))
    picked = _same_rows(computed, [(compiler.SUBJECT, s.key) for s in selections], joined, "sel")
    assert 0 < sum(map(bool, picked)) < len(selections)  # some select entities, some select none


@pytest.mark.parametrize("path", FILINGS[:4], ids=lambda p: p.name)
def test_lacks_value_facts_equal_the_engine_negation_they_replace(path, evaluator):
    """hegui_lacks_value facts name the subjects without a value a rule reads from them, found beside
    the facts instead of by a negation per rule and subject: the same subjects as the engine's
    ``subject(S), ~P(S, F, …)`` (``P`` a value predicate, a field or relation filled, a precomputed
    sum or a field read through a relation)."""
    missing = sorted(evaluator.compiled.precomputed.missing, key=lambda m: (m[0].key, m[1], m[2]))
    assert {m[1] for m in missing} >= {"amount", "number", compiler.SUM, compiler.VIA, compiler.COUNT, compiler.FIELD}
    raw = filing_facts(read_filing(path)).raw
    # The filings fill most values: without every third amount and number, more subjects lack one.
    values = [f for f in raw if f[0] in ("amount", "number")]
    raw = [f for f in raw if f not in values[::3]]
    wanted = compiler.Precomputed(
        subjects={m[0] for m in missing},
        missing=set(missing),
        sums=evaluator.compiled.precomputed.sums,
        via=evaluator.compiled.precomputed.via,
        blocked=evaluator.compiled.precomputed.blocked,
        counts=evaluator.compiled.precomputed.counts,
    )
    computed = compiler.presence_facts(raw, wanted)
    subjects = {(f[1], f[2]) for f in computed if f[0] == compiler.SUBJECT}
    p = datalog.Program()
    queries = {}
    for index, (selection, predicate, key) in enumerate(missing):
        s = p.var()
        arity = {compiler.FIELD: 0, compiler.RELATED: 0, compiler.BLOCKED: 0, compiler.VIA: 2, compiler.COUNT: 2}.get(
            predicate, 1
        )
        read = p.lit(predicate, s, key, *(p.var() for _ in range(arity)))
        # a sum with an unreadable part has no usable value: the blocked fact is there
        body = [p.lit(compiler.SUBJECT, s, selection.key), read if predicate == compiler.BLOCKED else p.neg(read)]
        p.clause(f"lacks_{index}", [s], body)
        queries[f"lacks_{index}"] = 1
    kept = (
        compiler.SUBJECT,
        compiler.SUM,
        compiler.VIA,
        compiler.COUNT,
        compiler.FIELD,
        compiler.RELATED,
        compiler.BLOCKED,
    )
    joined = p.evaluate(raw + [f for f in computed if f[0] in kept], queries)
    found = 0
    for index, (selection, predicate, key) in enumerate(missing):
        mine = sorted(
            (f[1],) for f in computed if f[0] == compiler.LACKS_VALUE and f[2:] == (selection.key, predicate, key)
        )
        assert mine == sorted(joined.get(f"lacks_{index}", [])), (selection, predicate, key)
        assert all((entity, selection.key) in subjects for (entity,) in mine)
        found += len(mine)
    assert found  # every filing leaves some subject without some value


@pytest.mark.parametrize("path", FILINGS[:4], ids=lambda p: p.name)
def test_via_facts_equal_the_engine_join_they_replace(path, evaluator):
    """hegui_via facts join a relation with a field of the entity it leads to beside the facts
    instead of per subject in the engine: for every such read the built-in rules make, the same
    (entity, value, target) rows as ``entity(E, K), rel(E, R, T), P(T, F, V)``."""
    reads = sorted(evaluator.compiled.precomputed.via, key=lambda r: r.key)
    assert reads
    raw = filing_facts(read_filing(path)).raw
    p = datalog.Program()
    for index, spec in enumerate(reads):
        e, t, v = p.var(), p.var(), p.var()
        body = [
            p.lit("entity", e, spec.kind),
            p.lit("rel", e, spec.relation, t),
            p.lit(spec.predicate, t, spec.field, v),
        ]
        p.clause(f"via_{index}", [e, v, t], body)
    joined = p.evaluate(raw, {f"via_{index}": 3 for index in range(len(reads))})
    computed = compiler.presence_facts(raw, compiler.Precomputed(via=set(reads)))
    found = _same_rows(computed, [(compiler.VIA, spec.key) for spec in reads], joined, "via")
    assert sum(found) or path != FILINGS[0]


def test_blocked_facts_equal_the_engine_join_they_replace(evaluator, example_path):
    """hegui_blocked facts name the subjects one of whose sum's parts could not be read, found beside
    the facts instead of by the engine joining each unreadable cell with its owners: the same
    subjects as the clauses sums compiled to before (a part's field unreadable; for children, a
    list cut off part-way), on the example with cells made unreadable in each kind of part."""
    specs = sorted(evaluator.compiled.precomputed.blocked, key=lambda b: b.key)
    assert {bool(b.over) for b in specs} == {True, False} and any(b.over in compiler.TABLE_KINDS for b in specs)
    raw = filing_facts(read_filing(example_path)).raw
    kinds = {f[1]: f[2] for f in raw if f[0] == "entity"}
    unreadable = []
    for spec in specs:  # one cell of one part of each kind, and one cut-off list
        part = next((e for e, k in sorted(kinds.items()) if k == (spec.over or spec.subject)), None)
        if part is not None:
            unreadable.append(("unreadable_field", part, spec.fields[0]))
        if spec.over and spec.over not in compiler.TABLE_KINDS:
            # the last owner, so that the first part (above) is most likely not its own
            owner = next((e for e, k in sorted(kinds.items(), reverse=True) if k == spec.subject), None)
            if owner is not None:
                unreadable.append(("unreadable_field", owner, spec.over))
    raw = raw + sorted(set(unreadable))
    p = datalog.Program()
    for index, spec in enumerate(specs):
        for name in spec.fields:
            s, e = p.var(), p.var()
            if spec.over in compiler.TABLE_KINDS:
                part = [p.lit("entity", e, spec.over)]
            elif spec.over:
                part = [p.lit("rel", e, "所属", s), p.lit("entity", e, spec.over)]
            else:
                part = [p.cmp(e, "==", s)]
            body = [p.lit("unreadable_field", e, name), p.lit("entity", s, spec.subject), *part]
            p.clause(f"blocked_{index}", [s], body)
        if spec.over and spec.over not in compiler.TABLE_KINDS:
            s = p.var()
            body = [p.lit("unreadable_field", s, spec.over), p.lit("entity", s, spec.subject)]
            p.clause(f"blocked_{index}", [s], body)
    joined = p.evaluate(raw, {f"blocked_{index}": 1 for index in range(len(specs))})
    computed = compiler.presence_facts(raw, compiler.Precomputed(blocked=set(specs)))
    found = _same_rows(computed, [(compiler.BLOCKED, spec.key) for spec in specs], joined, "blocked")
    assert sum(map(bool, found)) >= 3  # parts of each kind (own fields, children, a table) made some sum unusable


@pytest.mark.parametrize("path", FILINGS[:4], ids=lambda p: p.name)
def test_row_facts_equal_the_engine_join_they_replace(path, evaluator):
    """hegui_row_N facts join a rule's subjects with the values it reads of them beside the facts,
    instead of a subgoal per subject and read: for every row the built-in rules read, the same
    (subject, value, origin, …) rows as ``hegui_subject(S, sel), read₁(S, …), read₂(S, …)``, with
    every combination of a subject's values (a field may hold two)."""
    rows = sorted(evaluator.compiled.precomputed.rows, key=lambda r: r.key)
    assert {len(r.reads) for r in rows} >= {1, 2}
    assert {pred for r in rows for pred, _ in r.reads} >= {
        "amount",
        "number",
        compiler.SUM,
        compiler.VIA,
        compiler.COUNT,
    }
    raw = filing_facts(read_filing(path)).raw
    # A second value in some fields: rows hold every combination.
    raw = raw + [(f[0], f[1], f[2], f[3] + 1) for f in raw if f[0] in ("amount", "number")][::5]
    pre = evaluator.compiled.precomputed
    wanted = compiler.Precomputed(
        subjects={r.selection for r in rows}, rows=set(rows), sums=pre.sums, via=pre.via, counts=pre.counts
    )
    computed = compiler.presence_facts(raw, wanted)
    p = datalog.Program()
    for index, spec in enumerate(rows):
        s = p.var()
        body, head = [p.lit(compiler.SUBJECT, s, spec.selection.key)], [s]
        for predicate, key in spec.reads:
            v, o = p.var(), p.var()
            if predicate in (compiler.VIA, compiler.COUNT):  # the origin is the fact's last column
                body.append(p.lit(predicate, s, key, v, o))
            else:
                body += [p.lit(predicate, s, key, v), p.cmp(o, "==", s)]
            head += [v, o]
        p.clause(f"row_{index}", head, body)
    kept = (compiler.SUBJECT, compiler.SUM, compiler.VIA, compiler.COUNT)
    joined = p.evaluate(
        raw + [f for f in computed if f[0] in kept], {f"row_{i}": 1 + 2 * len(r.reads) for i, r in enumerate(rows)}
    )
    found = _same_rows(computed, [(spec.predicate, spec.key) for spec in rows], joined, "row")
    assert sum(found) or path != FILINGS[0]


@pytest.mark.parametrize("path", FILINGS[:4], ids=lambda p: p.name)
def test_observed_rows_equal_the_engine_join_they_replace(path, evaluator):
    """hegui_observed_row facts join the review's observations with the subjects of the rules that
    report them beside the facts: for every (selection, code) the built-in rules report, the same
    rows as ``hegui_subject(S, sel), observed(S, F, code, Seen, Want)``."""
    observations = sorted(evaluator.compiled.precomputed.observations, key=lambda o: (o[0].key, o[1]))
    assert len({code for _, code in observations}) > 5
    raw = filing_facts(read_filing(path)).raw
    wanted = compiler.Precomputed(subjects={sel for sel, _ in observations}, observations=set(observations))
    computed = compiler.presence_facts(raw, wanted)
    p = datalog.Program()
    for index, (selection, code) in enumerate(observations):
        s, f, seen, want = p.var(), p.var(), p.var(), p.var()
        body = [p.lit(compiler.SUBJECT, s, selection.key), p.lit("observed", s, f, code, seen, want)]
        p.clause(f"obs_{index}", [s, f, seen, want], body)
    joined = p.evaluate(raw + computed, {f"obs_{i}": 4 for i in range(len(observations))})
    found = 0
    for index, (selection, code) in enumerate(observations):
        mine = sorted(
            (f[1], f[3], f[5], f[6])
            for f in computed
            if f[0] == compiler.OBSERVED_ROW and f[2:5:2] == (selection.key, code)
        )
        assert mine == sorted(joined.get(f"obs_{index}", [])), (selection, code)
        found += len(mine)
    assert found or path != FILINGS[0]


def test_fact_clauses_refuse_floats_and_keep_every_value_type():
    """The clause builder takes text, Decimal, int and tuples as they are, and refuses a float."""
    p = datalog.Program()
    e, v = p.var(), p.var()
    p.clause("seen", [e, v], [p.lit("value", e, v)])
    facts = [("value", "a", "文字"), ("value", "b", Decimal("1.50")), ("value", "c", 3), ("value", "d", ("x", 1))]
    assert sorted(p.evaluate(facts, {"seen": 2})["seen"], key=str) == sorted((f[1], f[2]) for f in facts)
    with pytest.raises(datalog.DatalogFailure, match="float"):
        p.evaluate([("value", "e", 1.5)], {"seen": 2})


def _name_matches(raw: list[tuple], needles: set[str]) -> list[tuple]:
    """The ``matches`` facts the evaluator adds for words looked for in 名称."""
    return [
        ("matches", f[1], "名称", n) for f in raw if f[0] == "text" and f[2] == "名称" for n in needles if n in f[3]
    ]


@pytest.mark.parametrize("path", FILINGS[:4], ids=lambda p: p.name)
def test_sum_facts_equal_the_engine_aggregate_they_replace(path, evaluator):
    """hegui_sum facts are added up beside the facts instead of by the engine's sum aggregate per
    subject: for every sum the built-in rules read, the same totals as that aggregate gives."""
    specs = sorted(evaluator.compiled.precomputed.sums, key=lambda s: s.key)
    assert any(s.over and s.over not in compiler.TABLE_KINDS for s in specs)
    assert any(s.name_contains for s in specs) and any(not s.over for s in specs)
    raw = filing_facts(read_filing(path)).raw
    needles = {n for s in specs for n in s.name_contains}
    matches = _name_matches(raw, needles)
    p = datalog.Program()
    queries = {}
    for index, spec in enumerate(specs):
        parts, total, got = f"part_{index}", f"total_{index}", f"got_{index}"
        predicate = "number" if spec.numeric else "amount"
        for fname in spec.fields:
            s, e, v = p.var(), p.var(), p.var()
            if not spec.over:
                owner, head = [p.lit(predicate, s, fname, v)], [s, s, p.const(fname), v]
            elif spec.over in compiler.TABLE_KINDS:
                owner = [p.lit("entity", s, spec.kind), p.lit("entity", e, spec.over), p.lit(predicate, e, fname, v)]
                head = [s, e, p.const(fname), v]
            else:
                owner = [p.lit("rel", e, "所属", s), p.lit("entity", e, spec.over), p.lit(predicate, e, fname, v)]
                head = [s, e, p.const(fname), v]
            for needle in spec.name_contains or (None,):
                named = [p.lit("matches", e if spec.over else s, "名称", needle)] if needle else []
                p.clause(parts, head, [*named, *owner])
        s, e, f, v = p.var(), p.var(), p.var(), p.var()
        p.sum_into(total, s, v, [e, f], [p.lit(parts, s, e, f, v)])
        s, k, v = p.var(), p.var(), p.var()
        p.clause(got, [s, v], [p.lit("entity", s, k), p.function_value(total, s, v)])
        queries[got] = 2
    joined = p.evaluate(raw + matches, queries)
    computed = compiler.sum_facts(raw, frozenset(specs))
    entities = {f[1] for f in raw if f[0] == "entity"}
    found = 0
    for index, spec in enumerate(specs):
        mine = sorted((f[1], f[3]) for f in computed if f[2] == spec.key and f[1] in entities)
        assert mine == sorted(joined[f"got_{index}"]), spec
        found += len(mine)
    assert found or path != FILINGS[0]


# --- asserting: facts written straight into the engine's store are stored as assert_ stores them --


def _store(clauses) -> dict:
    """What the engine holds for the predicates of ``clauses``: clause ids, and per argument
    the ids of the facts indexed under each value."""
    preds = {c.head.pred.id: c.head.pred for c in clauses}
    return {
        name: (
            sorted(pred.db),
            [{value: sorted(c.get_id() for c in facts) for value, facts in column.items()} for column in pred.index],
        )
        for name, pred in sorted(preds.items())
    }


def test_facts_asserted_directly_are_stored_as_the_engine_stores_them():
    facts = [
        ("amount", "行1", "金额", Decimal("20.00")),
        ("amount", "行1", "金额", Decimal("20.00")),  # a duplicate takes the engine's own path
        ("amount", "行2", "金额", Decimal("5")),
        ("text", "行1", "名称", "驻村工作队"),
        ("rel", "行2", "所属", "行1"),
        ("entity", "行1", "明细行"),
    ]
    program = datalog.Program()
    program.clause("hegui_probe", [program.var()], [program.lit("entity", program.var(), "明细行")])
    by_engine = datalog._fact_clauses(facts, {})
    for clause in by_engine:
        datalog.pyEngine.assert_(clause)
    expected = _store(by_engine)
    for clause in by_engine:
        datalog.pyEngine.retract(clause)
    assert all(not db for db, _ in _store(by_engine).values())

    direct = datalog.assert_facts(datalog._fact_clauses(facts, {}))
    assert datalog._FAST_FACTS  # this pyDatalog keeps facts where assert_facts writes them
    assert _store(direct.clauses) == expected
    datalog.retract_facts(direct)
    assert _store(direct.clauses) == {name: ([], [{} for _ in index]) for name, (_, index) in expected.items()}


def test_retracting_keeps_the_facts_a_predicate_held_before():
    """A predicate that held facts before a check is not emptied wholesale: only the check's own
    facts leave it, whether they were new or equal to one it held."""
    program = datalog.Program()
    program.clause("hegui_probe", [program.var()], [program.lit("entity", program.var(), "明细行")])
    before = datalog.assert_facts(datalog._fact_clauses([("amount", "行0", "金额", Decimal("1"))], {}))
    held = _store(before.clauses)
    check = [("amount", "行1", "金额", Decimal("2")), ("text", "行1", "名称", "驻村工作队")]
    during = datalog.assert_facts(datalog._fact_clauses(check, {}))
    assert [p.name for p in during.fresh] == ["text"]
    datalog.retract_facts(during)
    assert _store(before.clauses) == held
    assert _store(during.clauses)["text/3"] == ([], [{}, {}, {}])
    datalog.retract_facts(before)
    assert _store(before.clauses)["amount/3"] == ([], [{}, {}, {}])


@pytest.mark.parametrize("path", [f for f in FILINGS if f.name[:3] in ("shi", "03_", "15_")], ids=lambda p: p.name)
def test_claim_facts_equal_the_engine_join_they_replace(path, evaluator):
    """hegui_count and hegui_stated facts join the claims with the scopes they are stated within
    beside the facts instead of per subject in the engine: for every count key and stated rate
    the built-in rules read, the same (scope, value, claim) rows as that join gives."""
    counts = sorted(evaluator.compiled.precomputed.counts)
    rates = sorted(evaluator.compiled.precomputed.rates, key=lambda r: r.key)
    assert counts and rates and any(len(r.pers) > 1 for r in rates)
    # The same rates written per a unit none of them is: no rows, by either way.
    rates += [compiler.RateSpec(f"{r.key}/天", r.needles, ("人/天",)) for r in rates]
    raw = filing_facts(read_filing(path)).raw
    needles = {n for r in rates for n in r.needles}
    matches = _name_matches(raw, needles)
    p = datalog.Program()
    queries = {}
    for index, key in enumerate(counts):
        s, n, c = p.var(), p.var(), p.var()
        p.clause(f"count_{index}", [s, n, c], [p.lit("count", c, key, n), p.lit("within", c, s)])
        queries[f"count_{index}"] = 3
    for index, spec in enumerate(rates):
        s, v, c = p.var(), p.var(), p.var()
        for needle in spec.needles:
            for per in spec.pers:
                body = [
                    p.lit("matches", c, "名称", needle),
                    p.lit("entity", c, "费率"),
                    p.lit("text", c, "计量单位", per),
                    p.lit("amount", c, "单价", v),
                    p.lit("within", c, s),
                ]
                p.clause(f"rate_{index}", [s, v, c], body)
        queries[f"rate_{index}"] = 3
    joined = p.evaluate(raw + matches, queries)
    computed = compiler.claim_facts(raw, frozenset(counts), frozenset(rates))
    assert len(computed) == len(set(computed))
    found = 0
    for index, key in enumerate(counts):
        mine = sorted(f[1:2] + f[3:] for f in computed if f[0] == compiler.COUNT and f[2] == key)
        assert mine == sorted(joined.get(f"count_{index}", [])), key
        found += len(mine)
    for index, spec in enumerate(rates):
        mine = sorted(f[1:2] + f[3:] for f in computed if f[0] == compiler.STATED and f[2] == spec.key)
        assert mine == sorted(joined.get(f"rate_{index}", [])), spec
        found += len(mine)
    assert found or path != FILINGS[0]


@pytest.mark.parametrize("dropped", [(), ("生态效益指标", "满意度指标")], ids=["as-read", "rows-dropped"])
def test_lacks_child_facts_equal_the_engine_negation_they_replace(dropped, evaluator):
    """hegui_lacks_child facts name the entities with no child of a kind with a text, found beside
    the facts instead of by a negation per subject and value: the same entities as the engine's
    ``entity(E, kind), ~(rel(C, 所属, E), entity(C, K), text(C, F, V))``."""
    lacking = sorted(evaluator.compiled.precomputed.lacking)
    assert len(lacking) >= 9 and len({q[0] for q in lacking}) > 1
    raw = filing_facts(read_filing(FILINGS[0])).raw  # the one filing with indicator tables
    if dropped:
        # The filings have every required row: without these, some entities lack them.
        raw = [f for f in raw if not (f[0] == "text" and f[2] == "指标类别" and f[3] in dropped)]
    p = datalog.Program()
    queries = {}
    for index, (owner_kind, kind, field_name, value) in enumerate(lacking):
        s, c = p.var(), p.var()
        p.clause(
            f"has_{index}",
            [s],
            [p.lit("rel", c, "所属", s), p.lit("entity", c, kind), p.lit("text", c, field_name, value)],
        )
        s = p.var()
        p.clause(f"lacks_{index}", [s], [p.lit("entity", s, owner_kind), p.neg(p.lit(f"has_{index}", s))])
        queries[f"lacks_{index}"] = 1
    joined = p.evaluate(raw, queries)
    computed = [
        f
        for f in compiler.presence_facts(raw, compiler.Precomputed(lacking=set(lacking)))
        if f[0] == compiler.LACKS_CHILD
    ]
    kinds = {(f[1], f[2]) for f in raw if f[0] == "entity"}
    found = 0
    for index, (owner_kind, kind, field_name, value) in enumerate(lacking):
        mine = sorted((f[1],) for f in computed if f[2:] == (kind, field_name, value) and (f[1], owner_kind) in kinds)
        assert mine == sorted(joined.get(f"lacks_{index}", [])), (owner_kind, kind, field_name, value)
        found += len(mine)
    assert found or not dropped


@pytest.mark.parametrize("path", [f for f in FILINGS if f.name[:3] in ("shi", "15_")], ids=lambda p: p.name)
def test_disagree_facts_equal_the_engine_comparison_they_replace(path, evaluator):
    """hegui_disagree facts pair the different numbers stated for one object beside the facts
    instead of by the engine joining each object's numbers with each other: the same pairs as
    ``text(C, F, T), number(C, G, N1), text(D, F, T), number(D, G, N2), N1 < N2``."""
    pairs = sorted(evaluator.compiled.precomputed.disagreements)
    assert pairs == [("对象", "数量")]
    raw = filing_facts(read_filing(path)).raw
    p = datalog.Program()
    for index, (text_field, number_field) in enumerate(pairs):
        c, t, n = p.var(), p.var(), p.var()
        p.clause(f"numbers_{index}", [t, n], [p.lit("text", c, text_field, t), p.lit("number", c, number_field, n)])
        t, n1, n2 = p.var(), p.var(), p.var()
        body = [p.lit(f"numbers_{index}", t, n1), p.lit(f"numbers_{index}", t, n2), p.cmp(n1, "<", n2)]
        p.clause(f"pairs_{index}", [t, n1, n2], body)
    joined = p.evaluate(raw, {f"pairs_{index}": 3 for index in range(len(pairs))})
    computed = compiler.presence_facts(raw, compiler.Precomputed(disagreements=set(pairs)))
    for index, pair in enumerate(pairs):
        mine = sorted(f[3:] for f in computed if f[0] == compiler.DISAGREE and f[1:3] == pair)
        assert mine == sorted(joined.get(f"pairs_{index}", []))
        assert mine or path != FILINGS[0]


# --- findings: what is worked out once belongs to the right filing -------------------------------


def test_one_evaluator_gives_each_filing_its_own_findings(registry, example_path, example_text, tmp_path):
    # The built-in packs with the 帮扶资金 floor raised from 2021, so that a 2019 and a 2023
    # filing fail ZZ-ZCDY-001 with different parameter values; the 2019 copy also starts two
    # lines lower, so every cell it cites is elsewhere under the same entity names.
    packs = []
    for folder in builtin_rule_paths():
        packs.append(tmp_path / "rules" / folder.name)
        shutil.copytree(folder, packs[-1])
    village = tmp_path / "rules" / "zhuzhou" / "village.yaml"
    floor = "      - {value: 15, from: 2018}\n"
    text = village.read_text(encoding="utf-8")
    assert text.count(floor) == 1
    raised = "      - {value: 15, from: 2018, until: 2020}\n      - {value: 16, from: 2021}\n"
    village.write_text(text.replace(floor, raised), encoding="utf-8")
    ruleset = load_rules(packs)
    earlier = tmp_path / "shifeng-zzb-2019.txt"
    earlier.write_text("\n\n" + example_text.replace("2023年", "2019年"), encoding="utf-8")
    filings = [read_filing(example_path), read_filing(earlier)]
    assert [f.year for f in filings] == [2023, 2019]

    alone = [Evaluator(ruleset, registry).check(filing).findings for filing in filings]

    def floors(findings):
        return [
            e for f in findings if f.rule_id == "ZZ-ZCDY-001" for e in f.evidence if e.name == "后盾单位帮扶资金下限"
        ]

    assert [e.value for e in floors(alone[0])] == ["16万元/年"]
    assert [e.value for e in floors(alone[1])] == ["15万元/年"]
    assert {f.location for f in alone[0]}.isdisjoint(f.location for f in alone[1])
    shared = Evaluator(ruleset, registry)
    for index in (0, 1, 0, 1):
        assert shared.check(filings[index]).findings == alone[index]


def _answers(evaluator, filing):
    factset = filing_facts(filing)
    chain = evaluator.registry.chain_for(filing.department, None)
    facts = (
        factset.raw
        + evaluator.param_facts(filing.year, chain)
        + evaluator.jurisdiction_facts(chain)
        + evaluator.match_facts(factset.raw)
        + compiler.presence_facts(factset.raw, evaluator.compiled.precomputed)
    )
    answers = evaluator.compiled.program.evaluate(facts, {compiler.OUTCOME: compiler.OUTCOME_ARITY})
    return factset, chain, answers[compiler.OUTCOME]


@pytest.mark.parametrize("path", FILINGS, ids=lambda p: p.name)
def test_rows_that_repeat_a_finding_are_not_built(evaluator, path):
    filing = read_filing(path)
    factset, chain, answers = _answers(evaluator, filing)
    every = evaluate_module.FindingBuilder(evaluator, filing, factset, chain)
    # Every row built, then each id kept once in row order: what the report lists.
    reference = evaluate_module._dedupe(
        [every.violation(row[1:]) for row in answers if row[0] == "fail"]
        + [every.cannot((row[1], row[2], row[4])) for row in answers if row[0] == "cannot"]
    )
    prov = factset.provenance
    reference.sort(
        key=lambda f: (evaluate_module._table_order(f.table), prov.position(f.location), f.line, f.rule_id, f.id)
    )
    built = evaluate_module.FindingBuilder(evaluator, filing, factset, chain).build(answers)
    assert built == reference
    if path.name == "shifeng-zzb-2023.txt":
        # HN-YLBX-001 reads a rate stated in several sentences: rows repeat one finding.
        repeated = [row for row in answers if row[0] == "fail" and row[1] == "HN-YLBX-001"]
        assert len(repeated) > len({f.id for f in built if f.rule_id == "HN-YLBX-001"}) > 0


def test_a_compare_rule_without_a_message_says_what_failed(ruleset, registry, example_path):
    # Worked out once per rule, the default message still reads as one sentence. The example's
    # 驻村工作队 line: 6 队员 at its own 2000元/人/月 and 600元/人/年, plus the 15万元 floor:
    # 2000×6×12 + 600×6 + 150000 = 297600元 = 29.76万元, against a project amount of 20万元.
    silent = replace(ruleset, rules=[replace(r, message="") if r.id == "ZZ-ZCDY-001" else r for r in ruleset.rules])
    findings = Evaluator(silent, registry).check(read_filing(example_path)).findings
    assert [f.message for f in findings if f.rule_id == "ZZ-ZCDY-001"] == [
        "驻村工作队经费应足以保障交通费、意外伤害保险和后盾单位帮扶资金：项目金额为20.00万元，"
        "应不少于交通费标准 × 队员人数 × 12月/年 + 意外伤害保险标准 × 队员人数 + 后盾单位帮扶资金下限（29.76万元）"
    ]
