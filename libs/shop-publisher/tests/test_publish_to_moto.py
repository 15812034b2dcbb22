"""The adapter against moto's EventBridge: what lands on a rule's target is the envelope."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from shop_publisher import EventBridgePublisher
from shop_testkit.examples import order_placed

REGION = "eu-west-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield


def bus_with_queue(pattern: dict[str, Any]) -> str:
    events, sqs = boto3.client("events"), boto3.client("sqs")
    events.create_event_bus(Name="shop-bus")
    queue_url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name="orders", EventBusName="shop-bus", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="orders", EventBusName="shop-bus", Targets=[{"Id": "q", "Arn": queue_arn}]
    )
    return queue_url


def test_a_published_event_reaches_a_rule_target_as_the_envelope(aws: None) -> None:
    # Given a bus whose rule sends order events from the BFF to a queue
    queue_url = bus_with_queue({"source": ["order-bff"], "detail-type": ["order-placed"]})
    placed = [order_placed(f"o-{i}") for i in range(12)]

    # When twelve events are published (two PutEvents calls) by a publisher with a lazy client
    EventBridgePublisher("shop-bus").publish(placed)

    # Then all twelve arrive, each with the envelope as its detail
    sqs = boto3.client("sqs")
    received: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        received += [json.loads(m["Body"]) for m in batch]
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch],
        )
    assert sorted(m["detail"]["partitionKey"] for m in received) == sorted(
        f"o-{i}" for i in range(12)
    )
    assert {m["detail-type"] for m in received} == {"order-placed"}
    assert received[0]["detail"] == json.loads(
        placed[int(received[0]["detail"]["partitionKey"][2:])].to_json()
    )
