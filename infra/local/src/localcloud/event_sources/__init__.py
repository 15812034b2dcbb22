"""Stands in for Lambda's event source mappings: Kinesis and DynamoDB streams and SQS queues read
and their functions invoked, as the Lambda service does.

What it reproduces: moto's own mappings are removed from the templates (they wipe DynamoDB stream
records and eat SQS messages), so the runner reads each source through the AWS API and invokes the
function itself:

- `mapping`: a mapping's settings (`EventSourceMapping`: batch size and window, starting
  position, filter criteria, partial batch responses, retries, record age, bisection, on-failure
  destination) and Lambda's event filtering (`FilterCriteria`, with moto's pattern matcher);
- `streams`: Kinesis and DynamoDB streams, one `ShardPoller` per shard, in order, one batch in
  flight at a time, failed batches retried, bisected, given up on after the retry or age limit
  and sent to the on-failure destination with Lambda's invocation record; REMOVE records of TTL
  deletes carry the `userIdentity` DynamoDB gives them; every mapping and lane reading one shard
  shares what it reads: the readers one put wakes make one call (`_SharedReads`, decision 0026);
- `sqs`: SQS queues, one `SqsPoller` per queue, long-polling while it holds nothing and running
  up to the mapping's MaximumConcurrency batches at once; messages a batch did not process stay
  on the queue and come back after their visibility timeout, and the queue's own redrive policy
  moves them to its dead-letter queue (moto does that on receive, as SQS does);
- `runner`: `EventSourceRunner`, which starts the pollers of every mapping added and stops them,
  and wakes the pollers of a source that has news (`wake`), so that an idle poller does not make
  a hop wait for its next round (decision 0017).

Where it differs: one poller per shard (one batch in flight, as ParallelizationFactor 1) or per
queue (up to ScalingConfig.MaximumConcurrency batches in flight, five by default, never scaling
out further with the backlog); pollers are woken by the local cloud's own writes, where Lambda
polls a Kinesis shard once a second and a DynamoDB stream shard four times; retries wait
milliseconds to a second, not AWS's; Kinesis enhanced fan-out, tumbling windows and MSK/MQ
sources are not driven; moto's no-op MODIFY records are dropped, as DynamoDB never records them.
"""

from localcloud.event_sources.mapping import (
    DEFAULT_QUEUE_BATCH_SIZE,
    DEFAULT_STREAM_BATCH_SIZE,
    EventSourceMapping,
    FilterCriteria,
    source_kind,
)
from localcloud.event_sources.runner import EventSourceRunner

__all__ = [
    "DEFAULT_QUEUE_BATCH_SIZE",
    "DEFAULT_STREAM_BATCH_SIZE",
    "EventSourceMapping",
    "EventSourceRunner",
    "FilterCriteria",
    "source_kind",
]
