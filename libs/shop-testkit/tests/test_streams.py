"""TableStream reads a table's stream with the exact DynamoDB Streams calls, and gives the records
as Lambda delivers them (Powertools' model of a DynamoDB stream event reads them)."""

from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from botocore.stub import Stubber
from shop_testkit import TableStream

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
SHARD = "shardId-00000001541626099285-f35f62ef"


def stream_record(sequence: str, key: str) -> dict[str, Any]:
    """A GetRecords record as boto3 returns it (its time parsed into a datetime)."""
    return {
        "eventID": f"event-{sequence}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
            "Keys": {"pk": {"S": key}},
            "NewImage": {"pk": {"S": key}, "n": {"N": "1"}},
            "SequenceNumber": sequence,
            "SizeBytes": 20,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def expect_read(stubber: Stubber, position: dict[str, str], records: list[dict[str, Any]]) -> None:
    stubber.add_response(
        "describe_stream",
        {
            "StreamDescription": {
                "StreamArn": ARN,
                "Shards": [
                    {"ShardId": SHARD, "SequenceNumberRange": {"StartingSequenceNumber": "1" * 21}}
                ],
            }
        },
        {"StreamArn": ARN},
    )
    stubber.add_response(
        "get_shard_iterator",
        {"ShardIterator": "iterator"},
        {"StreamArn": ARN, "ShardId": SHARD, **position},
    )
    stubber.add_response("get_records", {"Records": records}, {"ShardIterator": "iterator"})


def test_each_read_returns_what_was_written_since_the_last_as_a_lambda_event() -> None:
    # Given a stream with two records, then a third written after the first read
    streams = boto3.client(
        "dynamodbstreams",
        region_name="eu-west-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    stubber = Stubber(streams)
    expect_read(
        stubber,
        {"ShardIteratorType": "TRIM_HORIZON"},
        [stream_record(f"{11:021}", "a"), stream_record(f"{12:021}", "b")],
    )
    expect_read(
        stubber,
        {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": f"{12:021}"},
        [stream_record(f"{13:021}", "c")],
    )
    expect_read(
        stubber,
        {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": f"{13:021}"},
        [],
    )
    table = TableStream(streams, ARN)

    # When it is read three times
    with stubber:
        first, second, third = table.read(), table.read(), table.read()

    # Then each read has only the new records, shaped as Lambda delivers them
    stubber.assert_no_pending_responses()
    keys = [
        [r["dynamodb"]["Keys"]["pk"]["S"] for r in e["Records"]] for e in (first, second, third)
    ]
    assert keys == [["a", "b"], ["c"], []]
    parsed = DynamoDBStreamModel.model_validate(first)
    assert parsed.Records[0].eventSourceARN == ARN
    assert first["Records"][0]["dynamodb"]["ApproximateCreationDateTime"] == int(
        datetime(2026, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    )
