"""The park function as Lambda loads it: settings from the environment, a real-shaped SQS batch
from the fault queue, the store in (in-process) moto."""

from __future__ import annotations

import importlib
import json
import sys
from types import ModuleType

import pytest
from event_hub.parked import FaultStore
from shop_testkit import LambdaContext, eventbridge_event, sqs_event

from .conftest import TABLE, MakeFault


@pytest.fixture
def park(dynamodb: object, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("FAULT_TABLE_NAME", TABLE)
    sys.modules.pop("event_hub.handlers.park", None)
    return importlib.import_module("event_hub.handlers.park")


def test_fault_messages_are_parked_and_only_the_unreadable_one_is_reported(
    park: ModuleType, make_fault: MakeFault
) -> None:
    # Given a batch from the fault queue: two fault envelopes and a message that is no fault
    first, second = make_fault(1), make_fault(2)
    event = sqs_event(first, second, '{"type": "order-placed"}', queue_name="event-hub-faults")
    unreadable = event["Records"][2]["messageId"]

    # When the park function handles it
    response = park.handle(event, LambdaContext(function_name="event-hub-test-park"))

    # Then both faults are parked and the batch response names the unreadable message only
    assert response == {"batchItemFailures": [{"itemIdentifier": unreadable}]}
    store = FaultStore(TABLE)
    assert sorted(fault.fault_id for fault in store.all()) == sorted([first.id, second.id])


def test_a_whole_eventbridge_event_is_parked_as_its_detail(
    park: ModuleType, make_fault: MakeFault
) -> None:
    # moto's EventBridge ignores the rule's InputPath and sends the whole event to the queue
    fault = make_fault()
    event = sqs_event(json.dumps(eventbridge_event(fault)))

    response = park.handle(event, LambdaContext())

    assert response == {"batchItemFailures": []}
    [parked] = FaultStore(TABLE).all()
    assert parked.fault_id == fault.id
    assert parked.record == fault.fault.record


def test_a_fault_delivered_twice_in_one_batch_is_one_item_counting_both(
    park: ModuleType, make_fault: MakeFault
) -> None:
    fault = make_fault()

    response = park.handle(sqs_event(fault, fault), LambdaContext())

    assert response == {"batchItemFailures": []}
    [parked] = FaultStore(TABLE).all()
    assert parked.attempts == 2


def test_a_store_that_refuses_a_write_fails_only_that_message(
    park: ModuleType, make_fault: MakeFault, dynamodb: object
) -> None:
    # Given a table that does not exist, as after a misconfiguration
    park.parker._store = FaultStore("no-such-table")
    event = sqs_event(make_fault())

    response = park.handle(event, LambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
