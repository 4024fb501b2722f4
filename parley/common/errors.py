"""Domain errors: each has a stable `code` that the API and the websocket gateway send."""

from __future__ import annotations


class DomainError(Exception):
    """A refused request. `code` is part of the public contract (docs/protocol.md)."""

    code = "error"
    status = 400  # the HTTP status the REST API answers with
    default_message = "The request was refused."

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    default_message = "You may not do that."


class InvalidInput(DomainError):
    code = "invalid"
    status = 400
    default_message = "The input is not valid."


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = "Too many requests."

    def __init__(self, retry_after: float, message: str | None = None) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(
            message or f"Too many requests; try again in {self.retry_after} s.",
            retry_after=self.retry_after,
        )


class Unavailable(DomainError):
    """The database did not answer (parley/common/outage.py): nothing was done, or a
    commit's outcome is unknown; the same request, retried after `retry_after` seconds,
    is safe (a send with the same client_id is idempotent)."""

    code = "unavailable"
    status = 503

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(
            message or f"The server cannot reach its database; try again in {retry_after} s.",
            retry_after=retry_after,
        )
