"""Rule delivery: moto matches the rules, the local cloud delivers to the real targets."""

import copy
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from localcloud.aws import ACCOUNT_ID, Aws
from localcloud.deploy.rule_routes import Output, route_rule_targets
from localcloud.eventbridge import (
    WHOLE_EVENT_TRANSFORMER,
    InputTransformer,
    RuleDelivery,
    RuleTarget,
    UnsupportedRuleTarget,
    compile_path,
)
from localcloud.eventbridge import apply_input_transformer as transform
from localcloud.lambda_.functions import FunctionNotFound, Invocation
from localcloud.testing import eventually

BUS = "test-bus"
SOURCE = "test.producer"


# --- helpers -------------------------------------------------------------------------------------


def make_queue(aws: Aws, name: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def receive(aws: Aws, url: str) -> list[dict[str, Any]]:
    response = aws.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def queue_is_drained(aws: Aws, url: str) -> bool:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return attributes == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def put(
    aws: Aws, detail: dict[str, Any], *, detail_type: str = "thing-happened", bus: str = BUS
) -> str:
    response = aws.client("events").put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": bus,
            }
        ]
    )
    assert response["FailedEntryCount"] == 0
    event_id: str = response["Entries"][0]["EventId"]
    return event_id


def routed(
    aws: Aws, rule: str, arn: str, *, pattern: dict[str, Any] | None = None, **fields: Any
) -> RuleTarget:
    """A rule whose target moto delivers to a queue, as the template rewrite makes it."""
    events = aws.client("events")
    events.put_rule(
        Name=rule,
        EventBusName=BUS,
        EventPattern=json.dumps(pattern or {"detail-type": ["thing-happened"]}),
    )
    url, queue_arn = make_queue(aws, f"route-{rule}")
    events.put_targets(
        Rule=rule,
        EventBusName=BUS,
        Targets=[
            {
                "Id": "target",
                "Arn": queue_arn,
                "InputTransformer": WHOLE_EVENT_TRANSFORMER,
            }
        ],
    )
    return RuleTarget(
        rule_name=rule, bus_name=BUS, target_id="target", arn=arn, queue_url=url, **fields
    )


def create_stream(aws: Aws, name: str) -> str:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn: str = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    return arn


