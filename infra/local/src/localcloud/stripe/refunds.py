"""Refunds as Stripe runs them: created against a succeeded PaymentIntent or its charge, whole or
partial, never more than what is left, each emitting the events Stripe emits."""

from __future__ import annotations

import logging
from typing import cast

from localcloud.stripe.params import (
    REFUND_REASONS,
    ApiError,
    Json,
    allow,
    enum_param,
    int_param,
    invalid,
    metadata_param,
    missing,
    money,
    new_id,
    text_param,
)
from localcloud.stripe.state import AccountState, Call

logger = logging.getLogger(__name__)


class Refunds(AccountState):
    """The Refund endpoints of the account."""

    def _create_refund(self, call: Call, _: str) -> Json:
        params = call.params
        allow(
            params,
            {"payment_intent", "charge", "amount", "reason", "metadata", "expand"},
        )
        pi_id = text_param(params, "payment_intent")
        ch_id = text_param(params, "charge")
        if (pi_id is None) == (ch_id is None):
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        amount = int_param(params, "amount")
        reason = enum_param(params, "reason", REFUND_REASONS)
        metadata = metadata_param(params, {})
        if pi_id is not None:
            intent = self._intent(pi_id, "payment_intent", 400)
            if intent["status"] != "succeeded":
                raise ApiError(
                    400,
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="payment_intent_unexpected_state",
                    param="payment_intent",
                )
            charge = self.charges[intent["latest_charge"]]
        else:
            found = self.charges.get(cast(str, ch_id))
            if found is None or found["status"] != "succeeded":
                raise missing("charge", cast(str, ch_id), "charge")
            charge = found
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise ApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount is None:
            amount = remaining
        if amount < 1:
            raise invalid(
                "This value must be greater than or equal to 1.",
                param="amount",
                code="parameter_invalid_integer",
            )
        if amount > remaining:
            currency = charge["currency"]
            raise ApiError(
                400,
                f"Refund amount ({money(amount, currency)}) is greater than unrefunded amount "
                f"on charge ({money(remaining, currency)})",
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

    def _retrieve_refund(self, call: Call, re_id: str) -> Json:
        allow(call.params, {"expand"})
        refund = self.refunds.get(re_id)
        if refund is None:
            raise missing("refund", re_id, "id", 404)
        return self._expand(refund, call.params)

    def _list_refunds(self, call: Call, _: str) -> Json:
        params = call.params
        allow(
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
            wanted = text_param(params, name)
            if wanted is not None:
                items = [item for item in items if item[name] == wanted]
        return self._page(items, params, "/v1/refunds", "refund")
