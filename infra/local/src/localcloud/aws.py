"""Where the local AWS API is, and clients for it."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

REGION = "eu-west-1"
# moto's default account: ARNs it generates carry it.
ACCOUNT_ID = "123456789012"
# Dummy credentials: moto accepts any, and nothing here may ever reach a real account.
CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}


@dataclass(frozen=True)
class Aws:
    """The local AWS endpoint (moto) and its region."""

    endpoint: str
    region: str = REGION

    @functools.cache  # noqa: B019 - one client per service for the endpoint's lifetime; clients are thread-safe
    def client(self, service: str) -> Any:
        # Any service by name: boto3's typed overloads know only literal names.
        make_client: Any = boto3.client
        return make_client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
            aws_access_key_id=CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=CREDENTIALS["aws_secret_access_key"],
        )

    def environment(self) -> dict[str, str]:
        """What a process needs so that boto3 in it talks to this endpoint and nothing else."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        }

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT_ID}:{resource}"
