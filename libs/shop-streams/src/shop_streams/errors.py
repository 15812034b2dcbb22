"""Errors of stream processing itself, as opposed to errors of the events it carries."""

from __future__ import annotations


class UnsupportedEvent(Exception):
    """The Lambda event is not of a source this library processes."""


class RecordFailed(Exception):
    """A record of a source without partial batch responses (an EventBridge target) failed.

    Raised after its fault event was published, so that Lambda's retries and DLQ apply as well.
    """

    def __init__(self, record_id: str, cause: BaseException) -> None:
        self.record_id = record_id
        super().__init__(f"record {record_id} failed: {type(cause).__name__}: {cause}")