def stream_records(aws: Aws, name: str) -> list[dict[str, Any]]:
    kinesis = aws.client("kinesis")
    shard = kinesis.list_shards(StreamName=name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = kinesis.get_records(ShardIterator=iterator)["Records"]
    return records


class FakeInvoker:
    """Answers each invocation with the next outcome: "ok", "error", or an exception to raise."""

    def __init__(self) -> None:
        self.outcomes: list[str | Exception] = []
        self.calls: list[tuple[str, bytes]] = []

    def __call__(self, function: str, payload: bytes) -> Invocation:
        self.calls.append((function, payload))
        outcome = self.outcomes.pop(0) if self.outcomes else "ok"
        if isinstance(outcome, Exception):
            raise outcome
        if outcome == "error":
            return Invocation(
                function, "request", b'{"errorMessage":"boom"}', 1.0, error_type="Handled"
            )
        return Invocation(function, "request", b"null", 1.0)


@pytest.fixture
def bus(aws: Aws) -> str:
    aws.client("events").create_event_bus(Name=BUS)
    return BUS


@pytest.fixture
def invoker() -> FakeInvoker:
    return FakeInvoker()


@pytest.fixture
def delivery(aws: Aws, invoker: FakeInvoker) -> Iterator[RuleDelivery]:
    rule_delivery = RuleDelivery(aws, invoker)
    yield rule_delivery
    rule_delivery.stop()


# --- delivery ------------------------------------------------------------------------------------


def test_a_rule_delivers_only_the_events_its_pattern_matches(
    aws: Aws, bus: str, delivery: RuleDelivery
) -> None:
    # Given a rule for "thing-happened" events with a queue target
    target_url, target_arn = make_queue(aws, "target")
    delivery.add(routed(aws, "things", target_arn))

    # When an event of another type is put, then a matching one
    put(aws, {"n": 1}, detail_type="other-thing")
    matching_id = put(aws, {"n": 2})

    # Then only the matching event reaches the target, shaped as AWS delivers it
    messages = eventually(lambda: receive(aws, target_url))
    assert len(messages) == 1
    event = json.loads(messages[0]["Body"])
    assert event["id"] == matching_id
    assert event["detail"] == {"n": 2}
    assert list(event) == [
        "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail",
    ]  # fmt: skip
    assert event["account"] == ACCOUNT_ID


def test_a_kinesis_target_gets_the_detail_keyed_by_its_partition_key_path(
    aws: Aws, bus: str, delivery: RuleDelivery
) -> None:
    # Given a rule whose Kinesis target takes the detail, keyed by the detail's partition key
    stream_arn = create_stream(aws, "things")
    delivery.add(
        routed(
            aws,
            "to-stream",
            stream_arn,
            input_path="$.detail",
            partition_key_path="$.detail.partitionKey",
        )
    )

    # When an event is put
    put(aws, {"partitionKey": "key-7", "quantity": 3})

    # Then the stream has one record: the detail, with the detail's partition key
    records = eventually(lambda: stream_records(aws, "things"))
    assert len(records) == 1
    assert records[0]["PartitionKey"] == "key-7"
    assert json.loads(records[0]["Data"]) == {"partitionKey": "key-7", "quantity": 3}


def test_a_kinesis_target_without_a_partition_key_path_is_keyed_by_the_event_id(
    aws: Aws, bus: str, delivery: RuleDelivery
) -> None:
    # Given a Kinesis target without KinesisParameters
    stream_arn = create_stream(aws, "things")
    delivery.add(routed(aws, "to-stream", stream_arn))

    # When an event is put
    event_id = put(aws, {"partitionKey": "key-7"})

    # Then its record is keyed by the event id and holds the whole event
    records = eventually(lambda: stream_records(aws, "things"))
    assert records[0]["PartitionKey"] == event_id
    assert json.loads(records[0]["Data"])["id"] == event_id


def test_a_disabled_rule_delivers_nothing(aws: Aws, bus: str, delivery: RuleDelivery) -> None:
    # Given a disabled rule with a queue target (moto still routes its events)
    target_url, target_arn = make_queue(aws, "target")
    target = routed(aws, "things", target_arn)
    aws.client("events").disable_rule(Name="things", EventBusName=BUS)
    delivery.add(target)

    # When an event is put and its routed copy is consumed
    put(aws, {"n": 1})
    eventually(lambda: queue_is_drained(aws, target.queue_url))

    # Then the target got nothing; once enabled again, the next event arrives alone
    assert receive(aws, target_url) == []
    aws.client("events").enable_rule(Name="things", EventBusName=BUS)
    second = put(aws, {"n": 2})
    messages = eventually(lambda: receive(aws, target_url))
    assert [json.loads(m["Body"])["id"] for m in messages] == [second]


def test_an_input_transformer_fills_its_template(
    aws: Aws, bus: str, delivery: RuleDelivery
) -> None:
    # Given a target whose input is a template of values taken from the event
    target_url, target_arn = make_queue(aws, "target")
    transformer = InputTransformer(
        paths={
            "key": "$.detail.partitionKey",
            "quantity": "$.detail.quantity",
            "tags": "$.detail.tags",
        },
        template='{"key": <key>, "text": "<key> x <quantity>", "quantity": <quantity>, '
        '"tags": <tags>, "rule": <aws.events.rule-name>}',
    )
    delivery.add(routed(aws, "things", target_arn, input_transformer=transformer))

    # When an event is put
    put(aws, {"partitionKey": "key-7", "quantity": 3, "tags": {"a": "b"}})

    # Then the target gets the filled template: JSON values outside quotes, text inside
    messages = eventually(lambda: receive(aws, target_url))
    assert json.loads(messages[0]["Body"]) == {
        "key": "key-7",
        "text": "key-7 x 3",
        "quantity": 3,
        "tags": {"a": "b"},
        "rule": "things",
    }


def test_a_constant_input_replaces_the_event(aws: Aws, bus: str, delivery: RuleDelivery) -> None:
    # Given a target with a constant Input
    target_url, target_arn = make_queue(aws, "target")
    delivery.add(routed(aws, "things", target_arn, input='{"constant": true}'))

    # When an event is put
    put(aws, {"n": 1})

    # Then the target gets the constant
    messages = eventually(lambda: receive(aws, target_url))
    assert messages[0]["Body"] == '{"constant": true}'


def test_a_lambda_target_is_invoked_with_the_event(
    aws: Aws, bus: str, delivery: RuleDelivery, invoker: FakeInvoker
) -> None:
    # Given a rule with a Lambda function target
    function_arn = aws.arn("lambda", "function:listener")
    delivery.add(routed(aws, "to-function", function_arn))

    # When an event is put
    event_id = put(aws, {"n": 1})

    # Then the function is invoked once by name, with the event as its payload
    eventually(lambda: invoker.calls)
    time.sleep(0.1)
    assert len(invoker.calls) == 1
    function, payload = invoker.calls[0]
    assert function == "listener"
    assert json.loads(payload)["id"] == event_id


def test_a_function_error_is_retried_twice_more_then_logged(
    aws: Aws,
    bus: str,
    delivery: RuleDelivery,
    invoker: FakeInvoker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a function that always fails
    invoker.outcomes = ["error"] * 5
    dead_url, dead_arn = make_queue(aws, "dead-letters")
    target = routed(
        aws, "to-function", aws.arn("lambda", "function:listener"), dead_letter_arn=dead_arn
    )
    delivery.add(target)

    # When an event is put
    with caplog.at_level(logging.ERROR, logger="localcloud.eventbridge"):
        put(aws, {"n": 1})
        eventually(lambda: queue_is_drained(aws, target.queue_url))

    # Then it was invoked three times, the failure was logged, and nothing was dead-lettered:
    # the asynchronous invocation itself was accepted
    assert len(invoker.calls) == 3
    assert "asynchronous invocation failed after retries" in caplog.messages
    assert receive(aws, dead_url) == []


def test_a_missing_target_stream_sends_the_event_to_the_dead_letter_queue(
    aws: Aws, bus: str, delivery: RuleDelivery
) -> None:
    # Given a Kinesis target whose stream does not exist, and a dead-letter queue
    dead_url, dead_arn = make_queue(aws, "dead-letters")
    stream_arn = aws.arn("kinesis", "stream/missing")
    delivery.add(routed(aws, "to-stream", stream_arn, dead_letter_arn=dead_arn))

    # When an event is put
    event_id = put(aws, {"n": 1})

    # Then the event is dead-lettered with the attributes EventBridge adds; as on AWS, a missing
    # target is not retried
    messages = eventually(lambda: receive(aws, dead_url))
    assert json.loads(messages[0]["Body"])["id"] == event_id
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_RESOURCE"
    assert "missing" in attributes["ERROR_MESSAGE"]
    assert attributes["RULE_ARN"] == aws.arn("events", f"rule/{BUS}/to-stream")
    assert attributes["TARGET_ARN"] == stream_arn
    assert attributes["RETRY_ATTEMPTS"] == "0"


def test_a_failing_target_is_retried_up_to_its_policy_then_dead_lettered(
    aws: Aws, bus: str, delivery: RuleDelivery, invoker: FakeInvoker
) -> None:
    # Given a target that cannot be reached, at most 2 retries, and a dead-letter queue
    invoker.outcomes = [ConnectionError("refused")] * 5
    dead_url, dead_arn = make_queue(aws, "dead-letters")
    delivery.add(
        routed(
            aws,
            "to-function",
            aws.arn("lambda", "function:listener"),
            maximum_retry_attempts=2,
            dead_letter_arn=dead_arn,
        )
    )

    # When an event is put
    put(aws, {"n": 1})

    # Then it is tried three times in all, then dead-lettered saying why it stopped
    messages = eventually(lambda: receive(aws, dead_url))
    assert len(invoker.calls) == 3
    attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "CONNECTION_FAILURE"
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"


def test_a_transient_failure_is_retried_until_delivered(
    aws: Aws, bus: str, delivery: RuleDelivery, invoker: FakeInvoker
) -> None:
    # Given a target that fails twice, then works
    invoker.outcomes = [ConnectionError("refused"), ConnectionError("refused"), "ok"]
    dead_url, dead_arn = make_queue(aws, "dead-letters")
    target = routed(
        aws, "to-function", aws.arn("lambda", "function:listener"), dead_letter_arn=dead_arn
    )
    delivery.add(target)

    # When an event is put
    put(aws, {"n": 1})

    # Then the third attempt delivers it and nothing is dead-lettered
    eventually(lambda: queue_is_drained(aws, target.queue_url))
    assert len(invoker.calls) == 3
    assert receive(aws, dead_url) == []


def test_a_missing_function_is_dead_lettered(
    aws: Aws, bus: str, delivery: RuleDelivery, invoker: FakeInvoker
) -> None:
    # Given a Lambda target whose function is not deployed
    invoker.outcomes = [FunctionNotFound("listener")]
    dead_url, dead_arn = make_queue(aws, "dead-letters")
    delivery.add(
        routed(aws, "to-function", aws.arn("lambda", "function:listener"), dead_letter_arn=dead_arn)
    )

    # When an event is put
    put(aws, {"n": 1})

    # Then it is dead-lettered at once
    messages = eventually(lambda: receive(aws, dead_url))
    assert messages[0]["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_RESOURCE"
    assert len(invoker.calls) == 1


def test_a_bus_target_gets_the_event_forwarded(aws: Aws, bus: str, delivery: RuleDelivery) -> None:
    # Given a second bus that keeps what it gets in a queue, and a rule forwarding to it
    events = aws.client("events")
    other_arn = events.create_event_bus(Name="other-bus")["EventBusArn"]
    kept_url, kept_arn = make_queue(aws, "kept")
    events.put_rule(
        Name="keep", EventBusName="other-bus", EventPattern='{"source": ["test.producer"]}'
    )
    events.put_targets(
        Rule="keep",
        EventBusName="other-bus",
        Targets=[
            {
                "Id": "k",
                "Arn": kept_arn,
                "InputTransformer": WHOLE_EVENT_TRANSFORMER,
            }
        ],
    )
    delivery.add(routed(aws, "forward", other_arn))

    # When an event is put on the first bus
    put(aws, {"n": 1})

    # Then the second bus gets it
    messages = eventually(lambda: receive(aws, kept_url))
    event = json.loads(messages[0]["Body"])
    assert (event["source"], event["detail-type"], event["detail"]) == (
        SOURCE,
        "thing-happened",
        {"n": 1},
    )


# --- input, unit ---------------------------------------------------------------------------------

EVENT = {
    "id": "e-1",
    "detail-type": "thing-happened",
    "detail": {"partitionKey": "key-7", "state": "open", "items": [{"sku": "s-1"}]},
}


def test_a_text_template_takes_values_as_text() -> None:
    # Given a template that is not JSON
    transformer = InputTransformer(
        paths={"key": "$.detail.partitionKey", "sku": "$.detail.items[0].sku"},
        template="<key> holds <sku>",
    )

    # When it is filled / Then values go in as their text
    assert transform(transformer, EVENT, rule_name="r", rule_arn="a") == "key-7 holds s-1"


def test_a_variable_missing_from_the_event_becomes_null_or_nothing() -> None:
    # Given a variable whose path is not in the event, used in and out of quotes
    transformer = InputTransformer(
        paths={"gone": "$.detail.gone"}, template='{"value": <gone>, "text": "[<gone>]"}'
    )

    # When it is filled / Then the result is still JSON
    filled = transform(transformer, EVENT, rule_name="r", rule_arn="a")
    assert json.loads(filled) == {"value": None, "text": "[]"}


def test_json_paths_beyond_the_eventbridge_subset_are_refused() -> None:
    # Given paths EventBridge takes and one it does not / Then only the first are compiled
    assert compile_path("$") == ()
    assert compile_path("$.detail.items[0].sku") == ("detail", "items", 0, "sku")
    with pytest.raises(ValueError, match="unsupported JSONPath"):
        compile_path("$.detail.*")


# --- template rewrite ----------------------------------------------------------------------------


def stack_template(target: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "stack-bus"}},
            "Stream": {
                "Type": "AWS::Kinesis::Stream",
                "Properties": {"Name": "stack-stream", "ShardCount": 1},
            },
            "DeadLetters": {"Type": "AWS::SQS::Queue"},
            "ThingRule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventBusName": {"Fn::GetAtt": ["Bus", "Name"]},
                    "EventPattern": {"detail-type": ["thing-happened"]},
                    "Targets": [
                        target
                        or {
                            "Id": "to-stream",
                            "Arn": {"Fn::GetAtt": ["Stream", "Arn"]},
                            "RoleArn": "arn:aws:iam::123456789012:role/events",
                            "InputPath": "$.detail",
                            "KinesisParameters": {"PartitionKeyPath": "$.detail.partitionKey"},
                            "RetryPolicy": {
                                "MaximumRetryAttempts": 3,
                                "MaximumEventAgeInSeconds": 600,
                            },
                            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["DeadLetters", "Arn"]}},
                        }
                    ],
                },
            },
        },
    }


