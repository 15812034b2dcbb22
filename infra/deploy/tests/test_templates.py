"""The names a deploy prints or reads are the ones the templates and the services use: if a
template renames a parameter, an output or the webhook's route, these fail, not a deployer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from stage_deploy.endpoints import HTTP_API_URL, HUB_OUTPUTS
from stage_deploy.stacks import Stack
from stage_deploy.steps import LOCAL_ISSUER, STRIPE_EVENT_TYPES, WEBHOOK_PATH, secret_parameters

from .conftest import ROOT, STACK_FOLDERS


def template(folder: str) -> str:
    return (ROOT / folder / "serverless.yml").read_text()


def test_every_stack_folder_is_read_as_the_stack_cloudformation_names() -> None:
    # When the real stacks are read
    stacks = [Stack.read(ROOT / folder) for folder in STACK_FOLDERS]

    # Then each is named after its service, has a layer to build, and its member is its folder
    assert [stack.name("dev") for stack in stacks] == [f"{Path(f).name}-dev" for f in STACK_FOLDERS]
    assert all(stack.has_layer for stack in stacks)
    assert [stack.member for stack in stacks] == [Path(f).name for f in STACK_FOLDERS]


def test_the_hub_outputs_the_endpoints_read_are_its_outputs() -> None:
    outputs = template("infra/event-hub")
    assert all(f"\n    {output}:\n" in outputs for output in HUB_OUTPUTS.values())


@pytest.mark.parametrize("service", ["order-bff", "stripe-esg"])
def test_the_services_with_an_http_api_get_its_url_as_an_output(service: str) -> None:
    # Serverless adds HttpApiUrl to a stack with httpApi events; these two have some.
    assert "- httpApi:" in template(f"services/{service}")
    assert HTTP_API_URL == "HttpApiUrl"


def test_the_webhook_route_is_stripe_esgs() -> None:
    assert f"path: {WEBHOOK_PATH}\n" in template("services/stripe-esg")


def test_the_stripe_event_types_to_register_are_those_stripe_esg_ingests() -> None:
    # Read from its source rather than imported: infra code never imports a service.
    source = (ROOT / "services/stripe-esg/src/stripe_esg/stripe_types.py").read_text()
    [assignment] = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "INGESTED_TYPES"
    ]
    assert isinstance(assignment.value, ast.Call)
    ingested = ast.literal_eval(assignment.value.args[0])
    assert set(STRIPE_EVENT_TYPES) == ingested


def test_the_secret_parameters_are_the_ones_stripe_esg_reads() -> None:
    stripe_esg = template("services/stripe-esg")
    names = {
        re.sub(r"\$\{self:service\}", "stripe-esg", re.sub(r"\$\{sls:stage\}", "dev", name))
        for name in re.findall(r"^    \w+: (/\$\{self:service\}/\S+)$", stripe_esg, re.MULTILINE)
    }
    assert set(secret_parameters("dev").values()) == names


def test_the_local_issuer_is_order_bffs_default() -> None:
    assert f"jwtIssuer: {LOCAL_ISSUER}\n" in template("services/order-bff")
