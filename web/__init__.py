"""The reviewer's workbench: a web page served by ``hegui serve`` at ``/``.

Upload filings, see their tables with the cells that have findings marked, ask why, record
review decisions (kept in a database) and preview the impact of a rate or rule-pack change.
:func:`mount` adds it to the service's FastAPI app.
"""

from __future__ import annotations

from hegui.web.routes import Workbench, mount

__all__ = ["Workbench", "mount"]
