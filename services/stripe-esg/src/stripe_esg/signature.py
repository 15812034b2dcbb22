"""Stripe's webhook signature, verified with the standard library only (the webhook function's
cold start is an HMAC, not the Stripe SDK).

Stripe sends `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=...]
[,v0=...]`, keyed with the endpoint's whole secret (`whsec_...`). A body is genuine when any `v1`
matches the HMAC under any secret we accept (the current one and, while it is rotated, the
previous one), and recent when `t` is within the tolerance of now in either direction: the SDK
alone accepts any timestamp from the future, which would let a captured request be replayed
later. `v0` entries (test mode's legacy scheme) are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

TOLERANCE_SECONDS = 300


class SignatureRejected(Exception):
    """The header is missing or malformed, no `v1` matches, or the timestamp is out of
    tolerance. The message is for the log only: the caller answers a generic 400."""


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe sends with `payload` at `timestamp`."""
    return f"t={timestamp},v1={_digest(payload, secret, timestamp)}"


def verify(
    payload: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """The signed timestamp, if `payload` is genuine and recent; `SignatureRejected` if not."""
    if not secrets:
        raise ValueError("no secret to verify with")
    timestamp, signatures = _parse(header)
    if abs(now - timestamp) > tolerance:
        raise SignatureRejected(
            f"timestamp {now - timestamp:+d} s from now, outside ±{tolerance} s"
        )
    expected = {_digest(payload, secret, timestamp) for secret in secrets}
    # compare_digest for every pair: how far a guess matched never shows in the time taken.
    if not any(hmac.compare_digest(s, e) for s in signatures for e in expected):
        raise SignatureRejected("no v1 signature matches")
    return timestamp


def _parse(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureRejected("no Stripe-Signature header")
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, equals, value = item.strip().partition("=")
        if not equals or not value:
            raise SignatureRejected("malformed Stripe-Signature header")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        raise SignatureRejected("the header needs exactly one numeric t")
    if not signatures:
        raise SignatureRejected("the header has no v1 signature")
    return int(timestamps[0]), signatures


def _digest(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
