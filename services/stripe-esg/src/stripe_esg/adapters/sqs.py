"""The ingress queue: where the webhook leaves each verified Stripe event for the worker."""

from __future__ import annotations

from typing import Any


class IngressQueue:
    def __init__(self, queue_url: str, *, client: Any = None) -> None:
        self._queue_url = queue_url
        self._client = client

    def send(self, stripe_event_id: str, body: str) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs")
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageAttributes={
                "stripeEventId": {"DataType": "String", "StringValue": stripe_event_id}
            },
        )
