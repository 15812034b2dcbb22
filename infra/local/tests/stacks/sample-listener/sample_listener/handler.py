"""Reports each Kinesis record it receives, with the time it saw it, to the received queue.

An envelope can ask it to fail, for tests of how failures are reported: `"sample": {"raise": M}`
fails the whole batch with RuntimeError(M); `"sample": {"fail": true}` reports that one record
failed in the partial batch response; a record whose envelope is marked `poison` it publishes as a
fault instead, with the id a fault of that record always has, as a listener does with a record
that can never succeed."""

import base64
import json
import os
import time
from typing import Any

import boto3

sqs = boto3.client("sqs")
events = boto3.client("events")


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
    reports: list[Any] = []
    faults: list[Any] = []
    for record, envelope in zip(event["Records"], envelopes, strict=True):
        if envelope.get("poison"):
            faults.append(_fault(envelope, record, received_ms))
        elif not envelope.get("sample", {}).get("fail"):
            reports.append(
                {
                    "Id": str(len(reports)),
                    "MessageBody": json.dumps({"envelope": envelope, "receivedMs": received_ms}),
                }
            )
    for first in range(0, len(reports), 10):
        sqs.send_message_batch(
            QueueUrl=os.environ["RECEIVED_QUEUE_URL"], Entries=reports[first : first + 10]
        )
    if faults:
        events.put_events(Entries=faults)
    return {"batchItemFailures": failed}


def _fault(envelope: dict[str, Any], record: dict[str, Any], now_ms: int) -> dict[str, Any]:
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "sample-listener")
    fault = {
        "id": f"fault-{function}-{record['eventID']}",
        "type": "fault",
        "timestamp": now_ms,
        "partitionKey": envelope["partitionKey"],
        "tags": {"source": "sample-listener", "functionName": function},
        "fault": {
            "errorType": "PoisonRecord",
            "message": "this record can never be handled",
            "eventSource": "aws:kinesis",
            "recordId": record["eventID"],
            "eventId": envelope["id"],
            "eventType": envelope["type"],
            "record": record,
        },
    }
    return {
        "EventBusName": os.environ["BUS_NAME"],
        "Source": "sample-listener",
        "DetailType": "fault",
        "Detail": json.dumps(fault),
    }
