"""Where the local AWS API is, and clients for it."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.parsers import ResponseParser, ResponseParserFactory

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
        return make_client(service, **self._client_arguments())

    @functools.cache  # noqa: B019 - as `client`
    def records_client(self, service: str) -> Any:
        """A client of a stream service (Kinesis, DynamoDB Streams) whose GetRecords answers with
        the records as the wire carries them: base64 data, epoch-second times, DynamoDB's typed
        attribute values. That is the shape a Lambda event carries them in, so an event source
        passes them on as they came instead of having botocore parse them into bytes and
        datetimes and turning them back (most of what reading a table's stream cost)."""
        session = botocore.session.get_session()
        session.register_component("response_parser_factory", _RecordsAsSent())
        return boto3.Session(botocore_session=session).client(
            service,  # type: ignore[call-overload]
            **self._client_arguments(),
        )

    def _client_arguments(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint,
            "region_name": self.region,
            "config": Config(retries={"mode": "standard", "max_attempts": 3}),
            "aws_access_key_id": CREDENTIALS["aws_access_key_id"],
            "aws_secret_access_key": CREDENTIALS["aws_secret_access_key"],
        }

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


class _RecordsAsSent(ResponseParserFactory):
    """botocore's parsers, but a GetRecords answer that succeeded is the JSON as sent."""

    def create_parser(self, protocol_name: str) -> Any:
        return _RecordsAsSentParser(super().create_parser(protocol_name))


class _RecordsAsSentParser:
    def __init__(self, parser: ResponseParser) -> None:
        self._parser = parser

    def parse(self, response: dict[str, Any], shape: Any) -> dict[str, Any]:
        if shape is None or shape.name != "GetRecordsOutput" or response["status_code"] >= 300:
            parsed: dict[str, Any] = self._parser.parse(response, shape)
            return parsed
        answer: dict[str, Any] = json.loads(response["body"])
        answer["ResponseMetadata"] = {
            "HTTPStatusCode": response["status_code"],
            "HTTPHeaders": dict(response["headers"]),
        }
        return answer
