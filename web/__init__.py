"""The reviewer's workbench: a web page served by ``hegui serve`` at ``/``.

Upload filings, see their tables with the cells that have findings marked, ask why, record
review decisions (kept in a database) and preview the impact of a rate or rule-pack change.
:func:`mount` adds it to the service's FastAPI app.

:func:`mount` and :class:`Workbench` are imported on first use: the service's worker processes
import :mod:`hegui.web.jobs` (and so this package) to run the workbench's checks, and the pages'
modules (FastAPI, Jinja2, SQLAlchemy) would add about 300 ms and 30 MB to every worker
(measured: importing the worker's module 219 ms, 34 MB; with ``hegui.web.routes`` 527 ms, 66 MB).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hegui.web.routes import Workbench, mount


def __getattr__(name: str) -> Any:
    if name in ("Workbench", "mount"):
        from hegui.web import routes

        return getattr(routes, name)
    raise AttributeError(f"module 'hegui.web' has no attribute {name!r}")


__all__ = ["Workbench", "mount"]
