"""`StorefrontSite`: a folder's files, the storefront's `config.json` and a local sign-in, on a
loopback port (see the package's docstring for what it stands in for)."""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import urllib.parse
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, cast

from localcloud.lifecycle import HttpPart, KeepAliveHandler

logger = logging.getLogger(__name__)

CONFIG_PATH = "/config.json"
SIGN_IN_PATH = "/sign-in"
# A sign-in body is one short JSON object; anything larger is not one.
MAX_SIGN_IN_BYTES = 4096
# What an identity provider would accept as a username, and what fits in a token's `sub` plainly.
CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class SignInRefused(ValueError):
    """A sign-in body that names no acceptable customer; the message says what was wrong."""


def customer_of(body: bytes) -> str:
    """The customer id a sign-in body names, or `SignInRefused` saying why it names none."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SignInRefused('the body is not JSON: send {"customer": "<id>"}') from None
    if not isinstance(document, dict) or "customer" not in document:
        raise SignInRefused('the body names no customer: send {"customer": "<id>"}')
    customer = document["customer"]
    if not isinstance(customer, str) or not CUSTOMER_ID.fullmatch(customer):
        raise SignInRefused(
            "customer must be 1 to 64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return customer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: StorefrontSite


class _Handler(KeepAliveHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.site._get(self, with_body=True)

    def do_HEAD(self) -> None:
        self.server.site._get(self, with_body=False)

    def do_POST(self) -> None:
        self.server.site._post(self)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("storefront http", extra={"line": format % args})


class StorefrontSite(HttpPart):
    """The files of `folder` at `url`, `config()` at `/config.json`, and `issue_token(customer)`
    behind `POST /sign-in`. `config` is called at each request: the APIs it names may be deployed
    after the site starts (the site starts first, so that its origin is known to the stacks whose
    CORS must allow it)."""

    def __init__(
        self,
        folder: Path,
        *,
        config: Callable[[], Mapping[str, Any]],
        issue_token: Callable[[str], str],
        port: int = 0,
    ) -> None:
        self.folder = folder.resolve()
        if not (self.folder / "index.html").is_file():
            raise FileNotFoundError(f"no storefront in {folder}: it has no index.html")
        self._config = config
        self._issue_token = issue_token
        # A short poll keeps `stop` quick: the cloud stops it with everything else.
        super().__init__(
            _Handler, name="storefront", port=port, server_class=_Server, poll_interval=0.05
        )
        cast(_Server, self.server).site = self

    @property
    def origin(self) -> str:
        """The origin a browser gives the storefront's pages: what the APIs' CORS must allow.
        `localhost`, as a developer types it, though the site listens on 127.0.0.1 only."""
        return f"http://localhost:{self.port}"

    @property
    def public_url(self) -> str:
        return self.origin + "/"

    def start(self) -> Self:
        super().start()
        logger.info(
            "storefront started", extra={"url": self.public_url, "folder": str(self.folder)}
        )
        return self

    def _file(self, request_path: str) -> Path | None:
        """The file a request path names inside the folder, or None: nothing outside it is ever
        served, whatever the path's `..`, percent-encoding or symlinks."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(request_path).path)
        if "\x00" in path:
            return None
        candidate = (self.folder / path.lstrip("/")).resolve()
        if candidate.is_dir():
            candidate = (candidate / "index.html").resolve()
        if not candidate.is_relative_to(self.folder):
            return None
        return candidate if candidate.is_file() else None

    def _get(self, http: BaseHTTPRequestHandler, *, with_body: bool) -> None:
        if urllib.parse.urlsplit(http.path).path == CONFIG_PATH:
            body = json.dumps(dict(self._config()), indent=2).encode()
            _answer(http, HTTPStatus.OK, body, "application/json", with_body=with_body)
            return
        file = self._file(http.path)
        if file is None:
            _answer_json(http, HTTPStatus.NOT_FOUND, {"message": "no such file"}, with_body)
            return
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type == "application/javascript":
            content_type += "; charset=utf-8"
        _answer(http, HTTPStatus.OK, file.read_bytes(), content_type, with_body=with_body)

    def _post(self, http: BaseHTTPRequestHandler) -> None:
        try:
            length = int(http.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            http.close_connection = True
            _answer_json(http, HTTPStatus.BAD_REQUEST, {"message": "bad Content-Length"})
            return
        if urllib.parse.urlsplit(http.path).path != SIGN_IN_PATH:
            # The body is left unread: the connection cannot carry another request.
            http.close_connection = True
            _answer_json(
                http, HTTPStatus.METHOD_NOT_ALLOWED, {"message": f"POST only to {SIGN_IN_PATH}"}
            )
            return
        if length > MAX_SIGN_IN_BYTES:
            http.close_connection = True
            _answer_json(
                http, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "sign-in body too large"}
            )
            return
        try:
            customer = customer_of(http.rfile.read(length))
        except SignInRefused as refused:
            _answer_json(http, HTTPStatus.BAD_REQUEST, {"message": str(refused)})
            return
        logger.info("customer signed in", extra={"customer": customer})
        _answer_json(
            http, HTTPStatus.OK, {"customer": customer, "token": self._issue_token(customer)}
        )


def _answer_json(
    http: BaseHTTPRequestHandler, status: HTTPStatus, document: Any, with_body: bool = True
) -> None:
    _answer(http, status, json.dumps(document).encode(), "application/json", with_body=with_body)


def _answer(
    http: BaseHTTPRequestHandler,
    status: HTTPStatus,
    body: bytes,
    content_type: str,
    *,
    with_body: bool,
) -> None:
    http.send_response(status)
    http.send_header("Content-Type", content_type)
    http.send_header("Content-Length", str(len(body)))
    # A token or a freshly edited file must never come from a cache.
    http.send_header("Cache-Control", "no-store")
    http.send_header("X-Content-Type-Options", "nosniff")
    http.end_headers()
    if with_body:
        http.wfile.write(body)
