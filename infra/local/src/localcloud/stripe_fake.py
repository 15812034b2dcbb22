"""A fake Stripe API on localhost that the official `stripe` SDK talks to as if it were Stripe.

It keeps PaymentIntents, charges and refunds in memory, answers in Stripe's object and error
shapes (the SDK picks its exception class from the HTTP status and the error body), honours
Idempotency-Key as Stripe does, and sends every event to a webhook URL signed exactly as Stripe
signs (`Stripe-Signature: t=<ts>,v1=<HMAC-SHA256>`), retrying a failed delivery a few times.

Cards are Stripe's documented test PaymentMethods (`pm_card_visa`, `pm_card_chargeDeclined`, ...),
so code written against Stripe test mode runs unchanged here, failures included.

Deliberately out of scope: manual capture, 3-D Secure (`requires_action`), customers, disputes.
A request using them gets an error rather than a silently different behaviour.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import fnmatch
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import re
import secrets
import string
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast

from localcloud.lifecycle import Part

logger = logging.getLogger(__name__)

Json = dict[str, Any]

# The version pinned by the stripe SDK this fake was written against; events carry it as
# Stripe stamps events with the account's default version.
API_VERSION = "2026-10-28.endive"
WEBHOOK_TIMEOUT_SECONDS = 10.0
WEBHOOK_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"

_ALPHABET = string.ascii_letters + string.digits
_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
_CONFIRMABLE = ("requires_confirmation", "requires_payment_method", "requires_action")
_CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd"}
    | {"vuv", "xaf", "xof", "xpf"}
)
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "$", "aud": "$"}
# Stripe's minimum charge amounts for the common settlement currencies; others are not checked.
_MINIMUM_AMOUNT = {"usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50, "jpy": 50}
_MAXIMUM_AMOUNT = 99_999_999


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def stripe_signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe sends with `payload`: HMAC-SHA256 of "<t>.<payload>"."""
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# ---------------------------------------------------------------------------------------------
# Test cards, as Stripe documents them (https://docs.stripe.com/testing)


@dataclass(frozen=True)
class _Decline:
    code: str
    decline_code: str
    message: str
    param: str | None = None
    network_status: str = "declined_by_network"
    outcome_type: str = "issuer_declined"
    seller_message: str = "The bank did not return any further details with this decline."


@dataclass(frozen=True)
class _TestCard:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    decline: _Decline | None = None


_GENERIC = _Decline("card_declined", "generic_decline", "Your card was declined.")
_INSUFFICIENT = _Decline(
    "card_declined",
    "insufficient_funds",
    "Your card has insufficient funds.",
    seller_message="The bank returned the decline code `insufficient_funds`.",
)
_EXPIRED = _Decline(
    "expired_card",
    "expired_card",
    "Your card has expired.",
    param="exp_month",
    seller_message="The bank returned the decline code `expired_card`.",
)
_INCORRECT_CVC = _Decline(
    "incorrect_cvc",
    "incorrect_cvc",
    "Your card's security code is incorrect.",
    param="cvc",
    seller_message="The bank returned the decline code `incorrect_cvc`.",
)
_PROCESSING = _Decline(
    "processing_error",
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
    seller_message="The bank returned the decline code `processing_error`.",
)
_LOST = _Decline(
    "card_declined",
    "lost_card",
    "Your card was declined.",
    seller_message="The bank returned the decline code `lost_card`.",
)
_STOLEN = _Decline(
    "card_declined",
    "stolen_card",
    "Your card was declined.",
    seller_message="The bank returned the decline code `stolen_card`.",
)

TEST_CARDS: Mapping[str, _TestCard] = {
    "pm_card_visa": _TestCard("visa", "4242"),
    "pm_card_visa_debit": _TestCard("visa", "5556", funding="debit"),
    "pm_card_mastercard": _TestCard("mastercard", "4444"),
    "pm_card_amex": _TestCard("amex", "8431"),
    "pm_card_chargeDeclined": _TestCard("visa", "0002", decline=_GENERIC),
    "pm_card_visa_chargeDeclined": _TestCard("visa", "0002", decline=_GENERIC),
    "pm_card_chargeDeclinedInsufficientFunds": _TestCard("visa", "9995", decline=_INSUFFICIENT),
    "pm_card_visa_chargeDeclinedInsufficientFunds": _TestCard(
        "visa", "9995", decline=_INSUFFICIENT
    ),
    "pm_card_chargeDeclinedExpiredCard": _TestCard("visa", "0069", decline=_EXPIRED),
    "pm_card_chargeDeclinedIncorrectCvc": _TestCard("visa", "0127", decline=_INCORRECT_CVC),
    "pm_card_chargeDeclinedProcessingError": _TestCard("visa", "0119", decline=_PROCESSING),
    "pm_card_chargeDeclinedLostCard": _TestCard("visa", "9987", decline=_LOST),
    "pm_card_chargeDeclinedStolenCard": _TestCard("visa", "9979", decline=_STOLEN),
}


# ---------------------------------------------------------------------------------------------
# Errors


class _ApiError(Exception):
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


def _invalid(message: str, *, param: str | None = None, code: str | None = None) -> _ApiError:
    # Stripe keeps no idempotent result for a request whose parameters failed validation.
    return _ApiError(400, message, param=param, code=code, kept=False)


def _missing(kind: str, id_: str, param: str, status: int = 400) -> _ApiError:
    return _ApiError(
        status, f"No such {kind}: '{id_}'", code="resource_missing", param=param, kept=False
    )


