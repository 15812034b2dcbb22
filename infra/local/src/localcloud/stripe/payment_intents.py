"""PaymentIntents as Stripe runs them: create (with automatic payment methods, amount limits per
currency), retrieve, list, update, confirm (charging the test card: succeeded, or declined with
Stripe's decline error and a failed charge), cancel, and the charges and payment methods they
make, each change emitting the event Stripe emits."""

from __future__ import annotations

import copy
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, cast

from localcloud.stripe.cards import TEST_CARDS
from localcloud.stripe.params import (
    CANCELABLE,
    CANCELLATION_REASONS,
    CONFIRMABLE,
    MAXIMUM_AMOUNT,
    MINIMUM_AMOUNT,
    ApiError,
    Json,
    allow,
    bool_param,
    enum_param,
    int_param,
    invalid,
    list_param,
    metadata_param,
    missing,
    money,
    new_id,
    text_param,
)
from localcloud.stripe.state import AccountState, Call

logger = logging.getLogger(__name__)


class PaymentIntents(AccountState):
    """The PaymentIntent, Charge and PaymentMethod endpoints of the account."""

    def _payment_method(self, ref: str, call: Call) -> Json:
        """A test PaymentMethod id mints a fresh `pm_` object each time, as on Stripe."""
        if ref in self.payment_methods:
            return self.payment_methods[ref]
        card = TEST_CARDS.get(ref)
        if card is None:
            raise ApiError(
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

    def _retrieve_payment_method(self, call: Call, pm_id: str) -> Json:
        allow(call.params, {"expand"})
        pm = self.payment_methods.get(pm_id)
        if pm is None:
            raise missing("PaymentMethod", pm_id, "payment_method", 404)
        return self._public(pm)

    def _create_payment_intent(self, call: Call, _: str) -> Json:
        params = call.params
        allow(
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
        amount = cast(int, int_param(params, "amount", required=True))
        currency = cast(str, text_param(params, "currency", required=True)).lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise invalid(f"Invalid currency: {currency}.", param="currency")
        self._check_amount(amount, currency)
        capture_method = (
            enum_param(params, "capture_method", ("automatic", "automatic_async", "manual"))
            or "automatic_async"
        )
        if capture_method == "manual":
            raise invalid(
                "capture_method=manual is not supported by the local cloud's fake Stripe.",
                param="capture_method",
            )
        if enum_param(params, "confirmation_method", ("automatic", "manual")) == "manual":
            raise invalid(
                "confirmation_method=manual is not supported by the local cloud's fake Stripe.",
                param="confirmation_method",
            )
        payment_method_types = list_param(params, "payment_method_types")
        automatic = self._automatic_payment_methods(params, payment_method_types)
        confirm = bool(bool_param(params, "confirm"))
        return_url = text_param(params, "return_url")
        if return_url is not None and not confirm:
            raise invalid(
                "The parameter `return_url` cannot be passed when creating a PaymentIntent "
                "unless `confirm` is set to true.",
                param="return_url",
            )
        pm_ref = text_param(params, "payment_method")
        if confirm:
            if pm_ref is None:
                raise self._missing_payment_method()
            self._require_return_url(automatic, return_url)
        pm = self._payment_method(pm_ref, call) if pm_ref else None
        metadata = metadata_param(params, {})
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
            "description": text_param(params, "description"),
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
            "receipt_email": text_param(params, "receipt_email"),
            "review": None,
            "setup_future_usage": None,
            "shipping": None,
            "source": None,
            "statement_descriptor": text_param(params, "statement_descriptor"),
            "statement_descriptor_suffix": text_param(params, "statement_descriptor_suffix"),
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
        minimum = MINIMUM_AMOUNT.get(currency, 1)
        if amount < minimum:
            raise invalid(
                f"Amount must be at least {money(minimum, currency)} {currency}",
                param="amount",
                code="amount_too_small",
            )
        if amount > MAXIMUM_AMOUNT:
            raise invalid(
                f"Amount must be no more than {money(MAXIMUM_AMOUNT, currency)}",
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
            raise invalid("Invalid object", param="automatic_payment_methods")
        allow(raw, {"enabled", "allow_redirects"}, "automatic_payment_methods")
        enabled = bool_param(raw, "enabled")
        if enabled is None:
            raise invalid(
                "Missing required param: automatic_payment_methods[enabled].",
                param="automatic_payment_methods[enabled]",
                code="parameter_missing",
            )
        if enabled and payment_method_types:
            raise invalid(
                "You may only specify one of these parameters: automatic_payment_methods, "
                "payment_method_types.",
                param="automatic_payment_methods",
            )
        redirects = enum_param(raw, "allow_redirects", ("always", "never")) or "always"
        return {"allow_redirects": redirects, "enabled": enabled}

    @staticmethod
    def _require_return_url(automatic: Json | None, return_url: str | None) -> None:
        if return_url is not None or automatic is None or not automatic["enabled"]:
            return
        if automatic["allow_redirects"] != "never":
            raise ApiError(
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
    def _missing_payment_method() -> ApiError:
        return ApiError(
            400,
            "You cannot confirm this PaymentIntent because it's missing a payment method. You "
            "can either update the PaymentIntent with a payment method and then confirm it "
            "again, or confirm it again directly with a payment method.",
            code="payment_intent_unexpected_state",
        )

    def _charge(self, intent: Json, pm: Json, call: Call) -> None:
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
        error = ApiError(
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

    def _retrieve_payment_intent(self, call: Call, pi_id: str) -> Json:
        allow(call.params, {"client_secret", "expand"})
        return self._expand(self._intent(pi_id), call.params)

    def _list_payment_intents(self, call: Call, _: str) -> Json:
        allow(call.params, {"limit", "starting_after", "ending_before", "created", "expand"})
        items = self._created_filter(list(self.payment_intents.values()), call.params)
        return self._page(items, call.params, "/v1/payment_intents", "payment_intent")

    def _update_payment_intent(self, call: Call, pi_id: str) -> Json:
        params = call.params
        allow(
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
            if name in params and intent["status"] not in CONFIRMABLE:
                raise ApiError(
                    400,
                    f"This PaymentIntent's {name} could not be updated because it has a status "
                    f"of {intent['status']}. You may only update the {name} of a PaymentIntent "
                    f"with one of the following statuses: {', '.join(CONFIRMABLE)}.",
                    code="payment_intent_unexpected_state",
                    param=name,
                )
        amount = int_param(params, "amount")
        currency = (text_param(params, "currency") or intent["currency"]).lower()
        if amount is not None or "currency" in params:
            self._check_amount(amount if amount is not None else intent["amount"], currency)
        metadata = metadata_param(params, intent["metadata"])
        pm_ref = text_param(params, "payment_method")
        pm = self._payment_method(pm_ref, call) if pm_ref else None
        intent["metadata"] = metadata
        intent["currency"] = currency
        if amount is not None:
            intent["amount"] = amount
        for name in ("description", "receipt_email", "statement_descriptor"):
            if name in params:
                intent[name] = text_param(params, name) or None
        if "statement_descriptor_suffix" in params:
            intent["statement_descriptor_suffix"] = (
                text_param(params, "statement_descriptor_suffix") or None
            )
        if pm is not None:
            intent["payment_method"] = pm["id"]
            intent["status"] = "requires_confirmation"
        return self._expand(intent, params)

    def _confirm_payment_intent(self, call: Call, pi_id: str) -> Json:
        params = call.params
        allow(
            params,
            {"payment_method", "return_url", "receipt_email", "off_session", "expand"},
        )
        intent = self._intent(pi_id)
        if intent["status"] not in CONFIRMABLE:
            raise ApiError(
                400,
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be confirmed: {', '.join(CONFIRMABLE)}.",
                code="payment_intent_unexpected_state",
            )
        pm_ref = text_param(params, "payment_method") or intent["payment_method"]
        if pm_ref is None:
            raise self._missing_payment_method()
        self._require_return_url(
            intent["automatic_payment_methods"], text_param(params, "return_url")
        )
        bool_param(params, "off_session")
        pm = self._payment_method(pm_ref, call)
        if "receipt_email" in params:
            intent["receipt_email"] = text_param(params, "receipt_email") or None
        self._charge(intent, pm, call)
        return self._expand(intent, params)

    def _cancel_payment_intent(self, call: Call, pi_id: str) -> Json:
        allow(call.params, {"cancellation_reason", "expand"})
        intent = self._intent(pi_id)
        reason = enum_param(call.params, "cancellation_reason", CANCELLATION_REASONS)
        if intent["status"] not in CANCELABLE:
            raise ApiError(
                400,
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(CANCELABLE)}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(status="canceled", canceled_at=call.now, cancellation_reason=reason)
        self._emit("payment_intent.canceled", intent, call)
        return self._expand(intent, call.params)

    def _retrieve_charge(self, call: Call, ch_id: str) -> Json:
        allow(call.params, {"expand"})
        charge = self.charges.get(ch_id)
        if charge is None:
            raise missing("charge", ch_id, "id", 404)
        return self._expand(charge, call.params)
