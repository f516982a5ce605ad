"""Response helpers: the two error shapes Rent Manager uses, JSON bodies, and the fault responses."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

JSON = "application/json; charset=utf-8"


def json_bytes(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=JSON)


def json_obj(obj: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type=JSON)


def error_model(status: int, user_message: str, developer_message: str | None = None, error_code: int = 0,
                details: str | None = None, additional: dict | None = None) -> Response:
    """Rent Manager's ErrorModel (business errors, auth failures, 404 instance, 409, 429, 5xx)."""
    return json_obj({
        "UserMessage": user_message,
        "DeveloperMessage": developer_message or user_message,
        "ErrorCode": error_code,
        "MoreInfoUri": None,
        "Exception": None,
        "Details": details,
        "InnerException": None,
        "AdditionalData": additional,
    }, status)


def model_state(param: str, message: str, status: int = 400) -> Response:
    """ASP.NET validation error (bad query parameters or body)."""
    return json_obj({"Message": "The request is invalid.", "ModelState": {param: [message]}}, status)


def aspnet_message(status: int, message: str) -> Response:
    """ASP.NET framework error ({"Message": ...}), e.g. unknown route (404) or unsupported verb (405)."""
    return json_obj({"Message": message}, status)


class DroppedResponse(Response):
    """Announces the full Content-Length, sends part of the body, then gives up: the server closes the
    connection and the client sees a response cut short (a transport/protocol error)."""

    def __init__(self, inner: Response) -> None:
        # 204/304 have no body by definition (a client would not wait for one): cut a 200 instead.
        status = 200 if inner.status_code in (204, 304) else inner.status_code
        super().__init__(inner.body, status_code=status)
        self.raw_headers = [(k, v) for k, v in inner.raw_headers if k.lower() != b"content-length"]
        body = bytes(inner.body or b"")
        self._declared = max(len(body), 64)
        self._part = body[: len(body) // 2]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = self.raw_headers + [(b"content-length", str(self._declared).encode())]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": self._part, "more_body": True})
        # Returning without finishing the body makes uvicorn close the transport.


def truncate_json(body: bytes) -> bytes:
    """A malformed page: the JSON cut off mid-way (still answered 200 with a matching Content-Length)."""
    return body[: max(1, len(body) // 2)]
