"""EventBridge's event patterns, which Lambda's event filtering shares: `Pattern`, matched against
an event flattened once (`flatten`) however many patterns it meets.

The matching is moto's own, the one its rules use, so the local cloud has one implementation of
the syntax (exact values, prefix, suffix, anything-but, numeric, exists, equals-ignore-case,
wildcard, $or). moto's `matches_event` copies the event through JSON and flattens it again for
every pattern; the event sources and the bus match each record or event against several (a
rule per bus, a filter per mapping and lane), so they flatten it once and use moto's matcher on
the flat form. Events here are already what JSON gives (they come from the wire or from
`json.loads`), so the copy is not needed. moto is imported when the first pattern is built,
because importing its models is slow."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NewType

# An event as moto's matcher sees it: each leaf under its dotted path.
FlatEvent = NewType("FlatEvent", dict[str, Any])


def flatten(event: Mapping[str, Any]) -> FlatEvent:
    from moto.events.models import EventPattern

    return FlatEvent(EventPattern._flatten_dict(dict(event)))


class Pattern:
    """One event pattern; a ValueError with moto's reason when it is not a valid one."""

    def __init__(self, pattern: Mapping[str, Any] | str) -> None:
        from moto.core.exceptions import JsonRESTError
        from moto.events.models import EventPattern

        text = pattern if isinstance(pattern, str) else json.dumps(pattern)
        try:
            self._pattern = EventPattern.load(text)
        except JsonRESTError as error:
            raise ValueError(f"invalid event pattern {text}: {error.message}") from error

    def matches(self, event: FlatEvent) -> bool:
        pattern = self._pattern.get_pattern()
        return not pattern or bool(self._pattern._does_event_match(event, pattern))
