"""Typed, readable errors for Rent Manager Web API calls.

Every error names the call that failed (method, path, page when paging) and why, using the body Rent Manager
sent: its ErrorModel (`UserMessage`, `DeveloperMessage`, `ErrorCode`, ...) or an ASP.NET validation body
(`Message`, `ModelState`).
"""

from __future__ import annotations

from typing import Any

import orjson


class RentManagerError(Exception):
    """A Rent Manager call failed."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        status: int | None = None,
        page: int | None = None,
        user_message: str | None = None,
        developer_message: str | None = None,
        error_code: int | None = None,
        model_state: dict[str, list[str]] | None = None,
        body: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.page = page
        self.user_message = user_message
        self.developer_message = developer_message
        self.error_code = error_code
        self.model_state = model_state or {}
        self.body = body
        super().__init__(message)

    @property
    def call(self) -> str:
        where = f"{self.method} {self.path}".strip()
        return f"{where} (page {self.page})" if self.page is not None else where


class AuthenticationError(RentManagerError):
    """Credentials were rejected, or the token could not be renewed (401)."""


class PermissionDeniedError(RentManagerError):
    """The user or partner may not access this resource or location (403)."""


class NotFoundError(RentManagerError):
    """The resource or record does not exist (404)."""


class RequestValidationError(RentManagerError):
    """Rent Manager rejected the request as invalid (400): a bad filter, embed, field or body."""


class ConflictError(RentManagerError):
    """A save hit a stale UpdateDate/ConcurrencyID or a duplicate (409)."""


class PreconditionFailedError(RentManagerError):
    """The save needs an explicit saveOptions override (412)."""


class RateLimitedError(RentManagerError):
    """Still throttled (429) after every retry."""


class IncompleteCollectionError(RentManagerError):
    """The pages of a collection do not add up to what the server said (a page short of its promised rows,
    or rows after a short page): the walk cannot stand for the whole collection."""


class ServerError(RentManagerError):
    """Rent Manager failed (5xx) after every retry."""


class TransportError(RentManagerError):
    """The connection failed, timed out or was dropped, after every retry."""


class MalformedResponseError(RentManagerError):
    """A 2xx response whose body is not the JSON the call promises."""


_BY_STATUS: dict[int, type[RentManagerError]] = {
    400: RequestValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: RequestValidationError,
    409: ConflictError,
    412: PreconditionFailedError,
    429: RateLimitedError,
}


def parse_error_body(text: str) -> dict[str, Any]:
    """Pull the useful parts out of either error body shape; tolerate anything."""
    out: dict[str, Any] = {}
    try:
        data = orjson.loads(text) if text else None
    except orjson.JSONDecodeError:
        return out
    if isinstance(data, str):
        out["user_message"] = data
        return out
    if not isinstance(data, dict):
        return out
    lowered = {str(k).lower(): v for k, v in data.items()}
    for key, attr in (("usermessage", "user_message"), ("developermessage", "developer_message"), ("message", "message")):
        if isinstance(lowered.get(key), str) and lowered[key]:
            out[attr] = lowered[key]
    if isinstance(lowered.get("errorcode"), int):
        out["error_code"] = lowered["errorcode"]
    model_state = lowered.get("modelstate")
    if isinstance(model_state, dict):
        out["model_state"] = {
            str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in model_state.items()
        }
    errors = lowered.get("errors")
    if isinstance(errors, list) and errors:
        out.setdefault("model_state", {})["Errors"] = [str(e) for e in errors]
    return out


def error_from_response(method: str, path: str, status: int, reason: str, text: str, *, page: int | None = None) -> RentManagerError:
    """Build the typed error for a non-2xx response."""
    parts = parse_error_body(text)
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else RentManagerError)
    details = []
    for key in ("user_message", "developer_message", "message"):
        value = parts.get(key)
        if value and value not in details:
            details.append(value)
    for field, messages in parts.get("model_state", {}).items():
        details.append(f"{field}: {'; '.join(messages)}")
    if not details and text:
        details.append(text[:300])
    where = f"{method} {path}" + (f" (page {page})" if page is not None else "")
    message = f"Rent Manager call {where} failed: HTTP {status} {reason}".rstrip()
    if details:
        message += " — " + " | ".join(details)
    return cls(
        message,
        method=method,
        path=path,
        status=status,
        page=page,
        user_message=parts.get("user_message") or parts.get("message"),
        developer_message=parts.get("developer_message"),
        error_code=parts.get("error_code"),
        model_state=parts.get("model_state"),
        body=text[:2000] if text else None,
    )
