"""hatchling build hook: editable wheels also get ``_hegui_editable.pth``.

That file imports ``tools/editable/_hegui_editable.py`` (whose folder the editable wheel puts
on ``sys.path``, see ``dev-mode-dirs`` in pyproject.toml), which maps ``import hegui`` onto the
checkout. Regular wheels are untouched; nothing is written into the checkout.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class EditableCheckoutHook(BuildHookInterface):
    """Adds the start-up ``.pth`` to editable wheels only."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            build_data["force_include_editable"]["tools/editable/_hegui_editable.pth"] = "_hegui_editable.pth"
