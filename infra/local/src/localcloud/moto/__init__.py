"""Stands in for the AWS APIs themselves: moto's server, as a process of its own, with fixes.

What it reproduces: every AWS API call the stacks and services make (CloudFormation, DynamoDB and
its streams, Kinesis, SQS, S3, Firehose, EventBridge, Scheduler, Lambda's control plane) is
answered by moto's server (`server.MotoServer` starts it on a free loopback port; `url` is the
AWS endpoint), in a process of its own so it does not share the runner's interpreter lock.
`process` is that process: it applies the local cloud's fixes to moto before serving, each found
by profiling or by a behaviour the shop depends on, and commented with why: moto's hot spots
(per-delivery JSONPath parsing, whole-queue scans on every SQS send and receive, a datetime-based
clock, a per-request folder listing, uncached name conversions); DynamoDB as DynamoDB behaves
(serializable transactions, a stream of committed changes only, a cancelled transaction putting
back only what it wrote, one INSERT per created item); and what moto lacks (Firehose's
`AppendDelimiterToRecord`, the 15-minute expiry of DynamoDB stream iterators).

Where it differs: whatever moto itself does not implement or gets wrong beyond those fixes; what
moto does not drive at all (event source mappings, rule delivery to Kinesis and Lambda, TTL
expiry, schedules, HTTP APIs) the other packages of the local cloud drive.

This package is `localcloud.moto`; moto itself is always imported absolutely (`import moto...`),
which this package never shadows.
"""

from localcloud.moto.server import MotoServer, free_port

__all__ = ["MotoServer", "free_port"]
