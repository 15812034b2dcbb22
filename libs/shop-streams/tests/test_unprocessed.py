"""What an event source gave up on ends as exactly one parked fault per record, carrying the record
as the failed function received it, under the id that function would have parked it with."""

import importlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from botocore.stub import Stubber
from moto import mock_aws
from shop_envelope import EventFactory, FaultEvent
from shop_streams import EventProcessor, PermanentError
from shop_streams.unprocessed import (
    AwsStreamRecords,
    OnFailureRecord,
    RecordsGone,
    UnprocessedRecords,
)
from shop_testkit import FakePublisher, LambdaContext, eventbridge_event, kinesis_event, sqs_event
from shop_testkit.examples import OrderPlaced, order_placed

REGION = "eu-west-1"
LISTENER = "inventory-dev-listener"
LISTENER_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{LISTENER}"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:123456789012:stream/shop-events"
SHARD = "shardId-000000000000"


def stream_on_failure_record(
    records: list[dict[str, Any]], *, invocations: int = 9, function_error: bool = False
) -> dict[str, Any]:
    """Lambda's invocation record for a Kinesis batch it gave up on (the documented shape)."""
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": "c9b8fa9f-5a7f-4c5e-af9c-0c604cde93a5",
            "functionArn": LISTENER_ARN,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invocations,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": "2026-12-01T10:38:06.021Z",
        "KinesisBatchInfo": {
            "shardId": SHARD,
            "startSequenceNumber": records[0]["kinesis"]["sequenceNumber"],
            "endSequenceNumber": records[-1]["kinesis"]["sequenceNumber"],
            "approximateArrivalOfFirstRecord": "2026-12-01T10:38:04.835Z",
            "approximateArrivalOfLastRecord": "2026-12-01T10:38:05.580Z",
            "batchSize": len(records),
            "streamArn": STREAM_ARN,
        },
    }


class FakeStream:
    """`StreamRecords` over records kept in memory; `gone` makes every read find nothing."""

    def __init__(self, records: list[dict[str, Any]], *, gone: bool = False) -> None:
        self.records = records
        self.gone = gone
        self.reads = 0

    def read(
        self, event_source: str, stream_arn: str, shard_id: str, first: str, last: str
    ) -> list[dict[str, Any]]:
        self.reads += 1
        if self.gone:
            raise RecordsGone(f"{stream_arn} shard {shard_id} holds no record from {first}")
        return [
            record
            for record in self.records
            if int(first) <= int(record["kinesis"]["sequenceNumber"]) <= int(last)
        ]


def parker(stream: Any, published: FakePublisher) -> UnprocessedRecords:
    events = EventFactory(
        source="inventory", stage="dev", function_name="inventory-dev-unprocessed"
    )
    return UnprocessedRecords(events=events, publisher=published, streams=stream)


def test_each_record_given_up_on_is_parked_once_under_the_listeners_own_fault_id() -> None:
    # Given a listener whose third record failed until its retries ran out
    batch = kinesis_event(*(order_placed(f"o-{i}") for i in range(5)))
    given_up = batch["Records"][2:3]
    published = FakePublisher()

    # When its on-failure record reaches the failure queue's function
    response = parker(FakeStream(batch["Records"]), published).process(
        sqs_event(json.dumps(stream_on_failure_record(given_up)))
    )

    # Then one fault carries that record as the listener received it
    assert response == {"batchItemFailures": []}
    [fault] = published.of_type(FaultEvent)
    assert fault.fault.record == given_up[0]
    assert (fault.fault.event_type, fault.fault.event_id) == (
        "order-placed",
        order_placed("o-2").id,
    )
    assert fault.fault.attempts == 9
    assert fault.fault.error_type == "RetryAttemptsExhausted"
    assert "gave up after 9 invocation(s)" in fault.fault.message
    assert fault.partition_key == "o-2"
    # and names the listener, so a resubmission goes back to it
    assert fault.tags.function_name == LISTENER
    # under the very id the listener parks the same record with when it fails permanently
    assert fault.id == parked_by_the_listener(given_up[0]).id


def parked_by_the_listener(record: dict[str, Any]) -> FaultEvent:
    class Refused(PermanentError):
        pass

    def refuse(event: OrderPlaced) -> None:
        raise Refused("no")

    faults = FakePublisher()
    listener = EventProcessor(
        events=EventFactory(source="inventory", function_name=LISTENER), publisher=faults
    )
    listener.on(OrderPlaced)(refuse)
    listener.process({"Records": [record]})
    [fault] = faults.of_type(FaultEvent)
    return fault


