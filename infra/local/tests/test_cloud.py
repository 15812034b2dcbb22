"""The whole local cloud, deployed from real `serverless package` artifacts."""

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localcloud import cli, faults
from localcloud.aws import Aws
from localcloud.cloud import LocalCloud
from localcloud.testing import eventually

ROOT = Path(__file__).resolve().parents[3]
EVENT_HUB = ROOT / "infra" / "event-hub"
SAMPLE_LISTENER = Path(__file__).parent / "stacks" / "sample-listener"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(
        state_dir=tmp_path_factory.mktemp("localcloud"), serverless=ROOT / "make" / "serverless"
    ) as local_cloud:
        assert local_cloud.deploy(EVENT_HUB) is not None, local_cloud.failures
        assert local_cloud.deploy(SAMPLE_LISTENER) is not None, local_cloud.failures
        yield local_cloud


def envelope(event_type: str, key: str) -> dict[str, Any]:
    return {
        "id": f"{event_type}-{key}",
        "type": event_type,
        "timestamp": time.time_ns() // 1_000_000,
        "partitionKey": key,
        "tags": {"source": "tests"},
    }


def put_on_bus(cloud: LocalCloud, *envelopes: dict[str, Any]) -> None:
    response = cloud.aws.client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.endpoints()["bus"],
                "Source": "tests",
                "DetailType": e["type"],
                "Detail": json.dumps(e),
            }
            for e in envelopes
        ]
    )
    assert response["FailedEntryCount"] == 0


def received(cloud: LocalCloud, *, within_seconds: float, expect: int) -> list[dict[str, Any]]:
    stack = next(s for s in cloud.stacks if s.name == "sample-listener-local")
    queue_url = stack.resources["ReceivedQueue"]
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + within_seconds
    while time.monotonic() < deadline and len(messages) < expect:
        batch = cloud.aws.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        for message in batch.get("Messages", []):
            messages.append(json.loads(message["Body"]))
            cloud.aws.client("sqs").delete_message(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
            )
        time.sleep(0.01)
    return messages


def test_an_event_put_on_the_bus_reaches_a_listener_through_the_stream_within_a_second(
    cloud: LocalCloud,
) -> None:
    # Given the event hub and a listener on its stream, deployed from their packages, and warm
    # (its cold start is its own import time, not the event's path: `make bench` reports both)
    put_on_bus(cloud, envelope("sample-happened", "warm-up"))
    assert received(cloud, within_seconds=10.0, expect=1)
    sent = envelope("sample-happened", "order-1")

    # When a domain event is put on the bus
    put_on_bus(cloud, sent)

    # Then the listener receives the bare envelope from the stream within one second
    [message] = received(cloud, within_seconds=3.0, expect=1)
    assert message["envelope"] == sent
    assert message["receivedMs"] - sent["timestamp"] < 1_000


def test_records_the_filter_rejects_never_invoke_the_function(cloud: LocalCloud) -> None:
    # Given the listener's filter lets only sample-happened events through
    invocations_before = len(cloud.lambdas.invocations())

    # When another type of event and then a matching one go on the bus
    put_on_bus(cloud, envelope("something-else", "order-2"))
    put_on_bus(cloud, envelope("sample-happened", "order-3"))

    # Then only the matching one reached the function, in a single invocation
    [message] = received(cloud, within_seconds=3.0, expect=1)
    assert message["envelope"]["partitionKey"] == "order-3"
    assert len(cloud.lambdas.invocations()) == invocations_before + 1


def test_every_event_on_the_bus_is_in_the_trail(cloud: LocalCloud) -> None:
    put_on_bus(cloud, envelope("sample-happened", "order-4"), envelope("something-else", "order-4"))
    received(cloud, within_seconds=3.0, expect=1)

    eventually(lambda: len(cloud.trail.for_key("order-4")) == 2, timeout=3.0)

    assert [entry.detail_type for entry in cloud.trail.for_key("order-4")] == [
        "sample-happened",
        "something-else",
    ]


def test_the_endpoints_say_where_everything_is(cloud: LocalCloud) -> None:
    endpoints = json.loads(cloud.write_endpoints().read_text())

    assert endpoints["aws"] == cloud.aws.endpoint
    assert endpoints["bus"] == "event-hub-local-bus"
    assert endpoints["stream"] == "event-hub-local-stream"
    assert endpoints["stripe"].startswith("http://127.0.0.1:")
    assert endpoints["lambda"].startswith("http://127.0.0.1:")
    assert endpoints["faults"].endswith("/event-hub-local-faults")
    assert endpoints["http"] == {}


