"""Rule targets as the local cloud delivers to them: what each one is (`RuleTarget`), and which
kinds of target it can deliver to (`target_kind`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from localcloud.eventbridge.input import compile_path

QUEUE = "AWS::SQS::Queue"
DEFAULT_BUS = "default"
# AWS defaults for a target without a RetryPolicy.
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400
# A Lambda function invoked asynchronously that returns an error is tried twice more.
LAMBDA_ASYNC_RETRIES = 2
# moto fills its default target input by replacing placeholders in a JSON text, which breaks on a
# quote in the detail type and rewrites "<id>"-like text inside the detail; the whole event as JSON is
# inserted after the placeholders and arrives intact, with the `account` the default input omits.
WHOLE_EVENT_TEMPLATE = "<aws.events.event.json>"
# With no paths map, moto looks up eight default paths for every delivery, then uses none of them
# here: a single cheap path (whose placeholder the template does not contain) spares that work.
WHOLE_EVENT_TRANSFORMER = {"InputPathsMap": {"id": "$.id"}, "InputTemplate": WHOLE_EVENT_TEMPLATE}

# The target kinds delivered here, by the service and resource type of their ARN.
KINESIS, LAMBDA, SQS, FIREHOSE, EVENT_BUS = "kinesis", "lambda", "sqs", "firehose", "event-bus"
KIND_OF_RESOURCE_TYPE = {
    "AWS::Kinesis::Stream": KINESIS,
    "AWS::Lambda::Function": LAMBDA,
    "AWS::Lambda::Alias": LAMBDA,
    "AWS::Lambda::Version": LAMBDA,
    QUEUE: SQS,
    "AWS::KinesisFirehose::DeliveryStream": FIREHOSE,
    "AWS::Events::EventBus": EVENT_BUS,
}
SUPPORTED = (
    "a Kinesis stream, a Lambda function, an SQS queue, a Firehose delivery stream or an event bus"
)


class UnsupportedRuleTarget(ValueError):
    """A rule target the local cloud cannot deliver to; says which rule, which target and why."""

    def __init__(self, rule: str, target: str, problem: str) -> None:
        super().__init__(f"rule {rule}, target {target}: {problem}")


@dataclass(frozen=True)
class InputTransformer:
    paths: Mapping[str, str]  # variable name -> JSONPath into the event
    template: str


@dataclass(frozen=True)
class RuleTarget:
    """One rule target with concrete values: where its routed queue is and how to deliver."""

    rule_name: str
    bus_name: str
    target_id: str
    arn: str  # the real target
    queue_url: str  # the routed queue moto delivers the rule's matching events to
    input: str | None = None
    input_path: str | None = None
    input_transformer: InputTransformer | None = None
    partition_key_path: str | None = None
    message_group_id: str | None = None
    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = DEFAULT_MAXIMUM_EVENT_AGE_SECONDS
    dead_letter_arn: str | None = None
    rule_arn: str | None = None  # when not given, the ARN the rule has in the local account

    def __post_init__(self) -> None:
        kind = target_kind(self.arn)
        if kind is None:
            raise UnsupportedRuleTarget(
                self.rule_name, self.target_id, f"{self.arn} is not {SUPPORTED}"
            )
        paths = [self.input_path, self.partition_key_path]
        if self.input_transformer:
            paths.extend(self.input_transformer.paths.values())
        for path in paths:
            if path is not None:
                try:
                    compile_path(path)
                except ValueError as error:
                    raise UnsupportedRuleTarget(
                        self.rule_name, self.target_id, str(error)
                    ) from None

    @property
    def kind(self) -> str:
        kind = target_kind(self.arn)
        assert kind is not None  # checked on construction
        return kind


def target_kind(arn: str) -> str | None:
    """The kind of target an ARN names, or None when it is not one delivered here."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, resource = parts[2], parts[5]
    if service == "kinesis" and resource.startswith("stream/"):
        return KINESIS
    if service == "lambda" and resource.startswith("function:"):
        return LAMBDA
    if service == "sqs" and resource and "/" not in resource:
        return SQS
    if service == "firehose" and resource.startswith("deliverystream/"):
        return FIREHOSE
    if service == "events" and resource.startswith("event-bus/"):
        return EVENT_BUS
    return None


def bus_of_rule_arn(rule_arn: str) -> str:
    """`arn:...:rule/<bus>/<name>` names its bus; a rule on the default bus is `rule/<name>`."""
    path = rule_arn.split(":", 5)[-1].split("/")
    return path[1] if len(path) == 3 else DEFAULT_BUS
