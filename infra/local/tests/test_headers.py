"""Header blocks parsed without the email package give the very message the email parser gives:
the same headers in the same order, the same payload, the same defects; and a block that is not
plain still goes to the email parser."""

from __future__ import annotations

import http.client
import io
from collections.abc import Callable
from email.message import Message

import pytest
from localcloud import headers

PLAIN = [
    b"Host: 127.0.0.1:5000\r\nContent-Length: 2\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n\r\n",
    b"Content-Type: application/x-amz-json-1.0\r\nUser-Agent: Boto3/1.44 md/a#b cfg/retry-mode#s\r\n\r\n",
    # repeated names, an empty value, spaces kept at the end, tabs before the value, bare LF
    b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty:\r\nX-Trailing: v  \r\nX-Tab:\t\tv\r\n\r\n",
    b"Accept: */*\nConnection: keep-alive\n\n",
    b"X-Latin: caf\xe9\r\n\r\n",
    b"",
]
# A folded line, a line that is no header, a name with a space, a stray CR, a mailbox's From.
NOT_PLAIN = [
    b"X-Folded: a\r\n  b\r\nHost: h\r\n\r\n",
    b"Host: h\r\nthis is no header\r\nAccept: */*\r\n\r\n",
    b"Bad Name: v\r\nHost: h\r\n\r\n",
    b"X-Cr: a\rb\r\nHost: h\r\n\r\n",
    b"From nobody Mon Jan  1 00:00:00 2026\r\nHost: h\r\n\r\n",
]


def parsed(block: bytes) -> Message:
    return http.client.parse_headers(io.BytesIO(block + b"GET /next HTTP/1.1\r\n"))


def shape(message: Message) -> tuple[object, ...]:
    return (
        type(message),
        message.items(),
        message.get_payload(),
        [type(defect) for defect in message.defects],
        message.get_unixfrom(),
    )


@pytest.fixture
def with_email_parser() -> Callable[..., Message]:
    headers.parse_plain_headers_quickly()
    original = headers._parse_with_email
    assert original is not None
    return original


@pytest.mark.parametrize(
    ("block", "plain"), [(block, True) for block in PLAIN] + [(block, False) for block in NOT_PLAIN]
)
def test_a_header_block_parses_to_the_email_parsers_message(
    block: bytes,
    plain: bool,
    with_email_parser: Callable[..., Message],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a header block as a request or a response starts
    lines = http.client._read_headers(io.BytesIO(block))  # type: ignore[attr-defined]
    handed_on: list[list[bytes]] = []

    def email_parser(lines: list[bytes], _class: type[Message]) -> Message:
        handed_on.append(lines)
        return with_email_parser(lines, _class)

    monkeypatch.setattr(headers, "_parse_with_email", email_parser)

    # When it is parsed the quick way and the email parser's way
    quick = headers.parse_header_lines(lines)
    slow = with_email_parser(lines, http.client.HTTPMessage)

    # Then the messages are the same, and only a block that is not plain went to the email parser
    assert shape(quick) == shape(slow)
    assert handed_on == ([] if plain else [lines])


def test_the_header_parser_is_installed_once_for_every_block_of_the_process() -> None:
    headers.parse_plain_headers_quickly()
    headers.parse_plain_headers_quickly()

    assert http.client._parse_header_lines is headers.parse_header_lines  # type: ignore[attr-defined]
    assert headers._parse_with_email is not headers.parse_header_lines
    assert parsed(b"Host: h\r\n\r\n")["host"] == "h"
