"""The vocabulary every part of the fake Stripe shares: Stripe's constants, ids, the webhook
signature (`stripe_signature_header`), its error shape (`ApiError`), and form parameters as the SDK
encodes them (`parse_params`, and the typed readers with Stripe's validation messages)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import string
from collections.abc import Collection, Mapping, Sequence
from typing import Any

logger = logging.getLogger(__name__)

Json = dict[str, Any]


# The version pinned by the stripe SDK this fake was written against; events carry it as
# Stripe stamps events with the account's default version.
API_VERSION = "2026-10-28.endive"
WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

ALPHABET = string.ascii_letters + string.digits
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
CONFIRMABLE = ("requires_confirmation", "requires_payment_method", "requires_action")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}
    | {"vuv", "xaf", "xof", "xpf"}
)
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "$", "aud": "$"}
# Stripe's minimum charge amounts for the common settlement currencies; others are not checked.
MINIMUM_AMOUNT = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50, "jpy": 50}
MAXIMUM_AMOUNT = 99_999_999


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(length))


def stripe_signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe sends with `payload`: HMAC-SHA256 of "<t>.<payload>"."""
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# ---------------------------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    """An error answered in Stripe's shape; `kept` says whether Idempotency-Key replays it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: Json | None = None,
        kept: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.kept = kept
        self.headers = dict(headers or {})

    def body(self, request_id: str, now: int) -> Json:
        error: Json = {}
        if self.code:
            error["code"] = self.code
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error["message"] = self.message
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        if self.status != 401:
            error["request_log_url"] = (
                f"https://dashboard.stripe.com/test/logs/{request_id}?t={now}"
            )
        error["type"] = self.type
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    # Stripe keeps no idempotent result for a request whose parameters failed validation.
    return ApiError(400, message, param=param, code=code, kept=False)


def missing(kind: str, id_: str, param: str, status: int = 400) -> ApiError:
    return ApiError(
        status, f"No such {kind}: '{id_}'", code="resource_missing", param=param, kept=False
    )


def money(amount: int, currency: str) -> str:
    symbol = SYMBOLS.get(currency, "")
    value = str(amount) if currency in ZERO_DECIMAL else f"{amount / 100:.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency}"


# ---------------------------------------------------------------------------------------------
# Form parameters, as the SDK encodes them (metadata[key]=v, expand[0]=x, flag=true)

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def parse_params(pairs: Sequence[tuple[str, str]]) -> Json:
    """Nest form pairs into dicts; lists stay dicts keyed "0", "1"... until read as a list."""
    root: Json = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise invalid(f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *_SEGMENT.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            name = part if part else str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(name), dict):
                    raise invalid(f"Invalid hash: {key}", param=key)
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid hash: {key}", param=key)
            node = child
    return root


def fingerprint_of(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs))


def allow(params: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
    for name in params:
        if name not in allowed:
            full = f"{prefix}[{name}]" if prefix else name
            raise invalid(
                f"Received unknown parameter: {full}", param=full, code="parameter_unknown"
            )


def text_param(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(value, str):
        raise invalid(f"Invalid string: {value!r}", param=name, code="parameter_invalid_string")
    return value


def int_param(params: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    raw = text_param(params, name, required=required)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid(
            f"Invalid integer: {raw}", param=name, code="parameter_invalid_integer"
        ) from None


def bool_param(params: Mapping[str, Any], name: str) -> bool | None:
    raw = text_param(params, name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise invalid(f"Invalid boolean: {raw}", param=name)
    return raw == "true"


def enum_param(params: Mapping[str, Any], name: str, values: Sequence[str]) -> str | None:
    raw = text_param(params, name)
    if raw is not None and raw not in values:
        choices = ", ".join(values[:-1]) + f", or {values[-1]}"
        raise invalid(f"Invalid {name}: must be one of {choices}", param=name)
    return raw


def list_param(params: Mapping[str, Any], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if all(key.isdigit() and isinstance(v, str) for key, v in raw.items()):
        return [raw[key] for key in sorted(raw, key=int)]
    raise invalid(f"Invalid array: {name}", param=name)


def metadata_param(params: Mapping[str, Any], current: Mapping[str, str]) -> dict[str, str]:
    """Stripe's metadata update: keys merge, an empty value unsets a key, "" clears all."""
    raw = params.get("metadata")
    if raw is None:
        return dict(current)
    if raw == "":
        return {}
    if not isinstance(raw, dict) or any(not isinstance(v, str) for v in raw.values()):
        raise invalid("Invalid object", param="metadata")
    merged = dict(current)
    for key, value in raw.items():
        if len(key) > 40:
            raise invalid(
                f"Metadata keys can have up to 40 characters, but you passed in a key that is "
                f"{len(key)} characters long.",
                param=f"metadata[{key}]",
            )
        if len(value) > 500:
            raise invalid(
                f"Metadata values can have up to 500 characters, but you passed in a value that "
                f"is {len(value)} characters long.",
                param=f"metadata[{key}]",
            )
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > 50:
        raise invalid(
            "You can have up to 50 metadata keys, but you passed in more than 50.",
            param="metadata",
        )
    return merged
