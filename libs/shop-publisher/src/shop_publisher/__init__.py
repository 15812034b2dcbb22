"""Publishes domain events to EventBridge: batched by count and size, failed entries retried,
never a silent drop."""

from shop_publisher.batching import MAX_BYTES_PER_CALL, MAX_ENTRIES_PER_CALL, batches, entry_size
from shop_publisher.errors import FailedEntry, PublishError
from shop_publisher.eventbridge import EventBridgePublisher
from shop_publisher.port import EventPublisher

__all__ = [
    "MAX_BYTES_PER_CALL",
    "MAX_ENTRIES_PER_CALL",
    "EventBridgePublisher",
    "EventPublisher",
    "FailedEntry",
    "PublishError",
    "batches",
    "entry_size",
]
