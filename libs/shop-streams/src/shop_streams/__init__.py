"""Stream processing: Kinesis, SQS, EventBridge and DynamoDB stream Lambda events turned into
domain events and dispatched per record, with partial batch responses and fault events."""

from shop_streams.batch import BatchReport, PartialBatchResponse
from shop_streams.cdc import Change, ChangeDataCapture, ChangeHandler, ChangePredicate, change_of
from shop_streams.errors import RecordFailed, UnsupportedEvent
from shop_streams.failures import FailureKind, FailurePolicy, PermanentError
from shop_streams.faults import fault_for, fault_id
from shop_streams.processor import EventProcessor, Handler
from shop_streams.records import TTL_USER_IDENTITY, Record, records_of, source_of

__all__ = [
    "TTL_USER_IDENTITY",
    "BatchReport",
    "Change",
    "ChangeDataCapture",
    "ChangeHandler",
    "ChangePredicate",
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
    "fault_id",
    "records_of",
    "source_of",
]
