"""Stripe's documented test PaymentMethods (https://docs.stripe.com/testing): cards that succeed
and cards that decline, each with the decline code and message Stripe gives."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

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
