"""The fixes applied to moto's process make it faster without changing what it answers."""

import http.client
import importlib
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import flask
import pytest
import werkzeug.test
from localcloud.aws import Aws
from localcloud.moto import process as moto_process
from localcloud.moto.process import _record_delimiter, apply_fixes
from localcloud.moto.server import MotoServer
from moto import mock_aws


@pytest.fixture(scope="module", autouse=True)
def fixed_moto() -> None:
    apply_fixes()


@pytest.fixture
def aws_in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def table_with_stream(aws: Aws, *, range_key: bool = False) -> str:
    """A table "t" keyed on `pk` (and `sk`), with a stream of both images; the stream's ARN."""
    keys = ["pk", "sk"] if range_key else ["pk"]
    table = aws.client("dynamodb").create_table(
        TableName="t",
        KeySchema=[
            {"AttributeName": name, "KeyType": kind}
            for name, kind in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name in keys],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    arn: str = table["LatestStreamArn"]
    return arn


def first_iterator(aws: Aws, stream_arn: str) -> str:
    """An iterator at the start of the stream's one shard."""
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator: str = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return iterator


def records_from(aws: Aws, iterator: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = aws.client("dynamodbstreams").get_records(
        ShardIterator=iterator
    )["Records"]
    return records


def test_queue_attributes_still_count_messages(aws_in_process: None) -> None:
    # Given a queue with three messages, one of them received (in flight) and one delayed
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    sqs.send_message(QueueUrl=url, MessageBody="c", DelaySeconds=60)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)

    # When its attributes are read (not while sending)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    # Then the approximate counts are all there and right
    assert attributes["ApproximateNumberOfMessages"] == "1"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"


def test_sending_still_honours_queue_settings(aws_in_process: None) -> None:
    # Content-based deduplication is read while sending: a duplicate body is dropped
    sqs = boto3.client("sqs")
    url = sqs.create_queue(
        QueueName="q.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert [m["Body"] for m in messages] == ["same"]


def test_received_messages_are_within_retention(aws_in_process: None) -> None:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="fresh")

    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url)["Messages"]] == ["fresh"]


def test_rule_delivery_to_a_queue_is_unchanged(aws_in_process: None) -> None:
    # The JSONPath parses cached by the fix fill the default target input as before
    events, sqs = boto3.client("events"), boto3.client("sqs")
    url = sqs.create_queue(QueueName="target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["s"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": arn}])
    for detail in ({"n": 1}, {"n": 2}):
        events.put_events(
            Entries=[{"Source": "s", "DetailType": "d", "Detail": json.dumps(detail)}]
        )

    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]

    assert sorted(body["detail"]["n"] for body in bodies) == [1, 2]
    assert {body["source"] for body in bodies} == {"s"}


def test_a_handlers_actions_are_listed_once_and_the_same() -> None:
    import inspect

    from moto.core import responses
    from moto.sqs.responses import SQSResponse

    listed = responses.method_names_from_class(SQSResponse)

    assert listed is responses.method_names_from_class(SQSResponse)
    assert listed == [name for name, _ in inspect.getmembers(SQSResponse, inspect.isfunction)]
    assert "receive_message" in listed


def test_the_module_list_is_read_once() -> None:
    from moto import backends

    assert backends.list_of_moto_modules() is backends.list_of_moto_modules()
    assert "sqs" in backends.list_of_moto_modules()


@pytest.mark.parametrize(
    ("processing", "delimiter"),
    [
        ({}, b""),
        ({"Enabled": False, "Processors": [{"Type": "AppendDelimiterToRecord"}]}, b""),
        ({"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord"}]}, b"\n"),
        (
            {
                "Enabled": "true",
                "Processors": [
                    {
                        "Type": "AppendDelimiterToRecord",
                        "Parameters": [{"ParameterName": "Delimiter", "ParameterValue": "\\t"}],
                    }
                ],
            },
            b"\t",
        ),
    ],
)
def test_firehose_appends_the_configured_delimiter(
    processing: dict[str, Any], delimiter: bytes
) -> None:
    assert _record_delimiter(processing) == delimiter


