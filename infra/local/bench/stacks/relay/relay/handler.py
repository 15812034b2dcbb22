"""One hop, as a service makes it: `relay` stores each `sample-sent` it reads from the stream in
its table; `publish` reads the table's new items and puts the next event on the bus."""

import base64
import json
import os
import time
from typing import Any

import boto3

dynamodb = boto3.client("dynamodb")
events = boto3.client("events")


def relay(event: dict[str, Any], context: object) -> None:  # noqa: ARG001 - Lambda's signature
    for record in event["Records"]:
        envelope = json.loads(base64.b64decode(record["kinesis"]["data"]))
        dynamodb.put_item(
            TableName=os.environ["TABLE_NAME"],
            Item={"pk": {"S": envelope["id"]}, "envelope": {"S": json.dumps(envelope)}},
        )


def publish(event: dict[str, Any], context: object) -> None:  # noqa: ARG001 - Lambda's signature
    entries = []
    for record in event["Records"]:
        if record["eventName"] != "INSERT":
            continue
        envelope = json.loads(record["dynamodb"]["NewImage"]["envelope"]["S"])
        hops_left = envelope["hopsLeft"] - 1
        following = {
            **envelope,
            "id": f"{envelope['partitionKey']}-{hops_left}",
            "type": "sample-sent" if hops_left > 0 else "sample-relayed",
            "timestamp": time.time_ns() // 1_000_000,
            "hopsLeft": hops_left,
        }
        entries.append(
            {
                "EventBusName": os.environ["BUS_NAME"],
                "Source": "relay",
                "DetailType": following["type"],
                "Detail": json.dumps(following),
            }
        )
    for first in range(0, len(entries), 10):
        events.put_events(Entries=entries[first : first + 10])
