"""The moto server process, with the local cloud's fixes to moto applied before it starts.

Each fix is a performance or correctness gap found in moto, kept here, in one place, until moto
has it: `python -m localcloud.moto.process -H HOST -p PORT` takes `moto.server`'s arguments.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import copy
import functools
import importlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from localcloud import headers
from localcloud.moto.server import STREAM_NEWS_VARIABLE


def apply_fixes() -> None:
    # Attribute names are converted from CamelCase afresh on every access (4,000 conversions per
    # ten events put on a bus with four rules, the top cost). A pure function of a short string:
    # cached, it answers the same. Modules that imported it already get the cached one too.
    _cache_everywhere("moto.core.utils", "camelcase_to_underscores")
    # Every request lists its handler class's methods with `inspect.getmembers` to find its action
    # (6% of moto's time under the shop's load). A class's methods do not change while it runs.
    _cache_everywhere("moto.core.utils", "method_names_from_class")

    # EventBridge builds a fresh JSONPath parser (a yacc table) for every path of every event it
    # delivers to a target: ~10 ms per delivery, which caps a bus at a few events per second.
    # A parsed path is immutable, so parsing each distinct path once is the same, only faster.
    jsonpath_ext: Any = importlib.import_module("jsonpath_ng.ext")
    jsonpath_ext.parse = functools.lru_cache(maxsize=4096)(jsonpath_ext.parse)

    # SQS checks each message it receives against the queue's retention period by computing every
    # attribute of the queue three times over, approximate counts included, each a scan of all its
    # messages: a third of moto's time under load. The queue keeps the period as a field.
    from moto.core.utils import unix_time

    sqs_backend: Any = importlib.import_module("moto.sqs.models").SQSBackend

    def within_retention(backend: Any, queue_name: str, message: Any) -> bool:
        retention_seconds = int(backend.get_queue(queue_name).message_retention_period)
        return bool(retention_seconds + message.sent_timestamp / 1000 > unix_time())

    sqs_backend.is_message_valid_based_on_retention_period = within_retention

    # Sending a message reads one setting (content-based deduplication) through the queue's full
    # attribute set, whose approximate message counts scan every message in the queue: sending
    # grew linearly with the queue's length (half of moto's time under load). While a message is
    # being sent, the attribute set leaves those counts out; every other caller gets them all.
    _skip_message_counts_while_sending()

    # SQS asks the time for every message it looks at (visible? delayed?) through a clock that
    # builds and subtracts datetimes: a fifth of moto's time under load. In server mode nothing
    # freezes time, so the plain clock gives the same answer.
    sqs_clock: Any = importlib.import_module("moto.sqs.models")
    slow_unix_time, slow_unix_time_millis = sqs_clock.unix_time, sqs_clock.unix_time_millis
    sqs_clock.unix_time = lambda moment=None: (
        time.time() if moment is None else slow_unix_time(moment)
    )
    sqs_clock.unix_time_millis = lambda moment=None: (
        time.time() * 1000 if moment is None else slow_unix_time_millis(moment)
    )

    # Firehose writes a batch to S3 as one object, joining the records, but ignores the
    # AppendDelimiterToRecord processor: newline-delimited records ran together.
    _append_delimiters_to_s3_records()

    # DynamoDB Streams keeps every shard iterator it ever handed out (pollers ask for one or two
    # a poll): a leak of tens of megabytes an hour per table. AWS expires an iterator 15 minutes
    # after it was issued; so does the local cloud now.
    _expire_stream_iterators()

    # moto serves requests on threads, but its DynamoDB applies a transaction item by item, and its
    # streams are read while that happens: concurrent transactions interleaved (twenty orders
    # racing for five units reserved nine) and a poller read the writes of a transaction that was
    # then cancelled. DynamoDB's transactions are serializable and its stream holds committed
    # changes only; one request at a time per table, through its items and its stream, makes them
    # so. Per table, not for all: under one lock, every DynamoDB call of the shop's four services
    # queued behind every other's (at 5 orders/s, 32 ms a call for 2 ms of work; 20 ms per table).
    _one_request_per_table_at_a_time(
        ("moto.dynamodb.responses", "DynamoHandler"),
        ("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler"),
    )

    # moto's Kinesis numbers a record after the shard's newest ("not safe for concurrency", says
    # its own comment): two puts at once could take the same number, the later one's record
    # replacing the earlier's, so an event on the hub was lost to every consumer but the one
    # that had already read it (issue 14's bench lost one order in a few runs of 200). Kinesis
    # numbers a shard's records strictly in order; one request at a time through moto's does.
    _one_request_at_a_time(("moto.kinesis.responses", "KinesisResponse"))

    # Before each transaction moto copied every table it writes, whole, and on a failed condition
    # put the copy in the table's place: a transaction's cost grew with the table (a 1,000-order
    # backlog took minutes, then timed out), and a shard iterator issued before kept reading the
    # abandoned table, cancelled writes included (a trigger published nine reservations of six
    # units). Only the items a transaction names can change, so those alone are kept and put back
    # in the same table, with its stream cut back to where it was.
    _roll_back_only_what_a_transaction_wrote()

    # An UpdateItem that creates its item is one INSERT on the table's stream, with the item as the
    # update made it. moto first stores an item of just the key, recording an INSERT of that empty
    # image, then records the real one as a second INSERT: a trigger read a product without a name.
    _one_insert_per_created_item()

    # An UpdateItem's validator deep-copies the update expression's syntax tree with the generic
    # `copy.deepcopy`, which reduces and rebuilds every node. The nodes copy themselves now,
    # attribute by attribute, the same tree: a payment's update went from 6.9 to 6.5 ms in
    # process (decision 0027).
    _syntax_trees_copy_themselves()

    # moto serializes each DynamoDB response member by member from botocore's model, and an item's
    # every attribute value is a structure of ten members, each looked up through three alias
    # providers: 70% of moto's time under the shop's load (a GetItem of one order view ~30 ms),
    # held under its table's lock. An attribute value is already in its wire shape (a dict
    # of one type tag), so it is written as it is, binary values base64-encoded as before.
    _attribute_values_as_they_are()

    # A Query went through every item of its table, sorted afresh by key, to keep the items of one
    # partition (or of one index key): its cost grew with the table, so reading an order's
    # collected events or a customer's orders slowed with every order placed (a fifth of moto's
    # time under load). A query of the table reads the partition it names; a query of an index
    # still looks at every item (an index is not kept) but skips the sort, which the query
    # redoes on the index's own keys anyway. Results, their order and their pages are the same.
    _query_reads_only_what_it_can_match()

    # A Query or Scan deep-copied every item it answered before serializing it, attribute by
    # attribute: most of a Query's cost (a customer's list of fifty orders, 30 ms). The answer is
    # serialized at once, under its table's lock, and nothing changes an item it reads (a
    # projection builds a new one): the items themselves are serialized, as they are.
    _reads_copy_nothing()

    # werkzeug's development server closes the connection after every response (it cannot tell
    # an unread request body from the next request), so every call to moto was a new connection
    # and a new thread on both sides: 3 to 4 ms of moto's CPU per call, most of the cost of an
    # empty ReceiveMessage. A request's body is read to its Content-Length now, whatever the
    # handler read of it, and the connection is kept open for the next request; a chunked request
    # still closes it.
    _keep_connections_alive()

    # Every request's headers went through the email package's feed parser (a fifth of what an
    # empty call cost moto); every request then went through Flask's request context, its hooks
    # and its response finalizing (another sixth) only to reach moto's own handler. Plain header
    # lines are split at their colon (anything else still goes to the email parser), and a call
    # moto's URL map routes to a handler is handed to it directly (a CORS request still goes
    # through Flask, whose extension answers those, as does a call to moto's own API).
    headers.parse_plain_headers_quickly()
    _answer_without_flask()

    # The local cloud knew a table stream might have news only when a function of its stack
    # returned, so every read-only call (each look at an order) woke its pollers for an empty
    # read: a fifth of moto's calls per order. moto now says which streams a request added records
    # to, once per stream and request, before it answers (`MotoServer.streams_with_news`).
    _tell_of_stream_records(os.environ.get(STREAM_NEWS_VARIABLE))

    # One access-log line per request is work the local cloud never reads (its own logs say
    # what happened); warnings and errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    # The server finds the service of every request by listing moto's package folders on disk,
    # again each time (14% of its time under load). They do not change while it runs.
    backends: Any = importlib.import_module("moto.backends")
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def _keep_connections_alive() -> None:
    handler_class: Any = importlib.import_module("moto.moto_server.werkzeug_app").MotoRequestHandler
    limited_stream: Any = importlib.import_module("werkzeug.wsgi").LimitedStream
    run_wsgi, send_header = handler_class.run_wsgi, handler_class.send_header
    expect_100 = handler_class.handle_expect_100

    def run_wsgi_keeping_the_connection(handler: Any) -> None:
        # http.server has said 100 Continue already (`answer_expect_100`); werkzeug would again.
        del handler.headers["Expect"]
        length = handler.headers.get("Content-Length") or "0"
        chunked = "chunked" in handler.headers.get("Transfer-Encoding", "").lower()
        if chunked or not length.isdigit():
            run_wsgi(handler)  # and werkzeug closes the connection after it, as before
            return
        connection_stream, body = handler.rfile, limited_stream(handler.rfile, int(length))
        # werkzeug reads the request from `rfile`, and after the response drains it until it is
        # empty: that must end at this request's body, not take the next request's bytes.
        handler.rfile, handler.keeps_connection = body, True
        try:
            run_wsgi(handler)
            body.exhaust()
        finally:
            handler.rfile, handler.keeps_connection = connection_stream, False

    def send_header_keeping_the_connection(handler: Any, keyword: str, value: str) -> None:
        closing = keyword.lower() == "connection" and value.lower() == "close"
        if not (closing and getattr(handler, "keeps_connection", False)):
            send_header(handler, keyword, value)

    def answer_expect_100(handler: Any) -> bool:
        # Sent now, not left in the buffer (below) while the client waits for it.
        accepted: bool = expect_100(handler)
        handler.wfile.flush()
        return accepted

    handler_class.run_wsgi = run_wsgi_keeping_the_connection
    handler_class.send_header = send_header_keeping_the_connection
    handler_class.handle_expect_100 = answer_expect_100
    # werkzeug writes a response as headers, then body, each straight to the socket. Buffered,
    # both go out in one send when werkzeug flushes: the thread takes the interpreter lock back
    # once after sending, not twice, and under load each taking queues behind the other threads
    # (the body followed its headers by up to 40 ms). Nagle's algorithm stays off for what is
    # still written in parts, a chunked response.
    handler_class.wbufsize = -1
    handler_class.disable_nagle_algorithm = True


def _tell_of_stream_records(address: str | None) -> None:
    if not address:
        return
    host, _, port = address.rpartition(":")
    news, listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), (host, int(port))
    shard_class: Any = importlib.import_module("moto.dynamodb.models.table").StreamShard
    dispatcher_class: Any = importlib.import_module(
        "moto.moto_server.werkzeug_app"
    ).DomainDispatcherApplication
    add, answer = shard_class.add, dispatcher_class.__call__
    this_request = threading.local()  # the streams the request on this thread added records to

    def add_and_note(shard: Any, old: Any, new: Any) -> None:
        add(shard, old, new)
        table = shard.table
        stream_arn = f"{table.table_arn}/stream/{table.latest_stream_label}"
        streams = getattr(this_request, "streams", None)
        if streams is None:  # not from a request (moto's own work): said at once
            news.sendto(stream_arn.encode(), listener)
        else:
            streams.add(stream_arn)

    def answer_and_tell(dispatcher: Any, environ: dict[str, Any], start_response: Any) -> Any:
        this_request.streams = set()
        try:
            # The answer is written to the client after this returns: the news goes first.
            return answer(dispatcher, environ, start_response)
        finally:
            for stream_arn in this_request.streams:
                news.sendto(stream_arn.encode(), listener)
            this_request.streams = None

    shard_class.add = add_and_note
    dispatcher_class.__call__ = answer_and_tell


def _answer_without_flask() -> None:
    werkzeug_app: Any = importlib.import_module("moto.moto_server.werkzeug_app")
    moto_utils: Any = importlib.import_module("moto.core.utils")
    moto_request: Any = importlib.import_module("moto.core.request")
    recorder: Any = importlib.import_module("moto.moto_api").recorder
    exceptions: Any = importlib.import_module("werkzeug.exceptions")
    response_class: Any = importlib.import_module("werkzeug.wrappers").Response
    client_error: Any = importlib.import_module("botocore.exceptions").ClientError

    def answer(dispatcher: Any, environ: dict[str, Any], start_response: Any) -> Any:
        app = dispatcher.get_application(environ)
        # moto's own API renders its dashboard with Flask's templates: it stays in Flask.
        cors = "HTTP_ORIGIN" in environ or environ.get("REQUEST_METHOD") == "OPTIONS"
        if cors or app.service == "moto_api":
            return app(environ, start_response)
        try:
            endpoint, _ = app.url_map.bind_to_environ(environ).match()
        except exceptions.HTTPException:  # no route, or a redirect: Flask answers those
            return app(environ, start_response)
        view = app.view_functions.get(endpoint)
        if not isinstance(view, moto_utils.convert_to_flask_response):
            return app(environ, start_response)
        # What moto's `convert_to_flask_response` does inside Flask's request context.
        request = moto_request.normalize_request(app.request_class(environ))
        recorder._record_request(request)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except client_error as error:
            result = 400, {}, error.response["Error"]["Message"]
        status, headers, content = result if len(result) == 3 else (200, {}, result)
        response = response_class(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
        return response(environ, start_response)

    werkzeug_app.DomainDispatcherApplication.__call__ = answer


def _cache_everywhere(module_name: str, function_name: str) -> None:
    module: Any = importlib.import_module(module_name)
    original = getattr(module, function_name)
    cached = functools.lru_cache(maxsize=8192)(original)
    for loaded in list(sys.modules.values()):
        if getattr(loaded, function_name, None) is original:
            setattr(loaded, function_name, cached)


MESSAGE_COUNTS = frozenset(
    {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    }
)


def _skip_message_counts_while_sending() -> None:
    sqs_models: Any = importlib.import_module("moto.sqs.models")
    queue_class, backend_class = sqs_models.Queue, sqs_models.SQSBackend
    full_attributes = queue_class.attributes.fget
    original_send = backend_class.send_message
    sending = threading.local()

    def attributes(queue: Any) -> dict[str, Any]:
        if not getattr(sending, "active", False):
            return dict(full_attributes(queue))
        names = [name for name in queue.BASE_ATTRIBUTES if name not in MESSAGE_COUNTS]
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        result = {name: getattr(queue, sqs_models.camelcase_to_underscores(name)) for name in names}
        if queue.policy:
            result["Policy"] = queue.policy
        if queue.redrive_policy:
            result["RedrivePolicy"] = json.dumps(queue.redrive_policy)
        return {
            key: str(value).lower() if isinstance(value, bool) else value
            for key, value in result.items()
        }

    def send_message(backend: Any, *args: Any, **kwargs: Any) -> Any:
        sending.active = True
        try:
            return original_send(backend, *args, **kwargs)
        finally:
            sending.active = False

    queue_class.attributes = property(attributes)
    backend_class.send_message = send_message


def _append_delimiters_to_s3_records() -> None:
    firehose_backend: Any = importlib.import_module("moto.firehose.models").FirehoseBackend
    original_put = firehose_backend.put_s3_records

    def put_s3_records(
        backend: Any, name: str, version_id: str, destination: dict[str, Any], records: list[Any]
    ) -> Any:
        delimiter = _record_delimiter(destination.get("ProcessingConfiguration") or {})
        if delimiter:
            records = [dict(record, Data=record["Data"] + delimiter) for record in records]
        return original_put(backend, name, version_id, destination, records)

    firehose_backend.put_s3_records = put_s3_records


# How long a DynamoDB Streams shard iterator stays valid after it is issued, as in AWS.
SHARD_ITERATOR_LIFETIME_SECONDS = 15 * 60.0


class ExpiringIterators(dict[str, Any]):
    """Shard iterators by ARN, each dropped once it is older than the lifetime (checked as new
    ones are issued, in the order they were)."""

    def __init__(self) -> None:
        super().__init__()
        self._issued: collections.deque[tuple[float, str]] = collections.deque()
        # Iterators of different tables are issued at once (each request holds its table's lock).
        self._issuing = threading.Lock()

    def __setitem__(self, arn: str, iterator: Any) -> None:
        now = time.monotonic()
        with self._issuing:
            super().__setitem__(arn, iterator)
            self._issued.append((now, arn))
            while (
                len(self._issued) > 1 and now - self._issued[0][0] > SHARD_ITERATOR_LIFETIME_SECONDS
            ):
                _, expired = self._issued.popleft()
                self.pop(expired, None)


def _expire_stream_iterators() -> None:
    backend_class: Any = importlib.import_module(
        "moto.dynamodbstreams.models"
    ).DynamoDBStreamsBackend
    original_init = backend_class.__init__

    def init(backend: Any, *args: Any, **kwargs: Any) -> None:
        original_init(backend, *args, **kwargs)
        backend.shard_iterators = ExpiringIterators()

    backend_class.__init__ = init


# Requests that change which tables there are, or read across them all, hold every table's lock.
EVERY_TABLE_ACTIONS = frozenset({"CreateTable", "DeleteTable", "ListTables", "ListStreams"})


class TableLocks:
    """One lock per DynamoDB table. A request holds the locks of the tables it names, taken in
    name order, so two transactions never wait for each other crosswise; a request that names
    none, or changes which tables there are, holds them all, with the registry's lock, so no
    table is added to the set meanwhile."""

    def __init__(self) -> None:
        self._registry = threading.Lock()
        self._tables: dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def holding(self, tables: frozenset[str] | None) -> Iterator[None]:
        with contextlib.ExitStack() as held:
            if tables is None:
                held.enter_context(self._registry)
                locks = [self._tables[name] for name in sorted(self._tables)]
            else:
                with self._registry:
                    locks = [
                        self._tables.setdefault(name, threading.Lock()) for name in sorted(tables)
                    ]
            for lock in locks:
                held.enter_context(lock)
            yield


def tables_named(action: str, params: Mapping[str, Any]) -> frozenset[str] | None:
    """The tables a DynamoDB or DynamoDB Streams request reads or writes, by name; None for one
    that concerns every table, or whose parameters do not say (moto then refuses it, as it
    would have)."""
    if action in EVERY_TABLE_ACTIONS:
        return None
    try:
        if "TableName" in params:
            names = [params["TableName"]]
        elif "RequestItems" in params:  # BatchGetItem, BatchWriteItem
            names = list(params["RequestItems"])
        elif "TransactItems" in params:  # TransactWriteItems, TransactGetItems
            names = [
                operation["TableName"]
                for item in params["TransactItems"]
                for operation in item.values()
            ]
        else:
            # arn:aws:dynamodb:REGION:ACCOUNT:table/NAME[/stream/LABEL[|1|ID]]
            arn = next(
                params[name]
                for name in ("StreamArn", "ShardIterator", "ResourceArn")
                if name in params
            )
            names = [arn.split(":table/", 1)[1].split("/", 1)[0]]
    except (KeyError, TypeError, AttributeError, IndexError, StopIteration):
        return None
    return frozenset(names) if all(isinstance(name, str) for name in names) else None


def _one_request_per_table_at_a_time(*handlers: tuple[str, str]) -> None:
    """The requests of these moto handlers (module, class), one at a time per table they name."""
    locks = TableLocks()
    for module, name in handlers:
        handler: Any = getattr(importlib.import_module(module), name)
        call_action = handler.call_action

        def locked_call_action(response: Any, call_action: Any = call_action) -> Any:
            with locks.holding(tables_named(response._get_action(), _params_of(response))):
                return call_action(response)

        handler.call_action = locked_call_action


def _params_of(response: Any) -> Mapping[str, Any]:
    """A request's parameters, as moto parsed them, or from its JSON body where moto's handler
    still reads its body itself (DynamoDB Streams)."""
    if response.automated_parameter_parsing:
        return response.params  # type: ignore[no-any-return]
    try:
        params = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}
    return params if isinstance(params, dict) else {}


def _one_request_at_a_time(*handlers: tuple[str, str]) -> None:
    """The requests of these moto handlers (module, class), one at a time, under one lock."""
    one_at_a_time = threading.Lock()
    for module, name in handlers:
        handler: Any = getattr(importlib.import_module(module), name)
        handler.call_action = _locked(handler.call_action, one_at_a_time)


class _NoTableCopies:
    """`copy` as moto's DynamoDB module sees it: a table is not copied (the transaction keeps its
    own, smaller, backup), anything else is copied as before."""

    def __init__(self, table_class: Any) -> None:
        self._table_class = table_class

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, self._table_class) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _roll_back_only_what_a_transaction_wrote() -> None:
    models: Any = importlib.import_module("moto.dynamodb.models")
    backend_class = models.DynamoDBBackend
    original_transact = backend_class.transact_write_items
    models.copy = _NoTableCopies(models.Table)

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = _written_items(backend, transact_items)
        try:
            return original_transact(backend, transact_items)
        except Exception:
            for table, hash_value, range_value, item, stream_length in reversed(saved):
                _put_back(table, hash_value, range_value, item)
                if table.stream_shard is not None:
                    del table.stream_shard.items[stream_length:]
            raise

    backend_class.transact_write_items = transact_write_items


def _written_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[Any]:
    """For each item a transaction names: its table, key, a copy of it (None if absent) and the
    length of the table's stream, taken before the transaction."""
    saved = []
    for operation in transact_items:
        for name, arguments in operation.items():
            table = backend.tables.get(arguments.get("TableName"))
            if table is None or name == "ConditionCheck":
                continue
            key = arguments.get("Key") or {
                attribute: arguments["Item"][attribute]
                for attribute in (table.hash_key_attr, table.range_key_attr)
                if attribute and attribute in arguments.get("Item", {})
            }
            try:
                hash_value, range_value = backend.get_keys_value(table, key)
            except Exception:
                continue  # moto rejects the transaction before it writes anything
            item = table.get_item(hash_value, range_value)
            stream = len(table.stream_shard.items) if table.stream_shard is not None else 0
            saved.append((table, hash_value, range_value, copy.deepcopy(item), stream))
    return saved