def test_stream_iterators_expire_as_in_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given iterators that live no time at all
    monkeypatch.setattr(moto_process, "SHARD_ITERATOR_LIFETIME_SECONDS", -1.0)
    iterators = moto_process.ExpiringIterators()

    # When fifty are issued
    for number in range(50):
        iterators[f"arn-{number}"] = number

    # Then only the newest is kept, and it still works
    assert dict(iterators) == {"arn-49": 49}


def test_stream_iterators_within_their_lifetime_are_kept() -> None:
    iterators = moto_process.ExpiringIterators()
    for number in range(50):
        iterators[f"arn-{number}"] = number
    assert len(iterators) == 50


def test_a_stream_is_read_through_expiring_iterators(aws: Aws) -> None:
    # A table stream read from the moto server, which runs with the fixes
    stream = table_with_stream(aws)
    aws.client("dynamodb").put_item(TableName="t", Item={"pk": {"S": "a"}})

    records = records_from(aws, first_iterator(aws, stream))

    assert [record["eventName"] for record in records] == ["INSERT"]


def test_concurrent_transactions_are_serializable(aws: Aws) -> None:
    # Given counters of five units each, in moto's server, which serves requests on threads, in a
    # table of some size (moto copies all of it for a transaction, which widens any window)
    dynamodb = aws.client("dynamodb")
    dynamodb.create_table(
        TableName="counters",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for first in range(0, 2000, 25):
        dynamodb.batch_write_item(
            RequestItems={
                "counters": [
                    {"PutRequest": {"Item": {"pk": {"S": f"other-{number}"}}}}
                    for number in range(first, first + 25)
                ]
            }
        )
    racers = [
        boto3.session.Session().client(
            "dynamodb",
            endpoint_url=aws.endpoint,
            region_name=aws.region,
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        for _ in range(20)
    ]

    for race in range(2):
        counter = f"counter-{race}"
        dynamodb.put_item(TableName="counters", Item={"pk": {"S": counter}, "left": {"N": "5"}})
        start = threading.Barrier(len(racers))

        def take_one(number: int, counter: str = counter, start: Any = start) -> bool:
            take: Any = {
                "TableName": "counters",
                "Key": {"pk": {"S": counter}},
                "UpdateExpression": "SET #left = #left - :one",
                "ConditionExpression": "#left >= :one",
                "ExpressionAttributeNames": {"#left": "left"},
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
            mark: Any = {
                "TableName": "counters",
                "Item": {"pk": {"S": f"{counter}-taker-{number}"}},
            }
            client = racers[number]
            start.wait()
            try:
                client.transact_write_items(TransactItems=[{"Update": take}, {"Put": mark}])
            except client.exceptions.TransactionCanceledException:
                return False
            return True

        # When twenty transactions each take one unit at the same moment
        with ThreadPoolExecutor(max_workers=len(racers)) as pool:
            taken = sum(pool.map(take_one, range(len(racers))))

        # Then five took one, as DynamoDB's serializable transactions guarantee, none went missing
        items = dynamodb.scan(TableName="counters")["Items"]
        assert taken == 5, f"race {race}"
        assert [i["left"]["N"] for i in items if i["pk"]["S"] == counter] == ["0"]
        assert len([i for i in items if i["pk"]["S"].startswith(f"{counter}-taker-")]) == 5


def test_an_update_that_creates_an_item_is_one_insert_of_the_whole_item(aws: Aws) -> None:
    # Given a table with a stream
    dynamodb, stream = aws.client("dynamodb"), table_with_stream(aws)

    # When one update creates an item and a second one changes it
    for count in ("1", "2"):
        dynamodb.update_item(
            TableName="t",
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET #n = :n",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":n": {"N": count}},
        )

    # Then the stream has one INSERT of the whole item and one MODIFY, as DynamoDB records them
    records = records_from(aws, first_iterator(aws, stream))
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["n"]["N"]) for r in records] == [
        ("INSERT", "1"),
        ("MODIFY", "2"),
    ]
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence)


