"""The Lambda host runs real functions under awslambdaric; these tests deploy a small package."""

from __future__ import annotations

import json
import logging
import os
import textwrap
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from localcloud.aws import Aws
from localcloud.event_sources import EventSourceMapping, EventSourceRunner
from localcloud.http_api import HttpApiServer, LocalSigningKey, Route
from localcloud.lambda_.functions import FunctionNotFound, FunctionSpec, FunctionThrottled
from localcloud.lambda_.host import LambdaHost
from localcloud.testing import eventually

# Sockets of their own (function processes talk to the Runtime API over loopback HTTP): not a
# unit test, whatever its fixtures.
pytestmark = pytest.mark.integration

ENDPOINT = "http://127.0.0.1:9"

HANDLERS = """
import os
import sys
import time
from pathlib import Path

from . import helper


def echo(event, context):
    print("echoing", event)
    return {
        "event": event,
        "module": __name__,
        "helper": helper.NAME,
        "function_name": context.function_name,
        "pid": os.getpid(),
    }


def fail_if_asked(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"pid": os.getpid()}


def sleep(event, context):
    time.sleep(event["seconds"])
    return {"pid": os.getpid()}


def exit_if_asked(event, context):
    if event.get("exit"):
        os._exit(3)
    return {"pid": os.getpid()}


def env(event, context):
    return dict(os.environ)
"""

# Records its own init (once per execution environment) and each run's start and end, so a test
# judges concurrency by what the functions saw. A run first waits until `meet` runs have arrived
# (each leaves a file in `rendezvous`), or gives up after a few seconds and says so: runs that
# overlap meet, runs served one after another cannot.
CONCURRENT = """
import json
import os
import time
from pathlib import Path

INIT_AT = time.time()
with open(os.environ["INIT_LOG"], "a") as log:
    log.write(f"{os.getpid()}\\n")


def run(event, context):
    started = time.time()
    # The same run behind an HTTP API (its JSON body) or a queue (its one message's body).
    if "body" in event:
        event = json.loads(event["body"])
    elif "Records" in event:
        event = json.loads(event["Records"][0]["body"])
    rendezvous = Path(event["rendezvous"])
    (rendezvous / context.aws_request_id).touch()
    met = False
    while time.time() - started < 5:
        if len(list(rendezvous.iterdir())) >= event["meet"]:
            met = True
            break
        time.sleep(0.01)
    time.sleep(event.get("hold", 0))
    run = {"pid": os.getpid(), "init": INIT_AT, "started": started, "ended": time.time(), "met": met}
    with open(rendezvous.parent / "runs.log", "a") as log:
        log.write(json.dumps(run) + "\\n")
    return run
"""

# Raises at import while the flag file exists, so a test can repair it between invocations.
BROKEN = """
from pathlib import Path

if (Path(__file__).parent / "broken.flag").exists():
    raise RuntimeError("refusing to load")


def handle(event, context):
    return "loaded"
"""


def invoke_json(host: LambdaHost, function: str, event: Any) -> Any:
    invocation = host.invoke(function, json.dumps(event).encode())
    assert invocation.ok, invocation
    return invocation.json()