def test_a_stack_the_transform_cannot_handle_is_reported_and_the_cloud_keeps_running(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # Given a stack that references a bus with Ref, which moto's CloudFormation cannot take
    broken = tmp_path / "broken-stack"
    broken.mkdir()
    (broken / "serverless.yml").write_text(
        "service: broken-stack\nframeworkVersion: '4'\nprovider: {name: aws, region: eu-west-1}\n"
        "resources:\n  Resources:\n    Bus: {Type: 'AWS::Events::EventBus', Properties: {Name: b}}\n"
        "    Rule:\n      Type: AWS::Events::Rule\n      Properties:\n        EventBusName: !Ref Bus\n"
        "        EventPattern: {source: [x]}\n"
    )

    # When it is deployed
    assert cloud.deploy(broken) is None

    # Then the failure names the stack and says what to do, and the rest still works
    failure = cloud.failures[-1]
    assert "broken-stack-local" in failure.error
    assert "Fn::GetAtt Bus.Name" in failure.error
    put_on_bus(cloud, envelope("sample-happened", "order-5"))
    assert received(cloud, within_seconds=3.0, expect=1)


def test_a_handler_that_does_not_import_is_an_init_error_naming_the_function(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # Given a stack whose function's handler module raises at import
    stack = tmp_path / "bad-handler"
    (stack / "bad").mkdir(parents=True)
    (stack / "bad" / "handler.py").write_text("raise RuntimeError('no configuration')\n")
    (stack / "serverless.yml").write_text(
        "service: bad-handler\nframeworkVersion: '4'\n"
        "provider: {name: aws, runtime: python3.14, region: eu-west-1}\n"
        "functions:\n  broken:\n    handler: bad/handler.handle\n"
    )
    assert cloud.deploy(stack) is not None

    # When it is invoked
    invocation = cloud.lambdas.invoke("bad-handler-local-broken", b"{}")

    # Then the error is an init error that says which function and why
    assert not invocation.ok
    assert invocation.error_type is not None
    assert "Runtime." in invocation.error_type
    assert "no configuration" in (invocation.error_message or "") + invocation.payload.decode()


def test_the_event_lake_keeps_every_event_as_a_line(cloud: LocalCloud) -> None:
    # Given events of two types put on the bus
    sent = [envelope("sample-happened", "order-6"), envelope("something-else", "order-6")]
    put_on_bus(cloud, *sent)

    # When the lake's delivery stream has written them
    hub = next(stack for stack in cloud.stacks if stack.name == "event-hub-local")
    s3 = cloud.aws.client("s3")
    bucket = hub.outputs["EventLakeBucketName"]

    def lake_lines_of_order_6() -> list[dict[str, Any]]:
        lines: list[dict[str, Any]] = []
        for listed in s3.list_objects_v2(Bucket=bucket, Prefix="events/").get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read().decode()
            assert body.endswith("\n"), "every envelope ends its own line"
            lines += [json.loads(line) for line in body.splitlines()]
        return [line for line in lines if line["partitionKey"] == "order-6"]

    eventually(lambda: len(lake_lines_of_order_6()) == 2)

    # Then each is a line of its own, the bare envelope
    assert lake_lines_of_order_6() == sent


def test_a_parked_fault_is_listed_and_resubmitted_to_the_function_that_failed_it(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a fault a listener published for a record it could not handle
    endpoints = cloud.endpoints()
    failed = envelope("sample-happened", "order-7")
    record = {
        "eventSource": "aws:kinesis",
        "eventID": "shardId-000000000000:1",
        "kinesis": {
            "sequenceNumber": "1",
            "partitionKey": "order-7",
            "data": base64.b64encode(json.dumps(failed).encode()).decode(),
        },
    }
    fault = envelope("fault", "order-7") | {
        "id": "fault-order-7",
        "tags": {"source": "sample-listener", "functionName": "sample-listener-local-listener"},
        "fault": {
            "errorType": "RuntimeError",
            "message": "boom",
            "eventType": "sample-happened",
            "record": record,
        },
    }
    put_on_bus(cloud, fault)

    # When it is parked, Then it is listed
    sqs = cloud.aws.client("sqs")
    parked = eventually(lambda: faults.parked(sqs, endpoints["faults"]))
    assert [(f.fault_id, f.function, f.error_type) for f in parked] == [
        ("fault-order-7", "sample-listener-local-listener", "RuntimeError")
    ]
    # and so says `make faults`
    cloud.write_endpoints()
    faults_command = ["--state-dir", str(cloud.state_dir), "faults"]
    assert cli.main(faults_command) == 0
    assert capsys.readouterr().out.split() == [
        "fault-order-7",
        "sample-listener-local-listener",
        "sample-happened",
        "RuntimeError:",
        "boom",
    ]

    # When it is resubmitted (`make faults RESUBMIT=1`)
    assert cli.main([*faults_command, "--resubmit"]) == 0

    # Then the function handled the very record, and the fault left the queue
    assert capsys.readouterr().out.split()[:2] == [
        "fault-order-7",
        "sample-listener-local-listener",
    ]
    arrived = received(cloud, within_seconds=3.0, expect=10)
    assert [m["envelope"] for m in arrived if m["envelope"]["partitionKey"] == "order-7"] == [
        failed
    ]
    assert faults.parked(sqs, endpoints["faults"]) == []


def fast_put(
    cloud: LocalCloud, *envelopes: dict[str, Any], bus: str | None = None
) -> dict[str, Any]:
    """PutEvents through the local cloud's own endpoint, as the functions publish."""
    events = Aws(cloud.endpoints()["events"]).client("events")
    response: dict[str, Any] = events.put_events(
        Entries=[
            {
                "EventBusName": bus or cloud.endpoints()["bus"],
                "Source": "tests",
                "DetailType": e["type"],
                "Detail": json.dumps(e),
            }
            for e in envelopes
        ]
    )
    return response


def test_events_put_through_the_local_cloud_reach_stream_lake_and_trail_once(
    cloud: LocalCloud,
) -> None:
    # Given the local cloud's own PutEvents, which delivers without moto's queues
    sent = envelope("sample-happened", "order-8")

    # When an event is put through it
    response = fast_put(cloud, sent)

    # Then it is accepted, reaches the listener through the stream once, and is in the trail
    assert response["FailedEntryCount"] == 0
    arrived = received(cloud, within_seconds=3.0, expect=10)
    assert [m["envelope"] for m in arrived if m["envelope"]["partitionKey"] == "order-8"] == [sent]
    assert [entry.detail_type for entry in cloud.trail.for_key("order-8")] == ["sample-happened"]


def test_an_event_matching_a_rule_made_at_run_time_goes_through_moto_whole(
    cloud: LocalCloud,
) -> None:
    # Given a rule created at run time, with a queue target the local cloud does not deliver for
    sqs, events = cloud.aws.client("sqs"), cloud.aws.client("events")
    queue_url = sqs.create_queue(QueueName="runtime-rule-target")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    bus = cloud.endpoints()["bus"]
    events.put_rule(
        Name="runtime",
        EventBusName=bus,
        EventPattern=json.dumps({"detail": {"partitionKey": ["order-9"]}}),
    )
    events.put_targets(Rule="runtime", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])
    time.sleep(1.1)  # the local cloud lists a bus's rules at most once a second
    sent = envelope("sample-happened", "order-9")

    # When a matching event is put through the local cloud
    fast_put(cloud, sent)

    # Then the run-time rule's target has it, and the listener has it exactly once
    delivered = eventually(lambda: sqs.receive_message(QueueUrl=queue_url).get("Messages", []))
    assert [json.loads(m["Body"])["detail"] for m in delivered] == [sent]
    arrived = received(cloud, within_seconds=3.0, expect=10)
    assert [m["envelope"] for m in arrived if m["envelope"]["partitionKey"] == "order-9"] == [sent]
    events.remove_targets(Rule="runtime", EventBusName=bus, Ids=["q"])
    events.delete_rule(Name="runtime", EventBusName=bus)


def test_an_invalid_entry_fails_alone_and_other_calls_reach_moto(cloud: LocalCloud) -> None:
    events = Aws(cloud.endpoints()["events"]).client("events")
    bus = cloud.endpoints()["bus"]

    response = events.put_events(
        Entries=[
            {
                "EventBusName": bus,
                "Source": "tests",
                "DetailType": "x-happened",
                "Detail": "not json",
            },
            {"EventBusName": bus, "Source": "tests", "DetailType": "x-happened", "Detail": "{}"},
        ]
    )

    assert response["FailedEntryCount"] == 1
    assert response["Entries"][0]["ErrorCode"] == "InvalidArgument"
    assert "EventId" in response["Entries"][1]
    # list_rules is not PutEvents: it is passed on to moto
    rules = events.list_rules(EventBusName=bus)["Rules"]
    assert any("DomainEventsToStream" in rule["Name"] for rule in rules)


def test_a_one_shot_schedule_puts_its_event_on_the_bus(cloud: LocalCloud) -> None:
    # Given a schedule, one second from now, that puts an event on the bus
    sent = envelope("sample-happened", "order-10")
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1))
    cloud.aws.client("scheduler").create_schedule(
        Name="order-10-timeout",
        ScheduleExpression=f"at({at})",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": cloud.aws.arn("events", f"event-bus/{cloud.endpoints()['bus']}"),
            "RoleArn": cloud.aws.arn("iam", "role/scheduler"),
            "Input": json.dumps(sent),
            "EventBridgeParameters": {"DetailType": "sample-happened", "Source": "tests"},
        },
    )

    # When its time comes, Then the listener receives the event through the stream
    arrived = received(cloud, within_seconds=6.0, expect=10)
    assert [m["envelope"] for m in arrived if m["envelope"]["partitionKey"] == "order-10"] == [sent]
