"""Stands in for EventBridge's rule delivery and PutEvents, with moto's own pattern matching.

What it reproduces: moto matches events against rules faithfully, but delivers only to SQS, Logs
and other buses, fails the whole `PutEvents` call when a matching rule has a Kinesis or Lambda
target, ignores `InputPath` and delivers for disabled rules. So every rule target is routed
through a queue of its own (the template rewrite is the transform's, `deploy.rule_routes`), and
here:

- `targets`: a rule target as delivered (`RuleTarget`) and the kinds delivered to: Kinesis
  (partition key path), Lambda (asynchronous invocation, retried twice on a function error), SQS
  (message group id), Firehose, another bus;
- `input`: what the target receives: `Input`, `InputPath`, `InputTransformer`
  (`apply_input_transformer`, with AWS's quoting rules and predefined variables) or the event;
- `queues`: `QueueReceiver`, a long-poll receiver of one SQS queue on a thread of its own;
- `delivery`: `RuleDelivery`, which drains each routed queue and delivers to the real target,
  skipping disabled rules, retrying under the target's `RetryPolicy` (attempts and event age)
  and dead-lettering with the attributes AWS adds;
- `put_events`: the PutEvents endpoint (`EventsApiServer`, given to functions as
  `AWS_ENDPOINT_URL_EVENTBRIDGE`): rules matched in this process with moto's matcher and events
  delivered straight to the routed targets, each entry taking one path whole; every other
  EventBridge call passed on to moto.

Where it differs: retries wait milliseconds to a second, not AWS's minutes (the attempt count and
event age still hold); a rule's state is cached for a second; events put through moto directly
take the slower queue path; archives, replays, API destinations and cross-account targets are not
delivered.

`put_events` is not imported here (it needs the trail, which needs `queues`): import it as
`localcloud.eventbridge.put_events`.
"""

from localcloud.eventbridge.delivery import DeliveryFailure, RuleDelivery
from localcloud.eventbridge.input import (
    apply_input_transformer,
    compile_path,
    event_from_body,
    select,
    target_input,
)
from localcloud.eventbridge.queues import QueueReceiver, receiving_client, stop_receivers
from localcloud.eventbridge.targets import (
    WHOLE_EVENT_TRANSFORMER,
    InputTransformer,
    RuleTarget,
    UnsupportedRuleTarget,
    target_kind,
)

__all__ = [
    "WHOLE_EVENT_TRANSFORMER",
    "DeliveryFailure",
    "InputTransformer",
    "QueueReceiver",
    "RuleDelivery",
    "RuleTarget",
    "UnsupportedRuleTarget",
    "apply_input_transformer",
    "compile_path",
    "event_from_body",
    "receiving_client",
    "select",
    "stop_receivers",
    "target_input",
    "target_kind",
]
