"""For services' tests: builders of real-shaped Lambda events and fakes of the shared ports."""

from shop_testkit.context import LambdaContext
from shop_testkit.events import (
    StreamChange,
    dynamodb_stream_event,
    eventbridge_event,
    http_api_event,
    insert,
    kinesis_event,
    modify,
    remove,
    sqs_event,
    to_dynamodb,
)
from shop_testkit.fakes import FakePublisher
from shop_testkit.streams import TableStream

__all__ = [
    "FakePublisher",
    "LambdaContext",
    "StreamChange",
    "TableStream",
    "dynamodb_stream_event",
    "eventbridge_event",
    "http_api_event",
    "insert",
    "kinesis_event",
    "modify",
    "remove",
    "sqs_event",
    "to_dynamodb",
]
