"""A fake of the publisher port that behaves like the EventBridge adapter, failures included."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shop_envelope import DomainEvent, Envelope
from shop_publisher import MAX_BYTES_PER_CALL, FailedEntry, PublishError, entry_size

E = TypeVar("E", bound=DomainEvent)


@dataclass
class _Failure:
    matches: Callable[[Envelope], bool]
    error_code: str
    times: int | None


class FakePublisher:
    """Keeps what was published, in order; can be told to fail events the way EventBridge does.

    Like the real adapter it publishes every event it can, then raises `PublishError` naming
    exactly those it could not: oversized entries, and those a failure rule matches.
    """

    def __init__(self) -> None:
        self.published: list[Envelope] = []
        self.calls = 0
        self._failures: list[_Failure] = []

    def fail(
        self,
        matches: Callable[[Envelope], bool] = lambda _: True,
        *,
        error_code: str = "InternalFailure",
        times: int | None = None,
    ) -> None:
        """Fail the events `matches` selects, on the next `times` publishes (None: always)."""
        self._failures.append(_Failure(matches, error_code, times))

    def publish(self, events: Sequence[Envelope]) -> None:
        self.calls += 1
        failed: list[FailedEntry] = []
        for event in events:
            failure = self._failure_for(event)
            if failure is not None:
                failed.append(FailedEntry(event, failure, "failed by FakePublisher.fail"))
            else:
                self.published.append(event)
        for rule in self._failures:
            if rule.times is not None:
                rule.times -= 1
        self._failures = [rule for rule in self._failures if rule.times is None or rule.times > 0]
        if failed:
            raise PublishError(failed)

    def of_type(self, event_class: type[E]) -> list[E]:
        """The published events of one type, as that type."""
        return [event for event in self.published if isinstance(event, event_class)]

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.published]

    def _failure_for(self, event: Envelope) -> str | None:
        size = entry_size(
            {"Source": event.tags.source, "DetailType": event.type, "Detail": event.to_json()}
        )
        if size > MAX_BYTES_PER_CALL:
            return "EntryTooLarge"
        for rule in self._failures:
            if rule.matches(event):
                return rule.error_code
        return None