def test_route_rule_targets_puts_a_queue_in_front_of_each_target() -> None:
    # Given a template with a rule targeting a stream
    template = stack_template()
    original = copy.deepcopy(template)

    # When its targets are routed
    routed_template, targets = route_rule_targets(template)

    # Then the input is untouched, and the rule now targets a new queue with the whole event
    assert template == original
    [target] = targets
    resources = routed_template["Resources"]
    assert resources[target.queue_logical_id] == {"Type": "AWS::SQS::Queue", "Properties": {}}
    assert target.queue_logical_id == "LocalCloudRouteThingRuletostream"
    rule = resources["ThingRule"]["Properties"]
    assert rule["EventPattern"] == {"detail-type": ["thing-happened"]}
    assert rule["Targets"] == [
        {
            "Id": "to-stream",
            "Arn": {"Fn::GetAtt": [target.queue_logical_id, "Arn"]},
            "InputTransformer": WHOLE_EVENT_TRANSFORMER,
        }
    ]
    # And what the real target needs is a stack output or kept as it was
    outputs = routed_template["Outputs"]
    assert outputs[target.arn.key] == {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}}
    assert outputs[target.queue_url.key] == {"Value": {"Ref": target.queue_logical_id}}
    assert outputs[target.rule_name.key] == {"Value": {"Ref": "ThingRule"}}
    assert target.dead_letter_arn is not None
    assert outputs[target.dead_letter_arn.key] == {"Value": {"Fn::GetAtt": ["DeadLetters", "Arn"]}}
    assert (target.input_path, target.partition_key_path) == ("$.detail", "$.detail.partitionKey")
    assert (target.maximum_retry_attempts, target.maximum_event_age_seconds) == ("3", "600")


