"""HTTP for the client, on the standard library's http.client.

One connection per request, so a :class:`Transport` may be shared between threads. Error answers become
the typed exceptions of :mod:`stoke.errors`; connection failures become :class:`ServerUnavailable`.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import urllib.parse
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from .errors import NotSupportedByServer, ServerUnavailable, StokeError, error_for

API_PREFIX = "/api/v1"

from ._version import __version__ as _VERSION


class Response:
    """A finished answer: status, lower-cased headers and the whole body."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = dict(headers)
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _raise_for(status: int, body: bytes, method: str, path: str) -> None:
    code, message, field = "", "", ""
    try:
        doc = json.loads(body) if body else None
        err = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(err, dict):
            code, message, field = str(err.get("code", "")), str(err.get("message", "")), str(err.get("field", ""))
    except ValueError:
        message = body[:300].decode("utf-8", errors="replace")
    # A 404 for a path the server has no route for (rather than an unknown object) means that this server
    # does not have the feature yet; the server says so with "no route ..." (plain 404 from other servers).
    if status == 404 and (message.startswith("no route") or not code):
        route = path.split("?", 1)[0]
        raise NotSupportedByServer(f"the server has no route {method} {route}: it does not support this yet",
                                   code="not_supported", status=404)
    raise error_for(status, code, message or f"HTTP {status} for {method} {path}", field)


class Transport:
    """Talks to one server with one token. Thread-safe (no shared connection)."""

    def __init__(self, url: str, token: str = "", timeout: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")  # a server behind a reverse proxy under /prefix
        self.token = token
        self.timeout = timeout

    def api_path(self, path: str, query: Optional[Mapping[str, Any]] = None) -> str:
        """``jobs/3`` -> ``/prefix/api/v1/jobs/3?...``; a path starting with ``/`` is taken from the root."""
        full = self.prefix + (path if path.startswith("/") else f"{API_PREFIX}/{path}")
        q = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        if q:
            full += "?" + urllib.parse.urlencode(q)
        return full

    def _connect(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        t = self.timeout if timeout is None else timeout
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=t,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=t)

    def _headers(self, extra: Optional[Mapping[str, str]]) -> Dict[str, str]:
        h = {"User-Agent": f"stoke-python/{_VERSION}", "Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra or {})
        return h

    def open(self, method: str, path: str, *, query: Optional[Mapping[str, Any]] = None,
             body: Optional[bytes] = None, content_type: Optional[str] = None,
             headers: Optional[Mapping[str, str]] = None,
             timeout: Optional[float] = None) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends a request and returns the open connection and response with the body unread (for
        streaming). Raises the typed error for a non-2xx answer. The caller closes the connection."""
        full = self.api_path(path, query)
        hdrs = self._headers(headers)
        if content_type:
            hdrs["Content-Type"] = content_type
        conn = self._connect(timeout)
        try:
            conn.request(method, full, body=body, headers=hdrs)
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise ServerUnavailable(f"cannot reach the Stoke server at {self.url}: {e}") from None
        if resp.status >= 400:
            try:
                data = resp.read()
            except (OSError, http.client.HTTPException):
                data = b""
            conn.close()
            _raise_for(resp.status, data, method, full)
        return conn, resp

    def request(self, method: str, path: str, *, query: Optional[Mapping[str, Any]] = None,
                json_body: Any = None, body: Optional[bytes] = None, content_type: Optional[str] = None,
                headers: Optional[Mapping[str, str]] = None, timeout: Optional[float] = None) -> Response:
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode("utf-8"), "application/json"
        conn, resp = self.open(method, path, query=query, body=body, content_type=content_type,
                               headers=headers, timeout=timeout)
        try:
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            raise ServerUnavailable(f"connection to {self.url} broke while reading the answer: {e}") from None
        finally:
            conn.close()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)

    def get_json(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw).json()

    def post_json(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json_body=body if body is not None else {}, **kw).json()

    def stream(self, method: str, path: str, *, chunk_size: int = 65536, **kw: Any) -> Iterator[bytes]:
        """Yields the body in pieces as they arrive (chunked answers included)."""
        conn, resp = self.open(method, path, **kw)
        try:
            while True:
                piece = resp.read1(chunk_size) if hasattr(resp, "read1") else resp.read(chunk_size)
                if not piece:
                    return
                yield piece
        except socket.timeout:
            raise
        except (OSError, http.client.HTTPException) as e:
            raise ServerUnavailable(f"stream from {self.url} broke: {e}") from None
        finally:
            conn.close()


def _query_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


__all__ = ["Transport", "Response", "StokeError", "API_PREFIX"]
