"""EventBridge's PutEvents served by the local cloud itself: the fast way onto a bus.

Rule delivery through moto routes every matched event through a queue per target (see
`eventbridge`). Events put here skip that: the bus's rules are matched in this process (with
moto's own pattern matching, `localcloud.patterns`) and the events are delivered straight to the
routed targets, with the same rule state, batching, retries and dead-letter queues, and recorded
in the trail. Each
entry takes one path whole: one that matches a rule this process does not deliver for (a rule
made at run time, say) goes to moto's PutEvents instead, and from there through the queues.
Every other EventBridge call is passed on to moto unchanged. Functions get this endpoint as
`AWS_ENDPOINT_URL_EVENTBRIDGE` (`ENDPOINT_VARIABLE`).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from localcloud.aws import ACCOUNT_ID, Aws
from localcloud.eventbridge import RuleDelivery, RuleTarget
from localcloud.lifecycle import HttpPart, KeepAliveHandler
from localcloud.patterns import Pattern, flatten
from localcloud.trail import RULE_NAME as TRAIL_RULE
from localcloud.trail import EventTrail

logger = logging.getLogger(__name__)

PUT_EVENTS = "AWSEvents.PutEvents"
# The variable boto3 reads for one service's endpoint is named after its service id, EventBridge,
# not its endpoint prefix: `AWS_ENDPOINT_URL_EVENTS`, given until 2026-12-02, was never read, and
# every function's PutEvents went to moto and through its queues (decision 0024).
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_EVENTBRIDGE"
# How long a bus's rules are taken as known before they are listed again.
RULES_SECONDS = 1.0


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: Pattern


class EventsApiServer(HttpPart):
    def __init__(
        self,
        aws: Aws,
        delivery: RuleDelivery,
        trail: EventTrail,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._aws = aws
        self._delivery = delivery
        self._trail = trail
        self._rules: dict[str, tuple[float, list[_Rule]]] = {}
        super().__init__(self._handler(), name="events-api", host=host, port=port)

    def put_events(self, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """PutEvents: every entry accepted, failed with AWS's error, or passed on to moto."""
        now = time.time()
        results: list[dict[str, Any]] = []
        to_moto: list[int] = []
        # Keyed by the target's identity: a target holds mappings, so it is not hashable itself.
        deliveries: dict[int, tuple[RuleTarget, list[dict[str, Any]]]] = {}
        trailed: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for index, entry in enumerate(entries):
            try:
                bus, event = self._event(entry, now)
            except ValueError as error:
                results.append({"ErrorCode": "InvalidArgument", "ErrorMessage": str(error)})
                continue
            flat = flatten(event)
            matched = [rule for rule in self._rules_of(bus) if rule.pattern.matches(flat)]
            targets = {rule.name: self._delivery.targets_of(bus, rule.name) for rule in matched}
            if any(not found and name != TRAIL_RULE for name, found in targets.items()):
                to_moto.append(index)
                results.append({})
                continue
            for found in targets.values():
                for target in found:
                    deliveries.setdefault(id(target), (target, []))[1].append(event)
            if TRAIL_RULE in targets:
                trailed[bus].append(event)
            results.append({"EventId": event["id"]})
        for target, events in deliveries.values():
            self._delivery.deliver_events(target, events)
        for bus, events in trailed.items():
            self._trail.record(bus, events, received_ms=int(now * 1000))
        if to_moto:
            answered = self._aws.client("events").put_events(Entries=[entries[i] for i in to_moto])
            for index, result in zip(to_moto, answered["Entries"], strict=True):
                results[index] = result
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    def _event(self, entry: dict[str, Any], now: float) -> tuple[str, dict[str, Any]]:
        for field in ("Source", "DetailType", "Detail"):
            if not entry.get(field):
                raise ValueError(f"Parameter {field} is not valid.")
        try:
            detail = json.loads(entry["Detail"])
        except ValueError:
            raise ValueError("Detail is malformed.") from None
        if not isinstance(detail, dict):
            raise ValueError("Detail is malformed.")
        bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
        moment = entry.get("Time") or now
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": ACCOUNT_ID,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(moment))),
            "region": self._aws.region,
            "resources": list(entry.get("Resources") or []),
            "detail": detail,
        }
        return bus, event

    def _rules_of(self, bus: str) -> list[_Rule]:
        cached = self._rules.get(bus)
        if cached is not None and time.monotonic() - cached[0] < RULES_SECONDS:
            return cached[1]
        rules = []
        paginator = self._aws.client("events").get_paginator("list_rules")
        for page in paginator.paginate(EventBusName=bus):
            for rule in page["Rules"]:
                if rule.get("EventPattern") and rule.get("State", "ENABLED") == "ENABLED":
                    rules.append(_Rule(rule["Name"], Pattern(rule["EventPattern"])))
        self._rules[bus] = (time.monotonic(), rules)
        return rules

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("X-Amz-Target") == PUT_EVENTS:
                    answer = json.dumps(
                        server.put_events(json.loads(body).get("Entries", []))
                    ).encode()
                    self._send(200, answer, "application/x-amz-json-1.1")
                    return
                self._pass_on(body)

            def _pass_on(self, body: bytes) -> None:
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower()
                    in ("content-type", "x-amz-target", "authorization", "x-amz-date")
                }
                request = urllib.request.Request(
                    server._aws.endpoint + self.path, data=body, headers=headers, method="POST"
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, answer = response.status, response.read()
                        content_type = response.headers.get("Content-Type", "application/json")
                except urllib.error.HTTPError as error:
                    status, answer = error.code, error.read()
                    content_type = error.headers.get("Content-Type", "application/json")
                self._send(status, answer, content_type)

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                logger.debug("events api request", extra={"request": format % args})

        return Handler