def test_every_record_of_a_batch_given_up_on_is_parked() -> None:
    batch = kinesis_event(*(order_placed(f"o-{i}") for i in range(4)))
    published = FakePublisher()

    parker(FakeStream(batch["Records"]), published).process(
        sqs_event(json.dumps(stream_on_failure_record(batch["Records"][1:], function_error=True)))
    )

    faults = published.of_type(FaultEvent)
    assert [f.fault.record for f in faults] == batch["Records"][1:]
    assert all("the function failed (Unhandled)" in f.fault.message for f in faults)


def test_records_the_stream_no_longer_holds_are_parked_as_the_pointer_itself() -> None:
    # Given an on-failure record whose records the stream has trimmed
    batch = kinesis_event(order_placed("o-1"))
    message = sqs_event(json.dumps(stream_on_failure_record(batch["Records"])))
    published = FakePublisher()

    # When it is processed
    response = parker(FakeStream([], gone=True), published).process(message)

    # Then the pointer is parked as it came, so it is not lost either
    assert response == {"batchItemFailures": []}
    [fault] = published.of_type(FaultEvent)
    assert fault.fault.error_type == "RecordsGone"
    assert fault.fault.record == message["Records"][0]
    assert fault.tags.function_name == "inventory-dev-unprocessed"


def test_a_message_that_is_no_on_failure_record_is_parked_as_it_is() -> None:
    message = sqs_event("hello")
    published = FakePublisher()

    response = parker(FakeStream([]), published).process(message)

    assert response == {"batchItemFailures": []}
    [fault] = published.of_type(FaultEvent)
    assert fault.fault.error_type == "NotAnOnFailureRecord"
    assert fault.fault.record == message["Records"][0]


def test_a_stream_that_cannot_be_read_now_leaves_the_message_for_sqs_to_retry() -> None:
    class Throttled:
        def read(self, *args: str) -> list[dict[str, Any]]:
            raise TimeoutError("read timed out")

    published = FakePublisher()
    message = sqs_event(
        json.dumps(stream_on_failure_record(kinesis_event(order_placed())["Records"]))
    )

    response = parker(Throttled(), published).process(message)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": message["Records"][0]["messageId"]}]
    }
    assert published.published == []


def test_a_fault_that_cannot_be_published_leaves_its_message_for_sqs_to_retry() -> None:
    batch = kinesis_event(order_placed("o-1"))
    published = FakePublisher()
    published.fail(lambda event: event.type == "fault")
    message = sqs_event(json.dumps(stream_on_failure_record(batch["Records"])))

    response = parker(FakeStream(batch["Records"]), published).process(message)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": message["Records"][0]["messageId"]}]
    }


def test_an_asynchronous_invocation_given_up_on_is_parked_with_its_last_error() -> None:
    # Given Lambda's on-failure record of an EventBridge target that kept failing
    event = eventbridge_event(order_placed("o-9"))
    document = {
        "version": "1.0",
        "timestamp": "2026-12-01T10:38:06.021Z",
        "requestContext": {
            "requestId": "e4b46cbf-b738-4b4d-9a1a-4f1c6a8e3c1b",
            "functionArn": f"{LISTENER_ARN}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {"errorMessage": "stock table throttled", "errorType": "RecordFailed"},
    }
    published = FakePublisher()

    parker(FakeStream([]), published).process(sqs_event(json.dumps(document)))

    [fault] = published.of_type(FaultEvent)
    assert fault.fault.record == event
    assert (fault.fault.error_type, fault.fault.message) == (
        "RecordFailed",
        "stock table throttled",
    )
    assert (fault.fault.attempts, fault.tags.function_name) == (3, LISTENER)
    assert fault.fault.event_source == "aws:events"


def test_an_on_failure_record_without_batch_or_payload_is_refused_clearly() -> None:
    document = stream_on_failure_record(kinesis_event(order_placed())["Records"])
    del document["KinesisBatchInfo"]

    with pytest.raises(ValueError, match="neither batch info nor payload"):
        OnFailureRecord.parse(json.dumps(document))


# -- the AWS adapter, against moto -----------------------------------------------------------


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_kinesis_records_are_read_back_as_the_listener_received_them(aws: None) -> None:
    # Given five events on a stream
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="shop-events", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="shop-events")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    sequences = [
        kinesis.put_record(
            StreamARN=arn, Data=order_placed(f"o-{i}").to_json().encode(), PartitionKey=f"o-{i}"
        )["SequenceNumber"]
        for i in range(5)
    ]
    [shard] = kinesis.list_shards(StreamARN=arn)["Shards"]

    # When the second through fourth are read back
    records = AwsStreamRecords(kinesis=kinesis).read(
        "aws:kinesis", arn, shard["ShardId"], sequences[1], sequences[3]
    )

    # Then they are those three, shaped as a Lambda Kinesis record
    assert [r["kinesis"]["sequenceNumber"] for r in records] == sequences[1:4]
    template = kinesis_event(order_placed())["Records"][0]
    assert set(records[0]) <= set(template)
    assert set(records[0]["kinesis"]) == set(template["kinesis"])
    assert records[0]["eventID"] == f"{shard['ShardId']}:{sequences[1]}"
    assert records[0]["kinesis"]["partitionKey"] == "o-1"


