"""HTTP header blocks parsed without the email package, where that gives the same message.

`http.client` parses every header block, a request's in `http.server` and a response's in every
client, with the email package's feed parser: a fifth of what an empty call to moto cost, and a
visible share of every HTTP part of the local cloud. A block of plain `Name: value` lines is split
at each colon into the same `HTTPMessage`; anything else (a folded line, a line that is no header,
a stray CR) still goes to the email parser, so the answer is always the one it gives."""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable
from email.message import Message
from typing import Any

# The email parser's header line: a name of printable characters but the colon, then a colon.
_PLAIN_HEADER = re.compile(rb"[\x21-\x39\x3b-\x7e]*:[^\r\n]*\r?\n\Z")
_END_OF_HEADERS = (b"\r\n", b"\n", b"")

_parse_with_email: Callable[..., Message] | None = None


def parse_header_lines(lines: list[bytes], _class: type[Message] = http.client.HTTPMessage) -> Any:
    """`http.client._parse_header_lines`, the same message for every block, quicker for plain
    ones. `lines` is what `http.client._read_headers` read, the empty line that ends it last."""
    assert _parse_with_email is not None, "parse_plain_headers_quickly() was not called"
    block = lines[:-1] if lines and lines[-1] in _END_OF_HEADERS else lines
    if not all(_PLAIN_HEADER.match(line) for line in block):
        return _parse_with_email(lines, _class)
    message = _class()
    for line in block:
        name, _, value = line.decode("iso-8859-1").partition(":")
        message.set_raw(name, value.lstrip(" \t").rstrip("\r\n"))
    message.set_payload("")
    return message


def parse_plain_headers_quickly() -> None:
    """Parse every header block of this process with `parse_header_lines` (idempotent)."""
    global _parse_with_email
    if _parse_with_email is None:
        _parse_with_email = http.client._parse_header_lines  # type: ignore[attr-defined]
        http.client._parse_header_lines = parse_header_lines  # type: ignore[attr-defined]
