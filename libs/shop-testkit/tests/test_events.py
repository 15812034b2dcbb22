"""The built events are what AWS delivers: Powertools' models and data classes read them."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEventV2,
    DynamoDBStreamEvent,
    EventBridgeEvent,
    KinesisStreamEvent,
    SQSEvent,
)
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    DynamoDBStreamModel,
    EventBridgeModel,
    KinesisDataStreamModel,
    SqsModel,
)
from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from shop_testkit import (
    StreamChange,
    dynamodb_stream_event,
    eventbridge_event,
    http_api_event,
    insert,
    kinesis_event,
    modify,
    remove,
    sqs_event,
    to_dynamodb,
)
from shop_testkit.context import LambdaContext
from shop_testkit.examples import order_placed


class Note(BaseModel):
    """A wire model with a camelCase alias and an optional field, to see how payloads serialize."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True)

    order_id: str
    comment: str | None = None


# --- Kinesis ----------------------------------------------------------------------------------


def test_kinesis_records_carry_each_payload_base64_encoded() -> None:
    # Given a payload of each kind
    event_model = order_placed("order-7")
    payloads: list[bytes | str | BaseModel] = [b"\x00raw", "text", event_model]

    # When they are built into a Kinesis event
    event = kinesis_event(*payloads)

    # Then Powertools decodes each record's data back to the serialized payload, in order
    parsed = KinesisDataStreamModel.model_validate(event)
    assert [record.kinesis.data for record in parsed.Records] == [
        b"\x00raw",
        b"text",
        event_model.model_dump_json(exclude_none=True, by_alias=True).encode(),
    ]
    assert list(KinesisStreamEvent(event).records)[1].kinesis.data_as_text() == "text"


def test_kinesis_model_payload_is_serialized_by_alias_without_nones() -> None:
    # Given a model with an aliased field and an unset optional one
    note = Note(order_id="order-1")

    # When it is a Kinesis payload
    event = kinesis_event(note)

    # Then the record holds camelCase JSON and no null fields
    data = base64.b64decode(event["Records"][0]["kinesis"]["data"])
    assert json.loads(data) == {"orderId": "order-1"}


def test_kinesis_sequence_numbers_increase_as_numbers_and_as_strings() -> None:
    # Given a batch whose sequence counter crosses a power of ten
    # When it is built
    event = kinesis_event("a", "b", "c", first_sequence=99, shard_id="shardId-000000000003")

    # Then sequence numbers are real-sized, strictly increasing, and sort the same as strings
    sequences = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    assert all(len(sequence) == 56 and sequence.isdigit() for sequence in sequences)
    assert [int(s) for s in sequences] == sorted({int(s) for s in sequences})
    assert int(sequences[1]) - int(sequences[0]) == 1
    assert sorted(sequences) == sequences
    assert [record["eventID"] for record in event["Records"]] == [
        f"shardId-000000000003:{sequence}" for sequence in sequences
    ]


def test_kinesis_partition_key_prefers_the_argument_then_the_payloads_own() -> None:
    # Given a domain event (which has a partition key) and plain text (which has none)
    domain_event = order_placed("order-42")

    # When both are built without and with an explicit partition key
    implicit = kinesis_event(domain_event, "text")
    explicit = kinesis_event(domain_event, partition_key="forced")

    # Then the key is the argument, else the event's own, else "pk"
    assert [r["kinesis"]["partitionKey"] for r in implicit["Records"]] == ["order-42", "pk"]
    assert explicit["Records"][0]["kinesis"]["partitionKey"] == "forced"


def test_kinesis_records_name_their_stream_and_region() -> None:
    # When a record is built for a named stream in a region
    event = kinesis_event("x", stream_name="orders", region="us-east-1")

    # Then its source ARN and region say so
    record = KinesisDataStreamModel.model_validate(event).Records[0]
    assert record.eventSourceARN == "arn:aws:kinesis:us-east-1:123456789012:stream/orders"
    assert record.awsRegion == "us-east-1"


def test_kinesis_rejects_a_negative_first_sequence() -> None:
    # When the first sequence number is negative
    # Then the builder refuses rather than emit a malformed number
    with pytest.raises(ValueError, match="sequence"):
        kinesis_event("x", first_sequence=-1)


# --- SQS --------------------------------------------------------------------------------------


