"""What could not be published, entry by entry: a publisher never drops an event silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shop_envelope import Envelope


@dataclass(frozen=True)
class FailedEntry:
    event: Envelope
    error_code: str
    error_message: str


class PublishError(Exception):
    """Some events were not published after every retry; `failed` names each one and why."""

    def __init__(self, failed: Sequence[FailedEntry]) -> None:
        self.failed = tuple(failed)
        codes = sorted({entry.error_code for entry in self.failed})
        super().__init__(f"{len(self.failed)} event(s) not published: {', '.join(codes)}")

    @property
    def events(self) -> tuple[Envelope, ...]:
        return tuple(entry.event for entry in self.failed)
