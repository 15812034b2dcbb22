"""A DynamoDB table's stream read back as the Lambda events its functions receive.

A trigger's tests should feed it the change records its table really produces, not images typed
by hand: `TableStream` reads them from the stream (moto's server, or any endpoint) and shapes them
as the Lambda service delivers them to a function mapped to the stream.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shop_testkit.events import DEFAULT_REGION

# What a Lambda event's DynamoDB record carries from a GetRecords record, as it is.
_RECORD_FIELDS = ("eventID", "eventName", "eventVersion", "eventSource", "userIdentity")


class TableStream:
    """`read()` returns the records written since the previous `read()` (from the stream's start
    the first time), in order, as one Lambda event: `{"Records": [...]}`.

    >>> changes = TableStream(boto3.client("dynamodbstreams"), table["LatestStreamArn"])
    >>> inventory.reserve(...)
    >>> trigger.process(changes.read())
    """

    def __init__(self, streams: Any, stream_arn: str, *, region: str = DEFAULT_REGION) -> None:
        self._streams = streams
        self._arn = stream_arn
        self._region = region
        self._after: dict[str, str] = {}  # shard id -> last sequence number read

    def read(self) -> dict[str, Any]:
        records: list[dict[str, Any]] = []
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            records.extend(self._read_shard(shard["ShardId"]))
        return {"Records": records}

    def _read_shard(self, shard_id: str) -> list[dict[str, Any]]:
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._after[shard_id]}
            if shard_id in self._after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._streams.get_shard_iterator(
            StreamArn=self._arn, ShardId=shard_id, **position
        )["ShardIterator"]
        raw: list[dict[str, Any]] = self._streams.get_records(ShardIterator=iterator)["Records"]
        if raw:
            self._after[shard_id] = raw[-1]["dynamodb"]["SequenceNumber"]
        return [self._lambda_record(record) for record in raw]

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):  # boto3 parses it; Lambda delivers epoch seconds
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        lambda_record = {name: record[name] for name in _RECORD_FIELDS if name in record}
        lambda_record.update(awsRegion=self._region, dynamodb=change, eventSourceARN=self._arn)
        return lambda_record