def test_route_rule_targets_leaves_schedules_and_rule_free_templates_alone() -> None:
    # Given a template whose only rule is a schedule (moto would match it against every event)
    template = stack_template()
    rule = template["Resources"]["ThingRule"]["Properties"]
    del rule["EventPattern"]
    rule["ScheduleExpression"] = "rate(1 minute)"

    # When its targets are routed / Then nothing changes
    assert route_rule_targets(template) == (template, [])


def test_an_expression_in_a_target_is_resolved_through_a_stack_output() -> None:
    # Given a target whose input template and retry count only the stack can tell
    template = stack_template(
        {
            "Id": "to-queue",
            "Arn": {"Fn::Sub": "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:things"},
            "InputTransformer": {
                "InputPathsMap": {"key": "$.detail.partitionKey"},
                "InputTemplate": {"Fn::Sub": '{"key": <key>, "stage": "${Stage}"}'},
            },
            "RetryPolicy": {"MaximumRetryAttempts": {"Ref": "Retries"}},
        }
    )

    # When it is routed and resolved from what the stack outputs
    routed_template, [target] = route_rule_targets(template)
    assert isinstance(target.input_template, Output)
    assert isinstance(target.maximum_retry_attempts, Output)
    outputs = dict.fromkeys(routed_template["Outputs"], "unused")
    rule_arn = "arn:aws:events:eu-west-1:123456789012:rule/stack-bus/things-ThingRule-1"
    outputs |= {
        target.arn.key: "arn:aws:sqs:eu-west-1:123456789012:things",
        target.rule_name.key: "things-ThingRule-1",
        target.rule_arn.key: rule_arn,
        target.input_template.key: '{"key": <key>, "stage": "local"}',
        target.maximum_retry_attempts.key: "4",
    }
    resolved = target.resolve(outputs)

    # Then the concrete target carries the stack's values
    assert resolved.input_transformer == InputTransformer(
        paths={"key": "$.detail.partitionKey"}, template='{"key": <key>, "stage": "local"}'
    )
    assert (resolved.maximum_retry_attempts, resolved.maximum_event_age_seconds) == (4, 86_400)
    assert (resolved.rule_name, resolved.bus_name, resolved.rule_arn) == (
        "things-ThingRule-1",
        "stack-bus",
        rule_arn,
    )