def test_sqs_messages_have_correct_md5_unique_ids_and_a_first_receive() -> None:
    # Given bodies of each kind
    # When they are built into an SQS event
    event = sqs_event("plain", "ünïcode".encode(), order_placed(), queue_name="orders-queue")

    # Then Powertools accepts it and each message looks freshly received
    parsed = SqsModel.model_validate(event)
    assert len(parsed.Records) == 3
    for record in parsed.Records:
        assert isinstance(record.body, str)
        assert record.md5OfBody == hashlib.md5(record.body.encode()).hexdigest()
        assert record.attributes.ApproximateReceiveCount == "1"
        assert record.eventSourceARN == "arn:aws:sqs:eu-west-1:123456789012:orders-queue"
        assert record.receiptHandle
    assert len({record.messageId for record in parsed.Records}) == 3
    assert list(SQSEvent(event).records)[1].body == "ünïcode"


def test_sqs_model_body_is_serialized_by_alias_without_nones() -> None:
    # Given a model whose optional field is unset
    # When it is an SQS body
    event = sqs_event(Note(order_id="order-1"))

    # Then the body is camelCase JSON without nulls
    assert next(SQSEvent(event).records).json_body == {"orderId": "order-1"}


def test_sqs_rejects_a_body_that_is_not_text() -> None:
    # When a body is bytes that are not UTF-8
    # Then it is refused, since an SQS message body is text
    with pytest.raises(UnicodeDecodeError):
        sqs_event(b"\xff\xfe")


# --- EventBridge ------------------------------------------------------------------------------


def test_eventbridge_event_takes_type_and_source_from_a_domain_event() -> None:
    # Given a domain event, as the shop's publisher puts it on the bus
    domain_event = order_placed("order-3", source="orders")

    # When it is built into the event a rule target receives
    event = eventbridge_event(domain_event)

    # Then detail-type and source are the event's type and source, and detail is its wire JSON
    parsed = EventBridgeModel.model_validate(event)
    assert parsed.detail_type == "order-placed"
    assert parsed.source == "orders"
    assert parsed.version == "0"
    assert parsed.account == "123456789012"
    assert parsed.resources == []
    assert parsed.detail == json.loads(domain_event.to_json())
    assert event["detail"]["partitionKey"] == "order-3"
    assert event["time"].endswith("Z")
    assert datetime.fromisoformat(event["time"]).utcoffset() is not None


def test_eventbridge_event_from_a_mapping_with_explicit_source_and_type() -> None:
    # Given a plain detail without type or tags
    # When source and detail type are given
    event = eventbridge_event(
        {"amount": 3}, source="payments", detail_type="payment-taken", region="us-west-2"
    )

    # Then the data class reads them where AWS puts them
    data = EventBridgeEvent(event)
    assert (data.source, data.detail_type, data.region) == (
        "payments",
        "payment-taken",
        "us-west-2",
    )
    assert data.detail == {"amount": 3}


@pytest.mark.parametrize(
    ("detail", "message"),
    [({"type": "x-happened"}, "source"), ({"tags": {"source": "svc"}}, "type")],
)
def test_eventbridge_event_needs_a_source_and_a_detail_type(
    detail: dict[str, Any], message: str
) -> None:
    # When the detail cannot supply what was not given
    # Then the builder says which argument is missing
    with pytest.raises(ValueError, match=message):
        eventbridge_event(detail)


def test_eventbridge_ids_are_unique() -> None:
    # When the same detail is built twice
    first, second = eventbridge_event(order_placed()), eventbridge_event(order_placed())

    # Then each delivery has its own id, as each PutEvents entry does
    assert first["id"] != second["id"]


# --- DynamoDB streams -------------------------------------------------------------------------

ITEM: dict[str, Any] = {
    "pk": "ORDER#1",
    "sk": "META",
    "status": "placed",
    "paid": True,
    "quantity": 3,
    "price": Decimal("19.99"),
    "ratio": Decimal("0.5"),
    "note": None,
    "blob": b"\x00\x01",
    "address": {"city": "Lyon", "lines": ["1 rue", 2]},
    "history": ["placed", {"at": 1}],
    "tags": {"gift", "express"},
    "sizes": {1, 2, Decimal("2.5")},
    "chunks": {b"a", b"b"},
}


def _boto_shaped(value: dict[str, Any]) -> Any:
    """A Lambda-delivered attribute value as boto3 holds it: binaries as bytes, not base64."""
    ((tag, inner),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(inner)}
    if tag == "BS":
        return {"BS": [base64.b64decode(item) for item in inner]}
    if tag == "M":
        return {"M": {name: _boto_shaped(item) for name, item in inner.items()}}
    if tag == "L":
        return {"L": [_boto_shaped(item) for item in inner]}
    return value


