"""The event trail: every event that crosses a bus, per business key, with its latencies."""

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localcloud.aws import Aws
from localcloud.testing import eventually
from localcloud.trail import (
    LEGEND,
    EventTrail,
    TrailEntry,
    consumers_from_contracts,
    envelopes,
    mermaid,
    recent_keys,
    render,
)

BUS = "trail-bus"


def put(aws: Aws, detail_type: str, detail: dict[str, Any]) -> str:
    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": "test.producer",
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": BUS,
            }
        ]
    )
    assert response["FailedEntryCount"] == 0
    event_id: str = response["Entries"][0]["EventId"]
    return event_id


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def trail_file(tmp_path: Path) -> Path:
    return tmp_path / "trail.jsonl"


@pytest.fixture
def trail(aws: Aws, trail_file: Path) -> Iterator[EventTrail]:
    aws.client("events").create_event_bus(Name=BUS)
    event_trail = EventTrail(aws, file=trail_file)
    event_trail.watch(BUS)
    event_trail.watch(BUS)  # watching twice is harmless
    yield event_trail
    event_trail.stop()


def test_the_trail_orders_one_keys_events_with_their_hop_latencies(
    aws: Aws, trail: EventTrail
) -> None:
    # Given three events of one key, spaced out, interleaved with another key's event; the last
    # belongs to the key through its correlation id only
    put(aws, "thing-created", {"partitionKey": "k-1", "timestamp": now_ms()})
    put(aws, "thing-created", {"partitionKey": "k-2", "timestamp": now_ms()})
    time.sleep(0.05)
    put(aws, "thing-checked", {"partitionKey": "k-1", "timestamp": now_ms()})
    time.sleep(0.05)
    put(
        aws,
        "thing-shipped",
        {"partitionKey": "s-9", "tags": {"correlationId": "k-1"}, "timestamp": now_ms()},
    )

    # When the trail has them all
    eventually(lambda: len(trail.for_key("k-1")) == 3)
    entries = trail.for_key("k-1")

    # Then they are in time order, each hop at least as long as the pause before it
    assert [e.detail_type for e in entries] == ["thing-created", "thing-checked", "thing-shipped"]
    assert [e.correlation_id for e in entries] == ["k-1", "k-1", "k-1"]
    hops = [
        later.received_ms - earlier.received_ms for earlier, later in itertools.pairwise(entries)
    ]
    assert all(hop >= 45 for hop in hops)
    assert all(0 <= (e.bus_latency_ms or -1) < 1000 for e in entries)
    assert [e.detail_type for e in trail.for_key("k-2")] == ["thing-created"]
    # And the table shows them in that order, with +ms and hop columns a legend explains
    table = trail.render("k-1").splitlines()
    assert table[0] == "events for k-1"
    assert table[1].split()[:5] == ["time", "(UTC)", "+ms", "hop", "ms"]
    assert table[2] == LEGEND
    assert all(f"{column}: " in LEGEND for column in ("+ms", "hop ms", "bus ms"))
    assert [line.split()[-1] for line in table[3:]] == [
        "thing-created",
        "thing-checked",
        "thing-shipped",
    ]
    assert table[3].split()[1:3] == ["0", "-"]
    assert int(table[4].split()[2]) == hops[0]


def test_the_trail_file_renders_as_the_trail_does(
    aws: Aws, trail: EventTrail, trail_file: Path
) -> None:
    # Given events recorded by a trail with a file
    put(aws, "thing-created", {"partitionKey": "k-1", "timestamp": now_ms()})
    put(aws, "thing-checked", {"partitionKey": "k-1", "timestamp": now_ms()})
    eventually(lambda: len(trail.for_key("k-1")) == 2)

    # When the file is read back
    entries = EventTrail.read_file(trail_file)

    # Then it holds every entry, and renders the same table
    assert entries == trail.entries()
    assert EventTrail.render_file(trail_file, "k-1") == trail.render("k-1")


def test_the_trail_keeps_events_moto_would_garble(aws: Aws, trail: EventTrail) -> None:
    # Given an event whose type has a quote and whose detail looks like a template placeholder
    event_id = put(aws, 'thing "quoted"', {"partitionKey": "k-1", "note": "<id> <detail>"})

    # When the trail has it
    [entry] = eventually(lambda: trail.for_key("k-1"))

    # Then it is exactly what was put
    assert (entry.event_id, entry.detail_type, entry.bus) == (event_id, 'thing "quoted"', BUS)
    assert entry.detail == {"partitionKey": "k-1", "note": "<id> <detail>"}
    assert entry.bus_latency_ms is None


def test_an_unknown_key_renders_as_no_events() -> None:
    # Given entries of another key / Then the table says there is nothing for this one
    entry = TrailEntry(1, BUS, "s", "t", "e", "k-1", "k-1", {})
    assert render([entry], "k-2") == "no events for k-2"


def test_the_keys_of_a_trail_are_listed_newest_first() -> None:
    # Given entries of three keys, k-1 the most recent through a later event
    entries = [
        TrailEntry(1, BUS, "s", "t", "e1", "k-1", "k-1", {}),
        TrailEntry(2, BUS, "s", "t", "e2", "k-2", "k-2", {}),
        TrailEntry(3, BUS, "s", "t", "e3", "k-3", "k-3", {}),
        TrailEntry(4, BUS, "s", "t", "e4", "k-1", "k-1", {}),
    ]

    # When their keys are listed / Then each once, the latest event's key first
    assert recent_keys(entries) == ["k-1", "k-3", "k-2"]


