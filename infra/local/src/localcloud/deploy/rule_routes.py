"""Step 5 of the transform (`transform.py`): every target of every `AWS::Events::Rule` with an
event pattern becomes an SQS target on a queue of its own, and what the real target needs (its
ARN, the queue URL, the rule name and ARN, a dead-letter queue, any expression in its input) becomes
a stack output, so CloudFormation resolves every expression. `RoutedTarget.resolve` reads them
back into an `eventbridge.RuleTarget` once the stack exists; `eventbridge.RuleDelivery` drains
the queues.

Rules without an `EventPattern` (schedules) are left as they are: moto would match them against
every event on their bus, and a schedule is not driven from here."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localcloud.eventbridge.targets import (
    DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
    DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    EVENT_BUS,
    FIREHOSE,
    KIND_OF_RESOURCE_TYPE,
    KINESIS,
    LAMBDA,
    QUEUE,
    SQS,
    SUPPORTED,
    WHOLE_EVENT_TRANSFORMER,
    InputTransformer,
    RuleTarget,
    UnsupportedRuleTarget,
    bus_of_rule_arn,
    target_kind,
)

RULE = "AWS::Events::Rule"
ROUTE_PREFIX = "LocalCloudRoute"


@dataclass(frozen=True)
class Output:
    """A value only the stack knows: the key of the stack output that holds it."""

    key: str


Value = str | Output


@dataclass(frozen=True)
class RoutedTarget:
    """A rule target as the rewritten template routes it; `resolve` makes it a `RuleTarget`."""

    rule_logical_id: str
    target_id: str
    queue_logical_id: str
    arn: Output
    queue_url: Output
    rule_name: Output
    rule_arn: Output
    dead_letter_arn: Output | None = None
    input: Value | None = None
    input_path: Value | None = None
    input_paths: Mapping[str, Value] | None = None  # set when the target has an InputTransformer
    input_template: Value | None = None
    partition_key_path: Value | None = None
    message_group_id: Value | None = None
    maximum_retry_attempts: Value | None = None
    maximum_event_age_seconds: Value | None = None

    def resolve(self, outputs: Mapping[str, str], *, bus_name: str | None = None) -> RuleTarget:
        """The concrete target, from the stack's outputs. The bus is the rule's own unless given."""

        def value(item: Value) -> str:
            if isinstance(item, str):
                return item
            if item.key not in outputs:
                raise UnsupportedRuleTarget(
                    self.rule_logical_id, self.target_id, f"the stack has no output {item.key}"
                )
            return outputs[item.key]

        def optional(item: Value | None) -> str | None:
            return None if item is None else value(item)

        def number(item: Value | None, default: int) -> int:
            return default if item is None else int(value(item))

        rule_arn = value(self.rule_arn)
        transformer = None
        if self.input_paths is not None:
            transformer = InputTransformer(
                paths={name: value(path) for name, path in self.input_paths.items()},
                template=optional(self.input_template) or "",
            )
        return RuleTarget(
            rule_name=value(self.rule_name),
            bus_name=bus_name or bus_of_rule_arn(rule_arn),
            target_id=self.target_id,
            arn=value(self.arn),
            queue_url=value(self.queue_url),
            input=optional(self.input),
            input_path=optional(self.input_path),
            input_transformer=transformer,
            partition_key_path=optional(self.partition_key_path),
            message_group_id=optional(self.message_group_id),
            maximum_retry_attempts=number(
                self.maximum_retry_attempts, DEFAULT_MAXIMUM_RETRY_ATTEMPTS
            ),
            maximum_event_age_seconds=number(
                self.maximum_event_age_seconds, DEFAULT_MAXIMUM_EVENT_AGE_SECONDS
            ),
            dead_letter_arn=optional(self.dead_letter_arn),
            rule_arn=rule_arn,
        )


def route_rule_targets(template: dict[str, Any]) -> tuple[dict[str, Any], list[RoutedTarget]]:
    """A copy of `template` whose rule targets are queues, and what each queue stands for."""
    routed = copy.deepcopy(template)
    resources: dict[str, Any] = routed.get("Resources") or {}
    outputs: dict[str, Any] = dict(routed.get("Outputs") or {})
    taken = set(resources) | set(outputs)
    targets: list[RoutedTarget] = []
    for rule_id, resource in list(resources.items()):
        if not isinstance(resource, dict) or resource.get("Type") != RULE:
            continue
        properties = resource.get("Properties") or {}
        if "EventPattern" not in properties or not properties.get("Targets"):
            continue
        rule_targets = properties["Targets"]
        if not isinstance(rule_targets, list):
            raise UnsupportedRuleTarget(rule_id, "*", "Targets must be a list of targets")
        rule_name = _add_output(
            outputs, taken, f"{ROUTE_PREFIX}{_alnum(rule_id)}Name", {"Ref": rule_id}
        )
        rule_arn = _add_output(
            outputs, taken, f"{ROUTE_PREFIX}{_alnum(rule_id)}Arn", {"Fn::GetAtt": [rule_id, "Arn"]}
        )
        new_targets = []
        for target in rule_targets:
            routed_target = _route(target, rule_id, resources, outputs, taken, rule_name, rule_arn)
            resources[routed_target.queue_logical_id] = {"Type": QUEUE, "Properties": {}}
            new_targets.append(
                {
                    "Id": routed_target.target_id,
                    "Arn": {"Fn::GetAtt": [routed_target.queue_logical_id, "Arn"]},
                    "InputTransformer": WHOLE_EVENT_TRANSFORMER,
                }
            )
            targets.append(routed_target)
        properties["Targets"] = new_targets
    if targets:
        routed["Outputs"] = outputs
    return routed, targets


def _route(
    target: Any,
    rule_id: str,
    resources: Mapping[str, Any],
    outputs: dict[str, Any],
    taken: set[str],
    rule_name: Output,
    rule_arn: Output,
) -> RoutedTarget:
    if not isinstance(target, dict) or not isinstance(target.get("Id"), str):
        raise UnsupportedRuleTarget(rule_id, "?", "each target needs an Id")
    target_id: str = target["Id"]
    if "Arn" not in target:
        raise UnsupportedRuleTarget(rule_id, target_id, "the target has no Arn")
    kind = _kind_in_template(target["Arn"], resources)
    if kind == "unsupported":
        raise UnsupportedRuleTarget(
            rule_id, target_id, f"{json.dumps(target['Arn'])} is not {SUPPORTED}"
        )
    route_id = _route_id(rule_id, target_id, taken)
    taken.add(route_id)

    def deferred(name: str, item: Any) -> Value | None:
        """A literal stays in the routed target; an expression becomes a stack output."""
        if item is None:
            return None
        if isinstance(item, str):
            return item
        if isinstance(item, int) and not isinstance(item, bool):
            return str(item)
        if _is_intrinsic(item):
            return _add_output(outputs, taken, f"{route_id}{name}", item)
        raise UnsupportedRuleTarget(rule_id, target_id, f"{name} must be a string")

    def always_output(name: str, item: Any) -> Output:
        return _add_output(outputs, taken, f"{route_id}{name}", item)

    transformer = target.get("InputTransformer")
    input_paths: dict[str, Value] | None = None
    input_template: Value | None = None
    if transformer is not None:
        if not isinstance(transformer, dict):
            raise UnsupportedRuleTarget(rule_id, target_id, "InputTransformer must be an object")
        paths_map = transformer.get("InputPathsMap") or {}
        input_paths = {}
        for index, (name, path) in enumerate(sorted(paths_map.items())):
            input_paths[name] = deferred(f"InputPath{index}", path) or ""
        input_template = deferred("InputTemplate", transformer.get("InputTemplate"))
    retry = target.get("RetryPolicy") or {}
    dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
    return RoutedTarget(
        rule_logical_id=rule_id,
        target_id=target_id,
        queue_logical_id=route_id,
        arn=always_output("TargetArn", target["Arn"]),
        queue_url=always_output("QueueUrl", {"Ref": route_id}),
        rule_name=rule_name,
        rule_arn=rule_arn,
        dead_letter_arn=None
        if dead_letter is None
        else always_output("DeadLetterArn", dead_letter),
        input=deferred("Input", target.get("Input")),
        input_path=deferred("InputPathValue", target.get("InputPath")),
        input_paths=input_paths,
        input_template=input_template,
        partition_key_path=deferred(
            "PartitionKeyPath", (target.get("KinesisParameters") or {}).get("PartitionKeyPath")
        ),
        message_group_id=deferred(
            "MessageGroupId", (target.get("SqsParameters") or {}).get("MessageGroupId")
        ),
        maximum_retry_attempts=deferred("MaximumRetryAttempts", retry.get("MaximumRetryAttempts")),
        maximum_event_age_seconds=deferred(
            "MaximumEventAgeInSeconds", retry.get("MaximumEventAgeInSeconds")
        ),
    )


def _add_output(outputs: dict[str, Any], taken: set[str], key: str, value: Any) -> Output:
    key = _unique(key, taken)
    taken.add(key)
    outputs[key] = {"Value": value}
    return Output(key)


def _route_id(rule_id: str, target_id: str, taken: set[str]) -> str:
    # moto names a queue "<stack>-<logical id>-<suffix>" cut at 80 characters: a short logical id
    # keeps the suffix, and with it two routes of one stack apart.
    route_id = f"{ROUTE_PREFIX}{_alnum(rule_id)}{_alnum(target_id)}"
    if len(route_id) > 48:
        digest = hashlib.sha1(f"{rule_id}/{target_id}".encode()).hexdigest()[:8]
        route_id = route_id[:40] + digest
    return _unique(route_id, taken)


def _unique(name: str, taken: set[str]) -> str:
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{name}{counter}", counter + 1
    return candidate


def _alnum(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _is_intrinsic(item: Any) -> bool:
    if not isinstance(item, dict) or len(item) != 1:
        return False
    function = str(next(iter(item)))
    return function == "Ref" or function.startswith("Fn::")


def _kind_in_template(arn: Any, resources: Mapping[str, Any]) -> str | None:
    """The kind of target an Arn expression names, "unsupported", or None when only the stack can
    tell (a parameter, an import)."""
    if isinstance(arn, str):
        return target_kind(arn) or "unsupported"
    if not _is_intrinsic(arn):
        return "unsupported"
    (function, argument), *_ = arn.items()
    if function == "Fn::GetAtt":
        logical_id = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
        resource = resources.get(logical_id)
        if not isinstance(resource, dict):
            return None
        return KIND_OF_RESOURCE_TYPE.get(resource.get("Type", ""), "unsupported")
    text = None
    if function == "Fn::Sub":
        text = argument[0] if isinstance(argument, list) else argument
    elif function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        separator, parts = argument
        if isinstance(parts, list):
            text = str(separator).join(p if isinstance(p, str) else "${}" for p in parts)
    if not isinstance(text, str):
        return None
    patterns = {
        KINESIS: r":kinesis:.*stream/",
        LAMBDA: r":lambda:.*function:",
        FIREHOSE: r":firehose:.*deliverystream/",
        EVENT_BUS: r":events:.*event-bus/",
        SQS: r":sqs:",
    }
    for kind, pattern in patterns.items():
        if re.search(pattern, text):
            return kind
    return None if "${" in text else "unsupported"
