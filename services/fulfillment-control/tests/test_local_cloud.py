"""The service deployed into the local cloud from its `serverless package` artifacts, beside the
event hub, and driven only through the bus, as the rest of the system drives it: the happy path's
events yield `order-fulfillment-requested`, an unpaid order expires by its timer (a one-shot
schedule the local cloud fires), and a bad event is parked without holding back the others."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from event_hub.parked import FaultStore
from localcloud.cloud import LocalCloud
from localcloud.testing import eventually, put_on_bus
from localcloud.trail import TrailEntry
from shop_envelope import deterministic_id

ROOT = Path(__file__).resolve().parents[3]
# A short payment window for this stack, set when it is packaged: the expiry takes seconds, and
# the trigger, cold, gets to the order before its window closes, so the schedule is what fires.
WINDOW_SECONDS = 8
# Cold starts of the functions under load on two cores, then a hop or two each.
WAIT = 30.0


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    before = os.environ.get("SHOP_PAYMENT_WINDOW_SECONDS")
    os.environ["SHOP_PAYMENT_WINDOW_SECONDS"] = str(WINDOW_SECONDS)
    try:
        with LocalCloud(
            state_dir=tmp_path_factory.mktemp("localcloud"), serverless=ROOT / "make" / "serverless"
        ) as local_cloud:
            assert local_cloud.deploy(ROOT / "infra" / "event-hub"), local_cloud.failures
            assert local_cloud.deploy(ROOT / "services" / "fulfillment-control"), (
                local_cloud.failures
            )
            yield local_cloud
    finally:
        if before is None:
            os.environ.pop("SHOP_PAYMENT_WINDOW_SECONDS", None)
        else:
            os.environ["SHOP_PAYMENT_WINDOW_SECONDS"] = before


ENTITY = {"order": "id", "reservation": "orderId", "payment": "orderId"}


def event(
    event_type: str, order_id: str, source: str, entity: str, **fields: Any
) -> dict[str, Any]:
    return {
        "id": deterministic_id(event_type, order_id),
        "type": event_type,
        "timestamp": time.time_ns() // 1_000_000,
        "partitionKey": order_id,
        "tags": {"source": source, "stage": "local", "correlationId": order_id},
        entity: {ENTITY[entity]: order_id, **fields},
    }


def placed(order_id: str) -> dict[str, Any]:
    return event("order-placed", order_id, "order-bff", "order", customerId="c-1", lines=[])


def reserved(order_id: str) -> dict[str, Any]:
    return event("inventory-reserved", order_id, "inventory", "reservation", id="r-1", lines=[])


def paid(order_id: str) -> dict[str, Any]:
    return event(
        "payment-succeeded",
        order_id,
        "stripe-esg",
        "payment",
        intentId="pi_1",
        amount=100,
        currency="EUR",
    )


def published(cloud: LocalCloud, key: str, detail_type: str) -> list[TrailEntry]:
    return [entry for entry in cloud.trail.for_key(key) if entry.detail_type == detail_type]


def collected_types(cloud: LocalCloud, order_id: str) -> set[str]:
    """The types of the events the service's store holds for the order."""
    table = next(s for s in cloud.stacks if s.name == "fulfillment-control-local").outputs
    items = cloud.aws.client("dynamodb").query(
        TableName=table["TableName"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
    )["Items"]
    return {item["type"]["S"] for item in items if item["sk"]["S"].startswith("EVENT#")}


def schedules(cloud: LocalCloud) -> list[str]:
    return [s["Name"] for s in cloud.aws.client("scheduler").list_schedules()["Schedules"]]


def test_the_happy_paths_events_on_the_bus_yield_fulfillment_requested_and_no_timer(
    cloud: LocalCloud,
) -> None:
    # When an order's placement, reservation and payment are put on the bus
    put_on_bus(cloud, placed("order-1"), reserved("order-1"), paid("order-1"))

    # Then the control service's order-fulfillment-requested follows them on the bus, once
    [requested] = eventually(
        lambda: published(cloud, "order-1", "order-fulfillment-requested"), timeout=WAIT
    )
    assert requested.source == "fulfillment-control"
    assert requested.detail["order"] == {"id": "order-1"}
    assert requested.detail["id"] == deterministic_id("fulfillment", "order-1")
    # and the order's payment window was cancelled: no schedule is left behind (and its window
    # event never comes: the next test, which waits for a window to close, says so)
    assert schedules(cloud) == []
    assert [
        e.detail_type for e in cloud.trail.for_key("order-1") if e.source.startswith("fulfillment")
    ] == ["order-fulfillment-requested"]


def test_the_local_stage_has_windows_of_seconds(cloud: LocalCloud) -> None:
    environment = cloud.lambdas.functions["fulfillment-control-local-trigger"].environment

    assert environment["PAYMENT_WINDOW_SECONDS"] == str(WINDOW_SECONDS), "as this test packaged it"
    assert environment["CANCELLATION_WINDOW_SECONDS"] == "2"


def test_an_order_nobody_pays_expires_when_its_window_closes(cloud: LocalCloud) -> None:
    # Given an order placed and reserved, and a window of a few seconds
    put_on_bus(cloud, placed("order-unpaid"), reserved("order-unpaid"))
    eventually(lambda: schedules(cloud), timeout=WAIT)

    # When nobody pays, Then the schedule fires its event onto the bus, and the order expires
    [closed] = eventually(
        lambda: published(cloud, "order-unpaid", "payment-window-closed"), timeout=WAIT
    )
    [expired] = eventually(lambda: published(cloud, "order-unpaid", "order-expired"), timeout=WAIT)
    assert closed.source == "fulfillment-control.timers"
    assert closed.detail["id"] == deterministic_id("payment-window-closed", "order-unpaid")
    assert expired.detail["order"] == {"id": "order-unpaid"}
    assert schedules(cloud) == [], "a fired schedule deletes itself"
    assert published(cloud, "order-1", "payment-window-closed") == [], (
        "the paid order's was deleted"
    )
    # And a payment that arrives after the window gets no fulfillment
    put_on_bus(cloud, paid("order-unpaid"))
    time.sleep(1.5)
    assert published(cloud, "order-unpaid", "order-fulfillment-requested") == []


def test_a_request_to_cancel_an_unpaid_order_cancels_it_once_its_cancellation_window_closes(
    cloud: LocalCloud,
) -> None:
    # When a customer asks to cancel an order placed and reserved, but not paid
    cancel = event("order-cancellation-requested", "order-regret", "order-bff", "order")
    put_on_bus(cloud, placed("order-regret"), reserved("order-regret"), cancel)

    # Then, once a payment made before the request could have arrived, it is cancelled for them
    [cancelled] = eventually(
        lambda: published(cloud, "order-regret", "order-cancelled"), timeout=WAIT
    )
    assert cancelled.detail["order"] == {"id": "order-regret", "reason": "CUSTOMER_REQUEST"}
    # (its cancellation window's event came from the bus, or, if the trigger got to the request
    # only after that window had closed, was collected at once: collected either way)
    assert "cancellation-window-closed" in collected_types(cloud, "order-regret")
    assert published(cloud, "order-regret", "payment-window-closed") == []
    assert schedules(cloud) == []


def test_a_bad_event_is_parked_once_and_the_events_behind_it_still_decide(
    cloud: LocalCloud,
) -> None:
    # Given an order whose events on the stream have a malformed one among them
    malformed = paid("order-bad")
    del malformed["payment"]["orderId"]
    failed = event(
        "inventory-reservation-failed",
        "order-oos",
        "inventory",
        "reservation",
        id="r",
        lines=[],
        shortages=[],
    )
    put_on_bus(cloud, placed("order-oos"), malformed, failed)

    # Then the bad event is one parked fault, and the order behind it is cancelled for its stock
    store = FaultStore(cloud.endpoints()["faults"], client=cloud.aws.client("dynamodb"))

    def parked() -> list[Any]:
        return [
            fault
            for fault in store.all()
            if b'"pi_1"' in base64.b64decode(fault.record.get("kinesis", {}).get("data", ""))
            and fault.function == "fulfillment-control-local-listener"
        ]

    [fault] = eventually(parked, timeout=WAIT)
    assert fault.last_error.type == "InvalidEvent"
    [cancelled] = eventually(lambda: published(cloud, "order-oos", "order-cancelled"), timeout=WAIT)
    assert cancelled.detail["order"] == {"id": "order-oos", "reason": "OUT_OF_STOCK"}
