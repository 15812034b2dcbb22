"""One contract, two adapters: the in-memory ledger the unit tests use behaves as the DynamoDB
one does (against moto's server), conditional writes and all."""

from __future__ import annotations

import pytest
from stripe_esg.domain import Money, PaymentStatus
from stripe_esg.ports import PaymentLedger

EUR_20 = Money(2000, "EUR")


def test_an_unknown_order_has_no_payment(ledger: PaymentLedger) -> None:
    assert ledger.payment("order-1") is None


def test_the_first_intent_recorded_is_the_orders_and_a_second_is_not_kept(
    ledger: PaymentLedger,
) -> None:
    first = ledger.record_intent("order-1", "pi_1", EUR_20)
    second = ledger.record_intent("order-1", "pi_2", Money(1, "EUR"))

    assert first == second
    assert (first.intent_id, first.amount, first.status) == ("pi_1", EUR_20, PaymentStatus.CREATED)
    assert ledger.payment("order-1") == first


def test_an_order_may_end_before_and_after_its_intent_is_recorded(ledger: PaymentLedger) -> None:
    early = ledger.end_order("order-1")
    recorded = ledger.record_intent("order-1", "pi_1", EUR_20)
    late = ledger.end_order("order-2")

    assert (early.intent_id, early.order_ended) == (None, True)
    assert (recorded.intent_id, recorded.order_ended) == ("pi_1", True)
    assert late.order_ended


def test_a_payment_moves_forward_only(ledger: PaymentLedger) -> None:
    ledger.record_intent("order-1", "pi_1", EUR_20)

    succeeded = ledger.advance("order-1", PaymentStatus.SUCCEEDED, cause="evt_1")
    not_back = ledger.advance("order-1", PaymentStatus.FAILED, cause="evt_0")
    refunded = ledger.advance(
        "order-1", PaymentStatus.REFUNDED, cause="order-ended", refund_id="re_1"
    )

    assert (succeeded.status, succeeded.moved_by) == (PaymentStatus.SUCCEEDED, "evt_1")
    assert not_back == succeeded
    assert (refunded.status, refunded.refund_id, refunded.moved_by) == (
        PaymentStatus.REFUNDED,
        "re_1",
        "order-ended",
    )
    assert ledger.payment("order-1") == refunded


def test_advancing_a_payment_without_an_intent_is_refused(ledger: PaymentLedger) -> None:
    ledger.end_order("order-1")

    with pytest.raises(LookupError):
        ledger.advance("order-1", PaymentStatus.SUCCEEDED, cause="evt_1")
    with pytest.raises(LookupError):
        ledger.advance("order-2", PaymentStatus.SUCCEEDED, cause="evt_1")


def test_a_stripe_event_is_remembered_once(ledger: PaymentLedger) -> None:
    assert not ledger.seen("evt_1")

    ledger.remember("evt_1", expires_at=2_000_000_000)
    ledger.remember("evt_1", expires_at=2_000_000_001)

    assert ledger.seen("evt_1")
    assert not ledger.seen("evt_2")
