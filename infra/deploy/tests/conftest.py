"""Fixtures: a copy of the stage's stacks (their real serverless.yml, nothing else), fake
`serverless` and `make/layer` executables that record how they were run, and STS and
CloudFormation clients answered by botocore's Stubber. Nothing reaches AWS or runs osls."""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[3]
REGION = "eu-west-1"
STAGE = "sandbox"
ACCOUNT = "123456789012"
# The stacks in the root Makefile's order: the event hub, then the services alphabetically.
STACK_FOLDERS = [
    "infra/event-hub",
    "services/fulfillment-control",
    "services/inventory",
    "services/order-bff",
    "services/stripe-esg",
]

# Records one line per run (its name, folder and argv) and fails where FAKE_FAIL names the folder
# and the command.
FAKE = """#!/usr/bin/env python3
import json, os, sys
from pathlib import Path
name = Path(sys.argv[0]).name
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps({"tool": name, "cwd": os.getcwd(), "argv": sys.argv[1:],
                          "layer_dir": os.environ.get("SHOP_LAYER_DIR")}) + "\\n")
fail = os.environ.get("FAKE_FAIL", "")
if fail and fail == f"{Path.cwd().name}:{name}":
    print("simulated failure", file=sys.stderr)
    sys.exit(3)
"""


@dataclass
class Workspace:
    """A folder laid out as the repository is, with fake tools and a log of their runs."""

    root: Path
    log: Path
    serverless: Path
    layer: Path

    @property
    def stacks(self) -> list[Path]:
        return [self.root / folder for folder in STACK_FOLDERS]

    def runs(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def argv(self, *options: str) -> list[str]:
        return [
            *options,
            "--serverless",
            str(self.serverless),
            "--layer",
            str(self.layer),
            "--state-dir",
            str(self.root / ".deploy"),
            *map(str, self.stacks),
        ]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    for folder in STACK_FOLDERS:
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy(ROOT / folder / "serverless.yml", tmp_path / folder / "serverless.yml")
    tools = tmp_path / "make"
    tools.mkdir()
    for name in ("serverless", "layer"):
        (tools / name).write_text(FAKE)
        (tools / name).chmod((tools / name).stat().st_mode | stat.S_IXUSR)
    return Workspace(
        root=tmp_path,
        log=tmp_path / "runs.jsonl",
        serverless=tools / "serverless",
        layer=tools / "layer",
    )


@pytest.fixture
def environment(workspace: Workspace) -> dict[str, str]:
    """What the tools run with: a PATH to find python3, the log, and a stray local-cloud setting
    the deploy must not pass on."""
    return {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "FAKE_LOG": str(workspace.log),
        "SHOP_LAYER_DIR": "../placeholder",
    }


@pytest.fixture
def sts() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "sts", region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def caller(stubber: Stubber) -> None:
    stubber.add_response(
        "get_caller_identity",
        {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/deployer", "UserId": "AIDA1"},
        {},
    )


HUB_OUTPUTS = {
    "BusName": f"event-hub-{STAGE}-bus",
    "StreamName": f"event-hub-{STAGE}-stream",
    "FaultTableName": f"event-hub-{STAGE}-faults",
    "FaultQueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/event-hub-{STAGE}-faults",
    "EventLakeBucketName": f"event-hub-{STAGE}-event-lake-{REGION}",
    "SealingKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd",
}
HTTP_APIS = {
    "order-bff": f"https://bff123.execute-api.{REGION}.amazonaws.com",
    "stripe-esg": f"https://esg456.execute-api.{REGION}.amazonaws.com",
}


def described(stubber: Stubber) -> None:
    """DescribeStacks answered for every stack, in deploy order, with outputs as deployed."""
    for folder in STACK_FOLDERS:
        service = Path(folder).name
        outputs = dict(HUB_OUTPUTS) if service == "event-hub" else {"TableName": f"{service}-t"}
        if service in HTTP_APIS:
            outputs["HttpApiUrl"] = HTTP_APIS[service]
            outputs["HttpApiId"] = "abc"
        stubber.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": f"{service}-{STAGE}",
                        "CreationTime": "2026-12-02T00:00:00Z",
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [
                            {"OutputKey": key, "OutputValue": value}
                            for key, value in outputs.items()
                        ],
                    }
                ]
            },
            {"StackName": f"{service}-{STAGE}"},
        )
