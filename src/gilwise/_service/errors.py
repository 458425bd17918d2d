"""The one exception endpoints raise to answer a request with a clear 4xx (see ``models.Problem``)."""

from __future__ import annotations


class RequestRejected(Exception):
    """The request cannot be served as sent; ``status`` is the HTTP status to answer with.

    ``item`` and ``field`` name the first bad event of a batch (or the bad field of a body)."""

    def __init__(self, status: int, detail: str, item: int | None = None, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.item, self.field = status, detail, item, field