@pytest.fixture(scope="module")
def code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("code")
    package = root / "src" / "shop"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text('NAME = "helper"\n')
    (package / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    (package / "broken.py").write_text(textwrap.dedent(BROKEN))
    (package / "concurrent.py").write_text(textwrap.dedent(CONCURRENT))
    (package / "needs_missing.py").write_text("import shop_dependency_that_is_not_installed\n")
    return root


@pytest.fixture
def host(tmp_path: Path) -> Iterator[LambdaHost]:
    with LambdaHost(Aws(ENDPOINT), log_dir=tmp_path / "logs") as lambda_host:
        yield lambda_host


def deploy(host: LambdaHost, code_dir: Path, handler: str, **options: Any) -> str:
    spec = FunctionSpec(
        name=options.pop("name", "fn"),
        handler=handler,
        code_dir=code_dir,
        stack=options.pop("stack", "test-stack"),
        **options,
    )
    host.deploy(spec)
    return spec.name


@pytest.mark.parametrize("handler", ["src/shop/handlers.echo", "src.shop.handlers.echo"])
def test_a_handler_path_or_dotted_name_is_imported_from_the_task_root(
    host: LambdaHost, code_dir: Path, handler: str
) -> None:
    # Given a function whose handler names a module under src/ of its package
    function = deploy(host, code_dir, handler)

    # When it is invoked
    response = invoke_json(host, function, {"hello": "world"})

    # Then the runtime imported it as awslambdaric does (slashes become dots, relative imports
    # work) and the handler saw the event and its context
    assert response["event"] == {"hello": "world"}
    assert response["module"] == "src.shop.handlers"
    assert response["helper"] == "helper"
    assert response["function_name"] == "fn"
    assert [i.function for i in host.invocations()] == ["fn"]


def test_the_first_invocation_is_a_cold_start_and_the_next_reuses_the_process(
    host: LambdaHost, code_dir: Path
) -> None:
    # Given a deployed function that has not run yet
    function = deploy(host, code_dir, "src/shop/handlers.echo")

    # When it is invoked twice
    first = host.invoke(function, b"{}")
    second = host.invoke(function, b"{}")

    # Then only the first reports an init duration, and both ran in the same process
    assert first.init_duration_ms is not None
    assert first.init_duration_ms > 0
    assert second.init_duration_ms is None
    assert first.json()["pid"] == second.json()["pid"]
    assert host.invocations(function) == [first, second]


def test_a_function_error_is_reported_with_its_error_document_and_the_process_stays_warm(
    host: LambdaHost, code_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a function that raises when asked to
    function = deploy(host, code_dir, "src/shop/handlers.fail_if_asked")
    caplog.set_level(logging.WARNING, logger="localcloud.lambda_.host")

    # When it fails, then is invoked again
    failed = host.invoke(function, b'{"fail": true}')
    succeeded = host.invoke(function, b"{}")

    # Then the failure carries the runtime's error document
    assert failed.error_type == "ValueError"
    assert failed.error_message == "asked to fail"
    document = failed.json()
    assert document["errorMessage"] == "asked to fail"
    assert any("handlers.py" in frame for frame in document["stackTrace"])
    # And the process survived it, as Lambda's does
    assert succeeded.ok
    assert succeeded.init_duration_ms is None
    # And exactly one warning names the function, its stack and the error type
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    fields = [(vars(r)["function"], vars(r)["stack"], vars(r)["error_type"]) for r in warnings]
    assert fields == [("fn", "test-stack", "ValueError")]


@pytest.mark.parametrize(
    ("handler", "error_type", "cause"),
    [
        ("src/shop/needs_missing.handle", "Runtime.ImportModuleError", "shop_dependency"),
        ("src/shop/handlers.does_not_exist", "Runtime.HandlerNotFound", "does_not_exist"),
        ("shop.handlers.echo", "Runtime.ImportModuleError", "No module named 'shop'"),
    ],
)
def test_an_init_error_is_reported_with_the_type_the_runtime_posts(
    host: LambdaHost, code_dir: Path, handler: str, error_type: str, cause: str
) -> None:
    # Given a function whose handler cannot be loaded
    function = deploy(host, code_dir, handler)

    # When it is invoked
    invocation = host.invoke(function, b"{}")

    # Then the outcome is the init error, naming the function, its stack and the cause
    assert invocation.error_type == error_type
    assert invocation.error_message is not None
    assert "'fn'" in invocation.error_message
    assert "'test-stack'" in invocation.error_message
    assert cause in invocation.error_message
    assert invocation.json()["errorType"] == error_type


def test_a_module_that_raises_at_import_fails_init_and_the_next_invocation_starts_afresh(
    host: LambdaHost, code_dir: Path
) -> None:
    # Given a function whose module raises at import
    flag = code_dir / "src" / "shop" / "broken.flag"
    flag.write_text("")
    function = deploy(host, code_dir, "src/shop/broken.handle")

    # When it is invoked
    failed = host.invoke(function, b"{}")

    # Then it is an init error of unknown type, as Lambda normalises an exception's class name,
    # whose message and document carry the exception
    assert failed.error_type == "Runtime.Unknown"
    assert failed.error_message is not None
    assert "RuntimeError: refusing to load" in failed.error_message
    assert failed.json()["errorType"] == "RuntimeError"

    # And when the module is repaired, the next invocation is a fresh cold start that succeeds
    flag.unlink()
    repaired = host.invoke(function, b"{}")
    assert repaired.ok
    assert repaired.json() == "loaded"
    assert repaired.init_duration_ms is not None


def test_a_function_that_runs_past_its_timeout_is_killed_and_the_next_invocation_cold_starts(
    host: LambdaHost, code_dir: Path
) -> None:
    # Given a function with a short timeout, warmed up, and another function beside it
    function = deploy(host, code_dir, "src/shop/handlers.sleep", timeout_seconds=0.5)
    other = deploy(host, code_dir, "src/shop/handlers.echo", name="other")
    warm_pid = invoke_json(host, function, {"seconds": 0})["pid"]

    # When it sleeps past the timeout
    started = time.monotonic()
    timed_out = host.invoke(function, b'{"seconds": 30}')
    elapsed = time.monotonic() - started

    # Then the invocation times out as Lambda's does, without waiting for the handler
    assert timed_out.timed_out
    assert timed_out.error_message == "Task timed out after 0.50 seconds"
    assert elapsed < 5
    # And its process is gone: the next invocation is a cold start in a new process
    recovered = host.invoke(function, b'{"seconds": 0}')
    assert recovered.ok
    assert recovered.init_duration_ms is not None
    assert recovered.json()["pid"] != warm_pid
    with pytest.raises(ProcessLookupError):
        os.kill(warm_pid, 0)
    # And the other function was not affected
    assert invoke_json(host, other, {})["function_name"] == "other"


def test_a_process_that_exits_mid_invocation_is_an_exit_error(
    host: LambdaHost, code_dir: Path
) -> None:
    # Given a function that exits the process when asked to
    function = deploy(host, code_dir, "src/shop/handlers.exit_if_asked")

    # When it exits during an invocation
    exited = host.invoke(function, b'{"exit": true}')

    # Then the outcome is Lambda's exit error, and the next invocation cold-starts
    assert exited.error_type == "Runtime.ExitError"
    assert exited.error_message == "Runtime exited with error: exit status 3"
    following = host.invoke(function, b"{}")
    assert following.ok
    assert following.init_duration_ms is not None


def test_the_function_sees_its_configuration_and_the_local_endpoint_but_not_the_hosts_environment(
    host: LambdaHost, code_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a variable in the host's environment and a function configured with its own
    monkeypatch.setenv("LOCALCLOUD_HOST_ONLY", "secret")
    function = deploy(
        host, code_dir, "src/shop/handlers.env", environment={"TABLE_NAME": "orders"}, memory_mb=256
    )

    # When the function reports its environment
    env = invoke_json(host, function, {})

    # Then it has its configuration, the local endpoint and Lambda's variables, and nothing else
    assert env["TABLE_NAME"] == "orders"
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert env["LAMBDA_TASK_ROOT"] == str(code_dir.resolve())
    assert env["_HANDLER"] == "src/shop/handlers.env"
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(code_dir.resolve())
    assert "LOCALCLOUD_HOST_ONLY" not in env


def test_a_pythonpath_under_lambdas_task_root_is_read_as_the_functions_package(
    code_dir: Path, tmp_path: Path
) -> None:
    # Given a host with an extra import path, and a function configured as Lambda would be to
    # import its modules from src/
    with LambdaHost(Aws(ENDPOINT), extra_path=[tmp_path]) as host:
        function = deploy(
            host, code_dir, "shop.handlers.env", environment={"PYTHONPATH": "/var/task/src"}
        )

        # When it reports its environment
        env = invoke_json(host, function, {})

    # Then its package comes first, then the configured path inside it, then the host's
    root = code_dir.resolve()
    assert env["PYTHONPATH"].split(os.pathsep) == [str(root), str(root / "src"), str(tmp_path)]


def invoke_at_once(host: LambdaHost, function: str, events: list[dict[str, Any]]) -> list[Any]:
    """Invoke `function` once per event, all at the same moment; the responses in event order."""
    responses: dict[int, Any] = {}
    barrier = threading.Barrier(len(events))

    def invoke(n: int) -> None:
        barrier.wait()
        responses[n] = invoke_json(host, function, events[n])

    threads = [threading.Thread(target=invoke, args=(n,)) for n in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return [responses[n] for n in range(len(events))]


def most_at_once(runs: list[dict[str, Any]]) -> int:
    """The most runs in progress at one moment, by the runs' own start and end times."""
    return max(sum(r["started"] <= run["started"] < r["ended"] for r in runs) for run in runs)


@pytest.fixture
def concurrent_function(host: LambdaHost, code_dir: Path, tmp_path: Path) -> Any:
    def deploy_concurrent(**options: Any) -> tuple[str, Path, Path]:
        init_log = tmp_path / "inits.log"
        rendezvous = tmp_path / "rendezvous"
        rendezvous.mkdir()
        function = deploy(
            host,
            code_dir,
            "src/shop/concurrent.run",
            environment={"INIT_LOG": str(init_log)},
            **options,
        )
        return function, init_log, rendezvous

    return deploy_concurrent


def test_concurrent_invocations_run_at_once_each_in_an_environment_of_its_own_cold_started(
    host: LambdaHost, concurrent_function: Any
) -> None:
    # Given a function none of whose environments has started
    function, init_log, rendezvous = concurrent_function()

    # When three invocations arrive at once, each waiting for the other two
    event = {"rendezvous": str(rendezvous), "meet": 3}
    runs = invoke_at_once(host, function, [event] * 3)

    # Then they met, and ran at the same time, by their own clocks
    assert [run["met"] for run in runs] == [True, True, True]
    assert most_at_once(runs) == 3
    # And each ran in a process of its own, each a cold start that ran the init once
    pids = {run["pid"] for run in runs}
    assert len(pids) == 3
    assert sorted(init_log.read_text().split()) == sorted(str(pid) for pid in pids)
    assert sum(i.init_duration_ms is not None for i in host.invocations(function)) == 3
    assert host.environments(function) == 3


def test_an_idle_warm_environment_is_reused_before_another_is_started(
    host: LambdaHost, concurrent_function: Any
) -> None:
    # Given a function that has served two invocations at once
    function, init_log, rendezvous = concurrent_function()
    first = invoke_at_once(host, function, [{"rendezvous": str(rendezvous), "meet": 2}] * 2)

    # When it is invoked three more times, one after the other
    later = [
        invoke_json(host, function, {"rendezvous": str(rendezvous), "meet": 1}) for _ in range(3)
    ]

    # Then every later run was served warm by one of the two environments: no init ran again
    assert {run["pid"] for run in later} <= {run["pid"] for run in first}
    assert len(init_log.read_text().split()) == 2
    assert [i.init_duration_ms is None for i in host.invocations(function)][2:] == [True] * 3
    assert host.environments(function) == 2


@pytest.mark.parametrize(
    ("host_concurrency", "reserved", "limit"),
    [(2, None, 2), (4, 1, 1), (1, 3, 3)],
    ids=["the host's limit", "reserved below the host's", "reserved above the host's"],
)
def test_invocations_beyond_the_limit_wait_for_an_environment(
    code_dir: Path, tmp_path: Path, host_concurrency: int, reserved: int | None, limit: int
) -> None:
    # Given a host with a concurrency limit and a function that may reserve its own
    with LambdaHost(Aws(ENDPOINT), concurrency=host_concurrency) as host:
        init_log = tmp_path / "inits.log"
        rendezvous = tmp_path / "rendezvous"
        rendezvous.mkdir()
        function = deploy(
            host,
            code_dir,
            "src/shop/concurrent.run",
            environment={"INIT_LOG": str(init_log)},
            reserved_concurrency=reserved,
        )

        # When twice as many invocations as the limit arrive at once, each holding its
        # environment a moment once `limit` runs have arrived
        event = {"rendezvous": str(rendezvous), "meet": limit, "hold": 0.2}
        runs = invoke_at_once(host, function, [event] * (2 * limit))

        # Then every one ran, never more than `limit` at once, and as many at once as that
        assert host.limit(function) == limit
        assert all(run["met"] for run in runs)
        assert most_at_once(runs) == limit
        # And in `limit` environments, each started once
        assert len({run["pid"] for run in runs}) == limit
        assert len(init_log.read_text().split()) == limit
        assert host.environments(function) == limit


def test_a_reserved_concurrency_of_zero_throttles_every_invocation(
    host: LambdaHost, code_dir: Path
) -> None:
    # Given a function whose template reserves no concurrency at all
    function = deploy(host, code_dir, "src/shop/handlers.echo", reserved_concurrency=0)

    # When it is invoked, then it is throttled, as Lambda throttles it, and nothing started
    with pytest.raises(FunctionThrottled, match="reserved concurrency is 0"):
        host.invoke(function, b"{}")
    assert host.environments(function) == 0


def test_idle_environments_are_reaped_but_the_most_recently_used(
    code_dir: Path, tmp_path: Path
) -> None:
    # Given a host that reaps at once, and a function with three warm environments
    with LambdaHost(Aws(ENDPOINT), idle_seconds=0) as host:
        rendezvous = tmp_path / "rendezvous"
        rendezvous.mkdir()
        function = deploy(
            host,
            code_dir,
            "src/shop/concurrent.run",
            environment={"INIT_LOG": str(tmp_path / "inits.log")},
        )
        runs = invoke_at_once(host, function, [{"rendezvous": str(rendezvous), "meet": 3}] * 3)
        pids = {run["pid"] for run in runs}
        assert len(pids) == 3

        # When the idle ones are reaped
        reaped = host.reap_idle()

        # Then two processes are gone and one stays warm for the next invocation
        assert reaped == 2
        assert host.environments(function) == 1
        alive = [pid for pid in pids if _alive(pid)]
        assert len(alive) == 1
        again = invoke_json(host, function, {"rendezvous": str(rendezvous), "meet": 1})
        assert again["pid"] == alive[0]
        assert host.invocations(function)[-1].init_duration_ms is None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_concurrent_invocations_each_get_their_own_response(
    host: LambdaHost, code_dir: Path
) -> None:
    # Given a deployed function
    function = deploy(host, code_dir, "src/shop/handlers.echo")

    # When more threads than its limit invoke it at once
    responses = invoke_at_once(host, function, [{"n": n} for n in range(6)])

    # Then each got the response to its own event, from at most the host's limit of processes
    assert [r["event"] for r in responses] == [{"n": n} for n in range(6)]
    assert 1 <= len({r["pid"] for r in responses}) <= host.limit(function)
    assert len(host.invocations(function)) == 6


def test_an_unknown_function_is_not_found(host: LambdaHost) -> None:
    # Given a host with nothing deployed
    # When an unknown function is invoked, then it is not found
    with pytest.raises(FunctionNotFound, match="nowhere"):
        host.invoke("nowhere", b"{}")


def test_the_function_output_goes_to_its_log_file(
    host: LambdaHost, code_dir: Path, tmp_path: Path
) -> None:
    # Given a function that prints
    function = deploy(host, code_dir, "src/shop/handlers.echo")

    # When it is invoked
    invoke_json(host, function, {"marker": "in-the-log"})

    # Then its output is in the function's log file
    assert "in-the-log" in (tmp_path / "logs" / "fn.log").read_text()


def test_redeploying_replaces_the_code_and_the_next_invocation_cold_starts(
    host: LambdaHost, code_dir: Path
) -> None:
    # Given a deployed, warm function
    deploy(host, code_dir, "src/shop/handlers.env", environment={"VERSION": "1"})
    assert invoke_json(host, "fn", {})["VERSION"] == "1"

    # When it is deployed again with a new configuration
    deploy(host, code_dir, "src/shop/handlers.env", environment={"VERSION": "2"})
    invocation = host.invoke("fn", b"{}")

    # Then the new configuration runs, in a new process
    assert invocation.json()["VERSION"] == "2"
    assert invocation.init_duration_ms is not None
    assert host.functions["fn"].environment == {"VERSION": "2"}


def test_stop_kills_every_function_process(code_dir: Path) -> None:
    # Given a host with a warm function
    host = LambdaHost(Aws(ENDPOINT))
    function = deploy(host, code_dir, "src/shop/handlers.echo")
    pid = invoke_json(host, function, {})["pid"]

    # When the host stops
    host.stop()

    # Then the process is gone
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def runs_logged(rendezvous: Path) -> list[dict[str, Any]]:
    log = rendezvous.parent / "runs.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_requests_to_an_http_api_run_their_function_concurrently(
    host: LambdaHost, concurrent_function: Any, tmp_path: Path
) -> None:
    # Given a function behind a local HTTP API route
    function, _, rendezvous = concurrent_function()
    key = LocalSigningKey.load_or_create(tmp_path / "jwt-key.json")
    with HttpApiServer([Route("POST /run", function)], host.invoke, key, name="api") as api:
        body = json.dumps({"rendezvous": str(rendezvous), "meet": 3}).encode()
        barrier = threading.Barrier(3)
        statuses: list[int] = []

        def request() -> None:
            barrier.wait()
            post = urllib.request.Request(
                f"{api.url}/run",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(post, timeout=30) as response:
                statuses.append(response.status)

        # When three clients post at once
        threads = [threading.Thread(target=request) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    # Then the three runs met and overlapped, each in an environment of its own
    runs = runs_logged(rendezvous)
    assert statuses == [200, 200, 200]
    assert [run["met"] for run in runs] == [True, True, True]
    assert most_at_once(runs) == 3
    assert len({run["pid"] for run in runs}) == 3


def test_batches_of_a_queue_run_their_function_concurrently(
    aws: Aws, code_dir: Path, tmp_path: Path
) -> None:
    # Given a function reading a queue one message a batch, and three messages on it
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    for _ in range(3):
        sqs.send_message(
            QueueUrl=url, MessageBody=json.dumps({"rendezvous": str(rendezvous), "meet": 3})
        )
    with LambdaHost(aws) as host, EventSourceRunner(aws, host.invoke) as runner:
        function = deploy(
            host,
            code_dir,
            "src/shop/concurrent.run",
            environment={"INIT_LOG": str(tmp_path / "inits.log")},
        )

        # When the mapping polls it
        runner.add(EventSourceMapping(function=function, source_arn=arn, batch_size=1))

        # Then the three batches met and overlapped, each in an environment of its own
        eventually(lambda: len(runs_logged(rendezvous)) == 3, timeout=30)
    runs = runs_logged(rendezvous)
    assert [run["met"] for run in runs] == [True, True, True]
    assert most_at_once(runs) == 3
    assert len({run["pid"] for run in runs}) == 3


def test_whoever_asked_is_told_of_each_invocation_once_it_has_ended(
    code_dir: Path, tmp_path: Path
) -> None:
    # Given a host told to report every ended invocation, and a function that fails when asked
    ended: list[str] = []
    with LambdaHost(Aws(ENDPOINT), after_invocation=lambda spec: ended.append(spec.name)) as host:
        function = deploy(host, code_dir, "src/shop/handlers.fail_if_asked")

        # When it succeeds once and fails once
        host.invoke(function, b"{}")
        host.invoke(function, b'{"fail": true}')

    # Then both were reported, after they ended
    assert ended == ["fn", "fn"]
