"""`Account`: the fake Stripe's API, routed: each request to its endpoint, with Stripe's
Idempotency-Key semantics (a replay answers the first response, a key reused for another request
is an idempotency_error), and the Event endpoints."""

from __future__ import annotations

import copy
import fnmatch
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence

from localcloud.stripe.params import (
    ApiError,
    Json,
    allow,
    bool_param,
    fingerprint_of,
    list_param,
    missing,
    parse_params,
)
from localcloud.stripe.payment_intents import PaymentIntents
from localcloud.stripe.refunds import Refunds
from localcloud.stripe.state import Call, Handler, Kept, Response, dump

logger = logging.getLogger(__name__)


class Account(PaymentIntents, Refunds):
    """One Stripe test-mode account: its state, its endpoints, and the routes to them."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        wants_event: Callable[[str], bool],
        publish: Callable[[str, Json], None],
    ) -> None:
        super().__init__(clock=clock, wants_event=wants_event, publish=publish)
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

    def handle(
        self,
        method: str,
        path: str,
        pairs: Sequence[tuple[str, str]],
        request_id: str,
        idempotency_key: str | None,
        *,
        publishable: bool = False,
    ) -> Response:
        handler, arg = self._route(method, path)
        if publishable:
            pairs = self._as_browser(method, path, arg, pairs)
        now = int(self._clock())
        # Stripe ignores Idempotency-Key on GET and DELETE.
        key = idempotency_key if method == "POST" else None
        fingerprint = fingerprint_of(pairs)
        if key is not None and key in self._kept:
            return self._replay(self._kept[key], method, path, fingerprint, key)
        try:
            call = Call(parse_params(pairs), request_id, key, now)
            status, body, kept = 200, dump(handler(call, arg)), True
        except ApiError as error:
            status, body, kept = error.status, dump(error.body(request_id, now)), error.kept
        headers = {"Idempotency-Key": key} if key is not None else {}
        if key is not None and kept:
            self._kept[key] = Kept(method, path, fingerprint, request_id, status, body, headers)
        return Response(status, body, headers)

    def _route(self, method: str, path: str) -> tuple[Handler, str]:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return handler, urllib.parse.unquote(match.group(1)) if match.groups() else ""
        raise ApiError(
            404,
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            kept=False,
        )

    def _as_browser(
        self, method: str, path: str, pi_id: str, pairs: Sequence[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """What a publishable key may do, as Stripe.js does it: retrieve or confirm one intent
        with that intent's client secret. The parameters without the secret, once checked."""
        browser_calls = {
            ("GET", f"/v1/payment_intents/{pi_id}"),
            ("POST", f"/v1/payment_intents/{pi_id}/confirm"),
        }
        if not pi_id or (method, path) not in browser_calls:
            raise ApiError(
                403,
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key. You can find a list of your API keys at "
                "https://dashboard.stripe.com/account/apikeys.",
                kept=False,
            )
        secrets = [value for key, value in pairs if key == "client_secret"]
        intent = self.payment_intents.get(pi_id)
        if not secrets:
            raise ApiError(
                400,
                "Missing required param: client_secret.",
                code="parameter_missing",
                param="client_secret",
                kept=False,
            )
        if intent is None or secrets[0] != intent["client_secret"]:
            raise ApiError(
                400,
                "The client_secret provided does not match any associated PaymentIntent on this "
                "account. Ensure the publishable key used belongs to the same account that "
                "created the PaymentIntent.",
                code="payment_intent_invalid_parameter",
                param="client_secret",
                kept=False,
            )
        return [(key, value) for key, value in pairs if key != "client_secret"]

    @staticmethod
    def _replay(
        kept: Kept,
        method: str,
        path: str,
        fingerprint: tuple[tuple[str, str], ...],
        key: str,
    ) -> Response:
        if (kept.method, kept.path) != (method, path):
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{kept.method} {kept.path}' vs '{method} {path}'). Try using a "
                f"key other than '{key}' if you meant to execute a different request.",
                type_="idempotency_error",
                kept=False,
            )
        if kept.fingerprint != fingerprint:
            raise ApiError(
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
        return Response(kept.status, kept.body, headers)

    def _retrieve_event(self, call: Call, evt_id: str) -> Json:
        allow(call.params, {"expand"})
        event = self.events.get(evt_id)
        if event is None:
            raise missing("event", evt_id, "id", 404)
        return copy.deepcopy(event)

    def _list_events(self, call: Call, _: str) -> Json:
        params = call.params
        allow(
            params,
            {"limit", "starting_after", "ending_before", "created", "type", "types"}
            | {"delivery_success", "expand"},
        )
        patterns = list_param(params, "types") or list_param(params, "type")
        items = [
            event
            for event in self._created_filter(list(self.events.values()), params)
            if not patterns or any(fnmatch.fnmatchcase(event["type"], p) for p in patterns)
        ]
        success = bool_param(params, "delivery_success")
        if success is not None:
            items = [event for event in items if (event["pending_webhooks"] == 0) == success]
        return self._page([copy.deepcopy(e) for e in items], params, "/v1/events", "event")
