"""Stands in for what AWS does when time passes and moto does not: DynamoDB TTL expiry and
EventBridge Scheduler one-shot schedules.

What it reproduces: `ttl.TtlSweeper` deletes, in every table whose TTL is enabled, the items whose
TTL attribute is at or before now (and not more than five years before, as DynamoDB leaves those
alone), each delete conditional on the value it saw; the REMOVE records it causes reach functions
with the `userIdentity` DynamoDB gives TTL deletes (`ttl.TtlDeletes`, shared with the stream
pollers). `schedules.ScheduleRunner` fires `at(...)` schedules once each when they come due, in
their time zone, to a Lambda function, an event bus or an SQS queue, deletes them after
completion when asked, and tries an unreachable target again until the retry policy's event age
has passed. Both are `lifecycle.LoopPart`s.

Where it differs: expiry runs every second, not within DynamoDB's days; rate() and cron()
schedules and schedule groups' other settings are not driven; EventBridge rules with a
ScheduleExpression are not fired.
"""

from localcloud.timers.schedules import ScheduleRunner
from localcloud.timers.ttl import TTL_MAX_PAST_SECONDS, TtlDeletes, TtlSweeper

__all__ = ["TTL_MAX_PAST_SECONDS", "ScheduleRunner", "TtlDeletes", "TtlSweeper"]
