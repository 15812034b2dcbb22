"""The listing `make faults` prints: ages as people read them, one row per fault, a count."""

import pytest
from event_hub.parked import ParkedFault, SeenError
from localcloud.faults import age, render


@pytest.mark.parametrize(
    ("milliseconds", "shown"),
    [(0, "0s"), (3_400, "3s"), (5 * 60_000 + 59_000, "5m"), (2 * 3_600_000, "2h"), (-5, "0s")],
)
def test_an_age_is_shown_in_its_largest_whole_unit(milliseconds: int, shown: str) -> None:
    assert age(milliseconds) == shown


def fault(fault_id: str, status: str, attempts: int, first_seen_at: int) -> ParkedFault:
    return ParkedFault(
        fault_id=fault_id,
        function="inventory-local-listener",
        source="inventory",
        event_source="aws:kinesis",
        record_id="shardId-000000000000:1",
        event_id=None,
        event_type=None,
        partition_key="order-1",
        status=status,  # type: ignore[arg-type]
        attempts=attempts,
        first_error=SeenError("KeyError", "'sku'"),
        last_error=SeenError("InvalidEvent", "order.lines: field required"),
        first_seen_at=first_seen_at,
        last_seen_at=first_seen_at,
        resubmitted_at=None,
        envelope="{}",
    )


def test_the_listing_has_a_header_a_row_per_fault_and_a_count() -> None:
    lines = render(
        [fault("fault-a", "parked", 12, 0), fault("fault-b", "resubmitted", 1, 90_000)],
        now_ms=120_000,
    )

    assert lines[0].split()[:4] == ["FAULT", "STATUS", "ATTEMPTS", "AGE"]
    assert lines[1].split() == [
        "fault-a", "parked", "12", "2m", "inventory-local-listener", "-",
        "InvalidEvent:", "order.lines:", "field", "required",
    ]  # fmt: skip
    assert lines[2].split()[:4] == ["fault-b", "resubmitted", "1", "30s"]
    assert lines[3] == "2 fault(s): 1 parked, 1 resubmitted"
    assert len({line.index("inventory-local-listener") for line in lines[1:3]}) == 1, "aligned"
