"""Reports each Kinesis record it receives, with the time it saw it, to the received queue."""

import base64
import json
import os
import time

import boto3

sqs = boto3.client("sqs")


def handle(event, context):
    for record in event["Records"]:
        envelope = json.loads(base64.b64decode(record["kinesis"]["data"]))
        sqs.send_message(
            QueueUrl=os.environ["RECEIVED_QUEUE_URL"],
            MessageBody=json.dumps(
                {"envelope": envelope, "receivedMs": time.time_ns() // 1_000_000}
            ),
        )
    return {"batchItemFailures": []}
