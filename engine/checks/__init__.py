"""Check kinds: one class per way a rule can check, and the registry that finds them.

``from hegui.engine.checks import register_check_kind, CheckKind`` is all a new kind needs;
see :mod:`hegui.engine.checks.base` for the contract. The built-in kinds register on import,
in the order a ``check:`` mapping's keys are tried.
"""

from hegui.engine.checks.agree import AgreeCheck
from hegui.engine.checks.base import (
    CheckKind,
    CheckSection,
    Reader,
    WitnessSlot,
    check_kind_for,
    check_kinds,
    check_section_keys,
    register_check_kind,
    unregister_check_kind,
)
from hegui.engine.checks.compare import CompareCheck
from hegui.engine.checks.forbid_text import ForbidTextCheck
from hegui.engine.checks.inputs import INPUT_KINDS, Input, InputKind
from hegui.engine.checks.observed import ObservedCheck
from hegui.engine.checks.readable import ReadableCheck
from hegui.engine.checks.required import RequiredCheck
from hegui.engine.checks.required_children import RequiredChildrenCheck
from hegui.engine.checks.stated import StatedInput

# The order a ``check:`` mapping's keys are tried in, and kinds are listed in errors.
for _kind in (
    CompareCheck,
    RequiredCheck,
    AgreeCheck,
    ForbidTextCheck,
    ReadableCheck,
    RequiredChildrenCheck,
    ObservedCheck,
):
    register_check_kind(_kind)

__all__ = [
    "INPUT_KINDS",
    "AgreeCheck",
    "CheckKind",
    "CheckSection",
    "CompareCheck",
    "ForbidTextCheck",
    "Input",
    "InputKind",
    "ObservedCheck",
    "ReadableCheck",
    "Reader",
    "RequiredCheck",
    "RequiredChildrenCheck",
    "StatedInput",
    "WitnessSlot",
    "check_kind_for",
    "check_kinds",
    "check_section_keys",
    "register_check_kind",
    "unregister_check_kind",
]
