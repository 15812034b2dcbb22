"""EventBridge rule delivery, as AWS does it, with moto's pattern matching.

moto matches events against rules faithfully, but delivers only to SQS, Logs and other buses, fails
the whole `PutEvents` call when a matching rule has a Kinesis or Lambda target, ignores `InputPath`
and delivers for disabled rules. So every rule target is routed through a queue of its own:

1. `route_rule_targets` rewrites a CloudFormation template before the stack is created: each target
   of each `AWS::Events::Rule` becomes an SQS target on a new queue, and what the real target needs
   (its ARN, the queue URL, the rule name and ARN, a dead-letter queue) becomes a stack output, so
   CloudFormation resolves every expression. `RoutedTarget.resolve` reads them back into a
   `RuleTarget` once the stack exists.
2. `RuleDelivery` polls each routed queue and delivers each event to the real target: it skips
   disabled rules, applies `Input`, `InputPath` or `InputTransformer`, retries failed deliveries
   under the target's `RetryPolicy` and dead-letters them with the attributes AWS adds.

Rules without an `EventPattern` (schedules) are left as they are: moto would match them against
every event on their bus, and a schedule is not driven from here.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from localcloud.aws import ACCOUNT_ID, CREDENTIALS, Aws
from localcloud.lambda_.functions import FunctionNotFound, Invoker

logger = logging.getLogger(__name__)

RULE = "AWS::Events::Rule"
QUEUE = "AWS::SQS::Queue"
ROUTE_PREFIX = "LocalCloudRoute"
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
# Local retries are short: the policy's attempt count and event age still hold, not AWS's waits.
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 1.0
# A long poll returns as soon as a message arrives; its length only bounds how long `stop` waits.
RECEIVE_WAIT_SECONDS = 1
# How long a rule's state (enabled or disabled) is taken as known before it is asked again.
RULE_STATE_SECONDS = 1.0
ERROR_PAUSE_SECONDS = 1.0

# The target kinds delivered here, by the service and resource type of their ARN.
KINESIS, LAMBDA, SQS, FIREHOSE, EVENT_BUS = "kinesis", "lambda", "sqs", "firehose", "event-bus"
_KIND_OF_RESOURCE_TYPE = {
    "AWS::Kinesis::Stream": KINESIS,
    "AWS::Lambda::Function": LAMBDA,
    "AWS::Lambda::Alias": LAMBDA,
    "AWS::Lambda::Version": LAMBDA,
    QUEUE: SQS,
    "AWS::KinesisFirehose::DeliveryStream": FIREHOSE,
    "AWS::Events::EventBus": EVENT_BUS,
}
_SUPPORTED = (
    "a Kinesis stream, a Lambda function, an SQS queue, a Firehose delivery stream or an event bus"
)

# The envelope fields of an event, in the order AWS writes them.
_EVENT_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources")


class UnsupportedRuleTarget(ValueError):
    """A rule target the local cloud cannot deliver to; says which rule, which target and why."""

    def __init__(self, rule: str, target: str, problem: str) -> None:
        super().__init__(f"rule {rule}, target {target}: {problem}")


# --- Targets -------------------------------------------------------------------------------------


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
                self.rule_name, self.target_id, f"{self.arn} is not {_SUPPORTED}"
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


# --- Template rewrite ----------------------------------------------------------------------------


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


def bus_of_rule_arn(rule_arn: str) -> str:
    """`arn:...:rule/<bus>/<name>` names its bus; a rule on the default bus is `rule/<name>`."""
    path = rule_arn.split(":", 5)[-1].split("/")
    return path[1] if len(path) == 3 else DEFAULT_BUS


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
            rule_id, target_id, f"{json.dumps(target['Arn'])} is not {_SUPPORTED}"
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
        return _KIND_OF_RESOURCE_TYPE.get(resource.get("Type", ""), "unsupported")
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


# --- Event input ---------------------------------------------------------------------------------

_MISSING: Any = object()
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def compile_path(path: str) -> tuple[str | int, ...]:
    """The steps of a JSONPath in the subset EventBridge takes: `$`, `$.a.b`, `$.a[0]`."""
    if not path.startswith("$"):
        raise ValueError(f"unsupported JSONPath {path!r}: it must start with $")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None or step.group(0) == ".*":
            raise ValueError(f"unsupported JSONPath {path!r}: only $, .name and [index] steps")
        steps.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        position = step.end()
    return tuple(steps)


def select(document: Any, path: str) -> Any:
    """The value at `path` in `document`, or `_MISSING`."""
    value = document
    for step in compile_path(path):
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if not (in_list or in_object):
            return _MISSING
        value = value[step]
    return value


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def transform(
    transformer: InputTransformer,
    event: Mapping[str, Any],
    *,
    rule_name: str,
    rule_arn: str,
    ingestion_time: float | None = None,
) -> str:
    """The InputTemplate with every <variable> filled, quoted as AWS documents: inside a JSON
    string a value goes in as its text, unescaped; elsewhere in a JSON template as JSON; in a
    template that is not JSON, always as its text."""
    values: dict[str, Any] = {name: select(event, path) for name, path in transformer.paths.items()}
    ingestion = _iso(ingestion_time) if ingestion_time is not None else event.get("time", "")
    values.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
            "aws.events.event.json": dict(event),
            "aws.events.event.ingestion-time": ingestion,
        }
    )
    template = transformer.template
    json_template = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        placeholder = _PLACEHOLDER.match(template, position) if char == "<" else None
        if placeholder and placeholder.group(1) in values:
            value = values[placeholder.group(1)]
            as_text = in_string or not json_template
            if value is _MISSING:
                # A variable whose path is not in the event has no value; null keeps JSON valid.
                out.append("" if as_text else "null")
            elif as_text and isinstance(value, str):
                out.append(value)
            else:
                out.append(_compact(value))
            position = placeholder.end()
            continue
        if json_template and in_string and char == "\\":
            out.append(template[position : position + 2])
            position += 2
            continue
        if json_template and char == '"':
            in_string = not in_string
        out.append(char)
        position += 1
    return "".join(out)


def target_input(
    target: RuleTarget,
    event: Mapping[str, Any],
    *,
    rule_arn: str,
    ingestion_time: float | None = None,
) -> str:
    """What the target receives for `event`: Input, InputPath, InputTransformer or the event."""
    if target.input is not None:
        return target.input
    if target.input_path is not None:
        selected = select(event, target.input_path)
        return _compact(None if selected is _MISSING else selected)
    if target.input_transformer is not None:
        return transform(
            target.input_transformer,
            event,
            rule_name=target.rule_name,
            rule_arn=rule_arn,
            ingestion_time=ingestion_time,
        )
    return _compact(event)


def event_from_body(body: str) -> tuple[dict[str, Any], float | None]:
    """The event in a routed message as AWS would deliver it, and when the bus took it (epoch
    seconds) if moto says so."""
    raw = json.loads(body)
    if not isinstance(raw, dict) or "detail" not in raw:
        raise ValueError("the message is not an EventBridge event")
    ingestion = raw.pop("ingestion-time", None)
    event: dict[str, Any] = {key: raw.pop(key) for key in _EVENT_FIELDS if key in raw}
    event.setdefault("version", "0")
    event.setdefault("account", ACCOUNT_ID)
    if isinstance(event.get("time"), int | float):
        event["time"] = _iso(float(event["time"]))
    event.setdefault("resources", [])
    event["detail"] = raw.pop("detail")
    event.update(raw)
    return event, float(ingestion) if isinstance(ingestion, int | float) else None


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Queue polling -------------------------------------------------------------------------------


def receiving_client(aws: Aws) -> Any:
    """An SQS client for long polls. Each poller holds a connection for up to a second, more than
    the shared client's pool keeps; a session of its own, as boto3's default one is not safe to
    make clients from on several threads."""
    session = boto3.session.Session()
    make_client: Any = session.client
    return make_client(
        "sqs",
        endpoint_url=aws.endpoint,
        region_name=aws.region,
        config=Config(max_pool_connections=64, retries={"mode": "standard", "max_attempts": 3}),
        aws_access_key_id=CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
    )


Batch = list[dict[str, Any]]


# Sent by `stop` so that a poller's long poll returns at once; whoever receives it deletes it.
WAKE_UP = "localcloud:wake-up"


class QueuePoller:
    """Receives from one queue on a thread of its own and hands each batch to `handle`, which
    deletes what it is done with. Messages received once stopping go back to the queue."""

    def __init__(
        self,
        receiver: Any,
        sqs: Any,
        queue_url: str,
        handle: Callable[[Batch], None],
        stopping: threading.Event,
        *,
        name: str,
        poll_interval_seconds: float,
    ) -> None:
        self._receiver = receiver
        self._sqs = sqs
        self.queue_url = queue_url
        self._handle = handle
        self._stopping = stopping
        self._poll_interval_seconds = poll_interval_seconds
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> QueuePoller:
        self.thread.start()
        return self

    def wake(self) -> None:
        try:
            self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=WAKE_UP)
        except ClientError:
            logger.debug("poller not woken", extra={"queue": self.queue_url})

    def release(self, messages: Batch) -> None:
        """Make messages visible again at once, for whoever polls the queue next."""
        for message in messages:
            try:
                self._sqs.change_message_visibility(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            except ClientError:
                logger.debug("message not released", extra={"queue": self.queue_url})

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                response = self._receiver.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
                    AttributeNames=["SentTimestamp"],
                )
                messages: Batch = response.get("Messages", [])
                wake_ups = [m for m in messages if m["Body"] == WAKE_UP]
                if wake_ups:
                    messages = [m for m in messages if m["Body"] != WAKE_UP]
                    for wake_up in wake_ups:
                        self._sqs.delete_message(
                            QueueUrl=self.queue_url, ReceiptHandle=wake_up["ReceiptHandle"]
                        )
                if self._stopping.is_set():
                    self.release(messages)
                    break
                if messages:
                    self._handle(messages)
                failing = False
            except Exception:
                if self._stopping.is_set():
                    break
                if not failing:
                    logger.exception("queue poll failed", extra={"queue": self.queue_url})
                failing = True
                self._stopping.wait(ERROR_PAUSE_SECONDS)
                continue
            if not messages:
                self._stopping.wait(self._poll_interval_seconds)


def stop_pollers(pollers: list[QueuePoller], stopping: threading.Event) -> None:
    """Stop every poller and wait for each to finish what it holds."""
    stopping.set()
    for poller in pollers:
        poller.wake()
    for poller in pollers:
        poller.thread.join(timeout=RECEIVE_WAIT_SECONDS + 10)


# --- Delivery ------------------------------------------------------------------------------------


class DeliveryFailure(Exception):
    """A delivery that did not happen, with the error code AWS puts on a dead-lettered event."""

    def __init__(self, code: str, message: str, *, retriable: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retriable = retriable


class _Stopped(Exception):
    pass


# AWS does not retry what only a person can fix (a missing target, a missing permission): such an
# event goes straight to the dead-letter queue.
_NOT_FOUND = {
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
}
_NO_PERMISSION = {"AccessDenied", "AccessDeniedException", "UnrecognizedClientException"}
_INVALID = {
    "ValidationException",
    "InvalidArgumentException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidArgument",
    "MissingParameter",
}
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "ServiceUnavailableException",
    "RequestThrottled",
}


def _failure_of(error: Exception) -> DeliveryFailure:
    if isinstance(error, DeliveryFailure):
        return error
    if isinstance(error, FunctionNotFound):
        return DeliveryFailure("NO_RESOURCE", str(error), retriable=False)
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        message = str(error.response.get("Error", {}).get("Message", "")) or str(error)
        if code in _NOT_FOUND:
            return DeliveryFailure("NO_RESOURCE", message, retriable=False)
        if code in _NO_PERMISSION:
            return DeliveryFailure("NO_PERMISSIONS", message, retriable=False)
        if code in _INVALID:
            return DeliveryFailure("INVALID_PARAMETER", message, retriable=False)
        if code in _THROTTLED:
            return DeliveryFailure("THROTTLING", message, retriable=True)
        return DeliveryFailure("SDK_CLIENT_ERROR", message, retriable=True)
    if isinstance(error, BotoConnectionError | ConnectionError | TimeoutError | OSError):
        return DeliveryFailure("CONNECTION_FAILURE", str(error), retriable=True)
    return DeliveryFailure("INTERNAL_ERROR", f"{type(error).__name__}: {error}", retriable=True)


def backoff_seconds(retry: int) -> float:
    """The wait before retry number `retry` (0-based): exponential, short, capped."""
    return float(min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2**retry))


class RuleDelivery:
    """Delivers the events moto routes to each target's queue to the real target."""

    def __init__(self, aws: Aws, invoke: Invoker, *, poll_interval_seconds: float = 0.02) -> None:
        self._aws = aws
        self._invoke = invoke
        self._poll_interval_seconds = poll_interval_seconds
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._pollers: dict[str, QueuePoller] = {}
        self._receiver: Any = None
        self._rule_enabled_at: dict[tuple[str, str], float] = {}
        self._by_rule: dict[tuple[str, str], list[RuleTarget]] = {}

    def add(self, target: RuleTarget) -> None:
        """Start delivering the target's routed events; adding a target twice changes nothing."""
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("rule delivery is stopped")
            if target.queue_url in self._pollers:
                return
            if self._receiver is None:
                self._receiver = receiving_client(self._aws)
            poller = QueuePoller(
                self._receiver,
                self._aws.client("sqs"),
                target.queue_url,
                lambda messages: self._handle(target, poller, messages),
                self._stopping,
                name=f"rule-{target.rule_name}-{target.target_id}",
                poll_interval_seconds=self._poll_interval_seconds,
            )
            self._pollers[target.queue_url] = poller.start()
            self._by_rule.setdefault((target.bus_name, target.rule_name), []).append(target)
        logger.info(
            "rule target added",
            extra={"rule": target.rule_name, "target": target.target_id, "arn": target.arn},
        )

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            pollers = list(self._pollers.values())
        stop_pollers(pollers, self._stopping)

    def _rule_arn(self, target: RuleTarget) -> str:
        if target.rule_arn:
            return target.rule_arn
        on_bus = "" if target.bus_name == DEFAULT_BUS else f"{target.bus_name}/"
        return self._aws.arn("events", f"rule/{on_bus}{target.rule_name}")

    def _enabled(self, target: RuleTarget) -> bool:
        """Whether the rule is enabled. An enabled rule is taken as enabled for RULE_STATE_SECONDS
        (a busy target costs no extra call, and disabling takes effect within that time, as in
        AWS); a disabled one is asked again every time, so enabling it takes effect at once."""
        key = (target.bus_name, target.rule_name)
        enabled_at = self._rule_enabled_at.get(key)
        if enabled_at is not None and time.monotonic() - enabled_at < RULE_STATE_SECONDS:
            return True
        try:
            rule = self._aws.client("events").describe_rule(
                Name=target.rule_name, EventBusName=target.bus_name
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            logger.warning(
                "rule gone, its events dropped",
                extra={"rule": target.rule_name, "bus": target.bus_name},
            )
            return False
        enabled = bool(rule.get("State", "ENABLED") == "ENABLED")
        if enabled:
            self._rule_enabled_at[key] = time.monotonic()
        else:
            self._rule_enabled_at.pop(key, None)
        return enabled

    def targets_of(self, bus_name: str, rule_name: str) -> list[RuleTarget]:
        """The routed targets of one rule (none for a rule this delivery does not know)."""
        return list(self._by_rule.get((bus_name, rule_name), ()))

    def deliver_events(self, target: RuleTarget, events: list[dict[str, Any]]) -> None:
        """Deliver events straight to a rule's target, without its routed queue (for the local
        cloud's own PutEvents): the same rule state, batching, retries and dead-letter queue."""
        if not self._enabled(target):
            return
        sent = str(int(time.time() * 1000))
        messages = [{"Body": json.dumps(e), "Attributes": {"SentTimestamp": sent}} for e in events]
        pending = (
            self._deliver_batch(target, messages)
            if target.kind in (KINESIS, FIREHOSE)
            else messages
        )
        for message in pending:
            self._deliver_message(target, message)

    def _handle(self, target: RuleTarget, poller: QueuePoller, messages: Batch) -> None:
        if not self._enabled(target):
            logger.debug(
                "events skipped, rule disabled",
                extra={
                    "rule": target.rule_name,
                    "target": target.target_id,
                    "count": len(messages),
                },
            )
            self._delete(target, messages)
            return
        # Streams and delivery streams take a whole batch in one call, as AWS's own delivery
        # does; whatever that call does not accept goes through one-by-one delivery, with its
        # retries and dead-letter queue.
        pending = (
            self._deliver_batch(target, messages)
            if target.kind in (KINESIS, FIREHOSE)
            else messages
        )
        done = [m for m in messages if m not in pending]
        for index, message in enumerate(pending):
            try:
                self._deliver_message(target, message)
            except _Stopped:
                self._delete(target, done)
                poller.release(pending[index:])
                return
            done.append(message)
        self._delete(target, done)

    def _delete(self, target: RuleTarget, messages: Batch) -> None:
        for first in range(0, len(messages), 10):
            chunk = messages[first : first + 10]
            self._aws.client("sqs").delete_message_batch(
                QueueUrl=target.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(chunk)
                ],
            )

    def _deliver_batch(self, target: RuleTarget, messages: Batch) -> Batch:
        """Deliver every message in one call; the messages that were not delivered."""
        entries: list[tuple[dict[str, Any], str, str]] = []  # message, payload, partition key
        for message in messages:
            try:
                event, ingestion_time = event_from_body(message["Body"])
                payload = target_input(
                    target, event, rule_arn=self._rule_arn(target), ingestion_time=ingestion_time
                )
            except Exception:
                return list(messages)  # one-by-one delivery reports what is wrong with it
            entries.append((message, payload, self._partition_key(target, event)))
        resource = target.arn.split(":", 5)[5].split("/", 1)[1]
        try:
            if target.kind == KINESIS:
                response = self._aws.client("kinesis").put_records(
                    StreamName=resource,
                    Records=[
                        {"Data": payload.encode(), "PartitionKey": key}
                        for _, payload, key in entries
                    ],
                )
                results = response["Records"]
            else:
                response = self._aws.client("firehose").put_record_batch(
                    DeliveryStreamName=resource,
                    Records=[{"Data": payload.encode()} for _, payload, _ in entries],
                )
                results = response["RequestResponses"]
        except Exception:
            return list(messages)
        return [
            message
            for (message, _, _), result in zip(entries, results, strict=True)
            if "ErrorCode" in result
        ]

    def _partition_key(self, target: RuleTarget, event: dict[str, Any]) -> str:
        key: str = event["id"]
        if target.partition_key_path is not None:
            selected = select(event, target.partition_key_path)
            if selected is not _MISSING and selected is not None:
                key = selected if isinstance(selected, str) else _compact(selected)
        return key

    def _deliver_message(self, target: RuleTarget, message: dict[str, Any]) -> None:
        try:
            event, ingestion_time = event_from_body(message["Body"])
        except ValueError:
            logger.error(
                "routed message is not an event, dropped",
                extra={"rule": target.rule_name, "target": target.target_id},
            )
            return
        sent_ms = float(message.get("Attributes", {}).get("SentTimestamp", time.time() * 1000))
        retries = 0
        while True:
            try:
                self._deliver(target, event, ingestion_time)
                return
            except _Stopped:
                raise
            except Exception as error:
                failure = _failure_of(error)
            if not failure.retriable:
                self._dead_letter(target, event, failure, retries=retries, exhausted=None)
                return
            if retries == 0:
                logger.warning(
                    "rule target delivery failed, retrying",
                    extra={
                        "rule": target.rule_name,
                        "target": target.target_id,
                        "error_code": failure.code,
                        "error": failure.message,
                    },
                )
            if retries >= target.maximum_retry_attempts:
                self._dead_letter(
                    target, event, failure, retries=retries, exhausted="MaximumRetryAttempts"
                )
                return
            delay = backoff_seconds(retries)
            age_seconds = time.time() - sent_ms / 1000
            if age_seconds + delay > target.maximum_event_age_seconds:
                self._dead_letter(
                    target, event, failure, retries=retries, exhausted="MaximumEventAgeInSeconds"
                )
                return
            if self._stopping.wait(delay):
                raise _Stopped
            retries += 1

    def _deliver(
        self, target: RuleTarget, event: dict[str, Any], ingestion_time: float | None
    ) -> None:
        payload = target_input(
            target, event, rule_arn=self._rule_arn(target), ingestion_time=ingestion_time
        )
        resource = target.arn.split(":", 5)[5]
        kind = target.kind
        if kind == KINESIS:
            self._aws.client("kinesis").put_record(
                StreamName=resource.split("/", 1)[1],
                Data=payload.encode(),
                PartitionKey=self._partition_key(target, event),
            )
        elif kind == LAMBDA:
            self._invoke_async(target, resource.split(":")[1], payload.encode())
        elif kind == SQS:
            account = target.arn.split(":")[4]
            send: dict[str, Any] = {
                "QueueUrl": f"{self._aws.endpoint}/{account}/{resource}",
                "MessageBody": payload,
            }
            if target.message_group_id is not None:
                send["MessageGroupId"] = target.message_group_id
            self._aws.client("sqs").send_message(**send)
        elif kind == FIREHOSE:
            self._aws.client("firehose").put_record(
                DeliveryStreamName=resource.split("/", 1)[1], Record={"Data": payload.encode()}
            )
        else:
            self._forward(target, event)

    def _forward(self, target: RuleTarget, event: dict[str, Any]) -> None:
        """To another bus goes the event itself, as a new event on that bus."""
        entry: dict[str, Any] = {
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event.get("resources", []),
            "EventBusName": target.arn,
        }
        with contextlib.suppress(KeyError, TypeError, ValueError):
            entry["Time"] = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        response = self._aws.client("events").put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            failed = response["Entries"][0]
            raise DeliveryFailure(
                "SDK_CLIENT_ERROR",
                f"{failed.get('ErrorCode')}: {failed.get('ErrorMessage')}",
                retriable=True,
            )

    def _invoke_async(self, target: RuleTarget, function: str, payload: bytes) -> None:
        """An asynchronous invocation: once Lambda has the event, a function error is Lambda's to
        retry (twice more), not EventBridge's."""
        for attempt in range(LAMBDA_ASYNC_RETRIES + 1):
            invocation = self._invoke(function, payload)
            if invocation.ok:
                return
            if attempt < LAMBDA_ASYNC_RETRIES and self._stopping.wait(backoff_seconds(attempt)):
                raise _Stopped
        logger.error(
            "asynchronous invocation failed after retries",
            extra={
                "rule": target.rule_name,
                "target": target.target_id,
                "function": function,
                "request_id": invocation.request_id,
                "error_type": invocation.error_type,
                "error": invocation.error_message,
            },
        )

    def _dead_letter(
        self,
        target: RuleTarget,
        event: dict[str, Any],
        failure: DeliveryFailure,
        *,
        retries: int,
        exhausted: str | None,
    ) -> None:
        fields = {
            "rule": target.rule_name,
            "target": target.target_id,
            "event_id": event.get("id"),
            "error_code": failure.code,
            "error": failure.message,
            "retries": retries,
        }
        if target.dead_letter_arn is None:
            logger.error("rule target delivery failed, event dropped", extra=fields)
            return
        attributes = {
            "RULE_ARN": self._rule_arn(target),
            "TARGET_ARN": target.arn,
            "ERROR_CODE": failure.code,
            "ERROR_MESSAGE": failure.message[:1000] or failure.code,
            "RETRY_ATTEMPTS": str(retries),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        account, name = target.dead_letter_arn.split(":")[4:6]
        try:
            self._aws.client("sqs").send_message(
                QueueUrl=f"{self._aws.endpoint}/{account}/{name}",
                MessageBody=json.dumps(event),
                MessageAttributes={
                    key: {"DataType": "String", "StringValue": value}
                    for key, value in attributes.items()
                },
            )
        except Exception:
            logger.exception("event not dead-lettered, dropped", extra=fields)
            return
        logger.warning("rule target delivery failed, event dead-lettered", extra=fields)
