"""The inventory deployed into the local cloud from its `serverless package` artifacts, beside the
event hub, and driven only through the bus, as the rest of the system drives it."""

import base64
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from event_hub.parked import FaultStore, ParkedFault
from inventory.cli import main as catalog
from localcloud import cli
from localcloud.cloud import LocalCloud
from localcloud.testing import eventually, put_on_bus
from localcloud.trail import TrailEntry
from shop_envelope import deterministic_id

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "services" / "inventory" / "seed" / "catalog.json"
# Cold starts of three functions under load on two cores, then a hop or two each.
WAIT = 30.0


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(
        state_dir=tmp_path_factory.mktemp("localcloud"), serverless=ROOT / "make" / "serverless"
    ) as local_cloud:
        assert local_cloud.deploy(ROOT / "infra" / "event-hub") is not None, local_cloud.failures
        assert local_cloud.deploy(ROOT / "services" / "inventory") is not None, local_cloud.failures
        endpoints = local_cloud.write_endpoints()
        assert (
            catalog(["--stage", "local", "--local-cloud", str(endpoints), "load", str(SEED)]) == 0
        )
        yield local_cloud


def order_placed(order_id: str, *lines: tuple[str, int]) -> dict[str, Any]:
    return {
        "id": deterministic_id("order-placed", order_id),
        "type": "order-placed",
        "timestamp": time.time_ns() // 1_000_000,
        "partitionKey": order_id,
        "tags": {"source": "order-bff", "stage": "local"},
        "order": {
            "id": order_id,
            "customerId": "customer-1",
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        },
    }


def published(cloud: LocalCloud, key: str, detail_type: str) -> list[TrailEntry]:
    return [entry for entry in cloud.trail.for_key(key) if entry.detail_type == detail_type]


def test_loading_the_catalog_publishes_every_product_and_its_stock(cloud: LocalCloud) -> None:
    products = eventually(lambda: published(cloud, "KETTLE-GOOSE", "product-updated"), timeout=WAIT)
    stock = eventually(
        lambda: published(cloud, "KETTLE-GOOSE", "stock-level-changed"), timeout=WAIT
    )

    assert products[0].source == "inventory"
    assert products[0].detail["product"]["price"] == {"amount": 6900, "currency": "EUR"}
    assert stock[0].detail["stock"]["available"] == 12


def test_an_order_placed_on_the_bus_yields_inventory_reserved_on_the_bus(
    cloud: LocalCloud,
) -> None:
    # When the BFF's order-placed event is put on the bus
    put_on_bus(cloud, order_placed("order-1", ("MUG-CLASSIC", 2), ("FILTERS-100", 1)))

    # Then the inventory's inventory-reserved for that order follows it on the bus
    [reserved] = eventually(lambda: published(cloud, "order-1", "inventory-reserved"), timeout=WAIT)
    assert reserved.source == "inventory"
    assert reserved.detail["reservation"]["lines"] == [
        {"sku": "FILTERS-100", "quantity": 1},
        {"sku": "MUG-CLASSIC", "quantity": 2},
    ]
    assert reserved.correlation_id == "order-1"


def test_twenty_orders_racing_for_the_last_five_units_reserve_five(cloud: LocalCloud) -> None:
    # Given the grinder's stock down to its last five units (six listed, one taken)
    put_on_bus(cloud, order_placed("race-warm-up", ("GRINDER-BURR", 1)))
    eventually(lambda: published(cloud, "race-warm-up", "inventory-reserved"), timeout=WAIT)

    # When twenty orders for one each are put on the bus at once
    orders = [f"race-{n}" for n in range(20)]
    put_on_bus(cloud, *(order_placed(order, ("GRINDER-BURR", 1)) for order in orders))

    # Then exactly five are reserved and fifteen fail, each with its own event on the bus
    def outcomes() -> Counter[str]:
        return Counter(
            entry.detail_type
            for order in orders
            for entry in cloud.trail.for_key(order)
            if entry.source == "inventory"
        )

    eventually(lambda: sum(outcomes().values()) == 20, timeout=WAIT)
    assert outcomes() == {"inventory-reserved": 5, "inventory-reservation-failed": 15}


def order_ended(event_type: str, order_id: str) -> dict[str, Any]:
    """An event of fulfillment-control's about one order (it names the order only)."""
    return {
        "id": deterministic_id(event_type, order_id),
        "type": event_type,
        "timestamp": time.time_ns() // 1_000_000,
        "partitionKey": order_id,
        "tags": {"source": "fulfillment-control", "stage": "local"},
        "order": {"id": order_id},
    }


def parked_about(store: FaultStore, order_id: str) -> list[ParkedFault]:
    """The parked faults whose record carries this order, whatever else it carries."""

    def carries(fault: ParkedFault) -> bool:
        data = fault.record.get("kinesis", {}).get("data", "")
        return f'"{order_id}"' in base64.b64decode(data).decode(errors="replace")

    return [fault for fault in store.all() if carries(fault)]


