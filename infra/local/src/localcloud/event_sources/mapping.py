"""What an event source mapping is (`EventSourceMapping`, read from its CloudFormation resource),
which source an ARN names (`source_kind`), and Lambda's event filtering (`FilterCriteria`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from localcloud.patterns import FlatEvent, Pattern, flatten

logger = logging.getLogger(__name__)

SourceKind = Literal["kinesis", "dynamodb", "sqs"]


# Lambda's defaults when a mapping names no batch size.
DEFAULT_STREAM_BATCH_SIZE = 100
DEFAULT_QUEUE_BATCH_SIZE = 10
# How many batches of a queue Lambda invokes at once when the mapping sets no
# ScalingConfig.MaximumConcurrency: the five concurrent batches it starts with (it then scales
# out with the backlog, which the local cloud does not).
DEFAULT_QUEUE_CONCURRENCY = 5
# Lambda's bounds on a stream mapping's ParallelizationFactor (concurrent batches per shard).
MAX_PARALLELIZATION_FACTOR = 10
# The most records one GetRecords call returns: 10,000 for Kinesis, 1,000 for DynamoDB Streams.


def source_kind(arn: str) -> SourceKind:
    """Which kind of event source an ARN names (Kinesis stream, DynamoDB stream or SQS queue)."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn":
        service, resource = parts[2], parts[5]
        if service == "kinesis" and resource.startswith("stream/"):
            return "kinesis"
        if service == "dynamodb" and "/stream/" in resource:
            return "dynamodb"
        if service == "sqs":
            return "sqs"
    raise ValueError(f"not a Kinesis stream, DynamoDB stream or SQS queue ARN: {arn!r}")


class FilterCriteria:
    """Lambda event filtering: a record passes when it matches any of the patterns (EventBridge
    pattern syntax, `localcloud.patterns`); no patterns let every record through. A record read by
    several mappings is flattened once for all of them (`matches_flat`)."""

    def __init__(self, patterns: Sequence[Mapping[str, Any]] = ()) -> None:
        self._patterns = [Pattern(pattern) for pattern in patterns]

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def matches(self, view: Mapping[str, Any]) -> bool:
        return not self._patterns or self.matches_flat(flatten(view))

    def matches_flat(self, view: FlatEvent) -> bool:
        return not self._patterns or any(pattern.matches(view) for pattern in self._patterns)


@dataclass(frozen=True)
class EventSourceMapping:
    """One AWS::Lambda::EventSourceMapping: which function reads which source, and how.

    - `batch_size`: the most records per invocation; `batching_window_seconds`: how long a poller
      waits for a batch to fill before it invokes with fewer.
    - `starting_position` (streams): TRIM_HORIZON reads the shard from its oldest record; LATEST
      reads the records put after `EventSourceRunner.add` returned.
    - `filters`: Lambda event filtering patterns; records matching none are dropped without an
      invocation (stream records are checkpointed past, SQS messages deleted).
    - `report_batch_item_failures`: the function may answer
      {"batchItemFailures": [{"itemIdentifier": ...}]}: a stream retries from the lowest failed
      record, a queue keeps only the failed messages.
    - `maximum_concurrency` (queues): the most batches in flight at once, ScalingConfig's
      MaximumConcurrency.
    - `parallelization_factor` (streams): how many batches of one shard are in flight at once
      (1 to 10), each record's batch chosen by its partition key, so the records of one key are
      still processed in order.
    - `maximum_retry_attempts`, `maximum_record_age_seconds` (streams; -1: unbounded): when to
      give up on a failing batch; `bisect_on_error`: split a failing batch in two and retry the
      halves; `on_failure_arn`: an SQS queue that receives what was given up on.
    """

    function: str
    source_arn: str
    batch_size: int
    batching_window_seconds: float = 0.0
    starting_position: str = "LATEST"
    filters: tuple[dict[str, Any], ...] = ()
    report_batch_item_failures: bool = False
    maximum_concurrency: int = DEFAULT_QUEUE_CONCURRENCY
    parallelization_factor: int = 1
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    bisect_on_error: bool = False
    on_failure_arn: str | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        source_kind(self.source_arn)
        if self.batch_size < 1:
            raise ValueError(f"batch size must be at least 1, not {self.batch_size}")
        if self.maximum_concurrency < 1:
            raise ValueError(
                f"maximum concurrency must be at least 1, not {self.maximum_concurrency}"
            )
        if not 1 <= self.parallelization_factor <= MAX_PARALLELIZATION_FACTOR:
            raise ValueError(
                f"parallelization factor must be 1 to {MAX_PARALLELIZATION_FACTOR},"
                f" not {self.parallelization_factor}"
            )
        if self.kind != "sqs" and self.starting_position not in ("LATEST", "TRIM_HORIZON"):
            raise ValueError(f"unsupported starting position {self.starting_position!r}")
        FilterCriteria(self.filters)

    @property
    def kind(self) -> SourceKind:
        return source_kind(self.source_arn)

    @classmethod
    def from_properties(
        cls,
        properties: Mapping[str, Any],
        *,
        function: str,
        source_arn: str,
        on_failure_arn: str | None = None,
    ) -> EventSourceMapping:
        """A mapping from the properties of its CloudFormation resource (values already resolved;
        numbers and booleans may arrive as strings, as templates often carry them)."""
        kind = source_kind(source_arn)
        default_batch = DEFAULT_QUEUE_BATCH_SIZE if kind == "sqs" else DEFAULT_STREAM_BATCH_SIZE
        criteria = properties.get("FilterCriteria") or {}
        filters = tuple(_pattern(entry.get("Pattern")) for entry in criteria.get("Filters") or ())
        return cls(
            function=function,
            source_arn=source_arn,
            batch_size=int(properties.get("BatchSize", default_batch)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            starting_position=str(properties.get("StartingPosition", "LATEST")),
            filters=filters,
            report_batch_item_failures="ReportBatchItemFailures"
            in (properties.get("FunctionResponseTypes") or ()),
            maximum_concurrency=int(
                (properties.get("ScalingConfig") or {}).get(
                    "MaximumConcurrency", DEFAULT_QUEUE_CONCURRENCY
                )
            ),
            parallelization_factor=int(properties.get("ParallelizationFactor", 1)),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(properties.get("MaximumRecordAgeInSeconds", -1)),
            bisect_on_error=_flag(properties.get("BisectBatchOnFunctionError", False)),
            on_failure_arn=on_failure_arn,
            enabled=_flag(properties.get("Enabled", True)),
        )


def _pattern(raw: Any) -> dict[str, Any]:
    pattern = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(pattern, dict):
        raise ValueError(f"a filter pattern must be a JSON object, not {raw!r}")
    return pattern


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def mapping_fields(mapping: EventSourceMapping) -> dict[str, Any]:
    return {"function": mapping.function, "source": mapping.source_arn}
