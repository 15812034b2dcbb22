"""Event source mappings driven against moto: streams and queues in, invocations of a fake out."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from localcloud.aws import Aws
from localcloud.event_sources import EventSourceMapping, EventSourceRunner, FilterCriteria, streams
from localcloud.event_sources.context import WakeUps
from localcloud.event_sources.streams import SHARED_END_SECONDS, _DynamoDBShard, _KinesisShard
from localcloud.lambda_.functions import Invocation
from localcloud.testing import eventually

Records = list[dict[str, Any]]
Answer = Invocation | dict[str, Any] | None

# The two shards of a two-shard stream split the hash key space in halves.
FIRST_SHARD_KEY = "0"
SECOND_SHARD_KEY = str(2**127 + 1)


class FakeFunction:
    """Records the records of every invocation; `respond` decides the outcome (default: success)."""

    def __init__(self, respond: Callable[[Records], Answer] | None = None) -> None:
        self.calls: list[Records] = []
        self._respond = respond
        self._lock = threading.Lock()

    def __call__(self, function: str, payload: bytes) -> Invocation:
        records: Records = json.loads(payload)["Records"]
        with self._lock:
            self.calls.append(records)
        answer = self._respond(records) if self._respond else None
        if isinstance(answer, Invocation):
            return answer
        return Invocation(function, str(uuid.uuid4()), json.dumps(answer).encode(), 1.0)

    def snapshot(self) -> list[Records]:
        with self._lock:
            return list(self.calls)


def error(function: str = "fn") -> Invocation:
    body = json.dumps({"errorMessage": "boom", "errorType": "RuntimeError"}).encode()
    return Invocation(function, str(uuid.uuid4()), body, 1.0, error_type="RuntimeError")


def data_of(record: dict[str, Any]) -> Any:
    return json.loads(base64.b64decode(record["kinesis"]["data"]))


@pytest.fixture
def start(aws: Aws) -> Iterator[Callable[[FakeFunction, EventSourceMapping], EventSourceRunner]]:
    runners: list[EventSourceRunner] = []

    def start(function: FakeFunction, mapping: EventSourceMapping) -> EventSourceRunner:
        runner = EventSourceRunner(
            aws, function, poll_interval_seconds=0.02, max_poll_interval_seconds=0.05
        )
        runners.append(runner)
        runner.add(mapping)
        return runner

    yield start
    for runner in runners:
        runner.stop()


def kinesis_stream(aws: Aws, shards: int = 1) -> str:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="stream", ShardCount=shards)
    arn: str = kinesis.describe_stream_summary(StreamName="stream")["StreamDescriptionSummary"][
        "StreamARN"
    ]
    return arn


def put(aws: Aws, stream: str, data: Any, *, hash_key: str = FIRST_SHARD_KEY) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    response = aws.client("kinesis").put_record(
        StreamARN=stream, Data=raw, PartitionKey="p", ExplicitHashKey=hash_key
    )
    sequence_number: str = response["SequenceNumber"]
    return sequence_number


def queue(aws: Aws, name: str, **attributes: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def receive_all(aws: Aws, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        aws.client("sqs")
        .receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        .get("Messages", [])
    )
    return messages


def table_with_stream(aws: Aws, name: str = "items") -> str:
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn: str = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn


# -- the mapping -----------------------------------------------------------------------------


def test_mapping_is_read_from_its_cloudformation_properties() -> None:
    # Given the properties of an AWS::Lambda::EventSourceMapping, numbers and flags as strings
    properties = {
        "BatchSize": "25",
        "MaximumBatchingWindowInSeconds": "2",
        "StartingPosition": "TRIM_HORIZON",
        "FilterCriteria": {"Filters": [{"Pattern": '{"data": {"type": ["order-placed"]}}'}]},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRetryAttempts": "3",
        "MaximumRecordAgeInSeconds": 3600,
        "BisectBatchOnFunctionError": "true",
        "ScalingConfig": {"MaximumConcurrency": "7"},
        "Enabled": "false",
    }
    stream = "arn:aws:kinesis:eu-west-1:123456789012:stream/events"
    queue_arn = "arn:aws:sqs:eu-west-1:123456789012:failures"

    # When it is read
    mapping = EventSourceMapping.from_properties(
        properties, function="fn", source_arn=stream, on_failure_arn=queue_arn
    )

    # Then every setting is taken as Lambda takes it
    assert mapping == EventSourceMapping(
        function="fn",
        source_arn=stream,
        batch_size=25,
        batching_window_seconds=2.0,
        starting_position="TRIM_HORIZON",
        filters=({"data": {"type": ["order-placed"]}},),
        report_batch_item_failures=True,
        maximum_retry_attempts=3,
        maximum_record_age_seconds=3600,
        bisect_on_error=True,
        maximum_concurrency=7,
        on_failure_arn=queue_arn,
        enabled=False,
    )
    assert mapping.kind == "kinesis"


@pytest.mark.parametrize(
    ("arn", "kind", "batch_size"),
    [
        ("arn:aws:kinesis:eu-west-1:123456789012:stream/events", "kinesis", 100),
        (
            "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2024-01-01T00:00:00",
            "dynamodb",
            100,
        ),
        ("arn:aws:sqs:eu-west-1:123456789012:jobs", "sqs", 10),
    ],
)
def test_mapping_defaults_follow_the_kind_of_source(arn: str, kind: str, batch_size: int) -> None:
    # Given a mapping with no settings / When it is read
    mapping = EventSourceMapping.from_properties({}, function="fn", source_arn=arn)

    # Then the kind comes from the ARN and the batch size is Lambda's default for it
    assert (mapping.kind, mapping.batch_size) == (kind, batch_size)
    assert (mapping.starting_position, mapping.maximum_retry_attempts) == ("LATEST", -1)


@pytest.mark.parametrize(
    "properties",
    [
        {"FilterCriteria": {"Filters": [{"Pattern": '{"data": "not a list"}'}]}},
        {"FilterCriteria": {"Filters": [{"Pattern": "[1]"}]}},
        {"StartingPosition": "AT_TIMESTAMP"},
        {"ParallelizationFactor": 11},
        {"ParallelizationFactor": "0"},
    ],
)
def test_a_mapping_lambda_would_reject_is_refused(properties: dict[str, Any]) -> None:
    # Given settings Lambda rejects / When read / Then the mapping is refused
    with pytest.raises(ValueError):  # noqa: PT011 - the messages differ per setting
        EventSourceMapping.from_properties(
            properties,
            function="fn",
            source_arn="arn:aws:kinesis:eu-west-1:123456789012:stream/events",
        )


def test_a_source_that_is_no_stream_or_queue_is_refused() -> None:
    # Given a topic ARN / When a mapping names it / Then it is refused
    with pytest.raises(ValueError, match="not a Kinesis stream"):
        EventSourceMapping(function="fn", source_arn="arn:aws:sns:eu-west-1:1:t", batch_size=1)


# -- filter criteria -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "matching", "other"),
    [
        ({"type": ["a"]}, {"type": "a"}, {"type": "b"}),
        ({"type": [{"prefix": "order-"}]}, {"type": "order-placed"}, {"type": "payment"}),
        ({"type": [{"suffix": "-failed"}]}, {"type": "payment-failed"}, {"type": "failed-x"}),
        ({"type": [{"anything-but": ["a", "b"]}]}, {"type": "c"}, {"type": "a"}),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5}, {"n": 6}),
        ({"reason": [{"exists": True}]}, {"reason": "x"}, {"other": 1}),
        ({"reason": [{"exists": False}]}, {"other": 1}, {"reason": "x"}),
        ({"type": [{"equals-ignore-case": "ORDER"}]}, {"type": "order"}, {"type": "orders"}),
        ({"$or": [{"a": [1]}, {"b": [2]}]}, {"b": 2}, {"a": 2, "b": 1}),
        ({"order": {"status": ["paid"]}}, {"order": {"status": "paid"}}, {"order": {}}),
    ],
)
def test_filter_criteria_follow_the_event_pattern_syntax(
    pattern: dict[str, Any], matching: dict[str, Any], other: dict[str, Any]
) -> None:
    # Given a filter with one pattern
    criteria = FilterCriteria([pattern])

    # When records are matched / Then the matching one passes and the other does not
    assert criteria.matches(matching)
    assert not criteria.matches(other)
    # as moto's own matcher says, which copies and flattens the record anew for each pattern
    from moto.events.models import EventPattern

    moto_pattern: Any = EventPattern.load(json.dumps(pattern))
    assert moto_pattern.matches_event(matching)
    assert not moto_pattern.matches_event(other)


def test_no_filter_criteria_let_everything_through() -> None:
    # Given no patterns / When anything is matched / Then it passes
    assert FilterCriteria().matches({"anything": 1})


# -- Kinesis ---------------------------------------------------------------------------------


def test_kinesis_records_arrive_in_order_per_shard_in_the_lambda_shape(aws: Aws, start) -> None:
    # Given a two-shard stream holding a record from before the mapping existed
    stream = kinesis_stream(aws, shards=2)
    put(aws, stream, {"n": -1})
    function = FakeFunction()
    start(function, EventSourceMapping(function="fn", source_arn=stream, batch_size=3))

    # When records are put to both shards (moto numbers each shard from 1)
    for n in range(6):
        put(aws, stream, {"n": n}, hash_key=FIRST_SHARD_KEY if n % 2 else SECOND_SHARD_KEY)

    # Then each shard's records reach the function in order, none from before the mapping
    eventually(lambda: sum(len(call) for call in function.snapshot()) == 6)
    by_shard: dict[str, list[int]] = {}
    for call in function.snapshot():
        assert len({record["eventID"].split(":")[0] for record in call}) == 1
        for record in call:
            by_shard.setdefault(record["eventID"].split(":")[0], []).append(data_of(record)["n"])
    assert by_shard == {"shardId-000000000000": [1, 3, 5], "shardId-000000000001": [0, 2, 4]}
    record = function.snapshot()[0][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventVersion"] == "1.0"
    assert record["eventSourceARN"] == stream
    assert record["awsRegion"] == aws.region
    assert record["invokeIdentityArn"].startswith("arn:aws:iam::")
    assert (
        record["eventID"]
        == f"{record['eventID'].split(':')[0]}:{record['kinesis']['sequenceNumber']}"
    )
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert record["kinesis"]["partitionKey"] == "p"
    assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)


def test_a_partial_batch_failure_redelivers_from_the_failed_record_only(aws: Aws, start) -> None:
    # Given five records on a stream and a function that fails the third one once
    stream = kinesis_stream(aws)
    sequence_numbers = [put(aws, stream, {"n": n}) for n in range(5)]
    failed_once: list[str] = []

    def respond(records: Records) -> Answer:
        if not failed_once:
            failed_once.append(records[2]["kinesis"]["sequenceNumber"])
            return {"batchItemFailures": [{"itemIdentifier": failed_once[0]}]}
        return {"batchItemFailures": []}

    function = FakeFunction(respond)

    # When the mapping reports batch item failures
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=stream,
            batch_size=5,
            starting_position="TRIM_HORIZON",
            report_batch_item_failures=True,
        ),
    )

    # Then the retry starts at the failed record and the ones before it are not sent again
    eventually(lambda: len(function.snapshot()) == 2)
    first, second = function.snapshot()
    assert [r["kinesis"]["sequenceNumber"] for r in first] == sequence_numbers
    assert [r["kinesis"]["sequenceNumber"] for r in second] == sequence_numbers[2:]
    time.sleep(0.15)
    assert len(function.snapshot()) == 2


def test_a_response_naming_a_record_not_in_the_batch_fails_the_whole_batch(aws: Aws, start) -> None:
    # Given three records and a function whose first response names the second and an unknown
    stream = kinesis_stream(aws)
    second = [put(aws, stream, {"n": n}) for n in range(3)][1]
    failures = [{"itemIdentifier": second}, {"itemIdentifier": "999"}]
    answers: list[Answer] = [{"batchItemFailures": failures}, None]
    function = FakeFunction(lambda records: answers.pop(0) if answers else None)

    # When the mapping reports batch item failures
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=stream,
            batch_size=10,
            starting_position="TRIM_HORIZON",
            report_batch_item_failures=True,
        ),
    )

    # Then the whole batch is delivered again
    eventually(lambda: len(function.snapshot()) == 2)
    first, retried = function.snapshot()
    assert [data_of(r)["n"] for r in retried] == [data_of(r)["n"] for r in first] == [0, 1, 2]


def test_records_no_filter_matches_are_dropped_without_an_invocation(aws: Aws, start) -> None:
    # Given a mapping that only wants order-placed events
    stream = kinesis_stream(aws)
    function = FakeFunction()
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=stream,
            batch_size=10,
            filters=({"data": {"type": ["order-placed"]}},),
        ),
    )

    # When other events, data that is not JSON and then a wanted event are put
    put(aws, stream, {"type": "payment-failed"})
    put(aws, stream, b"not json")
    put(aws, stream, {"type": "order-placed"})

    # Then only the wanted event is delivered, and the dropped ones never are
    eventually(lambda: function.snapshot())
    time.sleep(0.15)
    assert [[data_of(r) for r in call] for call in function.snapshot()] == [
        [{"type": "order-placed"}]
    ]


def test_a_batch_waits_for_the_batching_window_to_fill(aws: Aws, start) -> None:
    # Given a mapping with a batching window
    stream = kinesis_stream(aws)
    function = FakeFunction()
    start(
        function,
        EventSourceMapping(
            function="fn", source_arn=stream, batch_size=10, batching_window_seconds=0.4
        ),
    )

    # When records trickle in within the window
    began = time.monotonic()
    for n in range(3):
        put(aws, stream, {"n": n})
        time.sleep(0.05)

    # Then they arrive together, once the window has passed
    eventually(lambda: function.snapshot())
    assert time.monotonic() - began >= 0.35
    time.sleep(0.1)
    assert [[data_of(r)["n"] for r in call] for call in function.snapshot()] == [[0, 1, 2]]


def test_retries_are_exhausted_then_the_batch_goes_to_the_on_failure_destination(
    aws: Aws, start
) -> None:
    # Given a function failing on a poison record, two retries and an on-failure queue
    stream = kinesis_stream(aws)
    failures_url, failures_arn = queue(aws, "failures")
    function = FakeFunction(lambda records: error() if data_of(records[0])["poison"] else None)
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=stream,
            batch_size=10,
            maximum_retry_attempts=2,
            on_failure_arn=failures_arn,
        ),
    )

    # When the poison record is put, then a good one
    poison = put(aws, stream, {"poison": True})
    eventually(lambda: receive_all(aws, failures_url))
    put(aws, stream, {"poison": False})

    # Then it was tried three times, the destination got Lambda's record, and the shard moved on
    eventually(lambda: len(function.snapshot()) == 4)
    assert [data_of(call[0])["poison"] for call in function.snapshot()] == [True] * 3 + [False]
    (message,) = receive_all(aws, failures_url)
    document = json.loads(message["Body"])
    assert document["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert document["requestContext"]["approximateInvokeCount"] == 3
    assert document["requestContext"]["functionArn"] == aws.arn("lambda", "function:fn")
    assert document["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert document["version"] == "1.0"
    assert document["timestamp"].endswith("Z")
    info = document["KinesisBatchInfo"]
    assert info["shardId"] == "shardId-000000000000"
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison
    assert info["batchSize"] == 1
    assert info["streamArn"] == stream
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")


def test_records_older_than_the_maximum_age_are_given_up_without_an_invocation(
    aws: Aws, start
) -> None:
    # Given a record on a stream and a mapping allowing no age at all
    stream = kinesis_stream(aws)
    put(aws, stream, {"n": 1})
    failures_url, failures_arn = queue(aws, "failures")
    function = FakeFunction()

    # When the mapping reads it
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=stream,
            batch_size=10,
            starting_position="TRIM_HORIZON",
            maximum_record_age_seconds=0,
            on_failure_arn=failures_arn,
        ),
    )

    # Then it goes to the destination as too old, never to the function
    eventually(lambda: receive_all(aws, failures_url))
    (message,) = receive_all(aws, failures_url)
    document = json.loads(message["Body"])
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 0
    assert function.snapshot() == []


def test_bisect_on_error_isolates_the_failing_record(aws: Aws, start) -> None:
    # Given four records, the third poison, no retries, and bisection on error
    stream = kinesis_stream(aws)
    sequence_numbers = [put(aws, stream, {"n": n, "poison": n == 2}) for n in range(4)]
    failures_url, failures_arn = queue(aws, "failures")
    function = FakeFunction(
        lambda records: error() if any(data_of(r)["poison"] for r in records) else None
    )

    # When the mapping reads them in one batch
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=stream,
            batch_size=4,
            starting_position="TRIM_HORIZON",
            maximum_retry_attempts=0,
            bisect_on_error=True,
            on_failure_arn=failures_arn,
        ),
    )

    # Then the batch is halved down to the poison record, which alone is given up on
    eventually(lambda: len(function.snapshot()) == 5)
    assert [[data_of(r)["n"] for r in call] for call in function.snapshot()] == [
        [0, 1, 2, 3],
        [0, 1],
        [2, 3],
        [2],
        [3],
    ]
    (message,) = receive_all(aws, failures_url)
    info = json.loads(message["Body"])["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence_numbers[2]


# -- DynamoDB streams ------------------------------------------------------------------------


def test_dynamodb_changes_arrive_in_the_lambda_shape_without_moto_no_op_modifies(
    aws: Aws, start
) -> None:
    # Given a table with a stream and a mapping reading it
    stream = table_with_stream(aws)
    dynamodb = aws.client("dynamodb")
    function = FakeFunction()
    start(function, EventSourceMapping(function="fn", source_arn=stream, batch_size=10))

    # When an item is created, written again unchanged, changed and deleted
    item = {"pk": {"S": "a"}, "n": {"N": "1"}, "blob": {"B": b"\x00\x01"}}
    dynamodb.put_item(TableName="items", Item=item)
    dynamodb.put_item(TableName="items", Item=item)
    dynamodb.put_item(TableName="items", Item={**item, "n": {"N": "2"}})
    dynamodb.delete_item(TableName="items", Key={"pk": {"S": "a"}})

    # Then INSERT, MODIFY and REMOVE arrive, the no-op write's MODIFY does not
    eventually(lambda: sum(len(c) for c in function.snapshot()) >= 3)
    time.sleep(0.1)
    records = [record for call in function.snapshot() for record in call]
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert = records[0]
    assert insert["eventVersion"] == "1.1"
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["awsRegion"] == aws.region
    assert insert["eventSourceARN"] == stream
    assert insert["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert insert["dynamodb"]["NewImage"]["blob"] == {"B": base64.b64encode(b"\x00\x01").decode()}
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], int)
    assert "userIdentity" not in records[2]
    assert records[1]["dynamodb"]["OldImage"]["n"] == {"N": "1"}


def test_dynamodb_stream_is_still_read_after_a_failed_transaction(aws: Aws, start) -> None:
    # Given a mapping on a table's stream
    stream = table_with_stream(aws)
    dynamodb = aws.client("dynamodb")
    function = FakeFunction()
    start(function, EventSourceMapping(function="fn", source_arn=stream, batch_size=10))
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "before"}})
    eventually(lambda: function.snapshot())

    # When a transaction fails (moto then swaps the table for a copy) and an item is written
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "items",
                        "Item": {"pk": {"S": "before"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "after"}})

    # Then the write after it still reaches the function
    eventually(lambda: sum(len(c) for c in function.snapshot()) == 2)
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for c in function.snapshot() for r in c]
    assert keys == ["before", "after"]


def stubbed_shard(kind: str) -> tuple[Any, Any, Any, str, dict[str, Any]]:
    """A shard of a stream whose client is stubbed, its context's wake-ups, its client, and a
    record of it with its sequence number."""
    aws = Aws(f"http://{kind}.stubbed.invalid")
    client = aws.records_client(kind)
    stream_arn = (
        "arn:aws:kinesis:eu-west-1:123456789012:stream/hub"
        if kind == "kinesis"
        else "arn:aws:dynamodb:eu-west-1:123456789012:table/items/stream/2026-12-02T00:00:00.000"
    )
    wake_ups = WakeUps()
    context: Any = type("Context", (), {"aws": aws, "wake_ups": wake_ups})()
    shard_id = "shardId-00000000000000000000-00000000"
    shard = (_KinesisShard if kind == "kinesis" else _DynamoDBShard)(context, stream_arn, shard_id)
    sequence_number = "7".zfill(21)
    # As the wire has it (a stubbed response is not parsed either): the data in base64.
    record = (
        {
            "SequenceNumber": sequence_number,
            "Data": "e30=",
            "PartitionKey": "k",
            "ApproximateArrivalTimestamp": 1_764_633_600.0,
        }
        if kind == "kinesis"
        else {
            "eventID": "e",
            "eventName": "INSERT",
            "dynamodb": {
                "SequenceNumber": sequence_number,
                "ApproximateCreationDateTime": 1_764_633_600.0,
                "Keys": {"pk": {"S": "a"}},
            },
        }
    )
    return shard, wake_ups, client, stream_arn, record


def sequence_numbers(reads: list[Any]) -> list[str]:
    return [read.sequence_number for read in reads]


@pytest.mark.parametrize("kind", ["kinesis", "dynamodbstreams"])
def test_a_shard_read_on_from_where_it_left_off_is_one_call(kind: str) -> None:
    # Given a shard of a stream, its client stubbed: one fresh iterator, then reads that each
    # hand on the next iterator, the first with a record, the second with none
    shard, wake_ups, client, stream_arn, record = stubbed_shard(kind)
    sequence_number = "7".zfill(21)
    with Stubber(client) as stub:
        stub.add_response("get_shard_iterator", {"ShardIterator": "i-0"})
        stub.add_response("get_records", {"Records": [record], "NextShardIterator": "i-1"})
        stub.add_response("get_records", {"Records": [], "NextShardIterator": "i-2"})
        stub.add_response("get_records", {"Records": [], "NextShardIterator": "i-3"})

        # When it is read from the start, then on from its record twice, each time after news
        first = shard.read(None, 100)
        then = []
        for _ in range(2):
            wake_ups.wake(stream_arn)
            then.append(shard.read(sequence_number, 100))

        # Then only the first read asked for an iterator: each later one used the one handed on
        stub.assert_no_pending_responses()
    assert (len(first), then) == (1, [[], []])


@pytest.mark.parametrize("kind", ["kinesis", "dynamodbstreams"])
def test_the_readers_of_a_shard_share_a_read_until_news_or_a_moment_has_passed(
    kind: str,
) -> None:
    # Given a shard whose stubbed client has one record to read, and nothing after it
    shard, wake_ups, client, stream_arn, record = stubbed_shard(kind)
    sequence_number = "7".zfill(21)
    with Stubber(client) as stub:
        stub.add_response("get_shard_iterator", {"ShardIterator": "i-0"})
        stub.add_response("get_records", {"Records": [record], "NextShardIterator": "i-1"})

        # When several readers (lanes, mappings) read it from the start, one after another
        reads = [shard.read(None, 100) for _ in range(4)]

        # Then one call served them all, each with the whole shard
        stub.assert_no_pending_responses()
        assert [sequence_numbers(read) for read in reads] == [[sequence_number]] * 4
        # and the record was decoded once, for them all
        assert len({id(read[0]) for read in reads}) == 1

        # When the shard has news, or a moment passes without any (a record put straight into
        # moto, which no wake-up tells of), a reader at the shard's end asks the stream again
        stub.add_response("get_records", {"Records": [], "NextShardIterator": "i-2"})
        stub.add_response("get_records", {"Records": [], "NextShardIterator": "i-3"})
        wake_ups.wake(stream_arn)
        after_news = shard.read(sequence_number, 100)
        time.sleep(SHARED_END_SECONDS * 1.5)
        after_a_moment = shard.read(sequence_number, 100)

        # Then each of those asked once more
        stub.assert_no_pending_responses()
    assert (after_news, after_a_moment) == ([], [])


def test_a_shard_shares_only_its_latest_records(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a shard that shares two records at most, and three records in it
    monkeypatch.setattr(streams, "SHARED_RECORDS", 2)
    shard, _wake_ups, client, _stream_arn, record = stubbed_shard("kinesis")
    records = [{**record, "SequenceNumber": str(n).zfill(21)} for n in (1, 2, 3)]
    with Stubber(client) as stub:
        stub.add_response("get_shard_iterator", {"ShardIterator": "i-0"})
        stub.add_response("get_records", {"Records": records, "NextShardIterator": "i-1"})
        stub.add_response("get_shard_iterator", {"ShardIterator": "i-2"})
        stub.add_response("get_records", {"Records": records, "NextShardIterator": "i-3"})

        # When it is read whole, then after its first record, then whole again
        whole = shard.read(None, 100)
        after_the_first = shard.read(records[0]["SequenceNumber"], 100)
        whole_again = shard.read(None, 100)

        # Then the read after the first record was shared; the whole shard, no longer held, was
        # read again from the stream with a fresh iterator
        stub.assert_no_pending_responses()
    numbers = [record["SequenceNumber"] for record in records]
    assert [sequence_numbers(whole), sequence_numbers(after_the_first)] == [numbers, numbers[1:]]
    assert sequence_numbers(whole_again) == numbers


def test_dynamodb_filters_see_the_record(aws: Aws, start) -> None:
    # Given a mapping wanting only inserts of paid orders
    stream = table_with_stream(aws)
    dynamodb = aws.client("dynamodb")
    function = FakeFunction()
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}}
    start(
        function,
        EventSourceMapping(function="fn", source_arn=stream, batch_size=10, filters=(pattern,)),
    )

    # When an unpaid order is inserted and changed, then a paid one inserted
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "a"}, "status": {"S": "new"}})
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "a"}, "status": {"S": "paid"}})
    dynamodb.put_item(TableName="items", Item={"pk": {"S": "b"}, "status": {"S": "paid"}})

    # Then only the paid insert is delivered
    eventually(lambda: function.snapshot())
    time.sleep(0.1)
    assert [[r["dynamodb"]["Keys"]["pk"]["S"] for r in c] for c in function.snapshot()] == [["b"]]


# -- SQS -------------------------------------------------------------------------------------


def test_sqs_messages_arrive_in_the_lambda_shape_and_are_deleted(aws: Aws, start) -> None:
    # Given a queue and a mapping reading it
    url, arn = queue(aws, "jobs")
    function = FakeFunction()
    start(function, EventSourceMapping(function="fn", source_arn=arn, batch_size=10))

    # When a message with an attribute is sent
    aws.client("sqs").send_message(
        QueueUrl=url,
        MessageBody='{"job": 1}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}},
    )

    # Then the function gets it in the SQS event shape, and the queue is empty afterwards
    eventually(lambda: function.snapshot())
    (record,) = function.snapshot()[0]
    assert record["body"] == '{"job": 1}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == arn
    assert record["awsRegion"] == aws.region
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "x",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert {"messageId", "receiptHandle", "md5OfBody"} <= record.keys()
    eventually(lambda: not receive_all(aws, url))


def test_sqs_partial_failure_deletes_only_the_successful_messages(aws: Aws, start) -> None:
    # Given three messages, a function failing the second, and a short visibility timeout
    url, arn = queue(aws, "jobs", VisibilityTimeout="1")
    sqs = aws.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))

    def respond(records: Records) -> Answer:
        failed = [r["messageId"] for r in records if json.loads(r["body"])["n"] == 1]
        return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}

    function = FakeFunction(respond)

    # When the mapping reads them with ReportBatchItemFailures
    runner = start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=arn,
            batch_size=10,
            batching_window_seconds=0.2,
            report_batch_item_failures=True,
        ),
    )
    eventually(lambda: function.snapshot())
    runner.stop()

    # Then only the failed message is left on the queue
    delivered = sorted(json.loads(r["body"])["n"] for r in function.snapshot()[0])
    assert delivered == [0, 1, 2]
    eventually(lambda: receive_all(aws, url), timeout=3)
    time.sleep(0.1)
    assert [json.loads(m["Body"])["n"] for m in receive_all(aws, url)] == [1]


def test_sqs_messages_the_function_keeps_failing_are_redriven_to_the_dead_letter_queue(
    aws: Aws, start
) -> None:
    # Given a queue redriving to a dead-letter queue after two receives
    dlq_url, dlq_arn = queue(aws, "jobs-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = queue(aws, "jobs", VisibilityTimeout="0", RedrivePolicy=redrive)
    function = FakeFunction(lambda records: error())
    start(function, EventSourceMapping(function="fn", source_arn=arn, batch_size=10))

    # When a message fails every time
    aws.client("sqs").send_message(QueueUrl=url, MessageBody="poison")

    # Then after two deliveries it is on the dead-letter queue
    eventually(lambda: receive_all(aws, dlq_url))
    assert len(function.snapshot()) == 2
    assert [m["Body"] for m in receive_all(aws, dlq_url)] == ["poison"]


def test_sqs_messages_no_filter_matches_are_deleted_without_an_invocation(aws: Aws, start) -> None:
    # Given a mapping that only wants urgent jobs
    url, arn = queue(aws, "jobs")
    function = FakeFunction()
    start(
        function,
        EventSourceMapping(
            function="fn", source_arn=arn, batch_size=10, filters=({"body": {"urgent": [True]}},)
        ),
    )

    # When a routine job, a plain text message and an urgent job are sent
    sqs = aws.client("sqs")
    for body in ('{"urgent": false}', "hello", '{"urgent": true}'):
        sqs.send_message(QueueUrl=url, MessageBody=body)

    # Then only the urgent one is delivered, and none is left on the queue
    eventually(lambda: function.snapshot())
    eventually(lambda: not receive_all(aws, url))
    assert [[r["body"] for r in call] for call in function.snapshot()] == [['{"urgent": true}']]


def test_a_disabled_mapping_does_not_poll(aws: Aws, start) -> None:
    # Given a disabled mapping on a queue holding a message
    url, arn = queue(aws, "jobs")
    aws.client("sqs").send_message(QueueUrl=url, MessageBody="x")
    function = FakeFunction()

    # When it is added
    start(function, EventSourceMapping(function="fn", source_arn=arn, batch_size=1, enabled=False))

    # Then the message stays where it is
    time.sleep(0.15)
    assert function.snapshot() == []
    assert len(receive_all(aws, url)) == 1


class SlowFunction(FakeFunction):
    """Each invocation waits until `meet` invocations are in progress together (or a few seconds
    have passed), holds on a moment, and records its own start and end (monotonic)."""

    def __init__(self, meet: int, hold_seconds: float = 0.2) -> None:
        super().__init__()
        self.runs: list[tuple[float, float]] = []
        self._meet = meet
        self._hold = hold_seconds
        self._arrived = 0
        self._met = threading.Condition()

    def __call__(self, function: str, payload: bytes) -> Invocation:
        started = time.monotonic()
        with self._met:
            self._arrived += 1
            self._met.notify_all()
            self._met.wait_for(lambda: self._arrived >= self._meet, timeout=5)
        time.sleep(self._hold)
        invocation = super().__call__(function, payload)
        with self._met:
            self.runs.append((started, time.monotonic()))
        return invocation

    def most_at_once(self) -> int:
        with self._met:
            runs = list(self.runs)
        return max(sum(s <= start < e for s, e in runs) for start, _ in runs)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_queue_is_invoked_with_up_to_its_maximum_concurrency_of_batches_at_once(
    aws: Aws, start, concurrency: int
) -> None:
    # Given a queue holding twice as many single-message batches as the mapping's concurrency
    url, arn = queue(aws, "jobs")
    for n in range(2 * concurrency):
        aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))
    function = SlowFunction(meet=concurrency)

    # When a mapping of one message a batch reads it
    start(
        function,
        EventSourceMapping(
            function="fn", source_arn=arn, batch_size=1, maximum_concurrency=concurrency
        ),
    )

    # Then every message was delivered, at most `concurrency` batches at once and that many
    eventually(lambda: len(function.runs) == 2 * concurrency)
    assert sorted(json.loads(c[0]["body"])["n"] for c in function.snapshot()) == list(
        range(2 * concurrency)
    )
    assert function.most_at_once() == concurrency
    eventually(lambda: not receive_all(aws, url))


def test_a_woken_shard_poller_reads_at_once_instead_of_at_its_next_idle_round(
    aws: Aws,
) -> None:
    # Given a two-shard stream read by a runner whose pollers idle half a minute between rounds,
    # each poller past its first rounds: it delivered the record already there, found nothing
    # more, and waits
    stream = kinesis_stream(aws, shards=2)
    put(aws, stream, {"n": 0})
    put(aws, stream, {"n": 0}, hash_key=SECOND_SHARD_KEY)
    function = FakeFunction()
    runner = EventSourceRunner(
        aws, function, poll_interval_seconds=30, max_poll_interval_seconds=30
    )
    try:
        mapping = EventSourceMapping(
            function="fn", source_arn=stream, batch_size=10, starting_position="TRIM_HORIZON"
        )
        runner.add(mapping)
        eventually(lambda: len(function.snapshot()) == 2)
        time.sleep(0.5)  # the round after each delivery, which finds nothing

        # When a record is put on each shard, and only the second shard's pollers are woken
        put(aws, stream, {"n": 1})
        put(aws, stream, {"n": 2}, hash_key=SECOND_SHARD_KEY)
        shards = aws.client("kinesis").list_shards(StreamARN=stream)["Shards"]
        runner.wake(stream, {shards[1]["ShardId"]})

        # Then the second shard's record is delivered now, the first's waits for its round
        eventually(lambda: len(function.snapshot()) == 3)
        time.sleep(0.2)
        assert [[data_of(r) for r in c] for c in function.snapshot()[2:]] == [[{"n": 2}]]

        # And waking the whole stream brings the first one too
        runner.wake(stream)
        eventually(lambda: len(function.snapshot()) == 4)
        assert [data_of(r) for r in function.snapshot()[3]] == [{"n": 1}]
    finally:
        runner.stop()


def test_a_shard_read_to_its_end_is_read_again_only_when_woken_or_idle(aws: Aws) -> None:
    # Given a stream read by a runner whose pollers idle half a minute between rounds, and a
    # count of the reads its pollers make
    stream = kinesis_stream(aws)
    reads: list[str] = []
    runner_aws = Aws(aws.endpoint + "/")  # clients of the runner's own, to count their calls
    runner_aws.records_client("kinesis").meta.events.register(
        "before-call.kinesis.GetRecords", lambda **_: reads.append("read")
    )
    function = FakeFunction()
    runner = EventSourceRunner(
        runner_aws, function, poll_interval_seconds=0.02, max_poll_interval_seconds=30
    )
    try:
        runner.add(EventSourceMapping(function="fn", source_arn=stream, batch_size=10))
        time.sleep(0.3)  # its first round, which finds the stream empty
        before = len(reads)

        # When a record is put and the stream's pollers woken, once
        put(aws, stream, {"n": 1})
        runner.wake(stream)

        # Then the record is delivered by one read, and nothing more is read while it idles
        eventually(lambda: len(function.snapshot()) == 1)
        time.sleep(0.5)
        assert len(reads) - before == 1
    finally:
        runner.stop()


# -- parallelization factor --------------------------------------------------------------------


def put_keyed(aws: Aws, stream: str, key: str, n: int) -> None:
    aws.client("kinesis").put_record(
        StreamARN=stream, Data=json.dumps({"key": key, "n": n}).encode(), PartitionKey=key
    )


def test_a_shard_with_a_parallelization_factor_runs_batches_side_by_side_in_order_per_key(
    aws: Aws, start
) -> None:
    # Given one shard holding three records of each of eight partition keys, and a function that
    # takes a moment per batch and notes how many batches it is running at once
    stream = kinesis_stream(aws)
    keys = [f"order-{k}" for k in range(8)]
    for n in range(3):
        for key in keys:
            put_keyed(aws, stream, key, n)
    running, most = [0], [0]
    lock = threading.Lock()

    def respond(records: Records) -> Answer:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return None

    function = FakeFunction(respond)

    # When the mapping reads it with a parallelization factor of 4, two records a batch
    mapping = EventSourceMapping.from_properties(
        {"BatchSize": 2, "StartingPosition": "TRIM_HORIZON", "ParallelizationFactor": 4},
        function="fn",
        source_arn=stream,
    )
    start(function, mapping)

    # Then every record arrives once, batches ran side by side, and each key's records in order
    eventually(lambda: sum(len(call) for call in function.snapshot()) == 24, timeout=10)
    time.sleep(0.1)
    delivered = [data_of(record) for call in function.snapshot() for record in call]
    assert len(delivered) == 24
    assert most[0] > 1
    for key in keys:
        assert [item["n"] for item in delivered if item["key"] == key] == [0, 1, 2]


def test_a_failing_key_holds_back_only_its_own_lane(aws: Aws, start) -> None:
    # Given records of many keys on one shard, and a function that always fails a batch holding
    # the key "poison"
    stream = kinesis_stream(aws)
    put_keyed(aws, stream, "poison", 0)
    keys = [f"order-{k}" for k in range(12)]
    for key in keys:
        put_keyed(aws, stream, key, 0)

    def respond(records: Records) -> Answer:
        if any(data_of(record)["key"] == "poison" for record in records):
            return error()
        return None

    function = FakeFunction(respond)

    # When read with a parallelization factor of 3
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=stream,
            batch_size=1,
            starting_position="TRIM_HORIZON",
            parallelization_factor=3,
        ),
    )

    # Then the keys of the other lanes all arrive while the poison is still being retried
    def delivered() -> set[str]:
        return {
            data_of(record)["key"]
            for call in function.snapshot()
            for record in call
            if data_of(record)["key"] != "poison"
        }

    eventually(lambda: len(delivered()) >= 4, timeout=10)
    poisoned_lane_blocked = set(keys) - delivered()
    assert poisoned_lane_blocked, "the poison's lane should hold back its own keys"
    assert len(delivered()) + len(poisoned_lane_blocked) == len(keys)


def test_a_table_streams_lanes_follow_the_items_partition_key(aws: Aws, start) -> None:
    # Given a table keyed by order and event, with four events of each of four orders
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName="events",
        KeySchema=[
            {"AttributeName": "order", "KeyType": "HASH"},
            {"AttributeName": "event", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "order", "AttributeType": "S"},
            {"AttributeName": "event", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    arn = dynamodb.describe_table(TableName="events")["Table"]["LatestStreamArn"]
    for n in range(4):
        for order in "abcd":
            dynamodb.put_item(
                TableName="events", Item={"order": {"S": order}, "event": {"S": f"e{n}"}}
            )
    function = FakeFunction()

    # When read with a parallelization factor of 2
    start(
        function,
        EventSourceMapping(
            function="fn",
            source_arn=arn,
            batch_size=2,
            starting_position="TRIM_HORIZON",
            parallelization_factor=2,
        ),
    )

    # Then each order's events arrive in order, whatever their sort keys
    eventually(lambda: sum(len(call) for call in function.snapshot()) == 16, timeout=10)
    seen: dict[str, list[str]] = {}
    for call in function.snapshot():
        for record in call:
            keys = record["dynamodb"]["Keys"]
            seen.setdefault(keys["order"]["S"], []).append(keys["event"]["S"])
    assert seen == {order: ["e0", "e1", "e2", "e3"] for order in "abcd"}
