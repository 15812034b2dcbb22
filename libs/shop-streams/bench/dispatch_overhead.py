"""Per-record cost of dispatching a 1,000-record Kinesis batch with `EventProcessor`, against a
hand-written minimal loop that does the same decode + validate + call + failure bookkeeping.

The processor's extra work (the tagged union over every registered type, skipping own events, the
log-context hook, the partial batch response) must stay within 1.3x of that loop.
"""

import base64
from typing import Any

from shop_bench import compare_calls, report
from shop_envelope import EventFactory
from shop_streams import EventProcessor
from shop_testkit import FakePublisher, kinesis_event
from shop_testkit.examples import OrderCancelled, OrderPlaced, order_placed

RECORDS = 1_000
batch = kinesis_event(*(order_placed(f"order-{i}", quantity=1 + i % 5) for i in range(RECORDS)))
handled: list[str] = []


def handle(event: OrderPlaced) -> None:
    handled.append(event.order.id)


processor = EventProcessor(events=EventFactory(source="inventory"), publisher=FakePublisher())
processor.on(OrderPlaced)(handle)
processor.on(OrderCancelled)(lambda _: None)


def with_processor() -> Any:
    handled.clear()
    return processor.process(batch)


def hand_written_loop() -> Any:
    handled.clear()
    failures = []
    for record in batch["Records"]:
        try:
            handle(OrderPlaced.model_validate_json(base64.b64decode(record["kinesis"]["data"])))
        except Exception:
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
    return {"batchItemFailures": failures}


assert with_processor() == hand_written_loop() == {"batchItemFailures": []}
assert len(handled) == RECORDS

print(
    report(
        "shop-streams: dispatch of a 1,000-record Kinesis batch",
        [
            compare_calls(
                "per record, EventProcessor vs hand-written loop",
                with_processor,
                hand_written_loop,
                per=RECORDS,
                target_ratio=1.3,
            )
        ],
    )
)
