"""Every event that crosses a bus, kept in time order and readable per business key.

`EventTrail.watch` puts a catch-all rule on a bus whose target is a queue of the trail's own (moto
delivers to SQS natively); the trail polls it, keeps each event in memory and appends it to a JSON
lines file, so `localcloud trail KEY` can show one flow after the fact: when each event crossed the
bus, how long after the previous event of the same key, and how long after the fact it describes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localcloud.aws import Aws
from localcloud.eventbridge.input import event_from_body
from localcloud.eventbridge.queues import Batch, QueueReceiver, receiving_client, stop_receivers
from localcloud.eventbridge.targets import WHOLE_EVENT_TRANSFORMER
from localcloud.lifecycle import Part

logger = logging.getLogger(__name__)

# In the state dir: this run's trail, and the previous run's, kept aside when a new one starts.
TRAIL_FILE = "trail.jsonl"
PREVIOUS_TRAIL_FILE = "trail.previous.jsonl"
RULE_NAME = "localcloud-trail"
QUEUE_PREFIX = "localcloud-trail-"
# Every event has a source, and every string starts with "".
CATCH_ALL_PATTERN = {"source": [{"prefix": ""}]}
LEGEND = (
    "(time: when the bus took it; +ms: since the first event; hop ms: since the previous one;"
    " bus ms: from the event's own timestamp to the bus)"
)


@dataclass(frozen=True)
class TrailEntry:
    received_ms: int  # when the bus took the event, epoch milliseconds
    bus: str
    source: str
    detail_type: str
    event_id: str
    partition_key: str | None
    correlation_id: str | None
    detail: Any

    @property
    def timestamp_ms(self) -> int | None:
        """When the fact happened, from `detail.timestamp` (epoch milliseconds or ISO 8601)."""
        stamp = self.detail.get("timestamp") if isinstance(self.detail, dict) else None
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            return int(stamp)
        if isinstance(stamp, str):
            try:
                parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
        return None

    @property
    def bus_latency_ms(self) -> int | None:
        stamp = self.timestamp_ms
        return None if stamp is None else self.received_ms - stamp

    def matches(self, key: str) -> bool:
        return key in (self.partition_key, self.correlation_id)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> TrailEntry:
        return cls(**json.loads(line))

    @classmethod
    def from_event(cls, event: dict[str, Any], *, bus: str, received_ms: int) -> TrailEntry:
        detail = event.get("detail")
        partition_key = correlation_id = None
        if isinstance(detail, dict):
            partition_key = _text(detail.get("partitionKey"))
            tags = detail.get("tags")
            correlation_id = (
                _text(tags.get("correlationId")) if isinstance(tags, dict) else None
            ) or partition_key
        return cls(
            received_ms=received_ms,
            bus=bus,
            source=str(event.get("source", "")),
            detail_type=str(event.get("detail-type", "")),
            event_id=str(event.get("id", "")),
            partition_key=partition_key,
            correlation_id=correlation_id,
            detail=detail,
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def entries_for(entries: list[TrailEntry], key: str) -> list[TrailEntry]:
    """The entries of one key (a partition key or a correlation id), in the order the bus took
    them; entries taken in the same millisecond keep the order they were recorded in."""
    return sorted((entry for entry in entries if entry.matches(key)), key=lambda e: e.received_ms)


def recent_keys(entries: list[TrailEntry]) -> list[str]:
    """Every partition key of the entries, the one whose latest event is the newest first."""
    latest: dict[str, int] = {}
    for entry in entries:
        if entry.partition_key is not None:
            latest[entry.partition_key] = max(latest.get(entry.partition_key, 0), entry.received_ms)
    return sorted(latest, key=lambda key: latest[key], reverse=True)


def envelopes(entries: list[TrailEntry], key: str) -> list[str]:
    """One key's events as their full envelopes (the bus event's detail), a JSON line each, in
    time order."""
    return [json.dumps(entry.detail, separators=(",", ":")) for entry in entries_for(entries, key)]


def render(entries: list[TrailEntry], key: str) -> str:
    """A table of one key's events: when, since the first, since the previous, bus latency; a
    legend under the column header says which is which."""
    chosen = entries_for(entries, key)
    if not chosen:
        return f"no events for {key}"
    header = ("time (UTC)", "+ms", "hop ms", "bus ms", "source", "type")
    rows = [header]
    first = previous = chosen[0].received_ms
    for entry in chosen:
        latency = entry.bus_latency_ms
        rows.append(
            (
                datetime.fromtimestamp(entry.received_ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3],
                str(entry.received_ms - first),
                "-" if entry is chosen[0] else str(entry.received_ms - previous),
                "-" if latency is None else str(latency),
                entry.source,
                entry.detail_type,
            )
        )
        previous = entry.received_ms
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    numeric = {1, 2, 3}
    lines = [f"events for {key}"]
    for row in rows:
        cells = [
            cell.rjust(widths[column]) if column in numeric else cell.ljust(widths[column])
            for column, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if row is header:
            lines.append(LEGEND)
    return "\n".join(lines)


def producer(entry: TrailEntry) -> str:
    """Who put the event on the bus: the function its envelope's tags name, else its source."""
    tags = entry.detail.get("tags") if isinstance(entry.detail, dict) else None
    function = _text(tags.get("functionName")) if isinstance(tags, dict) else None
    return function or entry.source or "unknown"


