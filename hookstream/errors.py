"""One exception hierarchy for everything that answers an HTTP client; mapped
to status codes and ``{"error": {"code", "message"}}`` bodies in one middleware."""

from __future__ import annotations

from typing import Any

from hookstream.headers import RETRY_AFTER


class HookstreamError(Exception):
    status = 500
    code = "internal_error"

    def __init__(
        self, message: str, *, details: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


class BadRequestError(HookstreamError):
    status, code = 400, "bad_request"


class UnauthorizedError(HookstreamError):
    status, code = 401, "unauthorized"


class ForbiddenError(HookstreamError):
    status, code = 403, "forbidden"


class NotFoundError(HookstreamError):
    status, code = 404, "not_found"


class ConflictError(HookstreamError):
    status, code = 409, "conflict"


class PayloadTooLargeError(HookstreamError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaTypeError(HookstreamError):
    status, code = 415, "unsupported_media_type"


class ValidationFailedError(HookstreamError):
    status, code = 422, "validation_failed"


def invalid_field(field: str, message: str) -> ValidationFailedError:
    """A 422 about one field of the request: the message names the field and
    ``details`` points at it (the console marks that field)."""
    return ValidationFailedError(
        f"{field}: {message}", details=[{"field": field, "message": message}]
    )


class UnavailableError(HookstreamError):
    status, code = 503, "unavailable"


def kafka_unavailable(exc: Exception, doing: str = "store the change") -> UnavailableError:
    return UnavailableError(f"could not {doing} in Kafka: {exc}", headers={RETRY_AFTER: "5"})
