"""Typed exceptions for the Stoke REST API.

Every error answer of the server is ``{"error": {"code": ..., "message": ..., "field": ...}}``; the client
raises the subclass of :class:`StokeError` named after ``code`` and keeps ``message``, ``field`` and the
HTTP status on it, so callers can write ``except stoke.InvalidArgument as e: print(e.field)``.
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class StokeError(Exception):
    """Base class of every error the client raises for a failed request."""

    default_code = "unknown"

    def __init__(self, message: str = "", *, code: Optional[str] = None, field: str = "",
                 status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field or ""
        self.status = status

    def __str__(self) -> str:
        where = f" [field {self.field}]" if self.field else ""
        http = f" (HTTP {self.status})" if self.status else ""
        return f"{self.code}: {self.message}{where}{http}"


class InvalidArgument(StokeError, ValueError):
    """400: the request is wrong; ``field`` names the offending request field (``resources.cpus``)."""

    default_code = "invalid_argument"


class Unauthenticated(StokeError):
    """401: no token, or the token is unknown or revoked."""

    default_code = "unauthenticated"


class PermissionDenied(StokeError):
    """403: the token may not do this (e.g. a non-admin creating tokens)."""

    default_code = "permission_denied"


class NotFound(StokeError, LookupError):
    """404: no such job/experiment/token (or it belongs to another user)."""

    default_code = "not_found"


class Conflict(StokeError):
    """409: the object is not in a state that allows the call (base of the three 409 codes)."""

    default_code = "failed_precondition"


class AlreadyExists(Conflict):
    default_code = "already_exists"


class FailedPrecondition(Conflict):
    default_code = "failed_precondition"


class Aborted(Conflict):
    default_code = "aborted"


class ResourceExhausted(StokeError):
    """413 (body or archive over the limit) or 429 (too many requests)."""

    default_code = "resource_exhausted"


class ServerUnavailable(StokeError, ConnectionError):
    """503, or the server cannot be reached at all (connection refused, reset, DNS failure)."""

    default_code = "unavailable"


class DeadlineExceeded(StokeError, TimeoutError):
    """504 from the server, or a client-side wait (``Job.wait(timeout=...)``) that ran out."""

    default_code = "deadline_exceeded"


class InternalError(StokeError):
    """500: a bug or an unexpected failure on the server."""

    default_code = "internal"


class NotSupportedByServer(StokeError):
    """The server answering has no route for this feature yet (elastic training, deployments, ...)."""

    default_code = "not_supported"


_BY_CODE: Dict[str, Type[StokeError]] = {
    "invalid_argument": InvalidArgument,
    "unauthenticated": Unauthenticated,
    "permission_denied": PermissionDenied,
    "not_found": NotFound,
    "already_exists": AlreadyExists,
    "failed_precondition": FailedPrecondition,
    "aborted": Aborted,
    "resource_exhausted": ResourceExhausted,
    "unavailable": ServerUnavailable,
    "deadline_exceeded": DeadlineExceeded,
    "internal": InternalError,
}

_BY_STATUS: Dict[int, Type[StokeError]] = {
    400: InvalidArgument, 401: Unauthenticated, 403: PermissionDenied, 404: NotFound, 409: Conflict,
    413: ResourceExhausted, 415: InvalidArgument, 429: ResourceExhausted, 500: InternalError,
    502: ServerUnavailable, 503: ServerUnavailable, 504: DeadlineExceeded,
}


def error_for(status: int, code: str, message: str, field: str = "") -> StokeError:
    """The exception for one error answer: chosen by ``code``, else by HTTP status."""
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if cls is None:
        cls = InternalError if status >= 500 else StokeError
    return cls(message or f"HTTP {status}", code=code or None, field=field, status=status)
