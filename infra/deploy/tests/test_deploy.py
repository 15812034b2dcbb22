"""`make deploy` and `make remove` end to end, short of AWS: the fake tools record what would have
run, the Stubber answers what AWS would have said."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber
from stage_deploy import cli

from .conftest import (
    ACCOUNT,
    HTTP_APIS,
    HUB_OUTPUTS,
    REGION,
    STACK_FOLDERS,
    STAGE,
    Workspace,
    caller,
    described,
)

Client = tuple[Any, Stubber]


def run(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    *options: str,
) -> int:
    return cli.main(
        workspace.argv(*options),
        environment=environment,
        sts=sts[0],
        cloudformation=cloudformation[0],
    )


def test_a_deploy_runs_the_hub_then_each_service_each_layer_before_its_stack(
    workspace: Workspace, environment: dict[str, str], sts: Client, cloudformation: Client
) -> None:
    # Given credentials that work and stacks that deploy
    caller(sts[1])
    described(cloudformation[1])

    # When the stage is deployed with the identity provider's params
    status = run(
        workspace, environment, sts, cloudformation,
        "deploy", "--stage", STAGE, "--region", REGION,
        "--param", "jwtIssuer=https://issuer.example/", "--param", "jwtAudience=shop",
    )  # fmt: skip

    # Then every stack ran its layer, then `serverless deploy`, in the Makefile's order
    assert status == 0
    runs = workspace.runs()
    assert [(Path(one["cwd"]).name, one["tool"]) for one in runs] == [
        (Path(folder).name, tool) for folder in STACK_FOLDERS for tool in ("layer", "serverless")
    ]
    layers = [one for one in runs if one["tool"] == "layer"]
    assert all(one["argv"] == [Path(one["cwd"]).name, "build/layer"] for one in layers)
    deploys = [one for one in runs if one["tool"] == "serverless"]
    assert {tuple(one["argv"]) for one in deploys} == {
        (
            "deploy", "--stage", STAGE, "--region", REGION,
            "--param=jwtIssuer=https://issuer.example/", "--param=jwtAudience=shop",
        )
    }  # fmt: skip
    # And never with the local cloud's placeholder layer
    assert all(one["layer_dir"] is None for one in runs)
    sts[1].assert_no_pending_responses()
    cloudformation[1].assert_no_pending_responses()


def test_a_deploy_writes_the_stage_endpoints_in_the_local_clouds_shape(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a deploy that succeeds, with the storefront's publishable key at hand
    caller(sts[1])
    described(cloudformation[1])
    environment["STRIPE_PUBLISHABLE_KEY"] = "pk_test_123"

    # When it runs
    assert run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE) == 0

    # Then .deploy/<stage>/endpoints.json holds what the e2e tests read
    endpoints = json.loads((workspace.root / ".deploy" / STAGE / "endpoints.json").read_text())
    assert endpoints["http"] == HTTP_APIS
    assert endpoints["bus"] == HUB_OUTPUTS["BusName"]
    assert endpoints["stream"] == HUB_OUTPUTS["StreamName"]
    assert endpoints["faults"] == HUB_OUTPUTS["FaultTableName"]
    assert endpoints["faultQueue"] == HUB_OUTPUTS["FaultQueueUrl"]
    assert endpoints["region"] == REGION
    assert endpoints["account"] == ACCOUNT
    assert endpoints["stripe_publishable_key"] == "pk_test_123"
    assert endpoints["aws"] is None
    # And the output prints them and the steps left by hand, with the stage's names
    printed = capsys.readouterr().out
    assert f"{HTTP_APIS['stripe-esg']}/stripe/webhook" in printed
    assert f"/stripe-esg/{STAGE}/api-key" in printed
    assert f"/stripe-esg/{STAGE}/webhook-secret" in printed
    assert "refuses every token" in printed  # no jwtIssuer given: still the local cloud's


def test_a_deploy_stops_at_the_first_stack_that_fails_and_names_it(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given order-bff's deploy fails (the stacks before it deploy)
    caller(sts[1])
    environment["FAKE_FAIL"] = "order-bff:serverless"

    # When the stage is deployed
    status = run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE)

    # Then it fails naming the stack and what was not deployed, and ran nothing after it
    assert status == 1
    error = capsys.readouterr().err
    assert f"order-bff-{STAGE}" in error
    assert "`serverless deploy` failed (exit 3)" in error
    assert f"not deployed: stripe-esg-{STAGE}" in error
    ran = [Path(one["cwd"]).name for one in workspace.runs()]
    assert ran[-1] == "order-bff"
    assert "stripe-esg" not in ran
    # And no endpoints file claims a stage that is not whole
    assert not (workspace.root / ".deploy" / STAGE / "endpoints.json").exists()


def test_a_layer_that_does_not_build_stops_the_deploy_before_its_stack(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the event hub's layer cannot be built
    caller(sts[1])
    environment["FAKE_FAIL"] = "event-hub:layer"

    # When the stage is deployed
    status = run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE)

    # Then nothing was deployed at all
    assert status == 1
    assert "its dependencies layer failed" in capsys.readouterr().err
    assert [one["tool"] for one in workspace.runs()] == ["layer"]


@pytest.mark.parametrize(
    "options",
    [
        pytest.param([], id="no stage"),
        pytest.param(["--stage", "local"], id="the local cloud's stage"),
        pytest.param(["--stage", "Dev_1"], id="a stage no bucket may be named after"),
        pytest.param(["--stage", "a" * 17], id="a stage too long for the functions' names"),
        pytest.param(["--stage", STAGE, "--param", "jwtIssuer"], id="a param without a value"),
    ],
)
def test_a_deploy_without_a_stage_of_its_own_is_refused_with_one_line_of_usage(
    options: list[str],
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When the stage is missing or is the local cloud's
    status = run(workspace, environment, sts, cloudformation, "deploy", *options)

    # Then one line of usage, exit 2, and nothing asked of AWS nor run
    assert status == 2
    error = capsys.readouterr().err
    assert error.startswith("usage: make deploy STAGE=<name>")
    assert error.count("\n") == 1
    assert workspace.runs() == []
    sts[1].assert_no_pending_responses()


def test_a_deploy_without_credentials_says_so_and_deploys_nothing(
    workspace: Workspace,
    environment: dict[str, str],
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a machine with no AWS credentials anywhere (and no metadata service to ask)
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(workspace.root / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(workspace.root / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    # When the stage is deployed with boto3's own STS client
    status = cli.main(
        workspace.argv("deploy", "--stage", STAGE, "--region", REGION),
        environment=environment,
        cloudformation=cloudformation[0],
    )

    # Then one clear line, exit 1, and nothing ran
    assert status == 1
    error = capsys.readouterr().err
    assert error.startswith("deploy: no AWS credentials found")
    assert error.rstrip().endswith("nothing was deployed")
    assert workspace.runs() == []


def test_credentials_aws_refuses_stop_the_deploy_before_any_stack(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given credentials that have expired
    sts[1].add_client_error("get_caller_identity", "ExpiredToken", "The security token expired")

    # When the stage is deployed
    status = run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE)

    # Then it says AWS refused them, and nothing ran
    assert status == 1
    assert "AWS refused the credentials (ExpiredToken)" in capsys.readouterr().err
    assert workspace.runs() == []


def test_a_shell_pointed_at_a_local_cloud_is_refused_before_credentials_are_checked(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given boto3 is pointed at a local cloud's moto server (osls would not be)
    environment["AWS_ENDPOINT_URL"] = "http://127.0.0.1:5000"

    # When the stage is deployed
    status = run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE)

    # Then it refuses, naming the variable, and asked nothing of STS
    assert status == 1
    assert "AWS_ENDPOINT_URL is set" in capsys.readouterr().err
    assert workspace.runs() == []
    sts[1].assert_no_pending_responses()


def test_a_removal_goes_in_the_reverse_order_and_forgets_the_endpoints(
    workspace: Workspace, environment: dict[str, str], sts: Client, cloudformation: Client
) -> None:
    # Given a deployed stage, its endpoints file written
    caller(sts[1])
    described(cloudformation[1])
    assert run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE) == 0
    workspace.log.unlink()
    caller(sts[1])

    # When it is removed
    status = run(workspace, environment, sts, cloudformation, "remove", "--stage", STAGE)

    # Then the services went first, the hub last, no layer built, and the endpoints are gone
    assert status == 0
    runs = workspace.runs()
    assert [Path(one["cwd"]).name for one in runs] == [
        Path(folder).name for folder in reversed(STACK_FOLDERS)
    ]
    assert all(one["tool"] == "serverless" for one in runs)
    assert all(one["argv"][:5] == ["remove", "--stage", STAGE, "--region", REGION] for one in runs)
    assert not (workspace.root / ".deploy" / STAGE / "endpoints.json").exists()


def test_a_removal_that_fails_keeps_the_hub_the_services_still_import(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given inventory's removal fails
    caller(sts[1])
    environment["FAKE_FAIL"] = "inventory:serverless"

    # When the stage is removed
    status = run(workspace, environment, sts, cloudformation, "remove", "--stage", STAGE)

    # Then the removal stops there, naming what is still deployed
    assert status == 1
    error = capsys.readouterr().err
    assert f"not removed: fulfillment-control-{STAGE}, event-hub-{STAGE}" in error
    assert "event-hub" not in [Path(one["cwd"]).name for one in workspace.runs()]


def test_a_folder_without_a_serverless_yml_is_refused(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a stack folder that lost its template
    (workspace.stacks[2] / "serverless.yml").unlink()

    # When the stage is deployed
    status = run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE)

    # Then it is named, and nothing ran
    assert status == 2
    assert "no serverless.yml, so not a stack" in capsys.readouterr().err
    assert workspace.runs() == []


def test_outputs_that_cannot_be_read_say_the_stage_is_deployed_but_its_endpoints_are_not(
    workspace: Workspace,
    environment: dict[str, str],
    sts: Client,
    cloudformation: Client,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given every stack deploys, but the credentials may not describe stacks
    caller(sts[1])
    cloudformation[1].add_client_error("describe_stacks", "AccessDenied", "not allowed")

    # When the stage is deployed
    status = run(workspace, environment, sts, cloudformation, "deploy", "--stage", STAGE)

    # Then it says which stack's outputs were unreadable and that the stacks are deployed
    assert status == 1
    error = capsys.readouterr().err
    assert f"event-hub-{STAGE} deployed, but its outputs could not be read" in error
    assert "AccessDenied" in error
    assert len([one for one in workspace.runs() if one["tool"] == "serverless"]) == len(
        STACK_FOLDERS
    )
    assert not (workspace.root / ".deploy" / STAGE / "endpoints.json").exists()
