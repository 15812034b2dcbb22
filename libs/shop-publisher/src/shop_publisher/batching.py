"""PutEvents limits: at most 10 entries and 256 KB per call, sized the way EventBridge sizes them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

MAX_ENTRIES_PER_CALL = 10
MAX_BYTES_PER_CALL = 256 * 1024
# EventBridge counts a `Time` field as 14 bytes whether or not its value is that long.
TIME_FIELD_BYTES = 14


def entry_size(entry: Mapping[str, object]) -> int:
    """The size EventBridge charges an entry against the 256 KB limit (its documented formula)."""
    size = TIME_FIELD_BYTES if "Time" in entry else 0
    for field in ("Source", "DetailType", "Detail"):
        value = entry.get(field)
        if isinstance(value, str):
            size += len(value.encode())
    resources = entry.get("Resources")
    if isinstance(resources, Sequence):
        size += sum(len(str(resource).encode()) for resource in resources)
    return size


def batches[T](
    sized_items: Iterable[tuple[T, int]],
    *,
    max_count: int = MAX_ENTRIES_PER_CALL,
    max_bytes: int = MAX_BYTES_PER_CALL,
) -> Iterator[list[T]]:
    """Consecutive batches, in order, each within both limits. Items larger than `max_bytes` on
    their own are the caller's to reject before batching."""
    batch: list[T] = []
    batch_bytes = 0
    for item, size in sized_items:
        if batch and (len(batch) == max_count or batch_bytes + size > max_bytes):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(item)
        batch_bytes += size
    if batch:
        yield batch