HUB = "event hub"


def consumers_from_contracts(contract_dirs: Iterable[Path]) -> dict[str, list[str]]:
    """Event type → the services that consume it, from each service's committed contracts: a
    `contracts/consumes/<type>.json` for every type it consumes, the service named by the folder
    that holds `contracts/`."""
    consumers: dict[str, list[str]] = {}
    for folder in sorted(contract_dirs):
        for schema in sorted((folder / "consumes").glob("*.json")):
            consumers.setdefault(schema.stem, []).append(folder.parent.name)
    return consumers


def mermaid(
    entries: list[TrailEntry], key: str, consumers: Mapping[str, Sequence[str]] | None = None
) -> str:
    """One key's events as a Mermaid sequence diagram of the services and the event hub between
    them: each event an arrow from the service that produced it to the hub, labelled with the
    time since the key's previous event (the table's hop ms), then an arrow from the hub to each
    service that consumes it (`consumers`: event type → services, `consumers_from_contracts`);
    a note gives the first event's time and the last event's type. The services are
    participants in order of appearance, the hub after the first of them."""
    chosen = entries_for(entries, key)
    if not chosen:
        return f"no events for {key}"
    consumers = consumers or {}
    services: list[str] = []
    for entry in chosen:
        for service in (entry.source or "unknown", *consumers.get(entry.detail_type, ())):
            if service not in services:
                services.append(service)
    # Aliases keep the arrows parseable whatever the names hold (a hyphen reads as an arrow).
    alias = {name: f"s{index}" for index, name in enumerate(services, start=1)}
    total = chosen[-1].received_ms - chosen[0].received_ms
    started = datetime.fromtimestamp(chosen[0].received_ms / 1000, UTC).strftime("%H:%M:%S.%f")
    plural = "" if len(chosen) == 1 else "s"
    lines = [
        "sequenceDiagram",
        f"    title {_mermaid_text(key)}: {len(chosen)} event{plural} in {total} ms",
    ]
    for index, name in enumerate(services):
        lines.append(f"    participant {alias[name]} as {_mermaid_text(name)}")
        if index == 0:
            lines.append(f"    participant hub as {HUB}")
    lines.append(f"    Note over {alias[services[0]]}: {started[:-3]} UTC")
    previous = chosen[0].received_ms
    for entry in chosen:
        source = alias[entry.source or "unknown"]
        hop = entry.received_ms - previous
        lines.append(f"    {source}->>hub: {_mermaid_text(entry.detail_type)} (+{hop} ms)")
        lines += [
            f"    hub-->>{alias[service]}: {_mermaid_text(entry.detail_type)}"
            for service in consumers.get(entry.detail_type, ())
        ]
        previous = entry.received_ms
    last = chosen[-1]
    lines.append(f"    Note over {source}: {_mermaid_text(last.detail_type)}")
    return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    # A semicolon ends a Mermaid statement and a hash starts an entity code; neither is in an
    # event type or a function name, but a key or a source is anyone's to choose.
    return text.replace(";", ",").replace("#", "").replace("\n", " ")


