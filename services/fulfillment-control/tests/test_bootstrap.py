"""The composition root as the handlers use it: settings from the environment, the real adapters
against moto's server (the store in DynamoDB, the timers in EventBridge Scheduler); and each
handler no more than that wiring."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fulfillment_control import bootstrap
from fulfillment_control.model import DEFAULT_PAYMENT_WINDOW_SECONDS
from fulfillment_control.settings import ListenerSettings, TriggerSettings
from localcloud.aws import Aws
from shop_envelope import deterministic_id
from shop_envelope.settings import SettingsError
from shop_testkit import FakePublisher, TableStream, kinesis_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HANDLERS = Path(bootstrap.__file__).parent / "handlers"


@pytest.fixture
def environment(
    aws: Aws,
    dynamodb: DynamoDBClient,
    stack_environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        **aws.environment(),
        **stack_environment,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)


def placed(order_id: str, timestamp: int) -> str:
    return json.dumps(
        {
            "id": deterministic_id("order-placed", order_id),
            "type": "order-placed",
            "timestamp": timestamp,
            "partitionKey": order_id,
            "tags": {"source": "order-bff"},
            "order": {"id": order_id, "customerId": "c-1", "lines": []},
        }
    )


@pytest.mark.usefixtures("environment")
def test_an_order_placed_is_collected_and_opens_its_window_as_a_schedule(
    aws: Aws, table_stream: TableStream
) -> None:
    # Given an order placed now, as the stream delivers it to the listener
    now = 1_900_000_000_000
    listener = bootstrap.listener(ListenerSettings.from_environment(), publisher=FakePublisher())
    assert listener.process(kinesis_event(placed("order-1", now))) == {"batchItemFailures": []}

    # When the trigger handles the collected event's INSERT
    trigger = bootstrap.trigger(TriggerSettings.from_environment(), publisher=FakePublisher())
    assert trigger.process(table_stream.read()) == {"batchItemFailures": []}

    # Then the order's payment window is a one-shot schedule for when it closes
    [summary] = aws.client("scheduler").list_schedules()["Schedules"]
    schedule = aws.client("scheduler").get_schedule(Name=summary["Name"])
    window = json.loads(schedule["Target"]["Input"])
    assert window["timestamp"] == now + DEFAULT_PAYMENT_WINDOW_SECONDS * 1000
    assert window["tags"]["source"] == "fulfillment-control.timers", "its listener collects it"


def test_a_missing_setting_fails_the_cold_start_naming_it(settings_for: Any) -> None:
    with pytest.raises(SettingsError, match="TIMER_ROLE_ARN: Field required"):
        TriggerSettings.from_environment(
            {
                "POWERTOOLS_SERVICE_NAME": "fulfillment-control",
                "STAGE": "t",
                "BUS_NAME": "b",
                "TABLE_NAME": "t",
            }
        )
    with pytest.raises(SettingsError, match="PAYMENT_WINDOW_SECONDS"):
        settings_for(TriggerSettings, "trigger", PAYMENT_WINDOW_SECONDS="soon")


def test_settings_default_once(settings_for: Any) -> None:
    settings = settings_for(TriggerSettings, "trigger")

    assert settings.payment_window_seconds == DEFAULT_PAYMENT_WINDOW_SECONDS
    assert settings.timer_dead_letter_arn is None
    assert settings.event_factory().source == "fulfillment-control"


@pytest.mark.parametrize("function", ["listener", "trigger"])
def test_each_handler_is_only_its_wiring_through_the_composition_root(function: str) -> None:
    # A handler builds its engine once, at cold start, from its settings, and hands every event
    # to it: anything more is a rule in the wrong place.
    module = ast.parse((HANDLERS / f"{function}.py").read_text())
    statements = [s for s in module.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    docstring, built, handle = statements
    assert isinstance(docstring, ast.Expr)
    assert ast.unparse(built) == (
        f"{function} = bootstrap.{function}({function.title()}Settings.from_environment())"
    )
    assert isinstance(handle, ast.FunctionDef)
    assert handle.name == "handle"
    assert [ast.unparse(line) for line in handle.body] == [f"return {function}.process(event)"]