def test_a_stream_holds_committed_changes_only_whenever_its_iterator_was_issued(aws: Aws) -> None:
    # Given a table with one item, and a shard iterator issued then
    dynamodb, stream = aws.client("dynamodb"), table_with_stream(aws)
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}})
    iterator = first_iterator(aws, stream)

    # When a transaction that writes "b" is cancelled, and "c" is written after it
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "nothing"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "c"}})

    # Then the stream read through the earlier iterator has "a" and "c", and never "b"
    records = records_from(aws, iterator)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["a", "c"]


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(aws: Aws) -> None:
    # Given a table with a stream and two items
    dynamodb, stream = aws.client("dynamodb"), table_with_stream(aws, range_key=True)

    def key(name: str) -> dict[str, Any]:
        return {"pk": {"S": name}, "sk": {"S": "x"}}

    for name in ("a", "b"):
        dynamodb.put_item(TableName="t", Item=key(name) | {"n": {"N": "1"}})

    # When a transaction updates one, deletes the other and adds a third, but a condition fails
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key("a"),
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": "t", "Key": key("b")}},
                {"Put": {"TableName": "t", "Item": key("c")}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": key("nothing"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    # and a transaction whose conditions hold runs after it
    dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": "t", "Item": key("d")}}])

    # Then the items are those before it plus the later one, and so is the stream
    items = dynamodb.scan(TableName="t")["Items"]
    assert sorted((i["pk"]["S"], i.get("n", {}).get("N")) for i in items) == [
        ("a", "1"),
        ("b", "1"),
        ("d", None),
    ]
    records = records_from(aws, first_iterator(aws, stream))
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "a"),
        ("INSERT", "b"),
        ("INSERT", "d"),
    ]


EVERY_KIND_OF_ITEM = {
    "pk": {"S": "ORDER#1"},
    "empty": {"S": ""},
    "amount": {"N": "12.50"},
    "secret": {"B": b"\x00sealed\xff"},
    "tags": {"SS": ["a", "b"]},
    "counts": {"NS": ["1", "2"]},
    "blobs": {"BS": [b"x", b"y"]},
    "gone": {"NULL": True},
    "paid": {"BOOL": False},
    "history": {
        "L": [
            {"M": {"type": {"S": "order-placed"}, "at": {"N": "1"}, "raw": {"B": b"\x01"}}},
            {"L": []},
            {"M": {}},
        ]
    },
}


@pytest.mark.parametrize(
    ("service", "operation", "result"),
    [
        ("dynamodb", "GetItem", {"Item": EVERY_KIND_OF_ITEM}),
        ("dynamodb", "Query", {"Items": [EVERY_KIND_OF_ITEM] * 3, "Count": 3, "ScannedCount": 3}),
        (
            "dynamodbstreams",
            "GetRecords",
            {
                "Records": [
                    {
                        "eventID": "1",
                        "eventName": "MODIFY",
                        "dynamodb": {
                            "Keys": {"pk": {"S": "ORDER#1"}},
                            "NewImage": EVERY_KIND_OF_ITEM,
                            "SequenceNumber": "100",
                        },
                    }
                ]
            },
        ),
    ],
)
def test_attribute_values_serialize_as_botocore_s_model_does(
    service: str, operation: str, result: dict[str, Any]
) -> None:
    # Given the response serializer of a DynamoDB operation, and the same serializer going member
    # by member through the model, as moto did before the fix
    from moto.core.serialize import (
        JSONSerializer,
        ResponseSerializer,
        XFormedAttributePicker,
    )
    from moto.core.utils import get_service_model

    class MemberByMember(JSONSerializer):
        _serialize_type_structure = ResponseSerializer._serialize_type_structure

    model = get_service_model(service).operation_model(operation)

    def serialize(serializer_class: type[JSONSerializer]) -> Any:
        serializer = serializer_class(operation_model=model, value_picker=XFormedAttributePicker())
        return json.loads(serializer.serialize(result)["body"])

    # When the response is serialized both ways
    fast, slow = serialize(JSONSerializer), serialize(MemberByMember)

    # Then the answers are the same, binary values base64-encoded in both
    assert fast == slow
    assert '"B": "AHNlYWxlZP8="' in json.dumps(fast)  # b"\x00sealed\xff"