def test_one_keys_envelopes_are_json_lines_in_time_order() -> None:
    # Given two events of one key recorded out of order, and another key's
    first = {"partitionKey": "k-1", "type": "thing-created", "thing": {"size": 2}}
    second = {"partitionKey": "k-1", "type": "thing-checked"}
    entries = [
        TrailEntry(20, BUS, "s", "thing-checked", "e2", "k-1", "k-1", second),
        TrailEntry(10, BUS, "s", "thing-created", "e1", "k-1", "k-1", first),
        TrailEntry(15, BUS, "s", "thing-created", "e3", "k-2", "k-2", {"partitionKey": "k-2"}),
    ]

    # When they are printed as envelopes / Then one whole envelope a line, in time order
    assert [json.loads(line) for line in envelopes(entries, "k-1")] == [first, second]


def test_a_trail_read_by_a_pipe_that_closes_early_ends_quietly(tmp_path: Path) -> None:
    # Given a trail of many events for one key, as `make trail KEY=... | head -3` reads it
    lines = [
        TrailEntry(n, BUS, "s", "thing-happened", f"e{n}", "k-1", "k-1", {}).to_json()
        for n in range(5000)
    ]
    (tmp_path / "trail.jsonl").write_text("\n".join(lines) + "\n")

    # When its reader stops after a few lines
    listing = subprocess.run(
        f"{sys.executable} -m localcloud --state-dir {tmp_path} trail k-1 | head -3",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )

    # Then the listing ends without a traceback
    assert len(listing.stdout.splitlines()) == 3
    assert "Traceback" not in listing.stderr, listing.stderr


def journey_entry(at_ms: int, source: str, event_type: str, function: str | None) -> TrailEntry:
    tags = {"source": source, **({"functionName": function} if function else {})}
    detail = {"partitionKey": "o-1", "type": event_type, "tags": tags}
    return TrailEntry(at_ms, BUS, source, event_type, f"e-{at_ms}", "o-1", "o-1", detail)


def test_one_keys_events_draw_as_a_mermaid_sequence_through_the_event_hub() -> None:
    # Given an order's four events from three services, recorded out of order, and another
    # order's event in between; and who consumes what (nobody consumes the last)
    start = 1_764_590_400_000  # 2025-12-01 12:00:00 UTC
    entries = [
        journey_entry(start + 412, "inventory", "inventory-reserved", "inventory-local-trigger"),
        journey_entry(start, "order-bff", "order-placed", "order-bff-local-trigger"),
        TrailEntry(start + 500, BUS, "x", "order-placed", "e-x", "o-2", "o-2", {}),
        journey_entry(start + 1_030, "stripe-esg", "payment-intent-created", None),
        journey_entry(start + 1_100, "inventory", "inventory-committed", "inventory-local-trigger"),
    ]
    consumers = {
        "order-placed": ["inventory", "fulfillment-control"],
        "inventory-reserved": ["stripe-esg", "order-bff"],
        "payment-intent-created": ["order-bff"],
    }

    # When the order is drawn as Mermaid
    diagram = mermaid(entries, "o-1", consumers).splitlines()

    # Then the services in order of appearance with the hub after the first, each event an
    # arrow to the hub with the time since the previous one and from the hub to its consumers
    assert diagram == [
        "sequenceDiagram",
        "    title o-1: 4 events in 1100 ms",
        "    participant s1 as order-bff",
        "    participant hub as event hub",
        "    participant s2 as inventory",
        "    participant s3 as fulfillment-control",
        "    participant s4 as stripe-esg",
        "    Note over s1: 12:00:00.000 UTC",
        "    s1->>hub: order-placed (+0 ms)",
        "    hub-->>s2: order-placed",
        "    hub-->>s3: order-placed",
        "    s2->>hub: inventory-reserved (+412 ms)",
        "    hub-->>s4: inventory-reserved",
        "    hub-->>s1: inventory-reserved",
        "    s4->>hub: payment-intent-created (+618 ms)",
        "    hub-->>s1: payment-intent-created",
        "    s2->>hub: inventory-committed (+70 ms)",
        "    Note over s2: inventory-committed",
    ]


def test_consumers_are_read_from_each_services_contracts(tmp_path: Path) -> None:
    # Given two services' contract folders, each consuming order-placed, one also order-expired
    for service, types in {
        "inventory": ["order-placed", "order-expired"],
        "bff": ["order-placed"],
    }.items():
        folder = tmp_path / service / "contracts" / "consumes"
        folder.mkdir(parents=True)
        for event_type in types:
            (folder / f"{event_type}.json").write_text("{}")

    # When read, then each type names the services that consume it
    assert consumers_from_contracts(tmp_path.glob("*/contracts")) == {
        "order-placed": ["bff", "inventory"],
        "order-expired": ["inventory"],
    }


def test_a_key_chosen_by_anyone_cannot_break_the_diagram() -> None:
    # Given a key and a source holding Mermaid's statement and entity separators
    entry = TrailEntry(5, BUS, "a;b#c", "thing-done", "e", "k;1#", "k;1#", {})

    # When drawn, then neither reaches the diagram, and one event is a note alone
    assert mermaid([entry], "k;1#").splitlines()[1:3] == [
        "    title k,1: 1 event in 0 ms",
        "    participant s1 as a,bc",
    ]
    assert mermaid([entry], "k;1#").splitlines()[-1] == "    Note over s1: thing-done"
    assert mermaid([entry], "other") == "no events for other"
