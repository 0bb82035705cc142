"""Findings: the structured record of one rule outcome on one filing item."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from hegui.engine.rules import Citation

STATUS_FAIL = "fail"
STATUS_CANNOT_VERIFY = "cannot_verify"
SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}


@dataclass(frozen=True)
class Evidence:
    """One value a rule used: its name, value as shown, and where it was read."""

    name: str
    value: str
    location: str = ""
    text: str = ""  # the original text it was read from


@dataclass(frozen=True)
class Finding:
    """A rule that failed, or could not be verified, for one item of one filing."""

    id: str
    rule_id: str
    rule_title: str
    status: str  # fail | cannot_verify
    severity: str  # error | warning | info
    table: str
    item: str
    location: str
    line: int
    message: str
    expected: str
    actual: str
    citation: Citation
    pack: str
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    waiver: Any = None  # a WaiverNote when a waiver names this finding
    explanation: Any = None  # the derivation tree, when asked for (hegui check --explain, hegui why)
    # What the engine answered, kept for explanations; not part of the report.
    subject: str = field(default="", repr=False)
    leg: int = field(default=0, repr=False)
    witness: tuple = field(default=(), repr=False)
    raw_actual: Any = field(default=None, repr=False)
    raw_expected: Any = field(default=None, repr=False)

    @property
    def waived(self) -> bool:
        """True when an unexpired waiver covers the finding: listed, but not failing the check."""
        return self.waiver is not None and self.waiver.status == "active"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for private in ("subject", "leg", "witness", "raw_actual", "raw_expected"):
            del data[private]
        if self.explanation is None:
            del data["explanation"]
        else:
            data["explanation"] = self.explanation
        data["citation"] = {k: v for k, v in asdict(self.citation).items() if v}
        data["evidence"] = [{k: v for k, v in asdict(e).items() if v} for e in self.evidence]
        if self.waiver is None:
            del data["waiver"]
        return data


def finding_id(rule_id: str, subject: str, leg: int, status: str) -> str:
    """A short id that is stable across runs, so ``hegui why ID`` can find the finding again."""
    digest = hashlib.sha1(f"{rule_id}\0{subject}\0{leg}\0{status}".encode()).hexdigest()[:8]
    return f"{rule_id}@{digest}"
