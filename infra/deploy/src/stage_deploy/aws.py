"""The two things asked of AWS directly, each through a client the caller may pass: who the
credentials are (before anything is deployed) and a deployed stack's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_sts import STSClient


class NoCredentials(Exception):
    """The caller has no AWS credentials that work; the message is one line saying what to do."""


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


def caller_identity(sts: STSClient) -> Identity:
    """Who the credentials are (STS GetCallerIdentity, which needs no permission), or
    `NoCredentials`."""
    try:
        answer = sts.get_caller_identity()
    except NoCredentialsError:
        raise NoCredentials(
            "no AWS credentials found: set AWS_PROFILE (or sign in with `aws sso login`,"
            " or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) for your sandbox account"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "an error")
        raise NoCredentials(f"AWS refused the credentials ({code}): renew them and retry") from None
    except BotoCoreError as error:
        raise NoCredentials(f"the credentials could not be checked: {error}") from None
    return Identity(account=answer["Account"], arn=answer["Arn"])


def stack_outputs(cloudformation: CloudFormationClient, stack_name: str) -> dict[str, str]:
    """A deployed stack's outputs, by key."""
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {
        output["OutputKey"]: output["OutputValue"]
        for output in stack.get("Outputs", [])
        if "OutputKey" in output and "OutputValue" in output
    }
