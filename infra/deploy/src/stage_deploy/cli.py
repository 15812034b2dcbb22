"""`stage-deploy deploy|remove --stage <name> [--region R] [--param key=value]... STACK...`, which
`make deploy` and `make remove` run with the stacks in deploy order (the root Makefile's STACKS)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from stage_deploy.aws import NoCredentials
from stage_deploy.deployment import Deployment, PointedElsewhere, StageError, Tools
from stage_deploy.stacks import Stack, StackError
from stage_deploy.steps import remaining_steps

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_sts import STSClient

# The templates' own default region (`region: ${opt:region, 'eu-west-1'}`), when neither the
# command line nor the AWS configuration names one.
DEFAULT_REGION = "eu-west-1"
# The local cloud's stage (`make up`); deploying it to AWS would collide with nothing but mislead.
LOCAL_STAGE = "local"
PAST = {"deploy": "deployed", "remove": "removed"}
# A stage is part of every resource's name: the event lake's bucket (lowercase, at most 63
# characters with the region) and the functions (at most 64 with the longest service's) bound it.
STAGE_NAME = re.compile(r"[a-z][a-z0-9-]{0,15}")


def usage(command: str) -> str:
    return (
        f'usage: make {command} STAGE=<name> [REGION=<region>] [PARAMS="key=value ..."]'
        " (a stage of your own AWS account: a lowercase letter, then up to 15 lowercase letters,"
        f" digits or hyphens; `{LOCAL_STAGE}` is the local cloud's: make up)"
    )


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(prog="stage-deploy", description=__doc__)
    parsed.add_argument("command", choices=["deploy", "remove"])
    parsed.add_argument("stacks", nargs="+", type=Path, help="stack folders, in deploy order")
    parsed.add_argument("--stage", default="")
    parsed.add_argument("--region", default="", help="default: the AWS configuration's")
    parsed.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="to every stack"
    )
    parsed.add_argument("--state-dir", type=Path, default=Path(".deploy"))
    parsed.add_argument("--serverless", type=Path, default=Path("make/serverless"))
    parsed.add_argument("--layer", type=Path, default=Path("make/layer"))
    return parsed


def main(
    argv: Sequence[str] | None = None,
    *,
    environment: Mapping[str, str] | None = None,
    sts: STSClient | None = None,
    cloudformation: CloudFormationClient | None = None,
) -> int:
    """The command line; the clients and the environment are the tests' to give."""
    arguments = parser().parse_args(argv)
    command: str = arguments.command
    malformed = [
        param for param in arguments.param if not param.partition("=")[0] or "=" not in param
    ]
    stage_name = STAGE_NAME.fullmatch(arguments.stage)
    if not stage_name or arguments.stage == LOCAL_STAGE or malformed:
        print(usage(command), file=sys.stderr)
        return 2
    try:
        stacks = [Stack.read(folder) for folder in arguments.stacks]
    except StackError as error:
        print(f"{command}: {error}", file=sys.stderr)
        return 2
    params = dict(param.split("=", 1) for param in arguments.param)
    region = arguments.region or boto3.session.Session().region_name or DEFAULT_REGION
    stage = Deployment(
        stage=arguments.stage,
        region=region,
        stacks=stacks,
        tools=Tools(serverless=arguments.serverless.resolve(), layer=arguments.layer.resolve()),
        state_dir=arguments.state_dir,
        params=params,
        report=lambda line: print(f"{command}: {line}", flush=True),
        environment=environment,
        sts=sts,
        cloudformation=cloudformation,
    )
    try:
        if command == "remove":
            stage.remove()
            print(
                f"remove: stage {arguments.stage} removed (docs/deploy.md says what stays behind)"
            )
            return 0
        _, endpoints, path = stage.deploy()
    except (NoCredentials, PointedElsewhere) as error:
        print(f"{command}: {error}; nothing was {PAST[command]}", file=sys.stderr)
        return 1
    except StageError as error:
        print(f"{command}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(endpoints, indent=2))
    print(f"deploy: endpoints written to {path} (SHOP_ENDPOINTS={path} for the e2e tests)")
    print("deploy: left to do by hand (docs/deploy.md):")
    for number, step in enumerate(remaining_steps(arguments.stage, region, endpoints, params), 1):
        print(f"  {number}. {step}")
    return 0
