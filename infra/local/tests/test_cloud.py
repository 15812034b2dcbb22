"""The whole local cloud, deployed from real `serverless package` artifacts."""

import base64
import json
import shutil
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from event_hub.parked import FaultStore
from localcloud import cli
from localcloud.aws import Aws
from localcloud.cloud import LocalCloud
from localcloud.lambda_ import DEFAULT_CONCURRENCY, FunctionSpec
from localcloud.testing import eventually, put_on_bus
from shop_sealing import KmsSealer, Unsealable

ROOT = Path(__file__).resolve().parents[3]
EVENT_HUB = ROOT / "infra" / "event-hub"
SAMPLE_LISTENER = Path(__file__).parent / "stacks" / "sample-listener"
STOREFRONT = ROOT / "frontend-stubs" / "storefront"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(
        state_dir=tmp_path_factory.mktemp("localcloud"),
        serverless=ROOT / "make" / "serverless",
        storefront=STOREFRONT,
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


def test_a_functions_reserved_concurrency_is_read_from_its_template(cloud: LocalCloud) -> None:
    # Given the sample listener, whose serverless.yml reserves two concurrent executions, and the
    # event hub's park function, which reserves none
    # When the local cloud deployed them
    # Then the listener may have two execution environments, and the parker the host's default
    assert cloud.lambdas.functions["sample-listener-local-listener"].reserved_concurrency == 2
    assert cloud.lambdas.limit("sample-listener-local-listener") == 2
    assert cloud.lambdas.functions["event-hub-local-park"].reserved_concurrency is None
    assert cloud.lambdas.limit("event-hub-local-park") == DEFAULT_CONCURRENCY


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
    assert endpoints["stripe_publishable_key"] == cloud.stripe.publishable_key
    assert endpoints["stripe_publishable_key"].startswith("pk_test_")
    assert endpoints["lambda"].startswith("http://127.0.0.1:")
    assert endpoints["faults"] == "event-hub-local-faults"
    assert endpoints["faultQueue"].endswith("/event-hub-local-faults")
    assert endpoints["http"] == {}
    assert cloud.site is not None
    assert endpoints["storefront"] == cloud.site.public_url
    assert endpoints["storefront"].startswith("http://localhost:")


def test_the_storefront_is_served_with_a_config_of_the_clouds_endpoints(cloud: LocalCloud) -> None:
    # Given the cloud serving the storefront, and no stack serving its API (`storefront_api`)
    assert cloud.site is not None

    # When the browser loads the page and its config.json
    with urllib.request.urlopen(cloud.site.url + "/", timeout=10) as answer:
        page = answer.read().decode()
    with urllib.request.urlopen(cloud.site.url + "/config.json", timeout=10) as answer:
        config = json.loads(answer.read())

    # Then the config points at this cloud's Stripe, its API not deployed yet
    assert "<title>autonomous-shop" in page
    assert config == {
        "graphqlUrl": None,
        "stripeUrl": cloud.stripe.url,
        "stripePublishableKey": cloud.stripe.publishable_key,
        "signInUrl": "/sign-in",
    }


def test_every_stack_is_packaged_with_the_storefronts_origin(
    cloud: LocalCloud, tmp_path: Path
) -> None:
    # Given a stack whose HTTP API's CORS allows its stage's `storefrontOrigin` only
    stack = tmp_path / "storefront-api"
    stack.mkdir()
    (stack / "handler.py").write_text("def handle(event, context):\n    return {}\n")
    (stack / "serverless.yml").write_text(
        "service: storefront-api\nframeworkVersion: '4'\n"
        "params:\n  default:\n    storefrontOrigin: http://localhost:8080\n"
        "provider:\n  name: aws\n  runtime: python3.13\n  region: eu-west-1\n"
        "  httpApi:\n    cors:\n      allowedOrigins: ['${param:storefrontOrigin}']\n"
        "functions:\n  api:\n    handler: handler.handle\n"
        "    events: [{httpApi: {method: POST, path: /graphql}}]\n"
    )

    # When the cloud deploys it
    deployed = cloud.deploy(stack)

    # Then its API answers a preflight from the storefront's origin, and from no other
    assert deployed is not None, cloud.failures
    api = cloud.http_apis["storefront-api"]
    assert cloud.site is not None
    allowed = preflight(api.url + "/graphql", cloud.site.origin)
    assert allowed.get("access-control-allow-origin") == cloud.site.origin
    assert "access-control-allow-origin" not in preflight(
        api.url + "/graphql", "http://localhost:8080"
    )


def preflight(url: str, origin: str) -> dict[str, str]:
    request = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return {name.lower(): value for name, value in answer.headers.items()}
    except urllib.error.HTTPError as error:
        with error:
            return {name.lower(): value for name, value in error.headers.items()}


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
        "provider: {name: aws, runtime: python3.13, region: eu-west-1}\n"
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


def test_the_hubs_exported_sealing_key_seals_a_field_for_one_order_only(cloud: LocalCloud) -> None:
    # Given the key the event hub exports, as a service imports it
    exports = cloud.aws.client("cloudformation").list_exports()["Exports"]
    [key_arn] = [e["Value"] for e in exports if e["Name"] == "event-hub-local-SealingKeyArn"]
    sealer = KmsSealer(key_arn, client=cloud.aws.client("kms"))

    # When a producer seals a client secret for order-7
    sealed = sealer.seal("pi_7_secret_xyz", field="payment.clientSecret", order_id="order-7")

    # Then its consumer unseals it for order-7, and nobody can for another order
    assert "pi_7_secret_xyz" not in sealed
    assert (
        sealer.unseal(sealed, field="payment.clientSecret", order_id="order-7") == "pi_7_secret_xyz"
    )
    with pytest.raises(Unsealable):
        sealer.unseal(sealed, field="payment.clientSecret", order_id="order-8")


LISTENER = "sample-listener-local-listener"


def kinesis_record(failed: dict[str, Any], sequence: int) -> dict[str, Any]:
    return {
        "eventSource": "aws:kinesis",
        "eventID": f"shardId-000000000000:{sequence}",
        "kinesis": {
            "sequenceNumber": str(sequence),
            "partitionKey": failed["partitionKey"],
            "data": base64.b64encode(json.dumps(failed).encode()).decode(),
        },
    }


def fault_of(failed: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The fault the listener publishes for a record it failed on: its id is the same every time."""
    return envelope("fault", failed["partitionKey"]) | {
        "id": f"fault-{LISTENER}-{record['eventID']}",
        "tags": {"source": "sample-listener", "functionName": LISTENER},
        "fault": {
            "errorType": "RuntimeError",
            "message": "boom",
            "eventSource": "aws:kinesis",
            "recordId": record["eventID"],
            "eventId": failed["id"],
            "eventType": failed["type"],
            "record": record,
        },
    }


def store_of(cloud: LocalCloud) -> FaultStore:
    return FaultStore(cloud.endpoints()["faults"], client=cloud.aws.client("dynamodb"))


def rows_of(output: str, fault_id: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.startswith(fault_id + " ")]


def test_a_fault_parked_three_times_is_listed_once_and_resolved_when_resubmitted(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a record the listener failed on three times, each failure a fault with the same id
    failed = envelope("sample-happened", "order-7")
    fault = fault_of(failed, kinesis_record(failed, 7))
    for _ in range(3):
        put_on_bus(cloud, fault)

    # When they are parked, Then the store keeps one fault counting the three attempts (the park
    # function's first invocations are cold starts, up to one per batch at once, which a machine
    # running three suites can take seconds over: a clean-clone run once missed 5 s)
    store = store_of(cloud)
    eventually(lambda: (f := store.get(fault["id"])) is not None and f.attempts == 3, timeout=15.0)
    parked = store.get(fault["id"])
    assert parked is not None
    assert (parked.status, parked.function, parked.event_type) == (
        "parked",
        LISTENER,
        failed["type"],
    )
    # and `make faults` lists it once, with its attempts, age and last error
    cloud.write_endpoints()
    faults_command = ["--state-dir", str(cloud.state_dir), "faults"]
    assert cli.main(faults_command) == 0
    output = capsys.readouterr().out
    assert output.splitlines()[0].split()[:4] == ["FAULT", "STATUS", "ATTEMPTS", "AGE"]
    [row] = rows_of(output, fault["id"])
    assert row[1:3] == ["parked", "3"]
    assert row[3][-1] in "smhd"
    assert row[4:] == [LISTENER, "sample-happened", "RuntimeError:", "boom"]
    assert output.splitlines()[-1].startswith(f"{len(store.all())} fault(s):")

    # When it is resubmitted (`make faults RESUBMIT=1`) to a listener that now handles it
    assert cli.main([*faults_command, "--resubmit"]) == 0

    # Then the listener handled the very record, and the fault is resolved, not parked again
    assert rows_of(capsys.readouterr().out, fault["id"]) == [[fault["id"], LISTENER, "resolved"]]
    arrived = received(cloud, within_seconds=3.0, expect=10)
    assert [m["envelope"] for m in arrived if m["envelope"]["partitionKey"] == "order-7"] == [
        failed
    ]
    resolved = store.get(fault["id"])
    assert resolved is not None
    assert (resolved.status, resolved.attempts) == ("resubmitted", 3)


def test_a_record_that_keeps_failing_is_parked_again_on_the_same_fault(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a parked fault for a record the listener can never handle
    poisoned = envelope("sample-happened", "order-11") | {"poison": True}
    fault = fault_of(poisoned, kinesis_record(poisoned, 11))
    put_on_bus(cloud, fault)
    store = store_of(cloud)
    eventually(lambda: store.get(fault["id"]))
    already_resubmitted = [f.fault_id for f in store.all() if f.status == "resubmitted"]
    cloud.write_endpoints()

    # When the parked faults are resubmitted
    status = cli.main(["--state-dir", str(cloud.state_dir), "faults", "--resubmit"])

    # Then the listener publishes the same fault again: it is parked again, one attempt more,
    # and the command says so and fails
    output = capsys.readouterr().out
    assert status == 1
    assert rows_of(output, fault["id"]) == [
        [fault["id"], LISTENER, "failed", "again", "(attempt", "2)"]
    ]
    again = store.get(fault["id"])
    assert again is not None
    assert (again.status, again.attempts) == ("parked", 2)
    assert [f.fault_id for f in store.all() if f.partition_key == "order-11"] == [fault["id"]]
    # and the faults resubmitted before were not resubmitted again
    assert already_resubmitted
    assert not [fault_id for fault_id in already_resubmitted if fault_id in output]


def test_the_fault_listing_of_a_stopped_cloud_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no local cloud ever started here
    assert cli.main(["--state-dir", str(tmp_path), "faults"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "not running" in line
    assert "make up" in line

    # Given the endpoints of a local cloud that has stopped (nothing listens on its port)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "endpoints.json").write_text(
        json.dumps(
            {
                "aws": f"http://127.0.0.1:{port}",
                "region": "eu-west-1",
                "faults": "event-hub-local-faults",
                "lambda": f"http://127.0.0.1:{port}",
            }
        )
    )
    assert cli.main(["--state-dir", str(tmp_path), "faults"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "not running" in line
    assert f"127.0.0.1:{port}" in line


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


def test_a_functions_events_client_reaches_the_local_clouds_own_put_events(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the environment a deployed function runs with
    environment = cloud.lambdas.functions[LISTENER].environment
    for name, value in environment.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)

    # When boto3 makes an EventBridge client in it, as a function's publisher does
    events = boto3.client("events", region_name=cloud.aws.region)

    # Then the client's calls go to the local cloud's PutEvents, not to moto's
    assert events.meta.endpoint_url == cloud.endpoints()["events"] != cloud.aws.endpoint


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


def test_without_a_webhook_service_no_stripe_secret_is_put_anywhere(cloud: LocalCloud) -> None:
    # No stack here receives Stripe's webhooks, so none is given Stripe's keys.
    assert cloud.stripe_parameters() == {}
    names = cloud.aws.client("ssm").describe_parameters()["Parameters"]
    assert [p["Name"] for p in names if "api-key" in p["Name"]] == []


def test_an_ended_invocation_wakes_the_pollers_of_the_streams_moto_has_news_of_once_each(
    tmp_path: Path,
) -> None:
    # Given a cloud whose moto has added records to two streams, three records to one of them
    woken: list[str] = []
    news = [{"orders-stream", "views-stream"}, set()]

    class Runner:
        def wake(self, source_arn: str) -> None:
            woken.append(source_arn)

    class Moto:
        def streams_with_news(self) -> set[str]:
            return news.pop(0)

    cloud = LocalCloud(state_dir=tmp_path, serverless=ROOT / "make" / "serverless")
    cloud.event_sources = Runner()  # type: ignore[assignment]
    cloud.moto = Moto()  # type: ignore[assignment]
    spec = FunctionSpec(name="svc-local-listener", handler="h.handle", code_dir=tmp_path)

    # When a function that wrote them returns, and then one that only read
    cloud._wake_streams_with_news(spec)
    cloud._wake_streams_with_news(spec)

    # Then each of the two streams was woken once, and nothing after the read
    assert sorted(woken) == ["orders-stream", "views-stream"]


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """`up` takes SIGINT and SIGTERM for its own shutdown: pytest gets its own back after."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.usefixtures("signal_handlers")
def test_up_refuses_to_start_when_the_storefronts_port_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the storefront's port held by another process (another `make up`, say)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]

        # When the cloud is started with its storefront on that port
        up = ["up", str(EVENT_HUB), "--storefront", str(STOREFRONT)]
        status = cli.main(["--state-dir", str(tmp_path), *up, "--storefront-port", str(port)])

    # Then it stops at once, saying which port and how to pick another, and leaves no endpoints
    assert status == 1
    error = capsys.readouterr().err
    assert f"the storefront's port {port}: --storefront-port picks another" in error
    assert not (tmp_path / "endpoints.json").exists()


@pytest.mark.usefixtures("signal_handlers")
def test_up_refuses_a_storefront_folder_without_index_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(
        [
            "--state-dir",
            str(tmp_path / "state"),
            "up",
            str(EVENT_HUB),
            "--storefront",
            str(tmp_path),
        ]
    )

    assert status == 1
    assert "it has no index.html" in capsys.readouterr().err


def test_a_stack_packaged_before_from_the_same_inputs_is_taken_from_the_cache(
    tmp_path: Path,
) -> None:
    from localcloud.deploy.package import package

    # Given a copy of the sample stack, packaged once with a cache
    stack = tmp_path / "sample-listener"
    shutil.copytree(ROOT / "infra" / "local" / "tests" / "stacks" / "sample-listener", stack)
    cache = tmp_path / "cache"

    def packaged(output: str, **params: str) -> tuple[dict[str, object], list[str]]:
        result = package(
            stack,
            stage="local",
            output_dir=tmp_path / output,
            serverless=ROOT / "make" / "serverless",
            params=params,
            cache_dir=cache,
        )
        return result.update_template, [artifact.name for artifact in result.artifacts]

    first = packaged("first")
    assert len(list(cache.iterdir())) == 1

    # When it is packaged again unchanged, with a param it does not read, with a new test, then
    # with a param it reads, then with a changed file
    again = packaged("again")
    unread_param = packaged("unread", storefrontOrigin="http://localhost:9")
    (stack / "tests").mkdir()
    (stack / "tests" / "test_new.py").write_text("def test_new() -> None: ...\n")
    new_test = packaged("new-test")
    assert len(list(cache.iterdir())) == 1
    read_param = packaged("read", greeting="hi")
    assert len(list(cache.iterdir())) == 2
    (stack / "serverless.yml").write_text((stack / "serverless.yml").read_text() + "\n# changed\n")
    packaged("changed")

    # Then what changes nothing packaged is the cached package, and every other change is a
    # package of its own
    assert again == first == unread_param == new_test
    assert read_param[1] == first[1]
    assert read_param[0] != first[0]
    assert len(list(cache.iterdir())) == 3
    assert (tmp_path / "again" / "serverless-state.json").exists()


def test_one_stack_packaged_three_times_at_once_is_packaged_whole_each_time(
    tmp_path: Path,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from localcloud.deploy.package import package

    # Given the event hub, whose layer osls zips inside the stack's own folder, and three suites
    # packaging it at the same moment without a cache (each a `serverless package` of its own)
    def packaged(run: int) -> list[str]:
        result = package(
            ROOT / "infra" / "event-hub",
            stage="local",
            output_dir=tmp_path / str(run) / "package",
            serverless=ROOT / "make" / "serverless",
        )
        return sorted(result.update_template["Resources"])

    # When they run
    with ThreadPoolExecutor(max_workers=3) as suites:
        resources = list(suites.map(packaged, range(3)))

    # Then each got the whole package
    assert "Bus" in resources[0]
    assert resources[0] == resources[1] == resources[2]
