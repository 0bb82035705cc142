"""Review decisions and uploaded filings, kept in a database (SQLite by default).

A decision is keyed by the filing's content hash (SHA-256 of its bytes) and the finding id.
Finding ids are made from the rule id, the subject entity, the leg and the status
(:func:`hegui.engine.findings.finding_id`), and a subject entity is named from the
filing's own structure, so the same bytes checked again, after a restart or by another
server of a shared deployment, give the same ids and find their decisions again. The
filing's bytes are kept as well, so the page of a filing can be shown again after a restart.

SQLAlchemy Core (not the ORM): two small tables, and any database SQLAlchemy supports
(``sqlite:///hegui-review.db``, ``postgresql+psycopg://…``) works by URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    insert,
    select,
)
from sqlalchemy.engine import Engine

#: The default database: a file next to where the service runs, created on first use.
DEFAULT_DB_FILE = "hegui-review.db"

#: decision → what the page calls it
DECISIONS = {"confirmed": "确认问题", "false_alarm": "误报", "waived": "豁免"}

_metadata = MetaData()

filings_table = Table(
    "filings",
    _metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
)

decisions_table = Table(
    "decisions",
    _metadata,
    Column("filing_sha256", String(64), primary_key=True),
    Column("finding_id", String(200), primary_key=True),
    Column("decision", String(20), nullable=False),
    Column("rule_id", String(100), nullable=False),
    Column("item", Text, nullable=False, default=""),
    Column("filing_name", String(255), nullable=False, default=""),
    Column("department", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("approver", Text, nullable=False, default=""),
    Column("expires", String(10), nullable=False, default=""),
    Column("reviewer", Text, nullable=False, default=""),
    Column("decided_at", DateTime, nullable=False),
)


class DecisionError(ValueError):
    """A decision the form did not fill in completely; the message says what is missing."""


@dataclass(frozen=True)
class Decision:
    """What a reviewer decided about one finding of one filing."""

    filing_sha256: str
    finding_id: str
    decision: str  # confirmed | false_alarm | waived
    rule_id: str
    item: str
    filing_name: str
    department: str
    note: str  # the false alarm's note, or the waiver's reason
    approver: str
    expires: str  # YYYY-MM-DD, waivers only
    reviewer: str
    decided_at: dt.datetime

    @property
    def label(self) -> str:
        return DECISIONS[self.decision]


@dataclass(frozen=True)
class StoredFiling:
    sha256: str
    name: str
    content: bytes
    uploaded_at: dt.datetime


def content_hash(content: bytes) -> str:
    """The key of a filing: SHA-256 of its bytes, hex."""
    return hashlib.sha256(content).hexdigest()


def database_url(url: str | None) -> str:
    """``url`` as given, or the default SQLite file in the current directory."""
    return url or f"sqlite:///{Path.cwd() / DEFAULT_DB_FILE}"


def validate(decision: str, note: str, approver: str, expires: str) -> None:
    """Raise :class:`DecisionError` (Chinese) unless the fields make a complete decision."""
    if decision not in DECISIONS:
        raise DecisionError(f"未知的结论“{decision}”：应为 {'、'.join(DECISIONS.values())} 之一")
    if decision == "false_alarm" and not note.strip():
        raise DecisionError("标为误报时请写明理由（备注）")
    if decision == "waived":
        missing = [
            name for name, value in (("理由", note), ("批准人", approver), ("有效期至", expires)) if not value.strip()
        ]
        if missing:
            raise DecisionError(f"豁免需要填写：{'、'.join(missing)}")
        try:
            dt.date.fromisoformat(expires.strip())
        except ValueError:
            raise DecisionError(f"有效期“{expires}”格式不对，应为 YYYY-MM-DD，如 2024-06-30") from None


class ReviewStore:
    """The decisions and uploaded filings in one database, created on first use."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine: Engine = create_engine(self.url, future=True)
        _metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- filings ------------------------------------------------------------------------------------
    def add_filing(self, name: str, content: bytes) -> str:
        """Keep an uploaded filing (once per content); returns its hash."""
        sha = content_hash(content)
        with self.engine.begin() as db:
            if db.execute(select(filings_table.c.sha256).where(filings_table.c.sha256 == sha)).first() is None:
                db.execute(insert(filings_table).values(sha256=sha, name=name, content=content, uploaded_at=_now()))
        return sha

    def filing(self, sha: str) -> StoredFiling | None:
        with self.engine.connect() as db:
            row = db.execute(select(filings_table).where(filings_table.c.sha256 == sha)).first()
        return StoredFiling(row.sha256, row.name, row.content, row.uploaded_at) if row is not None else None

    def filings(self, *, content: bool = False) -> list[StoredFiling]:
        """Every kept filing, newest first; their bytes only when ``content`` (a list page needs none)."""
        t = filings_table
        columns = [t.c.sha256, t.c.name, t.c.uploaded_at] + ([t.c.content] if content else [])
        with self.engine.connect() as db:
            rows = db.execute(select(*columns).order_by(t.c.uploaded_at.desc(), t.c.name)).all()
        return [StoredFiling(r.sha256, r.name, r.content if content else b"", r.uploaded_at) for r in rows]

    # -- decisions ----------------------------------------------------------------------------------
    def decide(
        self,
        *,
        filing_sha256: str,
        finding_id: str,
        decision: str,
        rule_id: str,
        item: str = "",
        filing_name: str = "",
        department: str = "",
        note: str = "",
        approver: str = "",
        expires: str = "",
        reviewer: str = "",
    ) -> Decision:
        """Record (or replace) the decision about one finding; raises :class:`DecisionError`."""
        validate(decision, note, approver, expires)
        values: dict[str, Any] = {
            "filing_sha256": filing_sha256,
            "finding_id": finding_id,
            "decision": decision,
            "rule_id": rule_id,
            "item": item,
            "filing_name": filing_name,
            "department": department,
            "note": note.strip(),
            "approver": approver.strip() if decision == "waived" else "",
            "expires": expires.strip() if decision == "waived" else "",
            "reviewer": reviewer.strip(),
            "decided_at": _now(),
        }
        key = (decisions_table.c.filing_sha256 == filing_sha256) & (decisions_table.c.finding_id == finding_id)
        with self.engine.begin() as db:
            db.execute(delete(decisions_table).where(key))
            db.execute(insert(decisions_table).values(**values))
        return Decision(**values)

    def withdraw(self, filing_sha256: str, finding_id: str) -> None:
        """Forget the decision about one finding."""
        key = (decisions_table.c.filing_sha256 == filing_sha256) & (decisions_table.c.finding_id == finding_id)
        with self.engine.begin() as db:
            db.execute(delete(decisions_table).where(key))

    def decisions(self, filing_sha256: str | None = None) -> dict[tuple[str, str], Decision]:
        """Decisions by (filing hash, finding id); of one filing when its hash is given."""
        query = select(decisions_table).order_by(decisions_table.c.filing_sha256, decisions_table.c.finding_id)
        if filing_sha256 is not None:
            query = query.where(decisions_table.c.filing_sha256 == filing_sha256)
        with self.engine.connect() as db:
            rows = db.execute(query).all()
        return {(r.filing_sha256, r.finding_id): Decision(**r._mapping) for r in rows}


def waiver_yaml(decisions: list[Decision]) -> str:
    """The waived decisions as a waiver file ``hegui check --waivers`` reads (engine/waivers.py).

    A waiver names the rule, the filing (its file name), the item, the reason, the approver
    and the expiry date; it matches every finding of that rule on that item of that filing.
    """
    lines = ["# 由 hegui 工作台导出的豁免；hegui check --waivers 本文件", "waivers:"]
    waived = sorted((d for d in decisions if d.decision == "waived"), key=lambda d: (d.filing_name, d.rule_id, d.item))
    if not waived:
        return "# 由 hegui 工作台导出的豁免；目前没有豁免\nwaivers: []\n"
    for d in waived:
        lines.append(f"  - rule: {_quote(d.rule_id)}")
        lines.append(f"    filing: {_quote(d.filing_name)}")
        lines.append(f"    item: {_quote(d.item)}")
        lines.append(f"    reason: {_quote(d.note)}")
        lines.append(f"    approved_by: {_quote(d.approver)}")
        lines.append(f"    expires: {_quote(d.expires)}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    """A YAML double-quoted scalar: safe for any text a reviewer or a filing wrote."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
    escaped = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in escaped)
    return f'"{escaped}"'


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