def test_table_stream_records_are_read_back_as_the_trigger_received_them(
    aws_credentials: None,  # else botocore asks the network (instance metadata) for some
) -> None:
    # Given a table stream that holds three changes (moto serves DynamoDB Streams only in server
    # mode, so the exact calls are stubbed)
    stream_arn = (
        f"arn:aws:dynamodb:{REGION}:123456789012:table/stock/stream/2026-12-01T00:00:00.000"
    )
    shard = "shardId-00000001541626099285-f35f62ef"
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    stubber = Stubber(streams)
    stubber.add_response(
        "get_shard_iterator",
        {"ShardIterator": "iterator-1"},
        {
            "StreamArn": stream_arn,
            "ShardId": shard,
            "ShardIteratorType": "AT_SEQUENCE_NUMBER",
            "SequenceNumber": seq(200),
        },
    )
    changes = [table_change(seq(n), sku) for n, sku in ((200, "SKU-2"), (300, "SKU-3"))]
    stubber.add_response(
        "get_records",
        {"Records": [*changes, table_change(seq(400), "SKU-4")], "NextShardIterator": "iterator-2"},
        {"ShardIterator": "iterator-1"},
    )

    # When the records from 200 through 300 are read back
    with stubber:
        records = AwsStreamRecords(dynamodbstreams=streams).read(
            "aws:dynamodb", stream_arn, shard, seq(200), seq(300)
        )

    # Then they are those two, as a DynamoDB stream Lambda event carries them
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["SKU-2", "SKU-3"]
    DynamoDBStreamModel.model_validate({"Records": records})
    assert records[0]["eventSourceARN"] == stream_arn
    assert records[0]["dynamodb"]["NewImage"]["blob"] == {"B": "AQ=="}
    created = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert records[0]["dynamodb"]["ApproximateCreationDateTime"] == created
    json.dumps(records)  # as it travels in a fault


def seq(n: int) -> str:
    """A DynamoDB stream sequence number: a decimal string of at least 21 digits."""
    return f"{n:021d}"


def table_change(sequence: str, sku: str) -> dict[str, Any]:
    """A GetRecords record as boto3 returns it (its time parsed, its binary as bytes)."""
    return {
        "eventID": f"event-{sequence}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 12, 1, tzinfo=UTC),
            "Keys": {"pk": {"S": sku}},
            "NewImage": {"pk": {"S": sku}, "blob": {"B": b"\x01"}},
            "SequenceNumber": sequence,
            "SizeBytes": 20,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def test_a_shard_that_does_not_exist_holds_no_records(aws: None) -> None:
    kinesis = boto3.client("kinesis", region_name=REGION)
    kinesis.create_stream(StreamName="shop-events", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="shop-events")["StreamDescriptionSummary"][
        "StreamARN"
    ]

    with pytest.raises(RecordsGone):
        AwsStreamRecords(kinesis=kinesis).read("aws:kinesis", arn, "shardId-000000000009", "1", "2")


def test_the_deployable_handler_parks_what_its_queue_brings(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the handler configured as a service deploys it, with a bus that keeps faults
    events = boto3.client("events", region_name=REGION)
    events.create_event_bus(Name="shop-bus")
    sqs = boto3.client("sqs", region_name=REGION)
    parked_url = sqs.create_queue(QueueName="parked")["QueueUrl"]
    parked_arn = sqs.get_queue_attributes(QueueUrl=parked_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="faults", EventBusName="shop-bus", EventPattern='{"detail-type": ["fault"]}'
    )
    events.put_targets(
        Rule="faults", EventBusName="shop-bus", Targets=[{"Id": "q", "Arn": parked_arn}]
    )
    for name, value in {
        "POWERTOOLS_SERVICE_NAME": "inventory",
        "STAGE": "dev",
        "BUS_NAME": "shop-bus",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "shop_streams.handlers.unprocessed", raising=False)
    handler = importlib.import_module("shop_streams.handlers.unprocessed")

    # When it receives a message that is no on-failure record
    response = handler.handle(sqs_event("not a pointer"), LambdaContext())

    # Then it is parked on the bus as a fault
    assert response == {"batchItemFailures": []}
    [message] = sqs.receive_message(QueueUrl=parked_url)["Messages"]
    assert json.loads(message["Body"])["detail"]["fault"]["errorType"] == "NotAnOnFailureRecord"