def _put_back(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    if item is not None:
        table.items[hash_value][range_value] = item
        return
    table.items[hash_value].pop(range_value, None)
    if not table.items[hash_value]:
        del table.items[hash_value]


def _locked(call_action: Any, lock: threading.Lock) -> Any:
    def locked_call_action(response: Any) -> Any:
        with lock:
            return call_action(response)

    return locked_call_action


def _one_insert_per_created_item() -> None:
    backend_class: Any = importlib.import_module("moto.dynamodb.models").DynamoDBBackend
    shard_class: Any = importlib.import_module("moto.dynamodb.models.table").StreamShard
    original_update, original_add = backend_class.update_item, shard_class.add
    updating = threading.local()

    def update_item(backend: Any, *args: Any, **kwargs: Any) -> Any:
        updating.first_record = True
        try:
            return original_update(backend, *args, **kwargs)
        finally:
            updating.first_record = False

    def add(shard: Any, old: Any, new: Any) -> None:
        if getattr(updating, "first_record", False):
            updating.first_record = False
            if old is None and new is not None:
                return  # the key-only placeholder of an item the update is creating
        original_add(shard, old, new)

    backend_class.update_item = update_item
    shard_class.add = add


def _query_reads_only_what_it_can_match() -> None:
    table_class: Any = importlib.import_module("moto.dynamodb.models.table").Table
    original_query, every_item_sorted = table_class.query, table_class.all_items
    querying = threading.local()

    def all_items(table: Any) -> list[Any]:
        scope = getattr(querying, "scope", None)
        if scope is None or scope[0] is not table:
            everything: list[Any] = every_item_sorted(table)
            return everything
        partition = scope[1]
        if partition is None:
            groups = table.items.values()
        elif partition in table.items:
            groups = [table.items[partition]]
        else:
            return []
        if not table.range_key_attr:
            return list(groups)
        return [item for group in groups for item in group.values()]

    def query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name") or (args[6] if len(args) > 6 else None)
        if not index_name and hash_key is None:
            return original_query(table, hash_key, *args, **kwargs)
        querying.scope = (table, None if index_name else hash_key)
        try:
            return original_query(table, hash_key, *args, **kwargs)
        finally:
            querying.scope = None

    table_class.all_items = all_items
    table_class.query = query


class _NoCopiesWhileReading:
    """`copy` as moto's table module sees it: while this thread runs a Query or a Scan, a deep
    copy is the value itself (a list is still a new list); otherwise it is a deep copy. While it
    reads, an item's size (computed attribute by attribute, twice per item answered) is computed
    once: nothing writes while a read runs."""

    def __init__(self) -> None:
        # `sizes` (id(item) -> size) is this thread's while it reads, None otherwise.
        self._reading = threading.local()

    def read(self, read: Any) -> Any:
        @functools.wraps(read)
        def reading(table: Any, *args: Any, **kwargs: Any) -> Any:
            self._reading.sizes = {}
            try:
                return read(table, *args, **kwargs)
            finally:
                self._reading.sizes = None

        return reading

    def sized_once(self, size: Any) -> Any:
        def size_once_per_read(item: Any) -> int:
            sizes: dict[int, int] | None = getattr(self._reading, "sizes", None)
            if sizes is None:
                return int(size(item))
            if id(item) not in sizes:
                sizes[id(item)] = int(size(item))
            return sizes[id(item)]

        return size_once_per_read

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if getattr(self._reading, "sizes", None) is not None:
            return list(value) if isinstance(value, list) else value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _reads_copy_nothing() -> None:
    table_module: Any = importlib.import_module("moto.dynamodb.models.table")
    copies = table_module.copy = _NoCopiesWhileReading()
    for name in ("query", "scan"):
        setattr(table_module.Table, name, copies.read(getattr(table_module.Table, name)))
    item_class: Any = importlib.import_module("moto.dynamodb.models.dynamo_type").Item
    item_class.size = copies.sized_once(item_class.size)


ATTRIBUTE_VALUE = "AttributeValue"


def _syntax_trees_copy_themselves() -> None:
    ast_nodes: Any = importlib.import_module("moto.dynamodb.parsing.ast_nodes")

    def node_copy(node: Any, memo: dict[int, Any]) -> Any:
        copied = object.__new__(type(node))
        memo[id(node)] = copied
        # A node's attributes: its type name, its children (nodes, strings, typed values), and
        # its parent, which the memo gives back as the parent's copy.
        copied.__dict__.update(
            {name: copy.deepcopy(value, memo) for name, value in vars(node).items()}
        )
        return copied

    ast_nodes.Node.__deepcopy__ = node_copy


def _attribute_values_as_they_are() -> None:
    serializer_class: Any = importlib.import_module("moto.core.serialize").BaseJSONSerializer
    member_by_member = serializer_class._serialize_type_structure

    def serialize_structure(
        serializer: Any, serialized: Any, value: Any, shape: Any, key: str
    ) -> None:
        if key and shape.name == ATTRIBUTE_VALUE and isinstance(value, dict):
            serialized[serializer.get_serialized_name(shape, key)] = _wire_attribute_value(
                value, serializer._base64
            )
            return
        member_by_member(serializer, serialized, value, shape, key)

    serializer_class._serialize_type_structure = serialize_structure


def _wire_attribute_value(value: dict[str, Any], base64: Any) -> dict[str, Any]:
    """An attribute value as botocore's model serializes it: members that are None left out,
    strings as strings, binary base64-encoded, maps and lists element by element."""
    wire: dict[str, Any] = {}
    for tag, member in value.items():
        if member is None:
            continue
        if tag == "M":
            wire[tag] = {name: _wire_attribute_value(v, base64) for name, v in member.items()}
        elif tag == "L":
            wire[tag] = [_wire_attribute_value(v, base64) for v in member]
        elif tag == "B":
            wire[tag] = base64(member)
        elif tag == "BS":
            wire[tag] = [base64(v) for v in member]
        elif tag in ("S", "N"):
            wire[tag] = str(member) if member not in ({}, []) else member
        elif tag in ("SS", "NS"):
            wire[tag] = [str(v) for v in member]
        else:  # NULL, BOOL
            wire[tag] = member
    return wire


def _record_delimiter(processing: dict[str, Any]) -> bytes:
    """The delimiter an enabled AppendDelimiterToRecord processor adds (newline by default)."""
    if str(processing.get("Enabled", "false")).lower() != "true":
        return b""
    for processor in processing.get("Processors", []):
        if processor.get("Type") == "AppendDelimiterToRecord":
            parameters = {
                p["ParameterName"]: p["ParameterValue"] for p in processor.get("Parameters", [])
            }
            # Written with escapes in templates ("\\n"), as Firehose reads it.
            return codecs.decode(parameters.get("Delimiter", "\\n"), "unicode_escape").encode()
    return b""


def main() -> int:
    apply_fixes()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
