"""The fault store: one item per fault id, attempts counted, every page listed, and the
parked -> resubmitted -> parked transitions `make faults RESUBMIT=1` relies on."""

from __future__ import annotations

import json

import pytest
from event_hub.parked import PARKED, RESUBMITTED, FaultStore, SeenError

from .conftest import TABLE, Clock, MakeFault


def test_the_same_fault_parked_three_times_is_one_item_counting_every_attempt(
    store: FaultStore, make_fault: MakeFault
) -> None:
    # Given a record that failed three times in the same function, with different errors
    first = make_fault(error_type="Timeout", message="slow", timestamp=1_000)
    second = make_fault(error_type="KeyError", message="'sku'", timestamp=2_000)
    last = make_fault(error_type="ValueError", message="bad sku", timestamp=3_000, attempts=1)

    # When each of its faults is parked
    for fault in (first, second, last):
        store.park(fault)

    # Then there is one parked fault, with 3 attempts, the first error and time of the first and
    # the last error and time of the last
    [parked] = store.all()
    assert parked.fault_id == first.id
    assert parked.status == PARKED
    assert parked.attempts == 3
    assert parked.first_error == SeenError("Timeout", "slow")
    assert parked.last_error == SeenError("ValueError", "bad sku")
    assert (parked.first_seen_at, parked.last_seen_at) == (1_000, 3_000)
    assert parked.function == "inventory-test-listener"
    assert parked.source == "inventory"
    assert parked.event_type == "order-placed"
    assert parked.partition_key == "order-1"
    assert parked.resubmitted_at is None


def test_a_fault_standing_for_several_attempts_adds_them_all(
    store: FaultStore, make_fault: MakeFault
) -> None:
    store.park(make_fault(attempts=4))
    store.park(make_fault(attempts=1))

    [parked] = store.all()
    assert parked.attempts == 5


def test_the_record_survives_exactly_as_it_was_delivered(
    store: FaultStore, make_fault: MakeFault
) -> None:
    fault = make_fault()

    store.park(fault)

    [parked] = store.all()
    assert parked.record == fault.fault.record
    assert json.loads(parked.payload()) == {"Records": [fault.fault.record]}


def test_a_store_of_more_than_one_page_is_listed_completely_oldest_first(
    store: FaultStore, make_fault: MakeFault
) -> None:
    # Given 30 different parked faults, read back 7 to a page
    for sequence in range(30):
        store.park(make_fault(sequence, timestamp=10_000 - sequence))

    # When they are listed
    pages = list(store.pages(page_size=7))
    listed = store.all(page_size=7)

    # Then every page was read and every fault is there once, the oldest first
    assert len(pages) >= 5
    assert sum(len(page) for page in pages) == 30
    assert [fault.first_seen_at for fault in listed] == sorted(10_000 - s for s in range(30))
    assert len({fault.fault_id for fault in listed}) == 30


def test_a_parked_fault_is_marked_resubmitted_once(
    store: FaultStore, make_fault: MakeFault, clock: Clock
) -> None:
    fault = make_fault()
    store.park(fault)
    clock.now = 5_000

    assert store.mark_resubmitted(fault.id) is True
    assert store.mark_resubmitted(fault.id) is False, "already taken by a resubmission"

    parked = store.get(fault.id)
    assert parked is not None
    assert (parked.status, parked.resubmitted_at, parked.attempts) == (RESUBMITTED, 5_000, 1)


def test_a_resubmitted_fault_named_explicitly_can_be_resubmitted_again(
    store: FaultStore, make_fault: MakeFault
) -> None:
    fault = make_fault()
    store.park(fault)
    store.mark_resubmitted(fault.id)

    assert store.mark_resubmitted(fault.id, even_if_resubmitted=True) is True


def test_a_fault_that_is_not_there_is_not_marked(store: FaultStore) -> None:
    assert store.mark_resubmitted("no-such-fault") is False
    assert store.get("no-such-fault") is None
    assert store.all() == []


def test_a_resubmission_that_failed_parks_it_again_with_one_attempt_more(
    store: FaultStore, make_fault: MakeFault, clock: Clock
) -> None:
    fault = make_fault(timestamp=1_000)
    store.park(fault)
    store.mark_resubmitted(fault.id)
    clock.now = 9_000

    store.failed_again(fault.id, "FunctionError", "Unhandled: boom")

    parked = store.get(fault.id)
    assert parked is not None
    assert parked.status == PARKED
    assert parked.attempts == 2
    assert parked.first_error == SeenError("RuntimeError", "boom")
    assert parked.last_error == SeenError("FunctionError", "Unhandled: boom")
    assert (parked.first_seen_at, parked.last_seen_at) == (1_000, 9_000)


def test_failed_again_does_not_invent_a_fault(store: FaultStore) -> None:
    with pytest.raises(store.client.exceptions.ConditionalCheckFailedException):
        store.failed_again("no-such-fault", "FunctionError", "boom")


def test_a_resubmitted_fault_that_fails_again_is_parked_again_on_the_same_item(
    store: FaultStore, make_fault: MakeFault
) -> None:
    # Given a fault that was resubmitted
    store.park(make_fault(timestamp=1_000))
    store.mark_resubmitted(make_fault().id)

    # When its function fails on the record again and publishes the same fault
    store.park(make_fault(error_type="ValueError", message="still bad", timestamp=2_000))

    # Then the same item is parked again, one attempt more
    [parked] = store.all()
    assert parked.status == PARKED
    assert parked.attempts == 2
    assert parked.last_error == SeenError("ValueError", "still bad")
    assert parked.resubmitted_at is not None


def test_the_store_makes_its_client_only_when_first_used(dynamodb: object) -> None:
    store = FaultStore(TABLE)

    assert store._client is None
    assert store.all() == []
    assert store._client is not None