def test_dynamodb_images_round_trip_to_the_original_values() -> None:
    # Given an item holding every DynamoDB type
    # When its insertion is built into a stream event
    event = dynamodb_stream_event(insert(ITEM))

    # Then boto3 deserializes the image back to the original values, and the key to the item's
    stream = event["Records"][0]["dynamodb"]
    deserializer = TypeDeserializer()
    image = {
        name: deserializer.deserialize(_boto_shaped(value))
        for name, value in stream["NewImage"].items()
    }
    keys = {name: deserializer.deserialize(value) for name, value in stream["Keys"].items()}
    assert stream["NewImage"]["blob"] == {"B": "AAE="}
    assert image == ITEM
    assert keys == {"pk": "ORDER#1", "sk": "META"}
    assert stream["NewImage"]["quantity"] == {"N": "3"}
    assert stream["NewImage"]["paid"] == {"BOOL": True}
    assert stream["NewImage"]["note"] == {"NULL": True}


def test_dynamodb_changes_carry_the_images_their_kind_implies() -> None:
    # Given an insert, a modify and a remove of one item
    new = {**ITEM, "status": "paid"}

    # When they are built into one event
    event = dynamodb_stream_event(
        insert(ITEM), modify(ITEM, new), remove(new), table_name="orders", region="us-east-1"
    )

    # Then Powertools parses each with exactly the images it should have
    records = DynamoDBStreamModel.model_validate(event).Records
    assert [r.eventName for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert [(r.dynamodb.NewImage is None, r.dynamodb.OldImage is None) for r in records] == [
        (False, True),
        (False, False),
        (True, False),
    ]
    assert all(r.dynamodb.StreamViewType == "NEW_AND_OLD_IMAGES" for r in records)
    assert all(r.dynamodb.SizeBytes > 0 for r in records)
    assert all(r.dynamodb.ApproximateCreationDateTime is not None for r in records)
    assert all(r.userIdentity is None for r in records)
    assert records[0].eventSourceARN.startswith(
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/"
    )
    modified = list(DynamoDBStreamEvent(event).records)[1].dynamodb
    assert modified is not None
    assert modified.new_image["status"] == "paid"
    assert modified.old_image["status"] == "placed"


def test_dynamodb_ttl_removal_names_the_dynamodb_service() -> None:
    # When an item's removal by TTL expiry is built
    event = dynamodb_stream_event(remove(ITEM, expired_by_ttl=True))

    # Then the record carries the identity AWS documents for TTL deletes
    record = event["Records"][0]
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    parsed = DynamoDBStreamModel.model_validate(event).Records[0]
    assert parsed.userIdentity is not None
    assert parsed.eventName == "REMOVE"


def test_dynamodb_sequence_numbers_increase_within_and_across_events() -> None:
    # When two events are built one after the other
    first = dynamodb_stream_event(insert(ITEM), modify(ITEM, ITEM))
    second = dynamodb_stream_event(remove(ITEM))

    # Then sequence numbers and event ids are unique and ordered, as strings too
    records = first["Records"] + second["Records"]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert [int(s) for s in sequences] == sorted(int(s) for s in sequences)
    assert len(set(sequences)) == 3
    assert sorted(sequences) == sequences
    assert len({r["eventID"] for r in records}) == 3


def test_dynamodb_keys_follow_the_tables_key_schema() -> None:
    # Given a table keyed by pk alone
    # When an item is inserted naming that key
    event = dynamodb_stream_event(insert({"pk": "A", "n": 1}, keys=("pk",)))

    # Then the record's keys are only that attribute
    assert event["Records"][0]["dynamodb"]["Keys"] == {"pk": {"S": "A"}}


def test_dynamodb_changes_refuse_impossible_items() -> None:
    # Then a missing key attribute, a key change, an empty set, NaN and a mismatched image fail
    with pytest.raises(ValueError, match="keys="):
        insert({"pk": "A"})
    with pytest.raises(ValueError, match="key"):
        modify({"pk": "A", "sk": "1"}, {"pk": "A", "sk": "2"})
    with pytest.raises(ValueError, match="empty"):
        to_dynamodb(set())
    with pytest.raises(TypeError, match="Use Decimal"):
        to_dynamodb(float("nan"))
    with pytest.raises(TypeError):
        to_dynamodb({"a", 1})
    with pytest.raises(ValueError, match="images"):
        StreamChange("INSERT", {"pk": "A"}, old_image={"pk": "A"})
    with pytest.raises(ValueError, match="TTL"):
        StreamChange("MODIFY", {"pk": "A"}, {"pk": "A"}, {"pk": "A"}, expired_by_ttl=True)


# --- API Gateway HTTP API ---------------------------------------------------------------------


def test_http_api_json_body_headers_and_route() -> None:
    # Given a JSON request with mixed-case headers
    # When it is built
    event = http_api_event(
        "post", "/orders", body={"sku": "SKU-1"}, headers={"X-Correlation-Id": "c-1"}
    )

    # Then Powertools accepts it and reads the body, route and lower-cased headers
    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.version == "2.0"
    assert parsed.routeKey == parsed.requestContext.routeKey == "POST /orders"
    assert parsed.requestContext.http.method == "POST"
    assert parsed.requestContext.http.userAgent
    assert parsed.isBase64Encoded is False
    data = APIGatewayProxyEventV2(event)
    assert data.json_body == {"sku": "SKU-1"}
    assert data.headers["x-correlation-id"] == "c-1"
    assert data.headers["content-type"] == "application/json"
    assert data.path == "/orders"
    assert all(name == name.lower() for name in event["headers"])


def test_http_api_bytes_body_is_base64_encoded() -> None:
    # When the body is bytes
    event = http_api_event("PUT", "/files/1", body="héllo".encode())

    # Then it travels base64-encoded and flagged, and Powertools decodes it
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == "héllo".encode()
    assert APIGatewayProxyEventV2(event).decoded_body == "héllo"


def test_http_api_get_without_body_has_no_body() -> None:
    # When a GET without body or query is built
    event = http_api_event("GET", "/health")

    # Then there is no body and an empty raw query string, as API Gateway sends
    assert "body" not in event
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event


def test_http_api_jwt_claims_land_in_the_authorizer() -> None:
    # Given the claims of a validated token with scopes
    claims = {"sub": "customer-1", "scope": "orders.read orders.write"}

    # When a request carrying them is built
    event = http_api_event("GET", "/orders", jwt_claims=claims)

    # Then Powertools reads the claims and scopes where the JWT authorizer puts them
    authorizer = APIGatewayProxyEventV2(event).request_context.authorizer
    assert authorizer.jwt_claim == claims
    assert authorizer.jwt_scopes == ["orders.read", "orders.write"]
    parsed = APIGatewayProxyEventV2Model.model_validate(event)
    assert parsed.requestContext.authorizer is not None
    assert parsed.requestContext.authorizer.jwt is not None
    assert parsed.requestContext.authorizer.jwt.claims["sub"] == "customer-1"


def test_http_api_query_path_parameters_and_cookies() -> None:
    # When a request with a query, path parameters and a cookie header is built
    event = http_api_event(
        "GET",
        "/orders/o-1",
        query={"limit": "10", "q": "a b"},
        path_parameters={"order_id": "o-1"},
        route_key="GET /orders/{order_id}",
        headers={"Cookie": "session=abc; theme=dark"},
    )

    # Then each lands where API Gateway puts it, cookies split out of the headers
    data = APIGatewayProxyEventV2(event)
    assert data.query_string_parameters == {"limit": "10", "q": "a b"}
    assert event["rawQueryString"] == "limit=10&q=a+b"
    assert data.path_parameters == {"order_id": "o-1"}
    assert data.route_key == "GET /orders/{order_id}"
    assert data.cookies == ["session=abc", "theme=dark"]
    assert "cookie" not in event["headers"]


def test_http_api_named_stage_prefixes_the_raw_path() -> None:
    # When a request reaches a named stage
    event = http_api_event("GET", "/orders", stage="prod")

    # Then rawPath has the stage prefix and Powertools strips it again
    assert event["rawPath"] == "/prod/orders"
    assert APIGatewayProxyEventV2(event).path == "/orders"


def test_http_api_event_routes_through_the_powertools_resolver() -> None:
    # Given a Powertools HTTP API app with a parameterized route
    app = APIGatewayHttpResolver()

    @app.post("/orders/<order_id>/notes")
    def add_note(order_id: str) -> dict[str, Any]:
        return {"order": order_id, "note": app.current_event.json_body["text"]}

    # When a built request is resolved
    event = http_api_event("POST", "/orders/o-9/notes", body={"text": "hi"})
    response = app.resolve(event, cast(Any, LambdaContext()))

    # Then the route matched and read the body
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"order": "o-9", "note": "hi"}


def test_http_api_rejects_unknown_methods_and_relative_paths() -> None:
    # Then what API Gateway could never send is refused
    with pytest.raises(ValueError, match="route"):
        http_api_event("FETCH", "/x")
    with pytest.raises(ValueError, match="path"):
        http_api_event("GET", "x")


def test_samples_are_not_mutated_by_builders() -> None:
    # Given one built event that a test then mutates
    first = kinesis_event("a")
    first["Records"][0]["kinesis"]["partitionKey"] = "mutated"
    first["Records"].clear()

    # When another event is built
    second = kinesis_event("b")

    # Then it is unaffected: each build starts from a fresh copy of the sample
    assert second["Records"][0]["kinesis"]["partitionKey"] == "pk"
