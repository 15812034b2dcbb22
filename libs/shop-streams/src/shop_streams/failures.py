"""The two kinds of failure a record can have, decided here and nowhere else.

- **Permanent**: the record as it is can never succeed, so retrying it only holds back the records
  behind it. A record that cannot be read as an event (not an envelope, an invalid payload, a type
  the function's filter should have stopped) is always permanent; so is a handler error the
  service declares permanent (a domain rule the event breaks, such as committing stock that is
  not held), or one that subclasses `PermanentError`. A permanent failure is parked as a fault
  once and the record counts as handled: it is not in the partial batch response, so the shard
  moves on.
- **Transient**: everything else (throttling, timeouts, 5xx, a "not yet" such as a commit that
  comes before its reservation, a bug that a redeploy fixes). A transient failure is named in the
  partial batch response, so the event source retries it (bounded, bisecting), and publishes no
  fault per attempt. When the retries run out, the mapping's on-failure destination receives a
  pointer to the records, which `shop_streams.unprocessed` turns into exactly one parked fault
  per record.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class FailureKind(StrEnum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"


class PermanentError(Exception):
    """Raise it (or subclass it) from a handler for a record that can never succeed as it is."""


class FailurePolicy:
    """How one function tells the two kinds apart: `permanent` names the handler errors its
    service declares permanent (the domain errors no retry can mend)."""

    def __init__(self, permanent: Iterable[type[BaseException]] = ()) -> None:
        self._permanent: tuple[type[BaseException], ...] = (PermanentError, *permanent)

    def of_reading(self, error: BaseException) -> FailureKind:  # noqa: ARG002 - see below
        """A record that could not be read as an event will not read differently next time."""
        return FailureKind.PERMANENT

    def of_handling(self, error: BaseException) -> FailureKind:
        """A handler's error: permanent when declared so, transient otherwise."""
        if isinstance(error, self._permanent):
            return FailureKind.PERMANENT
        return FailureKind.TRANSIENT