def test_queries_answer_the_partition_or_index_key_in_key_order_page_by_page(
    aws_in_process: None,
) -> None:
    # Given a table of orders in several partitions, with an index by customer
    dynamodb: Any = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (("pk", "S"), ("sk", "S"), ("customer", "S"), ("placed", "N"))
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-customer",
                "KeySchema": [
                    {"AttributeName": "customer", "KeyType": "HASH"},
                    {"AttributeName": "placed", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for order in range(12):
        for event in (3, 1, 2):
            dynamodb.put_item(
                TableName="orders",
                Item={
                    "pk": {"S": f"ORDER#{order:02}"},
                    "sk": {"S": f"EVENT#{event}"},
                    "customer": {"S": f"c{order % 3}"},
                    "placed": {"N": str(100 - order * 3 - event)},
                },
            )

    def pages(**request: Any) -> list[list[tuple[str, str]]]:
        found, start = [], None
        while True:
            page = dynamodb.query(
                TableName="orders",
                Limit=2,
                **request,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            found.append([(item["pk"]["S"], item["sk"]["S"]) for item in page["Items"]])
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    # When one partition and one customer are queried, a page of two at a time, both ways
    one_order = pages(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "ORDER#04"}}
    )
    newest_first = pages(
        IndexName="by-customer",
        KeyConditionExpression="customer = :c AND placed < :before",
        ExpressionAttributeValues={":c": {"S": "c1"}, ":before": {"N": "90"}},
        ScanIndexForward=False,
    )
    missing = pages(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": "ORDER#99"}}
    )

    # Then each answers its own items only, in key order, across pages
    assert one_order == [
        [("ORDER#04", "EVENT#1"), ("ORDER#04", "EVENT#2")],
        [("ORDER#04", "EVENT#3")],
    ]
    flat = [key for page in newest_first for key in page]
    # c1 has orders 1, 4, 7, 10; placed = 100 - 3 * order - event, below 90 from order 4 on.
    assert flat == [
        (f"ORDER#{order:02}", f"EVENT#{event}") for order in (4, 7, 10) for event in (1, 2, 3)
    ]
    assert all(len(page) <= 2 for page in newest_first)
    assert missing == [[]]


def sqs_call(connection: http.client.HTTPConnection, action: str) -> tuple[int, str | None]:
    """One SQS call over `connection`: its status and the response's Connection header."""
    connection.request(
        "POST",
        "/",
        body=f"Action={action}&Version=2012-11-05",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "AWS4-HMAC-SHA256 Credential=x/20261202/eu-west-1/sqs/aws4_request",
        },
    )
    response = connection.getresponse()
    response.read()
    return response.status, response.getheader("Connection")


def test_one_connection_carries_call_after_call_even_past_a_body_nobody_read(aws: Aws) -> None:
    # Given one connection to moto's process
    address = urllib.parse.urlsplit(aws.endpoint)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=5)

    # When it carries a call, a request whose body moto never reads, then another call
    try:
        first = sqs_call(connection, "ListQueues")
        socket_of_first = connection.sock
        connection.request("GET", "/moto-api/data.json", body=b"Action=DeleteQueue&QueueUrl=x")
        connection.getresponse().read()
        last = sqs_call(connection, "ListQueues")
        socket_of_last = connection.sock
    finally:
        connection.close()

    # Then each was answered on the same connection, which stayed open
    assert first == (200, None)
    assert last == (200, None)
    assert socket_of_last is socket_of_first