def _money(amount: int, currency: str) -> str:
    symbol = _SYMBOLS.get(currency, "")
    value = str(amount) if currency in _ZERO_DECIMAL else f"{amount / 100:.2f}"
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
            raise _invalid(f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1), *_SEGMENT.findall(match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            name = part if part else str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(name), dict):
                    raise _invalid(f"Invalid hash: {key}", param=key)
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise _invalid(f"Invalid hash: {key}", param=key)
            node = child
    return root


def _fingerprint(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(pairs))


def _allow(params: Mapping[str, Any], allowed: Collection[str], prefix: str = "") -> None:
    for name in params:
        if name not in allowed:
            full = f"{prefix}[{name}]" if prefix else name
            raise _invalid(
                f"Received unknown parameter: {full}", param=full, code="parameter_unknown"
            )


def _str(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise _invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(value, str):
        raise _invalid(f"Invalid string: {value!r}", param=name, code="parameter_invalid_string")
    return value


def _int(params: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    raw = _str(params, name, required=required)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _invalid(
            f"Invalid integer: {raw}", param=name, code="parameter_invalid_integer"
        ) from None


def _bool(params: Mapping[str, Any], name: str) -> bool | None:
    raw = _str(params, name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise _invalid(f"Invalid boolean: {raw}", param=name)
    return raw == "true"


def _enum(params: Mapping[str, Any], name: str, values: Sequence[str]) -> str | None:
    raw = _str(params, name)
    if raw is not None and raw not in values:
        choices = ", ".join(values[:-1]) + f", or {values[-1]}"
        raise _invalid(f"Invalid {name}: must be one of {choices}", param=name)
    return raw


def _list(params: Mapping[str, Any], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if all(key.isdigit() and isinstance(v, str) for key, v in raw.items()):
        return [raw[key] for key in sorted(raw, key=int)]
    raise _invalid(f"Invalid array: {name}", param=name)


def _metadata(params: Mapping[str, Any], current: Mapping[str, str]) -> dict[str, str]:
    """Stripe's metadata update: keys merge, an empty value unsets a key, "" clears all."""
    raw = params.get("metadata")
    if raw is None:
        return dict(current)
    if raw == "":
        return {}
    if not isinstance(raw, dict) or any(not isinstance(v, str) for v in raw.values()):
        raise _invalid("Invalid object", param="metadata")
    merged = dict(current)
    for key, value in raw.items():
        if len(key) > 40:
            raise _invalid(
                f"Metadata keys can have up to 40 characters, but you passed in a key that is "
                f"{len(key)} characters long.",
                param=f"metadata[{key}]",
            )
        if len(value) > 500:
            raise _invalid(
                f"Metadata values can have up to 500 characters, but you passed in a value that "
                f"is {len(value)} characters long.",
                param=f"metadata[{key}]",
            )
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > 50:
        raise _invalid(
            "You can have up to 50 metadata keys, but you passed in more than 50.",
            param="metadata",
        )
    return merged


# ---------------------------------------------------------------------------------------------
# The account: objects, their state machine and the events it produces


@dataclass(frozen=True)
class _Call:
    params: Json
    request_id: str
    idempotency_key: str | None
    now: int


@dataclass
class _Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Kept:
    method: str
    path: str
    fingerprint: tuple[tuple[str, str], ...]
    request_id: str
    status: int
    body: bytes
    headers: dict[str, str]


def _dump(body: Json) -> bytes:
    # Stripe pretty-prints its JSON with two spaces; webhook receivers see the same bytes.
    return json.dumps(body, indent=2).encode()


Handler = Callable[[_Call, str], Json]


class _Account:
    """The state of one Stripe test-mode account. Every method runs under the caller's lock."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        wants_event: Callable[[str], bool],
        publish: Callable[[str, Json], None],
    ) -> None:
        self._clock = clock
        self._wants_event = wants_event
        self._publish = publish
        self.payment_intents: dict[str, Json] = {}
        self.charges: dict[str, Json] = {}
        self.refunds: dict[str, Json] = {}
        self.payment_methods: dict[str, Json] = {}
        self.events: dict[str, Json] = {}
        self._kept: dict[str, _Kept] = {}
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/v1/payment_intents"), self._create_payment_intent),
            ("GET", re.compile(r"/v1/payment_intents"), self._list_payment_intents),
            ("GET", re.compile(r"/v1/payment_intents/([^/]+)"), self._retrieve_payment_intent),
            ("POST", re.compile(r"/v1/payment_intents/([^/]+)"), self._update_payment_intent),
            (
                "POST",
                re.compile(r"/v1/payment_intents/([^/]+)/confirm"),
                self._confirm_payment_intent,
            ),
            (
                "POST",
                re.compile(r"/v1/payment_intents/([^/]+)/cancel"),
                self._cancel_payment_intent,
            ),
            ("GET", re.compile(r"/v1/charges/([^/]+)"), self._retrieve_charge),
            ("GET", re.compile(r"/v1/payment_methods/([^/]+)"), self._retrieve_payment_method),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/refunds"), self._list_refunds),
            ("GET", re.compile(r"/v1/refunds/([^/]+)"), self._retrieve_refund),
            ("GET", re.compile(r"/v1/events"), self._list_events),
            ("GET", re.compile(r"/v1/events/([^/]+)"), self._retrieve_event),
        ]

    # -- dispatch and idempotency ------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        pairs: Sequence[tuple[str, str]],
        request_id: str,
        idempotency_key: str | None,
    ) -> _Response:
        handler, arg = self._route(method, path)
        now = int(self._clock())
        # Stripe ignores Idempotency-Key on GET and DELETE.
        key = idempotency_key if method == "POST" else None
        fingerprint = _fingerprint(pairs)
        if key is not None and key in self._kept:
            return self._replay(self._kept[key], method, path, fingerprint, key)
        try:
            call = _Call(parse_params(pairs), request_id, key, now)
            status, body, kept = 200, _dump(handler(call, arg)), True
        except _ApiError as error:
            status, body, kept = error.status, _dump(error.body(request_id, now)), error.kept
        headers = {"Idempotency-Key": key} if key is not None else {}
        if key is not None and kept:
            self._kept[key] = _Kept(method, path, fingerprint, request_id, status, body, headers)
        return _Response(status, body, headers)

    def _route(self, method: str, path: str) -> tuple[Handler, str]:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return handler, urllib.parse.unquote(match.group(1)) if match.groups() else ""
        raise _ApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            kept=False,
        )

    @staticmethod
    def _replay(
        kept: _Kept,
        method: str,
        path: str,
        fingerprint: tuple[tuple[str, str], ...],
        key: str,
    ) -> _Response:
        if (kept.method, kept.path) != (method, path):
            raise _ApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{kept.method} {kept.path}' vs '{method} {path}'). Try using a "
                f"key other than '{key}' if you meant to execute a different request.",
                type_="idempotency_error",
                kept=False,
            )
        if kept.fingerprint != fingerprint:
            raise _ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type_="idempotency_error",
                kept=False,
            )
        headers = {
            **kept.headers,
            "Idempotent-Replayed": "true",
            "Original-Request": kept.request_id,
        }
        return _Response(kept.status, kept.body, headers)

    # -- events ------------------------------------------------------------------------------

    def _emit(
        self, type_: str, obj: Json, call: _Call, previous_attributes: Json | None = None
    ) -> None:
        data: Json = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        wanted = self._wants_event(type_)
        event: Json = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": call.now,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if wanted else 0,
            "request": {"id": call.request_id, "idempotency_key": call.idempotency_key},
            "type": type_,
        }
        self.events[event["id"]] = event
        if wanted:
            # Webhooks of one intent are kept in order, whichever object the event is about.
            self._publish(obj.get("payment_intent") or obj["id"], event)

    def settle(self, event_id: str) -> None:
        event = self.events.get(event_id)
        if event is not None:
            event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)

    # -- payment methods ---------------------------------------------------------------------

    def _payment_method(self, ref: str, call: _Call) -> Json:
        """A test PaymentMethod id mints a fresh `pm_` object each time, as on Stripe."""
        if ref in self.payment_methods:
            return self.payment_methods[ref]
        card = TEST_CARDS.get(ref)
        if card is None:
            raise _ApiError(
                400,
                f"No such PaymentMethod: '{ref}'",
                code="resource_missing",
                param="payment_method",
            )
        pm_id = new_id("pm_")
        self.payment_methods[pm_id] = {
            "id": pm_id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": {
                "address": dict.fromkeys(
                    ("city", "country", "line1", "line2", "postal_code", "state")
                ),
                "email": None,
                "name": None,
                "phone": None,
            },
            "card": {
                "brand": card.brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": None,
                },
                "country": card.country,
                "display_brand": card.brand,
                "exp_month": 12,
                "exp_year": time.gmtime(call.now).tm_year + 1,
                "fingerprint": new_id("", 16),
                "funding": card.funding,
                "generated_from": None,
                "last4": card.last4,
                "networks": {"available": [card.brand], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": call.now,
            "customer": None,
            "livemode": False,
            "metadata": {},
            "type": "card",
            "_card": ref,
        }
        return self.payment_methods[pm_id]

    @staticmethod
    def _public(obj: Json) -> Json:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _retrieve_payment_method(self, call: _Call, pm_id: str) -> Json:
        _allow(call.params, {"expand"})
        pm = self.payment_methods.get(pm_id)
        if pm is None:
            raise _missing("PaymentMethod", pm_id, "payment_method", 404)
        return self._public(pm)

    # -- payment intents ---------------------------------------------------------------------

    def _intent(self, pi_id: str, param: str = "intent", status: int = 404) -> Json:
        intent = self.payment_intents.get(pi_id)
        if intent is None:
            raise _missing("payment_intent", pi_id, param, status)
        return intent

    def _create_payment_intent(self, call: _Call, _: str) -> Json:
        params = call.params
        _allow(
            params,
            {
                "amount",
                "currency",
                "metadata",
                "payment_method",
                "confirm",
                "automatic_payment_methods",
                "description",
                "capture_method",
                "confirmation_method",
                "payment_method_types",
                "receipt_email",
                "return_url",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "expand",
            },
        )
        amount = cast(int, _int(params, "amount", required=True))
        currency = cast(str, _str(params, "currency", required=True)).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise _invalid(f"Invalid currency: {currency}.", param="currency")
        self._check_amount(amount, currency)
        capture_method = (
            _enum(params, "capture_method", ("automatic", "automatic_async", "manual"))
            or "automatic_async"
        )
        if capture_method == "manual":
            raise _invalid(
                "capture_method=manual is not supported by the local cloud's fake Stripe.",
                param="capture_method",
            )
        if _enum(params, "confirmation_method", ("automatic", "manual")) == "manual":
            raise _invalid(
                "confirmation_method=manual is not supported by the local cloud's fake Stripe.",
                param="confirmation_method",
            )
        payment_method_types = _list(params, "payment_method_types")
        automatic = self._automatic_payment_methods(params, payment_method_types)
        confirm = bool(_bool(params, "confirm"))
        return_url = _str(params, "return_url")
        if return_url is not None and not confirm:
            raise _invalid(
                "The parameter `return_url` cannot be passed when creating a PaymentIntent "
                "unless `confirm` is set to true.",
                param="return_url",
            )
        pm_ref = _str(params, "payment_method")
        if confirm:
            if pm_ref is None:
                raise self._missing_payment_method()
            self._require_return_url(automatic, return_url)
        pm = self._payment_method(pm_ref, call) if pm_ref else None
        metadata = _metadata(params, {})
        pi_id = new_id("pi_")
        intent: Json = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": automatic,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture_method,
            "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
            "confirmation_method": "automatic",
            "created": call.now,
            "currency": currency,
            "customer": None,
            "description": _str(params, "description"),
            "excluded_payment_method_types": None,
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": pm["id"] if pm else None,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": payment_method_types or ["card"],
            "processing": None,
            "receipt_email": _str(params, "receipt_email"),
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": _str(params, "statement_descriptor"),
            "statement_descriptor_suffix": _str(params, "statement_descriptor_suffix"),
            "status": "requires_confirmation" if pm else "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.payment_intents[pi_id] = intent
        self._emit("payment_intent.created", intent, call)
        if confirm and pm is not None:
            self._charge(intent, pm, call)
        return self._expand(intent, params)

    @staticmethod
    def _check_amount(amount: int, currency: str) -> None:
        minimum = _MINIMUM_AMOUNT.get(currency, 1)
        if amount < minimum:
            raise _invalid(
                f"Amount must be at least {_money(minimum, currency)} {currency}",
                param="amount",
                code="amount_too_small",
            )
        if amount > _MAXIMUM_AMOUNT:
            raise _invalid(
                f"Amount must be no more than {_money(_MAXIMUM_AMOUNT, currency)}",
                param="amount",
                code="amount_too_large",
            )

    @staticmethod
    def _automatic_payment_methods(
        params: Mapping[str, Any], payment_method_types: list[str]
    ) -> Json | None:
        raw = params.get("automatic_payment_methods")
        if raw is None:
            # Since API version 2023-08-16, Stripe enables them unless types are listed.
            return None if payment_method_types else {"allow_redirects": "always", "enabled": True}
        if not isinstance(raw, dict):
            raise _invalid("Invalid object", param="automatic_payment_methods")
        _allow(raw, {"enabled", "allow_redirects"}, "automatic_payment_methods")
        enabled = _bool(raw, "enabled")
        if enabled is None:
            raise _invalid(
                "Missing required param: automatic_payment_methods[enabled].",
                param="automatic_payment_methods[enabled]",
                code="parameter_missing",
            )
        if enabled and payment_method_types:
            raise _invalid(
                "You may only specify one of these parameters: automatic_payment_methods, "
                "payment_method_types.",
                param="automatic_payment_methods",
            )
        redirects = _enum(raw, "allow_redirects", ("always", "never")) or "always"
        return {"allow_redirects": redirects, "enabled": enabled}

    @staticmethod
    def _require_return_url(automatic: Json | None, return_url: str | None) -> None:
        if return_url is not None or automatic is None or not automatic["enabled"]:
            return
        if automatic["allow_redirects"] != "never":
            raise _ApiError(
                400,
                "A `return_url` must be specified because this Payment Intent is configured "
                "to automatically accept the payment methods enabled in the Dashboard, some "
                "of which may require a full page redirect to succeed. If you do not want to "
                "accept redirect-based payment methods, set "
                "`automatic_payment_methods[enabled]` to `true` and "
                "`automatic_payment_methods[allow_redirects]` to `never` when creating "
                "Setup Intents and Payment Intents.",
            )

    @staticmethod
    def _missing_payment_method() -> _ApiError:
        return _ApiError(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method. You "
            "can either update the PaymentIntent with a payment method and then confirm it "
            "again, or confirm it again directly with a payment method.",
            code="payment_intent_unexpected_state",
        )

    def _charge(self, intent: Json, pm: Json, call: _Call) -> None:
        """Charge the card: the intent succeeds, or the request fails with a 402 card error."""
        card = TEST_CARDS[pm["_card"]]
        decline = card.decline
        ch_id = new_id("ch_")
        charge: Json = {
            "id": ch_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": 0 if decline else intent["amount"],
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None if decline else new_id("txn_"),
            "billing_details": copy.deepcopy(pm["billing_details"]),
            "calculated_statement_descriptor": "LOCALCLOUD",
            "captured": decline is None,
            "created": call.now,
            "currency": intent["currency"],
            "customer": None,
            "description": intent["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": decline.code if decline else None,
            "failure_message": decline.message if decline else None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "network_status": decline.network_status if decline else "approved_by_network",
                "reason": decline.decline_code if decline else None,
                "risk_level": "normal",
                "risk_score": 32,
                "seller_message": decline.seller_message if decline else "Payment complete.",
                "type": decline.outcome_type if decline else "authorized",
            },
            "paid": decline is None,
            "payment_intent": intent["id"],
            "payment_method": pm["id"],
            "payment_method_details": {
                "card": {
                    "brand": card.brand,
                    "country": card.country,
                    "exp_month": pm["card"]["exp_month"],
                    "exp_year": pm["card"]["exp_year"],
                    "fingerprint": pm["card"]["fingerprint"],
                    "funding": card.funding,
                    "last4": card.last4,
                    "network": card.brand,
                },
                "type": "card",
            },
            "receipt_email": intent["receipt_email"],
            "receipt_number": None,
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{new_id('', 40)}",
            "refunded": False,
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": intent["statement_descriptor"],
            "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
            "status": "failed" if decline else "succeeded",
            "transfer_data": None,
            "transfer_group": None,
        }
        self.charges[ch_id] = charge
        intent["latest_charge"] = ch_id
        if decline is None:
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                payment_method=pm["id"],
                last_payment_error=None,
            )
            self._emit("charge.succeeded", charge, call)
            self._emit("payment_intent.succeeded", intent, call)
            return
        error = _ApiError(
            402,
            decline.message,
            type_="card_error",
            code=decline.code,
            decline_code=decline.decline_code,
            param=decline.param,
        )
        last_error = error.body(call.request_id, call.now)["error"]
        del last_error["request_log_url"]
        last_error["charge"] = ch_id
        last_error["payment_method"] = self._public(pm)
        intent.update(
            status="requires_payment_method", payment_method=None, last_payment_error=last_error
        )
        self._emit("charge.failed", charge, call)
        self._emit("payment_intent.payment_failed", intent, call)
        error.extra = {
            "charge": ch_id,
            "payment_intent": copy.deepcopy(intent),
            "payment_method": self._public(pm),
        }
        raise error

    def _retrieve_payment_intent(self, call: _Call, pi_id: str) -> Json:
        _allow(call.params, {"client_secret", "expand"})
        return self._expand(self._intent(pi_id), call.params)

    def _list_payment_intents(self, call: _Call, _: str) -> Json:
        _allow(call.params, {"limit", "starting_after", "ending_before", "created", "expand"})
        items = self._created_filter(list(self.payment_intents.values()), call.params)
        return self._page(items, call.params, "/v1/payment_intents", "payment_intent")

    def _update_payment_intent(self, call: _Call, pi_id: str) -> Json:
        params = call.params
        _allow(
            params,
            {
                "amount",
                "currency",
                "description",
                "metadata",
                "payment_method",
                "receipt_email",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "expand",
            },
        )
        intent = self._intent(pi_id)
        for name in ("amount", "currency", "payment_method"):
            if name in params and intent["status"] not in _CONFIRMABLE:
                raise _ApiError(
                    400,
                    f"This PaymentIntent's {name} could not be updated because it has a status "
                    f"of {intent['status']}. You may only update the {name} of a PaymentIntent "
                    f"with one of the following statuses: {', '.join(_CONFIRMABLE)}.",
                    code="payment_intent_unexpected_state",
                    param=name,
                )
        amount = _int(params, "amount")
        currency = (_str(params, "currency") or intent["currency"]).lower()
        if amount is not None or "currency" in params:
            self._check_amount(amount if amount is not None else intent["amount"], currency)
        metadata = _metadata(params, intent["metadata"])
        pm_ref = _str(params, "payment_method")
        pm = self._payment_method(pm_ref, call) if pm_ref else None
        intent["metadata"] = metadata
        intent["currency"] = currency
        if amount is not None:
            intent["amount"] = amount
        for name in ("description", "receipt_email", "statement_descriptor"):
            if name in params:
                intent[name] = _str(params, name) or None
        if "statement_descriptor_suffix" in params:
            intent["statement_descriptor_suffix"] = (
                _str(params, "statement_descriptor_suffix") or None
            )
        if pm is not None:
            intent["payment_method"] = pm["id"]
            intent["status"] = "requires_confirmation"
        return self._expand(intent, params)

    def _confirm_payment_intent(self, call: _Call, pi_id: str) -> Json:
        params = call.params
        _allow(
            params,
            {"payment_method", "return_url", "receipt_email", "off_session", "expand"},
        )
        intent = self._intent(pi_id)
        if intent["status"] not in _CONFIRMABLE:
            raise _ApiError(
                400,
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be confirmed: {', '.join(_CONFIRMABLE)}.",
                code="payment_intent_unexpected_state",
            )
        pm_ref = _str(params, "payment_method") or intent["payment_method"]
        if pm_ref is None:
            raise self._missing_payment_method()
        self._require_return_url(intent["automatic_payment_methods"], _str(params, "return_url"))
        _bool(params, "off_session")
        pm = self._payment_method(pm_ref, call)
        if "receipt_email" in params:
            intent["receipt_email"] = _str(params, "receipt_email") or None
        self._charge(intent, pm, call)
        return self._expand(intent, params)

    def _cancel_payment_intent(self, call: _Call, pi_id: str) -> Json:
        _allow(call.params, {"cancellation_reason", "expand"})
        intent = self._intent(pi_id)
        reason = _enum(call.params, "cancellation_reason", _CANCELLATION_REASONS)
        if intent["status"] not in _CANCELABLE:
            raise _ApiError(
                400,
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(_CANCELABLE)}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(status="canceled", canceled_at=call.now, cancellation_reason=reason)
        self._emit("payment_intent.canceled", intent, call)
        return self._expand(intent, call.params)

    # -- charges and refunds -----------------------------------------------------------------

    def _retrieve_charge(self, call: _Call, ch_id: str) -> Json:
        _allow(call.params, {"expand"})
        charge = self.charges.get(ch_id)
        if charge is None:
            raise _missing("charge", ch_id, "id", 404)
        return self._expand(charge, call.params)

    def _create_refund(self, call: _Call, _: str) -> Json:
        params = call.params
        _allow(
            params,
            {"payment_intent", "charge", "amount", "reason", "metadata", "expand"},
        )
        pi_id = _str(params, "payment_intent")
        ch_id = _str(params, "charge")
        if (pi_id is None) == (ch_id is None):
            raise _invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        amount = _int(params, "amount")
        reason = _enum(params, "reason", _REFUND_REASONS)
        metadata = _metadata(params, {})
        if pi_id is not None:
            intent = self._intent(pi_id, "payment_intent", 400)
            if intent["status"] != "succeeded":
                raise _ApiError(
                    400,
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="payment_intent_unexpected_state",
                    param="payment_intent",
                )
            charge = self.charges[intent["latest_charge"]]
        else:
            found = self.charges.get(cast(str, ch_id))
            if found is None or found["status"] != "succeeded":
                raise _missing("charge", cast(str, ch_id), "charge")
            charge = found
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise _ApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount is None:
            amount = remaining
        if amount < 1:
            raise _invalid(
                "This value must be greater than or equal to 1.",
                param="amount",
                code="parameter_invalid_integer",
            )
        if amount > remaining:
            currency = charge["currency"]
            raise _ApiError(
                400,
                f"Refund amount ({_money(amount, currency)}) is greater than unrefunded amount "
                f"on charge ({_money(remaining, currency)})",
                code="amount_too_large",
                param="amount",
            )
        re_id = new_id("re_")
        refund: Json = {
            "id": re_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": call.now,
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": metadata,
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[re_id] = refund
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge, call, previous_attributes=previous)
        self._emit("refund.created", refund, call)
        return self._expand(refund, params)

    def _retrieve_refund(self, call: _Call, re_id: str) -> Json:
        _allow(call.params, {"expand"})
        refund = self.refunds.get(re_id)
        if refund is None:
            raise _missing("refund", re_id, "id", 404)
        return self._expand(refund, call.params)

    def _list_refunds(self, call: _Call, _: str) -> Json:
        params = call.params
        _allow(
            params,
            {
                "limit",
                "starting_after",
                "ending_before",
                "created",
                "payment_intent",
                "charge",
                "expand",
            },
        )
        items = self._created_filter(list(self.refunds.values()), params)
        for name in ("payment_intent", "charge"):
            wanted = _str(params, name)
            if wanted is not None:
                items = [item for item in items if item[name] == wanted]
        return self._page(items, params, "/v1/refunds", "refund")

    # -- events ------------------------------------------------------------------------------

    def _retrieve_event(self, call: _Call, evt_id: str) -> Json:
        _allow(call.params, {"expand"})
        event = self.events.get(evt_id)
        if event is None:
            raise _missing("event", evt_id, "id", 404)
        return copy.deepcopy(event)

    def _list_events(self, call: _Call, _: str) -> Json:
        params = call.params
        _allow(
            params,
            {"limit", "starting_after", "ending_before", "created", "type", "types"}
            | {"delivery_success", "expand"},
        )
        patterns = _list(params, "types") or _list(params, "type")
        items = [
            event
            for event in self._created_filter(list(self.events.values()), params)
            if not patterns or any(fnmatch.fnmatchcase(event["type"], p) for p in patterns)
        ]
        success = _bool(params, "delivery_success")
        if success is not None:
            items = [event for event in items if (event["pending_webhooks"] == 0) == success]
        return self._page([copy.deepcopy(e) for e in items], params, "/v1/events", "event")

    # -- lists and expansion -----------------------------------------------------------------

    @staticmethod
    def _created_filter(items: list[Json], params: Mapping[str, Any]) -> list[Json]:
        created = params.get("created")
        if created is None:
            return items
        if isinstance(created, str):
            exact = cast(int, _int(params, "created"))
            return [item for item in items if item["created"] == exact]
        _allow(created, {"gt", "gte", "lt", "lte"}, "created")
        bounds = {op: cast(int, _int(created, op)) for op in created}
        checks: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        return [
            item
            for item in items
            if all(checks[op](item["created"], bound) for op, bound in bounds.items())
        ]

    def _page(self, items: list[Json], params: Mapping[str, Any], url: str, kind: str) -> Json:
        """One page of a list, newest first, cursors as Stripe's starting_after/ending_before."""
        limit = _int(params, "limit")
        if limit is None:
            limit = 10
        if not 1 <= limit <= 100:
            raise _invalid(
                "This value must be between 1 and 100 (inclusive).",
                param="limit",
                code="parameter_invalid_integer",
            )
        newest_first = list(reversed(items))
        ids = [item["id"] for item in newest_first]
        after = _str(params, "starting_after")
        before = _str(params, "ending_before")
        if after is not None and before is not None:
            raise _invalid(
                "You may only specify one of these parameters: starting_after, ending_before."
            )
        if after is not None:
            if after not in ids:
                raise _missing(kind, after, "starting_after")
            rest = newest_first[ids.index(after) + 1 :]
            page, has_more = rest[:limit], len(rest) > limit
        elif before is not None:
            if before not in ids:
                raise _missing(kind, before, "ending_before")
            rest = newest_first[: ids.index(before)]
            page, has_more = rest[-limit:], len(rest) > limit
        else:
            page, has_more = newest_first[:limit], len(newest_first) > limit
        expand = [path.removeprefix("data.") for path in _list(params, "expand")]
        return {
            "object": "list",
            "data": [self._expand(item, {"expand": expand}) for item in page],
            "has_more": has_more,
            "url": url,
        }

    def _expand(self, obj: Json, params: Mapping[str, Any]) -> Json:
        paths = params.get("expand")
        expand = paths if isinstance(paths, list) else _list(params, "expand")
        result = self._public(copy.deepcopy(obj))
        stores: dict[str, dict[str, Json]] = {
            "latest_charge": self.charges,
            "charge": self.charges,
            "payment_intent": self.payment_intents,
            "payment_method": self.payment_methods,
        }
        for path in expand:
            store = stores.get(path)
            if store is None or path not in result:
                raise _invalid(f"This property cannot be expanded ({path}).", param="expand")
            ref = result[path]
            if isinstance(ref, str) and ref in store:
                result[path] = self._public(copy.deepcopy(store[ref]))
        return result


# ---------------------------------------------------------------------------------------------
# Webhook delivery


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to deliver an event; `status_code` is None when no HTTP answer came back."""

    event_id: str
    event_type: str
    attempt: int
    url: str | None
    status_code: int | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class _Pending:
    event_id: str
    event_type: str
    payload: bytes
    attempts: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Stripe treats a redirect from a webhook endpoint as a failed delivery.
    def redirect_request(self, *_: Any, **__: Any) -> None:
        return None


class _WebhookSender:
    """One background thread; events of one ordering key go out one at a time, in order.

    A failing event holds back the later events of its key while it is retried, so a receiver
    never sees `payment_intent.succeeded` before the `payment_intent.created` it follows.
    """

    def __init__(
        self,
        *,
        url: Callable[[], str | None],
        secret: str,
        clock: Callable[[], float],
        retry_delays: Sequence[float],
        record: Callable[[WebhookDelivery], None],
        settle: Callable[[str], None],
    ) -> None:
        self._url = url
        self._secret = secret
        self._clock = clock
        self._delays = tuple(retry_delays)
        self._record = record
        self._settle = settle
        self._queues: dict[str, deque[_Pending]] = {}
        self._due: list[tuple[float, int, str]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._opener = urllib.request.build_opener(
            # The receiver is local: never route it through a proxy from the environment.
            urllib.request.ProxyHandler({}),
            _NoRedirect(),
        )

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="stripe-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            dropped = sum(len(queue) for queue in self._queues.values())
            self._queues.clear()
            self._due.clear()
            self._condition.notify_all()
        if dropped:
            logger.warning("webhook deliveries dropped at stop", extra={"dropped": dropped})
        if self._thread is not None:
            self._thread.join(timeout=WEBHOOK_TIMEOUT_SECONDS + 1)
            self._thread = None

    def enqueue(self, key: str, pending: _Pending) -> None:
        with self._condition:
            queue = self._queues.get(key)
            if queue is None:
                self._queues[key] = deque([pending])
                self._schedule(key, time.monotonic())
            else:
                queue.append(pending)

    def wait_idle(self, timeout: float) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: not self._queues, timeout)

    def _schedule(self, key: str, when: float) -> None:
        heapq.heappush(self._due, (when, next(self._sequence), key))
        self._condition.notify_all()

    def _run(self) -> None:
        while True:
            with self._condition:
                key = self._next_key()
                if key is None:
                    return
                pending = self._queues[key][0]
            delivery = self._attempt(pending)
            self._record(delivery)
            final = delivery.succeeded or pending.attempts > len(self._delays)
            if final:
                if not delivery.succeeded:
                    logger.error(
                        "webhook delivery abandoned",
                        extra={
                            "event_id": pending.event_id,
                            "event_type": pending.event_type,
                            "attempts": pending.attempts,
                        },
                    )
                # Settled before leaving the queue, so a waiter woken by an empty queue sees it;
                # and outside the condition, as request threads take the account lock first.
                self._settle(pending.event_id)
            with self._condition:
                queue = self._queues.get(key)
                if not queue or queue[0] is not pending:
                    continue  # stopped meanwhile
                if not final:
                    self._schedule(key, time.monotonic() + self._delays[pending.attempts - 1])
                    continue
                queue.popleft()
                if queue:
                    self._schedule(key, time.monotonic())
                else:
                    del self._queues[key]
                    self._condition.notify_all()

    def _next_key(self) -> str | None:
        """Wait for the next due ordering key; None once stopping."""
        while not self._stopping:
            if not self._due:
                self._condition.wait()
                continue
            when, _, key = self._due[0]
            delay = when - time.monotonic()
            if delay > 0:
                self._condition.wait(delay)
                continue
            heapq.heappop(self._due)
            if key in self._queues:
                return key
        return None

    def _attempt(self, pending: _Pending) -> WebhookDelivery:
        pending.attempts += 1
        url = self._url()
        attempt = WebhookDelivery(pending.event_id, pending.event_type, pending.attempts, url)
        if url is None:
            return _replace(attempt, error="no webhook endpoint configured")
        # Stripe signs every attempt afresh, with the time of that attempt.
        signature = stripe_signature_header(pending.payload, self._secret, int(self._clock()))
        request = urllib.request.Request(
            url,
            data=pending.payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": WEBHOOK_USER_AGENT,
                "Accept": "*/*; q=0.5, application/xml",
                "Cache-Control": "no-cache",
                "Stripe-Signature": signature,
            },
        )
        try:
            with self._opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
                result = _replace(attempt, status_code=response.status)
        except urllib.error.HTTPError as error:
            error.close()
            result = _replace(attempt, status_code=error.code)
        except (urllib.error.URLError, OSError) as error:
            result = _replace(attempt, error=str(getattr(error, "reason", error)))
        if not result.succeeded:
            logger.warning(
                "webhook delivery failed",
                extra={
                    "event_id": pending.event_id,
                    "event_type": pending.event_type,
                    "attempt": pending.attempts,
                    "status_code": result.status_code,
                    "error": result.error,
                },
            )
        return result


def _replace(delivery: WebhookDelivery, **changes: Any) -> WebhookDelivery:
    return dataclasses.replace(delivery, **changes)


# ---------------------------------------------------------------------------------------------
# HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeStripe) -> None:
        self.fake = fake
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        cast(_Server, self.server).fake._serve(self, "GET")

    def do_POST(self) -> None:
        cast(_Server, self.server).fake._serve(self, "POST")

    def do_DELETE(self) -> None:
        cast(_Server, self.server).fake._serve(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib writes access lines to stderr; route them through logging instead.
        logger.debug("stripe fake http", extra={"line": format % args})


class FakeStripe(Part):
    """Stripe on localhost: point the SDK at `url` (`base_addresses={"api": url}`).

    Every event is kept (GET /v1/events) and, when a webhook URL is set, POSTed to it signed with
    `webhook_secret`; `webhook_events` limits which types are sent, as an endpoint's
    enabled_events does. `deliveries` records every attempt.
    """

    def __init__(
        self,
        *,
        api_key: str = "sk_test_localcloud",
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_localcloud",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        webhook_retry_delays: Sequence[float] = (0.5, 1.0, 2.0, 4.0),
        webhook_events: Collection[str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.deliveries: list[WebhookDelivery] = []
        self._webhook_url = webhook_url
        self._webhook_events = None if webhook_events is None else tuple(webhook_events)
        self._host = host
        self._port = port
        self._clock = clock
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._account = _Account(clock=clock, wants_event=self._wants, publish=self._publish)
        self._sender = _WebhookSender(
            url=lambda: self._webhook_url,
            secret=webhook_secret,
            clock=clock,
            retry_delays=webhook_retry_delays,
            record=lambda delivery: self.deliveries.append(delivery),
            settle=self._settle,
        )

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeStripe is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._server = _Server((self._host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-fake",
            daemon=True,
        )
        self._thread.start()
        self._sender.start()
        logger.info("stripe fake started", extra={"url": self.url})
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._sender.stop()

    def set_webhook_url(self, url: str | None) -> None:
        """Events created from now on go to `url`; queued ones go there at their next attempt."""
        self._webhook_url = url

    def wait_for_webhooks(self, timeout: float = 10.0) -> None:
        """Block until every queued webhook is delivered or given up."""
        if not self._sender.wait_idle(timeout):
            raise TimeoutError(f"webhooks still pending after {timeout}s")

    def events(self) -> list[Json]:
        """Every event so far, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._account.events.values()))

    # -- internals ---------------------------------------------------------------------------

    def _wants(self, event_type: str) -> bool:
        if self._webhook_url is None:
            return False
        patterns = self._webhook_events
        return patterns is None or any(fnmatch.fnmatchcase(event_type, p) for p in patterns)

    def _publish(self, key: str, event: Json) -> None:
        self._sender.enqueue(key, _Pending(event["id"], event["type"], _dump(event)))

    def _settle(self, event_id: str) -> None:
        with self._lock:
            self._account.settle(event_id)

    def _authenticate(self, header: str | None) -> None:
        if not header:
            raise _ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
                kept=False,
                headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
            )
        scheme, _, credentials = header.partition(" ")
        key = credentials.strip()
        if scheme.lower() == "basic":
            try:
                key = base64.b64decode(key).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
            raise _ApiError(
                401,
                f"Invalid API Key provided: {shown}",
                kept=False,
                headers={"WWW-Authenticate": 'Basic realm="Stripe"'},
            )

    def _serve(self, http: BaseHTTPRequestHandler, method: str) -> None:
        request_id = new_id("req_", 14)
        split = urllib.parse.urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length).decode() if length else ""
        source = raw if method == "POST" else split.query
        pairs = urllib.parse.parse_qsl(source, keep_blank_values=True)
        try:
            self._authenticate(http.headers.get("Authorization"))
            with self._lock:
                response = self._account.handle(
                    method, split.path, pairs, request_id, http.headers.get("Idempotency-Key")
                )
        except _ApiError as error:
            body = _dump(error.body(request_id, int(self._clock())))
            response = _Response(error.status, body, error.headers)
        except Exception:
            # A bug in the fake answers as Stripe's own failures do, so the caller sees an APIError.
            logger.exception(
                "stripe fake request crashed",
                extra={"method": method, "path": split.path, "request_id": request_id},
            )
            crash = _ApiError(500, "An unknown error occurred", type_="api_error", kept=False)
            response = _Response(500, _dump(crash.body(request_id, int(self._clock()))))
        logger.info(
            "stripe fake request",
            extra={
                "method": method,
                "path": split.path,
                "status": response.status,
                "request_id": request_id,
            },
        )
        http.send_response(response.status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(response.body)))
        http.send_header("Request-Id", request_id)
        http.send_header("Stripe-Version", http.headers.get("Stripe-Version") or API_VERSION)
        http.send_header("Access-Control-Allow-Origin", "*")
        http.send_header("Cache-Control", "no-cache, no-store")
        # Closing each connection lets stop() return without clients holding threads open.
        http.send_header("Connection", "close")
        for name, value in response.headers.items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(response.body)
        http.close_connection = True