class EventTrail(Part):
    """Records every event that crosses the watched buses."""

    def __init__(
        self, aws: Aws, *, file: Path | None = None, poll_interval_seconds: float = 0.02
    ) -> None:
        self._aws = aws
        self._file = file
        self._poll_interval_seconds = poll_interval_seconds
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._entries: list[TrailEntry] = []
        self._pollers: dict[str, QueueReceiver] = {}
        self._receiver: Any = None

    def watch(self, bus_name: str) -> None:
        """Record every event put on `bus_name` from now on; watching a bus twice changes nothing."""
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("the trail is stopped")
            if bus_name in self._pollers:
                return
            sqs = self._aws.client("sqs")
            queue_name = (QUEUE_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "-", bus_name))[:80]
            queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            events = self._aws.client("events")
            events.put_rule(
                Name=RULE_NAME, EventBusName=bus_name, EventPattern=json.dumps(CATCH_ALL_PATTERN)
            )
            events.put_targets(
                Rule=RULE_NAME,
                EventBusName=bus_name,
                Targets=[
                    {
                        "Id": "trail",
                        "Arn": queue_arn,
                        "InputTransformer": WHOLE_EVENT_TRANSFORMER,
                    }
                ],
            )
            if self._receiver is None:
                self._receiver = receiving_client(self._aws)
            self._pollers[bus_name] = QueueReceiver(
                self._receiver,
                sqs,
                queue_url,
                lambda messages: self._record(bus_name, queue_url, messages),
                self._stopping,
                name=f"trail-{bus_name}",
                poll_interval_seconds=self._poll_interval_seconds,
            ).start()
        logger.info("trail watching bus", extra={"bus": bus_name})

    def entries(self) -> list[TrailEntry]:
        with self._lock:
            return list(self._entries)

    def for_key(self, key: str) -> list[TrailEntry]:
        return entries_for(self.entries(), key)

    def render(self, key: str) -> str:
        return render(self.entries(), key)

    @staticmethod
    def read_file(file: Path) -> list[TrailEntry]:
        if not file.exists():
            return []
        with file.open() as lines:
            return [TrailEntry.from_json(line) for line in lines if line.strip()]

    @staticmethod
    def render_file(file: Path, key: str) -> str:
        """The table for one key from a trail file, e.g. one a running local cloud writes."""
        return render(EventTrail.read_file(file), key)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            pollers = list(self._pollers.values())
        stop_receivers(pollers, self._stopping)

    def record(self, bus: str, events: list[dict[str, Any]], *, received_ms: int) -> None:
        """Record events the bus took without this trail's rule (the local cloud's own PutEvents)."""
        self._keep(
            [TrailEntry.from_event(event, bus=bus, received_ms=received_ms) for event in events]
        )

    def _keep(self, recorded: list[TrailEntry]) -> None:
        with self._lock:
            self._entries.extend(recorded)
            if self._file is not None and recorded:
                with self._file.open("a") as trail_file:
                    trail_file.writelines(entry.to_json() + "\n" for entry in recorded)

    def _record(self, bus: str, queue_url: str, messages: Batch) -> None:
        recorded = []
        for message in messages:
            try:
                event, ingestion_time = event_from_body(message["Body"])
            except ValueError:
                logger.warning("trail message is not an event", extra={"bus": bus})
                continue
            sent = message.get("Attributes", {}).get("SentTimestamp")
            received_ms = (
                int(ingestion_time * 1000)
                if ingestion_time is not None
                else int(sent)
                if sent
                else int(time.time() * 1000)
            )
            recorded.append(TrailEntry.from_event(event, bus=bus, received_ms=received_ms))
        self._keep(recorded)
        self._aws.client("sqs").delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(messages)
            ],
        )
