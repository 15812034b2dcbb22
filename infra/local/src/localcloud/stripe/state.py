"""The state of one fake Stripe account (`AccountState`): its objects, the events it emits, and
what every endpoint shares (looking up an intent, listing a page, expanding a field). The
endpoints are `payment_intents.PaymentIntents` and `refunds.Refunds`; `account.Account` routes
requests to them with Stripe's idempotency."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from localcloud.stripe.params import (
    API_VERSION,
    Json,
    allow,
    int_param,
    invalid,
    list_param,
    missing,
    new_id,
    text_param,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    params: Json
    request_id: str
    idempotency_key: str | None
    now: int


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Kept:
    method: str
    path: str
    fingerprint: tuple[tuple[str, str], ...]
    request_id: str
    status: int
    body: bytes
    headers: dict[str, str]


def dump(body: Json) -> bytes:
    # Stripe pretty-prints its JSON with two spaces; webhook receivers see the same bytes.
    return json.dumps(body, indent=2).encode()


Handler = Callable[[Call, str], Json]


class AccountState:
    """The state of one Stripe test-mode account. Every method runs under the caller's lock."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        wants_event: Callable[[str], bool],
        publish: Callable[[str, Json], None],
    ) -> None:
        self._clock = clock
        self._wants_event = wants_event
        self._publish = publish
        self.payment_intents: dict[str, Json] = {}
        self.charges: dict[str, Json] = {}
        self.refunds: dict[str, Json] = {}
        self.payment_methods: dict[str, Json] = {}
        self.events: dict[str, Json] = {}
        self._kept: dict[str, Kept] = {}

    def _emit(
        self, type_: str, obj: Json, call: Call, previous_attributes: Json | None = None
    ) -> None:
        data: Json = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        wanted = self._wants_event(type_)
        event: Json = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": call.now,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if wanted else 0,
            "request": {"id": call.request_id, "idempotency_key": call.idempotency_key},
            "type": type_,
        }
        self.events[event["id"]] = event
        if wanted:
            # Webhooks of one intent are kept in order, whichever object the event is about.
            self._publish(obj.get("payment_intent") or obj["id"], event)

    def settle(self, event_id: str) -> None:
        event = self.events.get(event_id)
        if event is not None:
            event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)

    @staticmethod
    def _public(obj: Json) -> Json:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _intent(self, pi_id: str, param: str = "intent", status: int = 404) -> Json:
        intent = self.payment_intents.get(pi_id)
        if intent is None:
            raise missing("payment_intent", pi_id, param, status)
        return intent

    @staticmethod
    def _created_filter(items: list[Json], params: Mapping[str, Any]) -> list[Json]:
        created = params.get("created")
        if created is None:
            return items
        if isinstance(created, str):
            exact = cast(int, int_param(params, "created"))
            return [item for item in items if item["created"] == exact]
        allow(created, {"gt", "gte", "lt", "lte"}, "created")
        bounds = {op: cast(int, int_param(created, op)) for op in created}
        checks: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        return [
            item
            for item in items
            if all(checks[op](item["created"], bound) for op, bound in bounds.items())
        ]

    def _page(self, items: list[Json], params: Mapping[str, Any], url: str, kind: str) -> Json:
        """One page of a list, newest first, cursors as Stripe's starting_after/ending_before."""
        limit = int_param(params, "limit")
        if limit is None:
            limit = 10
        if not 1 <= limit <= 100:
            raise invalid(
                "This value must be between 1 and 100 (inclusive).",
                param="limit",
                code="parameter_invalid_integer",
            )
        newest_first = list(reversed(items))
        ids = [item["id"] for item in newest_first]
        after = text_param(params, "starting_after")
        before = text_param(params, "ending_before")
        if after is not None and before is not None:
            raise invalid(
                "You may only specify one of these parameters: starting_after, ending_before."
            )
        if after is not None:
            if after not in ids:
                raise missing(kind, after, "starting_after")
            rest = newest_first[ids.index(after) + 1 :]
            page, has_more = rest[:limit], len(rest) > limit
        elif before is not None:
            if before not in ids:
                raise missing(kind, before, "ending_before")
            rest = newest_first[: ids.index(before)]
            page, has_more = rest[-limit:], len(rest) > limit
        else:
            page, has_more = newest_first[:limit], len(newest_first) > limit
        expand = [path.removeprefix("data.") for path in list_param(params, "expand")]
        return {
            "object": "list",
            "data": [self._expand(item, {"expand": expand}) for item in page],
            "has_more": has_more,
            "url": url,
        }

    def _expand(self, obj: Json, params: Mapping[str, Any]) -> Json:
        paths = params.get("expand")
        expand = paths if isinstance(paths, list) else list_param(params, "expand")
        result = self._public(copy.deepcopy(obj))
        stores: dict[str, dict[str, Json]] = {
            "latest_charge": self.charges,
            "charge": self.charges,
            "payment_intent": self.payment_intents,
            "payment_method": self.payment_methods,
        }
        for path in expand:
            store = stores.get(path)
            if store is None or path not in result:
                raise invalid(f"This property cannot be expanded ({path}).", param="expand")
            ref = result[path]
            if isinstance(ref, str) and ref in store:
                result[path] = self._public(copy.deepcopy(store[ref]))
        return result