def test_every_bad_record_ends_as_one_parked_fault_and_resubmitting_settles_each(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given three malformed order events and a commit that comes before its order, each between
    # good orders on the stream
    garbled = {"type": "order-placed", "partitionKey": "bad-garbled", "tags": {"source": "x"}}
    no_lines = order_placed("bad-no-lines", ("MUG-CLASSIC", 1))
    del no_lines["order"]["lines"]
    too_many = order_placed("bad-too-many", *((f"SKU-{n}", 1) for n in range(99)))
    early = order_ended("order-fulfillment-requested", "bad-early")
    good = [order_placed(f"good-{n}", ("FILTERS-100", 1)) for n in range(5)]
    put_on_bus(
        cloud, good[0], garbled, good[1], no_lines, good[2], too_many, good[3], early, good[4]
    )
    store = FaultStore(cloud.endpoints()["faults"], client=cloud.aws.client("dynamodb"))
    bad = ("bad-garbled", "bad-no-lines", "bad-too-many", "bad-early")

    # Then each ends as exactly one parked fault: the malformed ones at once, the early commit
    # once the stream's retries run out and the unprocessed function parks what it gave up on
    eventually(lambda: all(parked_about(store, order) for order in bad), timeout=90)
    before = {order: parked_about(store, order) for order in bad}
    assert {order: len(faults) for order, faults in before.items()} == dict.fromkeys(bad, 1)
    errors = {order: faults[0].last_error.type for order, faults in before.items()}
    assert errors == {
        "bad-garbled": "InvalidEnvelope",
        "bad-no-lines": "InvalidEvent",
        "bad-too-many": "InvalidOrder",
        "bad-early": "RetryAttemptsExhausted",
    }
    assert all(faults[0].function == "inventory-local-listener" for faults in before.values())
    assert before["bad-early"][0].attempts > 1, "the attempts the stream made are counted"
    # and the good orders around them took effect, each once
    for good_order in good:
        assert len(published(cloud, good_order["order"]["id"], "inventory-reserved")) == 1
    # and the listing shows them, attempts and all
    endpoints = str(cloud.write_endpoints().parent)
    assert cli.main(["--state-dir", endpoints, "faults"]) == 0
    listing = capsys.readouterr().out
    for faults in before.values():
        assert faults[0].fault_id in listing

    # When the early commit's cause is fixed (its order placed) and all four are resubmitted
    put_on_bus(cloud, order_placed("bad-early", ("FILTERS-100", 1)))
    eventually(lambda: published(cloud, "bad-early", "inventory-reserved"), timeout=WAIT)
    assert cli.main(["--state-dir", endpoints, "faults", "--resubmit"]) == 1
    outcomes = capsys.readouterr().out

    # Then the commit takes, its fault is resolved, and the three still failing are parked again
    # on the same faults, one attempt more, with no new entry
    eventually(lambda: published(cloud, "bad-early", "inventory-committed"), timeout=WAIT)
    after = {order: parked_about(store, order) for order in bad}
    assert {order: len(faults) for order, faults in after.items()} == dict.fromkeys(bad, 1)
    assert after["bad-early"][0].status == "resubmitted"
    for order in ("bad-garbled", "bad-no-lines", "bad-too-many"):
        [fault] = after[order]
        assert fault.fault_id == before[order][0].fault_id
        assert (fault.status, fault.attempts) == ("parked", before[order][0].attempts + 1)
        assert f"{fault.fault_id}  inventory-local-listener  failed again" in outcomes
    assert f"{after['bad-early'][0].fault_id}  inventory-local-listener  resolved" in outcomes


def test_a_reservation_nobody_settles_is_released_when_its_timer_expires(
    cloud: LocalCloud,
) -> None:
    # Given a reservation neither committed nor released
    put_on_bus(cloud, order_placed("order-forgotten", ("TEA-SENCHA", 3)))
    eventually(lambda: published(cloud, "order-forgotten", "inventory-reserved"), timeout=WAIT)

    # When its hold time passes (its timer is moved to now, as waiting two hours would do)
    table = next(s for s in cloud.stacks if s.name == "inventory-local").outputs["TableName"]
    cloud.aws.client("dynamodb").update_item(
        TableName=table,
        Key={"pk": {"S": "RESERVATION#order-forgotten"}, "sk": {"S": "EXPIRY"}},
        UpdateExpression="SET #ttl = :now",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":now": {"N": str(int(time.time()) - 1)}},
    )

    # Then DynamoDB's TTL deletes the timer and the inventory releases the stock, saying why
    [released] = eventually(
        lambda: published(cloud, "order-forgotten", "inventory-released"), timeout=WAIT
    )
    assert released.detail["reservation"]["reason"] == "reservation-expired"
