"""Reports each Kinesis record it receives, with the time it saw it, to the received queue."""

import base64
import json
import os
import time
from typing import Any

import boto3

sqs = boto3.client("sqs")


def handle(event: dict[str, Any], context: object) -> dict[str, Any]:
    received_ms = time.time_ns() // 1_000_000
    reports: list[Any] = [
        {
            "Id": str(index),
            "MessageBody": json.dumps(
                {
                    "envelope": json.loads(base64.b64decode(record["kinesis"]["data"])),
                    "receivedMs": received_ms,
                }
            ),
        }
        for index, record in enumerate(event["Records"])
    ]
    for first in range(0, len(reports), 10):
        sqs.send_message_batch(
            QueueUrl=os.environ["RECEIVED_QUEUE_URL"], Entries=reports[first : first + 10]
        )
    return {"batchItemFailures": []}
