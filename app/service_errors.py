"""The service's error answer, shared by the JSON API (:mod:`hegui.app.service`) and the
workbench's pages (:mod:`hegui.web`), which import it without importing the app (the app
mounts the pages, so the pages cannot import the app's module at their top)."""

from __future__ import annotations


class ServiceError(Exception):
    """An answer other than 200, with its error code and a Chinese message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        location: str = "",
        *,
        suggestions: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.location = status, code, message, location
        self.suggestions, self.headers = suggestions, headers


__all__ = ["ServiceError"]
