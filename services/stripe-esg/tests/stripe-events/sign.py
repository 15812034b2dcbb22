"""Stripe webhook test inputs: sign a body as Stripe does, load a payload with its ids filled in.

Stdlib only. The JSON files beside this module are complete Stripe Event objects (API version
2026-10-28.endive, the one stripe-python 16.1.x pins); README.md says where they came from.

    body = load("payment_intent.succeeded", order_id="ord_42", pi_id="pi_3Abc")
    headers = {"Stripe-Signature": sign(body, "whsec_test")}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
API_VERSION = "2026-10-28.endive"
NAMES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "customer.created",
)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header value: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">.

    The key is the whole endpoint secret string (whsec_...) as UTF-8, and the message is the raw
    body bytes, exactly as Stripe signs (and stripe.Webhook.construct_event verifies) them.
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), str(t).encode("ascii") + b"." + payload, hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def _json_str(value: str) -> bytes:
    return json.dumps(value)[1:-1].encode("utf-8")  # JSON-escaped, without the quotes


def load(name: str, order_id: str, pi_id: str, *, event_id: str | None = None) -> bytes:
    """The raw body of NAME (with or without .json), ORDER_ID and PI_ID replaced.

    PI_ID also sits inside the client secret ("PI_ID_secret_..."), as a real intent id does.
    event_id, if given, replaces the event's own id (evt_...), e.g. for distinct deliveries.
    The bytes are the file's bytes otherwise: sign what this returns, not a re-serialisation.
    """
    fname = name if name.endswith(".json") else name + ".json"
    raw = (HERE / fname).read_bytes()
    raw = raw.replace(b"ORDER_ID", _json_str(order_id)).replace(b"PI_ID", _json_str(pi_id))
    if event_id is not None:
        old = json.loads(raw)["id"].encode("ascii")
        raw = raw.replace(b'"id": "' + old + b'"', b'"id": "' + _json_str(event_id) + b'"', 1)
    return raw
