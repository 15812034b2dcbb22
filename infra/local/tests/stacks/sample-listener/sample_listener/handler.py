"""Reports each Kinesis record it receives, with the time it saw it, to the received queue.

An envelope can ask it to fail, for tests of how failures are reported: `"sample": {"raise": M}`
fails the whole batch with RuntimeError(M); `"sample": {"fail": true}` reports that one record
failed in the partial batch response."""

import base64
import json
import os
import time
from typing import Any

import boto3

sqs = boto3.client("sqs")


def handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    received_ms = time.time_ns() // 1_000_000
    envelopes = [
        json.loads(base64.b64decode(record["kinesis"]["data"])) for record in event["Records"]
    ]
    for envelope in envelopes:
        if "raise" in envelope.get("sample", {}):
            raise RuntimeError(envelope["sample"]["raise"])
    failed = [
        {"itemIdentifier": record["kinesis"]["sequenceNumber"]}
        for record, envelope in zip(event["Records"], envelopes, strict=True)
        if envelope.get("sample", {}).get("fail")
    ]
    reports: list[Any] = [
        {
            "Id": str(index),
            "MessageBody": json.dumps({"envelope": envelope, "receivedMs": received_ms}),
        }
        for index, envelope in enumerate(envelopes)
        if not envelope.get("sample", {}).get("fail")
    ]
    for first in range(0, len(reports), 10):
        sqs.send_message_batch(
            QueueUrl=os.environ["RECEIVED_QUEUE_URL"], Entries=reports[first : first + 10]
        )
    return {"batchItemFailures": failed}
