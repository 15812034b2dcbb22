"""Stream processing: Kinesis, SQS, EventBridge and DynamoDB stream Lambda events turned into
domain events and dispatched per record, with partial batch responses and fault events."""

from shop_streams.cdc import Change, ChangeDataCapture, ChangeMapper, change_of, from_dynamodb
from shop_streams.errors import RecordFailed, UnsupportedEvent
from shop_streams.failures import FailureKind, FailurePolicy, PermanentError
from shop_streams.faults import fault_for
from shop_streams.processor import BatchReport, EventProcessor, Handler, PartialBatchResponse
from shop_streams.records import Record, records_of, source_of

__all__ = [
    "BatchReport",
    "Change",
    "ChangeDataCapture",
    "ChangeMapper",
    "EventProcessor",
    "FailureKind",
    "FailurePolicy",
    "Handler",
    "PartialBatchResponse",
    "PermanentError",
    "Record",
    "RecordFailed",
    "UnsupportedEvent",
    "change_of",
    "fault_for",
    "from_dynamodb",
    "records_of",
    "source_of",
]