def test_a_client_that_expects_100_continue_is_told_to_send_its_body(aws: Aws) -> None:
    # Given a request sent as botocore sends an upload: its headers, then a wait for 100 Continue
    address = urllib.parse.urlsplit(aws.endpoint)
    body = b"Action=ListQueues&Version=2012-11-05"
    head = (
        "POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=x/20261203/eu-west-1/sqs/aws4_request\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=5) as connection:
        connection.sendall(head.encode())

        # When moto answers the headers, and then the body is sent
        interim = connection.recv(1024)
        connection.sendall(body)
        answer = connection.makefile("rb").readline()

    # Then it said to go on at once (its writes are buffered, but that one is sent), and answered
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.startswith(b"HTTP/1.1 200")


def test_a_query_answers_stored_items_unchanged_and_leaves_them_so(aws_in_process: None) -> None:
    # Given a table with a list-valued item, queried through an index projection and directly
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "customer", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-customer",
                "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    item: dict[str, Any] = {
        "pk": {"S": "o-1"},
        "customer": {"S": "c-1"},
        "history": {"L": [{"M": {"type": {"S": "order-placed"}}}]},
    }
    dynamodb.put_item(TableName="orders", Item=item)

    # When it is read through the keys-only index, with a projection, and by a scan
    keys_only = dynamodb.query(
        TableName="orders",
        IndexName="by-customer",
        KeyConditionExpression="customer = :c",
        ExpressionAttributeValues={":c": {"S": "c-1"}},
    )["Items"]
    projected = dynamodb.query(
        TableName="orders",
        KeyConditionExpression="pk = :p",
        ProjectionExpression="history",
        ExpressionAttributeValues={":p": {"S": "o-1"}},
    )["Items"]
    scanned = dynamodb.scan(TableName="orders")["Items"]

    # Then each answer is what DynamoDB gives, and the stored item kept every attribute
    assert keys_only == [{"pk": {"S": "o-1"}, "customer": {"S": "c-1"}}]
    assert projected == [{"history": item["history"]}]
    assert scanned == [item]
    assert dynamodb.get_item(TableName="orders", Key={"pk": {"S": "o-1"}})["Item"] == item


def test_a_call_moto_routes_skips_flask_and_a_cors_request_still_goes_through_it(
    aws_in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given moto's server application, with a queue, and a count of what reaches Flask
    werkzeug_app: Any = importlib.import_module("moto.moto_server.werkzeug_app")
    server = werkzeug_app.DomainDispatcherApplication(werkzeug_app.create_backend_app)
    boto3.client("sqs").create_queue(QueueName="q")
    through_flask: list[str] = []
    flask_app = flask.Flask.wsgi_app

    def counted(app: flask.Flask, environ: dict[str, Any], start_response: Any) -> Any:
        through_flask.append(environ.get("HTTP_ORIGIN", "no origin"))
        return flask_app(app, environ, start_response)

    monkeypatch.setattr(flask.Flask, "wsgi_app", counted)
    client = werkzeug.test.Client(server)
    call = {
        "X-Amz-Target": "AmazonSQS.ListQueues",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=x/20261202/eu-west-1/sqs/aws4_request",
    }

    # When it answers a call, the same call from a page's script, and a call it has no route for
    plain = client.post("/", data="{}", headers=call)
    from_a_page = client.post("/", data="{}", headers={**call, "Origin": "http://localhost:8000"})
    unrouted = client.get("/no/such/path", headers=call)
    dashboard = client.get("/moto-api/")

    # Then both calls get the same answer, only the page's with CORS headers, through Flask; and
    # what moto has no handler for, or answers from its own API, goes through Flask as before
    assert plain.status_code == from_a_page.status_code == 200
    assert json.loads(plain.data) == json.loads(from_a_page.data)
    assert [url.rpartition("/")[2] for url in json.loads(plain.data)["QueueUrls"]] == ["q"]
    assert "Access-Control-Allow-Origin" not in plain.headers
    assert from_a_page.headers["Access-Control-Allow-Origin"] == "http://localhost:8000"
    assert (unrouted.status_code, dashboard.status_code) == (404, 200)
    assert through_flask == ["http://localhost:8000", "no origin", "no origin"]


def test_moto_says_which_table_streams_have_new_records_whoever_wrote_them(tmp_path: Any) -> None:
    # Given moto's process, a table with a stream and one without
    with MotoServer(log_file=tmp_path / "moto.log") as moto:
        aws = Aws(moto.url)
        stream_arn = table_with_stream(aws)
        dynamodb = aws.client("dynamodb")
        dynamodb.create_table(
            TableName="quiet",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        before = moto.streams_with_news()

        # When each is written (the streamed one three times, once in a batch), then only read
        dynamodb.put_item(TableName="quiet", Item={"pk": {"S": "q"}})
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}})
        dynamodb.batch_write_item(
            RequestItems={"t": [{"PutRequest": {"Item": {"pk": {"S": k}}}} for k in "bc"]}
        )
        written = moto.streams_with_news()
        dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})
        dynamodb.scan(TableName="t")
        read = moto.streams_with_news()

        # Then moto told of the streamed table's records by its stream's ARN, as soon as the
        # writes were answered, and of nothing after the reads
        assert (before, written, read) == (set(), {stream_arn}, set())


