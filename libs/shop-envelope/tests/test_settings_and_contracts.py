"""A function's settings fail once, at cold start, naming each bad setting; a service's committed
contracts are its code's, and any drift is named."""

from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError
from shop_envelope import DomainEvent, WireModel, describe
from shop_envelope.contracts import Contracts
from shop_envelope.settings import FunctionSettings, SettingsError

IDENTITY = {"POWERTOOLS_SERVICE_NAME": "inventory", "STAGE": "dev", "AWS_REGION": "eu-west-1"}


class ListenerSettings(FunctionSettings):
    table_name: str = Field(alias="TABLE_NAME", min_length=1)
    batch_limit: int = Field(default=10, alias="BATCH_LIMIT", ge=1)


def test_settings_are_read_from_the_environment_by_their_names() -> None:
    settings = ListenerSettings.from_environment(
        IDENTITY | {"TABLE_NAME": "stock", "AWS_LAMBDA_FUNCTION_NAME": "inventory-dev-listener"}
    )

    events = settings.event_factory()
    assert (settings.table_name, settings.batch_limit) == ("stock", 10)
    assert (events.source, events.stage, events.region, events.function_name) == (
        "inventory",
        "dev",
        "eu-west-1",
        "inventory-dev-listener",
    )


def test_every_bad_setting_is_named_in_one_error() -> None:
    with pytest.raises(SettingsError) as raised:
        ListenerSettings.from_environment({"STAGE": "dev", "BATCH_LIMIT": "0"})

    message = str(raised.value)
    assert message.startswith("ListenerSettings from the environment: ")
    for name in ("POWERTOOLS_SERVICE_NAME", "TABLE_NAME", "BATCH_LIMIT"):
        assert name in message


class Line(WireModel):
    sku: str
    unit_price: int = Field(gt=0)


def test_describe_says_where_and_what_in_one_line() -> None:
    class Order(BaseModel):
        lines: list[Line]

    with pytest.raises(ValidationError) as raised:
        Order.model_validate({"lines": [{"sku": "a", "unitPrice": 0}, {}]})

    assert describe(raised.value, limit=2) == (
        "lines.0.unitPrice: Input should be greater than 0; lines.1.sku: Field required (+1 more)"
    )
    assert describe([{"loc": (), "msg": "Invalid JSON"}], root="(root)") == "(root): Invalid JSON"


class StockChanged(DomainEvent):
    type: Literal["stock-changed"] = "stock-changed"
    line: Line


class StockCounted(DomainEvent):
    type: Literal["stock-counted"] = "stock-counted"
    line: Line


def test_written_contracts_show_no_drift(tmp_path: Path) -> None:
    contracts = Contracts(tmp_path, produces=[StockChanged], consumes=[StockCounted])

    written = contracts.write()

    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "consumes/stock-counted.json",
        "produces/stock-changed.json",
    ]
    assert contracts.drift() == []


def test_drift_names_each_stale_missing_and_extra_contract(tmp_path: Path) -> None:
    # Given contracts written, then one edited by hand, one deleted and one left from the past
    Contracts(tmp_path, produces=[StockChanged, StockCounted], consumes=[]).write()
    (tmp_path / "produces" / "stock-changed.json").write_text("{}\n")
    contracts = Contracts(tmp_path, produces=[StockChanged], consumes=[StockCounted])

    # When they are compared with the code
    problems = contracts.drift()

    # Then each difference is one line, saying what to run
    assert problems == [
        "consumes/stock-counted.json: missing (run `make contracts`)",
        "produces/stock-counted.json: not in the code (run `make contracts`)",
        "produces/stock-changed.json: stale (run `make contracts`)",
    ]
    # and writing them again removes what the code no longer has
    contracts.write()
    assert contracts.drift() == []
    assert not (tmp_path / "produces" / "stock-counted.json").exists()
