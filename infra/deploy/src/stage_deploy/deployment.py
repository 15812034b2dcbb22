"""A stage's stacks deployed in order, or removed in the reverse one, each by its own CLI run.

The commands are the repository's own (`make/layer`, `make/serverless`), run in the stack's
folder with their output passed through, so the deployer watches osls's progress as it comes. A
failed command stops everything after it: a service deployed against a hub that failed would
import exports that do not exist."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from stage_deploy.aws import Identity, caller_identity, stack_outputs
from stage_deploy.endpoints import endpoints_path, stage_endpoints, write_endpoints
from stage_deploy.stacks import Stack

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_sts import STSClient

# The local cloud packages a placeholder layer where this names one (infra/local); a deploy must
# upload the real one, so it never passes it on.
LOCAL_LAYER_VARIABLE = "SHOP_LAYER_DIR"


class StageError(Exception):
    """A stack failed; the message is one line naming it, the step and what was left undone."""


class PointedElsewhere(Exception):
    """The environment points boto3 at another endpoint than AWS (a local cloud's)."""


@dataclass(frozen=True)
class Tools:
    """The repository's commands a deploy runs: osls's wrapper and the layer builder."""

    serverless: Path
    layer: Path


class Deployment:
    """One stage in one region of the account the credentials belong to."""

    def __init__(
        self,
        *,
        stage: str,
        region: str,
        stacks: Sequence[Stack],
        tools: Tools,
        state_dir: Path,
        report: Callable[[str], None],
        params: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        sts: STSClient | None = None,
        cloudformation: CloudFormationClient | None = None,
    ) -> None:
        self.stage = stage
        self.region = region
        self.stacks = list(stacks)
        self.tools = tools
        self.state_dir = state_dir
        self.params = dict(params or {})
        self.report = report
        environment = dict(os.environ if environment is None else environment)
        environment.pop(LOCAL_LAYER_VARIABLE, None)
        self.environment = environment
        self._sts = sts
        self._cloudformation = cloudformation

    @property
    def sts(self) -> STSClient:
        if self._sts is None:
            self._sts = boto3.client("sts", region_name=self.region)
        return self._sts

    @property
    def cloudformation(self) -> CloudFormationClient:
        if self._cloudformation is None:
            self._cloudformation = boto3.client("cloudformation", region_name=self.region)
        return self._cloudformation

    def check_credentials(self) -> Identity:
        """Who will deploy, before anything is: `NoCredentials` or `PointedElsewhere` if nobody
        can. osls ignores AWS_ENDPOINT_URL where boto3 honours it, so a shell left pointing at a
        local cloud would check one account and deploy to another."""
        endpoint = self.environment.get("AWS_ENDPOINT_URL")
        if endpoint:
            raise PointedElsewhere(
                f"AWS_ENDPOINT_URL is set ({endpoint}): unset it to deploy to AWS"
            )
        return caller_identity(self.sts)

    def deploy(self) -> tuple[Identity, dict[str, Any], Path]:
        """Every stack in order; then the stage's endpoints, written to its endpoints file."""
        identity = self.check_credentials()
        self.report(
            f"deploying stage {self.stage} to account {identity.account} in {self.region}"
            f" as {identity.arn}: {len(self.stacks)} stacks"
        )
        for position, stack in enumerate(self.stacks):
            started = time.monotonic()
            step = f"[{position + 1}/{len(self.stacks)}] {stack.name(self.stage)}"
            left = self.stacks[position + 1 :]
            if stack.has_layer:
                self.report(f"{step}: building its dependencies layer")
                self._run(
                    stack,
                    "its dependencies layer",
                    [str(self.tools.layer), stack.member, "build/layer"],
                    left,
                    "deployed",
                )
            self.report(f"{step}: serverless deploy")
            self._run(stack, "`serverless deploy`", self._serverless("deploy"), left, "deployed")
            self.report(f"{step}: deployed in {time.monotonic() - started:.0f} s")
        outputs = {stack.service: self._outputs(stack) for stack in self.stacks}
        endpoints = stage_endpoints(
            stage=self.stage,
            region=self.region,
            account=identity.account,
            outputs=outputs,
            stripe_publishable_key=self.environment.get("STRIPE_PUBLISHABLE_KEY") or None,
        )
        return identity, endpoints, write_endpoints(self.state_dir, self.stage, endpoints)

    def remove(self) -> Identity:
        """Every stack in the reverse order (the hub last: the services import its exports); the
        stage's endpoints file goes with the last one."""
        identity = self.check_credentials()
        self.report(
            f"removing stage {self.stage} from account {identity.account} in {self.region}:"
            f" {len(self.stacks)} stacks"
        )
        reverse = self.stacks[::-1]
        for position, stack in enumerate(reverse):
            step = f"[{position + 1}/{len(reverse)}] {stack.name(self.stage)}"
            self.report(f"{step}: serverless remove")
            self._run(
                stack,
                "`serverless remove`",
                self._serverless("remove"),
                reverse[position + 1 :],
                "removed",
            )
            self.report(f"{step}: removed")
        endpoints_path(self.state_dir, self.stage).unlink(missing_ok=True)
        return identity

    def _outputs(self, stack: Stack) -> dict[str, str]:
        try:
            return stack_outputs(self.cloudformation, stack.name(self.stage))
        except (ClientError, BotoCoreError) as error:
            raise StageError(
                f"{stack.name(self.stage)} deployed, but its outputs could not be read ({error});"
                " every stack is deployed: `make deploy` again writes the endpoints"
            ) from None

    def _serverless(self, command: str) -> list[str]:
        return [
            str(self.tools.serverless),
            command,
            "--stage",
            self.stage,
            "--region",
            self.region,
            *(f"--param={key}={value}" for key, value in self.params.items()),
        ]

    def _run(
        self, stack: Stack, what: str, argv: list[str], left: Sequence[Stack], done: str
    ) -> None:
        completed = subprocess.run(argv, cwd=stack.folder, env=self.environment, check=False)
        if completed.returncode != 0:
            undone = ", ".join(other.name(self.stage) for other in left) or "none"
            raise StageError(
                f"{stack.name(self.stage)} ({stack.folder}): {what} failed"
                f" (exit {completed.returncode}); not {done}: {undone}"
            )
