"""Builders of Lambda event payloads shaped exactly like the ones AWS delivers.

Tests that hand-type event dicts drift from reality (a missing `eventID`, a sequence number that
sorts wrongly as a string); these builders start from a real payload instead. Each one loads a
sample once, deep-copies it and fills in only what the caller cares about.

The samples under `shop_testkit/samples/` are trimmed copies from the event catalogue of AWS Lambda
Powertools for Python (github.com/aws-powertools/powertools-lambda-python, `tests/events/`),
licensed MIT-0.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel
from shop_streams import TTL_USER_IDENTITY

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeSerializer

type Payload = bytes | str | BaseModel
type StreamEventName = Literal["INSERT", "MODIFY", "REMOVE"]

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "eu-west-1"

# A Kinesis sequence number is a 56-digit decimal; a fixed prefix and a zero-padded counter keep
# every one the same length, so comparing them as strings agrees with comparing them as numbers.
_KINESIS_SEQUENCE_PREFIX = "49590338271490256608559692"
_KINESIS_COUNTER_DIGITS = 56 - len(_KINESIS_SEQUENCE_PREFIX)
# DynamoDB stream sequence numbers look like "4421584500000000017450439091" (28 digits).
_DYNAMODB_SEQUENCE_PREFIX = "44215845"
_DYNAMODB_COUNTER_DIGITS = 28 - len(_DYNAMODB_SEQUENCE_PREFIX)
# Stream records are unique and ordered across the whole test session, as on a real stream.
_dynamodb_sequence = itertools.count(1)

_HTTP_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@cache
def _sample(name: str) -> dict[str, Any]:
    text = resources.files("shop_testkit").joinpath("samples", name).read_text(encoding="utf-8")
    sample: dict[str, Any] = json.loads(text)
    return sample


def _fresh(name: str) -> dict[str, Any]:
    """A copy of a sample the caller may change: the cached one is shared by every builder call."""
    return copy.deepcopy(_sample(name))


def _serialize(payload: Payload) -> bytes:
    if isinstance(payload, BaseModel):
        return payload.model_dump_json(exclude_none=True, by_alias=True).encode()
    if isinstance(payload, str):
        return payload.encode()
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    raise TypeError(f"a payload is bytes, str or a pydantic model, not {type(payload).__name__}")


def _partition_key_of(payload: Payload) -> str | None:
    key = getattr(payload, "partition_key", None)
    return key if isinstance(key, str) and key else None


# --- Kinesis ----------------------------------------------------------------------------------


def _kinesis_sequence_number(n: int) -> str:
    """The `n`th sequence number of a shard, as a real-looking, fixed-width decimal string."""
    if not 0 <= n < 10**_KINESIS_COUNTER_DIGITS:
        raise ValueError(f"a sequence counter is between 0 and 10**{_KINESIS_COUNTER_DIGITS}")
    return f"{_KINESIS_SEQUENCE_PREFIX}{n:0{_KINESIS_COUNTER_DIGITS}d}"


def kinesis_event(
    *payloads: Payload,
    stream_name: str = "shop-events",
    region: str = DEFAULT_REGION,
    shard_id: str = "shardId-000000000000",
    first_sequence: int = 1,
    partition_key: str | None = None,
) -> dict[str, Any]:
    """A Kinesis Data Streams batch from one shard: one record per payload, in order.

    A record's partition key is `partition_key`, else the payload's own `partition_key` (a domain
    event's), else "pk".
    """
    event = _fresh("kinesisStreamEvent.json")
    (template,) = event["Records"]
    arrival = round(time.time(), 3)
    records = []
    for offset, payload in enumerate(payloads):
        sequence = _kinesis_sequence_number(first_sequence + offset)
        record = copy.deepcopy(template)
        record["kinesis"].update(
            partitionKey=partition_key or _partition_key_of(payload) or "pk",
            sequenceNumber=sequence,
            data=base64.b64encode(_serialize(payload)).decode("ascii"),
            approximateArrivalTimestamp=round(arrival + offset / 1000, 3),
        )
        record.update(
            eventID=f"{shard_id}:{sequence}",
            invokeIdentityArn=f"arn:aws:iam::{ACCOUNT_ID}:role/lambda-role",
            awsRegion=region,
            eventSourceARN=f"arn:aws:kinesis:{region}:{ACCOUNT_ID}:stream/{stream_name}",
        )
        records.append(record)
    event["Records"] = records
    return event


# --- SQS --------------------------------------------------------------------------------------


def sqs_event(
    *bodies: Payload, queue_name: str = "shop-queue", region: str = DEFAULT_REGION
) -> dict[str, Any]:
    """An SQS batch, one message per body, each received for the first time."""
    event = _fresh("sqsEvent.json")
    (template,) = event["Records"]
    sent = int(time.time() * 1000)
    records = []
    for offset, payload in enumerate(bodies):
        body = _serialize(payload).decode("utf-8")  # an SQS body is text: bytes must be UTF-8
        record = copy.deepcopy(template)
        record["attributes"].update(
            ApproximateReceiveCount="1",
            SentTimestamp=str(sent + offset),
            ApproximateFirstReceiveTimestamp=str(sent + offset + 2),
        )
        record.update(
            messageId=str(uuid.uuid4()),
            receiptHandle="AQEB" + base64.b64encode(secrets.token_bytes(48)).decode("ascii"),
            body=body,
            messageAttributes={},
            md5OfBody=hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
            awsRegion=region,
            eventSourceARN=f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue_name}",
        )
        records.append(record)
    event["Records"] = records
    return event


# --- EventBridge ------------------------------------------------------------------------------


def eventbridge_event(
    detail: BaseModel | Mapping[str, Any],
    *,
    source: str | None = None,
    detail_type: str | None = None,
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """The EventBridge event a rule delivers to its Lambda (or, as the body, SQS) target.

    `detail_type` defaults to the detail's `type` and `source` to its `tags.source`, which is how
    the shop's publisher fills `DetailType` and `Source`.
    """
    if isinstance(detail, BaseModel):
        body: dict[str, Any] = json.loads(detail.model_dump_json(exclude_none=True, by_alias=True))
    else:
        body = json.loads(json.dumps(dict(detail)))  # what survives the trip as JSON, copied
    tags = body.get("tags")
    source = source or (tags.get("source") if isinstance(tags, dict) else None)
    detail_type = detail_type or body.get("type")
    if not isinstance(source, str) or not source:
        raise ValueError("the detail has no tags.source: pass source=")
    if not isinstance(detail_type, str) or not detail_type:
        raise ValueError("the detail has no type: pass detail_type=")
    event = _fresh("eventBridgeEvent.json")
    event.update(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": ACCOUNT_ID,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [],
            "detail": body,
        }
    )
    return event


# --- DynamoDB streams -------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamChange:
    """One item-level change, with keys and images as plain Python values."""

    event_name: StreamEventName
    keys: Mapping[str, Any]
    new_image: Mapping[str, Any] | None = None
    old_image: Mapping[str, Any] | None = None
    expired_by_ttl: bool = False

    def __post_init__(self) -> None:
        # Fail where the change is made, not in a handler fed an impossible record.
        needs_new = self.event_name in ("INSERT", "MODIFY")
        needs_old = self.event_name in ("MODIFY", "REMOVE")
        if (self.new_image is not None) != needs_new or (self.old_image is not None) != needs_old:
            raise ValueError(f"a {self.event_name} has exactly the images it implies")
        if self.expired_by_ttl and self.event_name != "REMOVE":
            raise ValueError("only a REMOVE can be made by TTL expiry")


def _keys_of(image: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    if isinstance(keys, str):
        raise TypeError("keys is a sequence of attribute names, e.g. ('pk',)")
    missing = [key for key in keys if key not in image]
    if missing:
        raise ValueError(f"the image lacks key attributes {missing}: pass keys=")
    return {key: image[key] for key in keys}


def insert(new: Mapping[str, Any], *, keys: Sequence[str] = ("pk", "sk")) -> StreamChange:
    """An item written where there was none."""
    return StreamChange("INSERT", _keys_of(new, keys), new_image=dict(new))


def modify(
    old: Mapping[str, Any], new: Mapping[str, Any], *, keys: Sequence[str] = ("pk", "sk")
) -> StreamChange:
    """An item overwritten or updated; both images have the same key."""
    item_keys = _keys_of(new, keys)
    if _keys_of(old, keys) != item_keys:
        raise ValueError("a MODIFY keeps the item's key: old and new keys differ")
    return StreamChange("MODIFY", item_keys, new_image=dict(new), old_image=dict(old))


def remove(
    old: Mapping[str, Any], *, keys: Sequence[str] = ("pk", "sk"), expired_by_ttl: bool = False
) -> StreamChange:
    """An item deleted, by a caller or (`expired_by_ttl`) by DynamoDB's TTL sweeper."""
    return StreamChange(
        "REMOVE", _keys_of(old, keys), old_image=dict(old), expired_by_ttl=expired_by_ttl
    )


@cache
def _serializer() -> TypeSerializer:
    """boto3's own DynamoDB JSON writer, writing binary as a Lambda event carries it (base64
    text), and refusing what DynamoDB refuses: empty sets, floats (use `Decimal` or `int`)."""
    from boto3.dynamodb.types import TypeSerializer

    class LambdaEventSerializer(TypeSerializer):
        # boto3 keeps binary as bytes (botocore encodes it on the way out); a Lambda event's
        # JSON holds it as base64 text. Overrides boto3's writer of B, which BS uses too.
        def _serialize_b(self, value: Any) -> str:
            return base64.b64encode(bytes(value)).decode("ascii")

    return LambdaEventSerializer()


def to_dynamodb(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB JSON attribute value (`{"S": "x"}`, `{"N": "1"}`, ...) as a
    DynamoDB stream Lambda event carries it."""
    if isinstance(value, Set) and not value:
        raise ValueError("DynamoDB has no empty sets")  # boto3 would write an invalid {"NS": []}
    return dict(_serializer().serialize(value))


def _image(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: to_dynamodb(value) for name, value in image.items()}


def _dynamodb_sequence_number(n: int) -> str:
    """The `n`th stream sequence number, fixed-width so string order is numeric order."""
    if not 0 <= n < 10**_DYNAMODB_COUNTER_DIGITS:
        raise ValueError(f"a sequence counter is between 0 and 10**{_DYNAMODB_COUNTER_DIGITS}")
    return f"{_DYNAMODB_SEQUENCE_PREFIX}{n:0{_DYNAMODB_COUNTER_DIGITS}d}"


def dynamodb_stream_event(
    *changes: StreamChange, table_name: str = "shop-table", region: str = DEFAULT_REGION
) -> dict[str, Any]:
    """A DynamoDB stream batch (view type NEW_AND_OLD_IMAGES), one record per change, in order.

    Sequence numbers increase across every event built in the process, as on a real stream.
    `SizeBytes` approximates the record's size from its keys and images.
    """
    event = _fresh("dynamoStreamEvent.json")
    (template,) = event["Records"]
    created = float(int(time.time()))
    arn = (
        f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table_name}/stream/2024-01-01T00:00:00.000"
    )
    records = []
    for change in changes:
        stream: dict[str, Any] = {"Keys": _image(change.keys)}
        if change.new_image is not None:
            stream["NewImage"] = _image(change.new_image)
        if change.old_image is not None:
            stream["OldImage"] = _image(change.old_image)
        size = len(json.dumps(stream, separators=(",", ":")).encode())
        record = copy.deepcopy(template)
        record["dynamodb"] = {
            "ApproximateCreationDateTime": created,
            **stream,
            "SequenceNumber": _dynamodb_sequence_number(next(_dynamodb_sequence)),
            "SizeBytes": size,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        record.update(
            eventID=uuid.uuid4().hex,
            eventVersion="1.1",
            eventName=change.event_name,
            awsRegion=region,
            eventSourceARN=arn,
        )
        if change.expired_by_ttl:
            record["userIdentity"] = dict(TTL_USER_IDENTITY)
        records.append(record)
    event["Records"] = records
    return event


# --- API Gateway HTTP API ---------------------------------------------------------------------


def _request_time(now: datetime) -> str:
    # API Gateway's CLF time; the month is spelt out here so the locale cannot change it.
    return f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000"


def http_api_event(
    method: str,
    path: str,
    *,
    body: str | bytes | Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    route_key: str | None = None,
    jwt_claims: Mapping[str, Any] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """An API Gateway HTTP API request, payload format 2.0.

    As API Gateway does: header names are lower-cased, a `cookie` header moves to `cookies`,
    a named stage prefixes `rawPath`, a Mapping body is sent as JSON and a bytes body as base64.
    JWT claims are passed through as given (API Gateway itself delivers them as strings); the
    token's `scope` claim, if any, becomes `scopes`.
    """
    method = method.upper()
    if method not in _HTTP_METHODS:
        raise ValueError(f"HTTP APIs do not route {method!r}")
    if not path.startswith("/"):
        raise ValueError(f"a path starts with '/', not {path!r}")

    encoded: bytes | None
    content_type: str | None = None
    is_base64 = False
    if body is None:
        text, encoded = None, None
    elif isinstance(body, bytes | bytearray):
        encoded, is_base64 = bytes(body), True
        text, content_type = base64.b64encode(encoded).decode(), "application/octet-stream"
    elif isinstance(body, str):
        text, encoded = body, body.encode()
    else:
        text = json.dumps(dict(body))
        encoded, content_type = text.encode(), "application/json"

    now = datetime.now(UTC)
    event = _fresh("apiGatewayProxyV2Event.json")
    context = event["requestContext"]
    api_id = "a1b2c3d4e5"
    domain = f"{api_id}.execute-api.{DEFAULT_REGION}.amazonaws.com"
    source_ip = "198.51.100.7"
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    route = route_key or f"{method} {path}"

    all_headers = {
        "accept": "*/*",
        "host": domain,
        "user-agent": "shop-testkit",
        "x-amzn-trace-id": f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if encoded is not None:
        all_headers["content-length"] = str(len(encoded))
    if content_type is not None:
        all_headers["content-type"] = content_type
    all_headers.update({name.lower(): value for name, value in (headers or {}).items()})
    cookie = all_headers.pop("cookie", None)

    event.update(
        version="2.0",
        routeKey=route,
        rawPath=raw_path,
        rawQueryString=urlencode(dict(query or {})),
        headers=all_headers,
        isBase64Encoded=is_base64,
    )
    for key in ("queryStringParameters", "body"):
        event.pop(key, None)
    if cookie:
        event["cookies"] = [part.strip() for part in cookie.split(";") if part.strip()]
    if query:
        event["queryStringParameters"] = dict(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if text is not None:
        event["body"] = text

    context.update(
        accountId=ACCOUNT_ID,
        apiId=api_id,
        domainName=domain,
        domainPrefix=api_id,
        requestId=base64.b64encode(secrets.token_bytes(10)).decode("ascii"),
        routeKey=route,
        stage=stage,
        time=_request_time(now),
        timeEpoch=int(now.timestamp() * 1000),
    )
    context["http"].update(
        method=method,
        path=raw_path,
        protocol="HTTP/1.1",
        sourceIp=source_ip,
        userAgent=all_headers["user-agent"],
    )
    if jwt_claims is not None:
        scope = jwt_claims.get("scope")
        context["authorizer"] = {
            "jwt": {
                "claims": dict(jwt_claims),
                "scopes": scope.split() if isinstance(scope, str) else None,
            }
        }
    return event