def test_route_rule_targets_refuses_a_target_it_cannot_deliver_to() -> None:
    # Given a rule targeting a log group
    template = stack_template(
        {"Id": "to-logs", "Arn": "arn:aws:logs:eu-west-1:123456789012:log-group:things"}
    )

    # When its targets are routed / Then the error names the rule and the target
    with pytest.raises(UnsupportedRuleTarget, match=r"rule ThingRule, target to-logs: .*log-group"):
        route_rule_targets(template)


def test_a_routed_stack_created_in_cloudformation_delivers_end_to_end(
    aws: Aws, delivery: RuleDelivery
) -> None:
    # Given the routed template created as a stack in moto's CloudFormation
    routed_template, [routed_target] = route_rule_targets(stack_template())
    cloudformation = aws.client("cloudformation")
    cloudformation.create_stack(StackName="things", TemplateBody=json.dumps(routed_template))
    stack = cloudformation.describe_stacks(StackName="things")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    # When the target is resolved from the stack's outputs and delivered
    target = routed_target.resolve(outputs)
    delivery.add(target)
    put(aws, {"partitionKey": "key-9", "quantity": 1}, bus="stack-bus")

    # Then the concrete target is the stack's, and the stream gets the detail under its key
    assert target.bus_name == "stack-bus"
    assert target.arn.endswith(":stream/stack-stream")
    assert (target.maximum_retry_attempts, target.maximum_event_age_seconds) == (3, 600)
    records = eventually(lambda: stream_records(aws, "stack-stream"))
    assert records[0]["PartitionKey"] == "key-9"
    assert json.loads(records[0]["Data"]) == {"partitionKey": "key-9", "quantity": 1}