def test_concurrent_puts_on_a_kinesis_shard_each_keep_their_record(
    aws_in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stream of one shard, and moto made slow to store a record once it has numbered it
    # (where a thread switch let another put take the same number)
    kinesis_models: Any = importlib.import_module("moto.kinesis.models")
    store = kinesis_models.Record.__init__

    def store_slowly(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.001)
        store(*args, **kwargs)

    monkeypatch.setattr(kinesis_models.Record, "__init__", store_slowly)
    kinesis = boto3.client("kinesis")
    kinesis.create_stream(StreamName="hub", ShardCount=1)

    # When puts land at once, as the local cloud's fast path makes them
    def put(batch: int) -> list[str]:
        records: list[Any] = [
            {"Data": str(batch * 5 + n).encode(), "PartitionKey": "k"} for n in range(5)
        ]
        answer = kinesis.put_records(StreamName="hub", Records=records)
        return [str(record["SequenceNumber"]) for record in answer["Records"]]

    with ThreadPoolExecutor(8) as pool:
        sequence_numbers = [number for batch in pool.map(put, range(40)) for number in batch]

    # Then each record has a sequence number of its own, and the shard holds every one
    shard_id = kinesis.list_shards(StreamName="hub")["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName="hub", ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
    assert len(set(sequence_numbers)) == 200
    assert sorted(int(record["Data"]) for record in records) == list(range(200))


def plain_table(name: str) -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_a_request_to_one_table_does_not_wait_for_another_tables(
    aws_in_process: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given two tables, and moto made to hold a read of "held" until it is let go
    plain_table("held")
    plain_table("other")
    entered, let_go = threading.Event(), threading.Event()
    backend_class: Any = importlib.import_module("moto.dynamodb.models").DynamoDBBackend
    get_item = backend_class.get_item

    def get_item_held(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        if table_name == "held":
            entered.set()
            let_go.wait(10)
        return get_item(backend, table_name, *args, **kwargs)

    monkeypatch.setattr(backend_class, "get_item", get_item_held)
    dynamodb = boto3.client("dynamodb")
    key = {"pk": {"S": "a"}}

    # When "held" is being read, "other" is written and read, and "held" is written
    with ThreadPoolExecutor(2) as pool:
        held_read = pool.submit(dynamodb.get_item, TableName="held", Key=key)
        assert entered.wait(5)
        held_write = pool.submit(dynamodb.put_item, TableName="held", Item=key)
        dynamodb.put_item(TableName="other", Item=key)
        other = dynamodb.get_item(TableName="other", Key=key)
        served_meanwhile = not held_read.done() and not held_write.done()
        let_go.set()
        held_read.result(), held_write.result()

    # Then "other" was served while "held" was busy, and the write of "held" waited for its read
    assert served_meanwhile
    assert other["Item"] == key
    assert "Item" not in held_read.result()


def test_each_request_names_the_tables_it_touches(aws: Aws) -> None:
    # Given a table with a stream, and an iterator of it as moto issues them
    stream = table_with_stream(aws)
    iterator = first_iterator(aws, stream)
    put = {"Put": {"TableName": "t", "Item": {}}}
    check = {"ConditionCheck": {"TableName": "u", "Key": {}}}

    # Then every request that reads or writes tables names them, and the rest concern them all
    assert moto_process.tables_named("GetItem", {"TableName": "t"}) == {"t"}
    assert moto_process.tables_named("BatchGetItem", {"RequestItems": {"t": {}, "u": {}}}) == {
        "t",
        "u",
    }
    assert moto_process.tables_named("TransactWriteItems", {"TransactItems": [put, check]}) == {
        "t",
        "u",
    }
    assert moto_process.tables_named("GetRecords", {"ShardIterator": iterator}) == {"t"}
    assert moto_process.tables_named("DescribeStream", {"StreamArn": stream}) == {"t"}
    assert moto_process.tables_named("CreateTable", {"TableName": "t"}) is None
    assert moto_process.tables_named("ListTables", {}) is None
    # and a request that does not say which is served under every lock, for moto to refuse
    assert moto_process.tables_named("TransactWriteItems", {"TransactItems": [{"Put": {}}]}) is None
    assert moto_process.tables_named("GetRecords", {"ShardIterator": "not-an-iterator"}) is None
    assert moto_process.tables_named("GetItem", {"TableName": ["t"]}) is None


def test_a_request_about_every_table_waits_for_those_under_way() -> None:
    # Given the tables' locks, and a request under way on table "a"
    locks = moto_process.TableLocks()
    under_way, let_go = threading.Event(), threading.Event()
    served: list[str] = []

    def request(tables: frozenset[str] | None, name: str) -> None:
        with locks.holding(tables):
            if name == "a":
                under_way.set()
                let_go.wait(5)
            served.append(name)

    with ThreadPoolExecutor(2) as pool:
        on_a = pool.submit(request, frozenset({"a"}), "a")
        assert under_way.wait(5)

        # When a request on "b" comes, then one about every table (a ListTables)
        request(frozenset({"b"}), "b")
        every = pool.submit(request, None, "every")
        time.sleep(0.1)
        waited = not every.done()
        let_go.set()
        on_a.result(5), every.result(5)

    # Then "b" was served at once, and the one about every table only once "a" was done
    assert waited
    assert served == ["b", "a", "every"]


def test_an_update_expressions_syntax_tree_copies_as_the_same_tree() -> None:
    # Given an update expression's syntax tree, as moto's validator gets it
    import copy

    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]

    tree = UpdateExpressionParser.make(
        "SET a = :a, #b = if_not_exists(#b, :c) + :d, e[1].f = :f REMOVE g ADD h :h DELETE i :i"
    )

    # When it is copied
    copied = copy.deepcopy(tree)

    # Then every node is a new one of the same type and attributes, its parent the copy's own
    def shape(node: Any, parent: Any) -> list[Any]:
        if not hasattr(node, "children"):
            return [node]
        assert node.parent is parent
        fields = {k: v for k, v in vars(node).items() if k not in ("children", "parent")}
        children = [shape(child, node) for child in node.children or []]
        return [type(node).__name__, fields, children]

    assert shape(copied, copied.parent) == shape(tree, tree.parent)
    assert all(a is not b for a, b in zip(tree.children, copied.children, strict=True))