def create_delivery_stream(aws: Aws, name: str) -> str:
    aws.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": aws.region}
    )
    arn: str = aws.client("firehose").create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "BucketARN": f"arn:aws:s3:::{name}",
            "RoleARN": f"arn:aws:iam::{ACCOUNT_ID}:role/firehose",
        },
    )["DeliveryStreamARN"]
    return arn


def lake_lines(aws: Aws, bucket: str) -> list[dict[str, Any]]:
    s3 = aws.client("s3")
    lines = []
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        lines += [json.loads(line) for line in body.replace("}{", "}\n{").splitlines() if line]
    return lines


def test_events_put_for_a_firehose_target_are_gathered_into_one_batch(
    aws: Aws, bus: str, delivery: RuleDelivery
) -> None:
    # Given a rule whose target is a delivery stream, and a count of the batches put on it
    target = routed(aws, "to-lake", create_delivery_stream(aws, "lake"))
    batches: list[int] = []
    aws.client("firehose").meta.events.register(
        "provide-client-params.firehose.PutRecordBatch",
        lambda params, **_: batches.append(len(params["Records"])),
    )

    # When three events are put through the local cloud's own PutEvents, one call each
    for n in range(3):
        delivery.deliver_events(target, [{"id": f"e-{n}", "detail": {"n": n}}])

    # Then the lake gets all three, in one batch
    eventually(lambda: len(lake_lines(aws, "lake")) == 3)
    assert batches == [3]
    assert [line["detail"] for line in lake_lines(aws, "lake")] == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_events_gathered_for_a_firehose_target_are_put_when_delivery_stops(
    aws: Aws, bus: str, invoker: FakeInvoker
) -> None:
    # Given a delivery holding an event gathered for a delivery stream
    delivery = RuleDelivery(aws, invoker)
    target = routed(aws, "to-lake", create_delivery_stream(aws, "lake"))
    delivery.deliver_events(target, [{"id": "e-1", "detail": {"n": 1}}])

    # When it stops before the gatherer's round
    delivery.stop()

    # Then the event is in the lake all the same
    assert [line["detail"] for line in lake_lines(aws, "lake")] == [{"n": 1}]
