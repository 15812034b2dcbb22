"""`inventory-catalog`: the seed catalog loaded into a deployed inventory, found by its stack."""

import json
import socket
from pathlib import Path

import pytest
from inventory.adapters.dynamodb import DynamoDBStockLedger
from inventory.cli import CatalogError, main, read_catalog
from inventory.domain import StockLevel
from inventory.table import table_definition
from localcloud.aws import Aws

SEED = Path(__file__).parents[1] / "seed" / "catalog.json"


@pytest.fixture
def endpoints(aws: Aws, tmp_path: Path) -> Path:
    """A deployed inventory-test stack, and the endpoints file the local cloud writes."""
    definition = table_definition("inventory-test")
    aws.client("cloudformation").create_stack(
        StackName="inventory-test",
        TemplateBody=json.dumps(
            {
                "Resources": {
                    "Table": {
                        "Type": "AWS::DynamoDB::Table",
                        "Properties": {
                            key: value
                            for key, value in definition.items()
                            if key != "StreamSpecification"
                        },
                    }
                },
                "Outputs": {"TableName": {"Value": {"Ref": "Table"}}},
            }
        ),
    )
    path = tmp_path / "endpoints.json"
    path.write_text(json.dumps({"aws": aws.endpoint, "region": aws.region}))
    return path


def catalog(*arguments: str, endpoints: Path) -> int:
    return main(["--stage", "test", "--local-cloud", str(endpoints), *arguments])


def test_the_seed_catalog_is_twenty_valid_products() -> None:
    products = read_catalog(SEED)

    assert len(products) == 20
    assert all(p.price.currency == "EUR" and p.stock > 0 for p in products)


def test_loading_lists_every_product_once(
    aws: Aws, endpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the seed catalog is loaded twice
    assert catalog("load", str(SEED), endpoints=endpoints) == 0
    assert catalog("load", str(SEED), endpoints=endpoints) == 0

    # Then the first listed all twenty and the second changed nothing
    _first, second = capsys.readouterr().out.split("20 products: 20 listed, 0 unchanged\n")
    assert second.endswith("20 products: 0 listed, 20 unchanged\n")
    ledger = DynamoDBStockLedger("inventory-test", client=aws.client("dynamodb"))
    assert ledger.stock("TEAPOT-CAST") == StockLevel("TEAPOT-CAST", on_hand=8, reserved=0)


def test_restocking_adds_units(
    aws: Aws, endpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog("load", str(SEED), endpoints=endpoints)

    assert catalog("restock", "TEAPOT-CAST", "4", endpoints=endpoints) == 0

    assert capsys.readouterr().out.endswith("TEAPOT-CAST: 12 on hand, 12 available\n")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["restock", "NO-SUCH-SKU", "1"], "no product with sku 'NO-SUCH-SKU'"),
        (["restock", "TEAPOT-CAST", "0"], "restock at least one unit"),
        (["load", "no-such-file.json"], "no-such-file.json: No such file or directory"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    aws: Aws,
    endpoints: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    catalog("load", str(SEED), endpoints=endpoints)
    capsys.readouterr()

    assert catalog(*arguments, endpoints=endpoints) == 1

    assert message in capsys.readouterr().err


def test_a_catalog_file_with_mistakes_names_each(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.json"
    bad.write_text(
        json.dumps(
            [
                {"sku": "A", "name": "A", "price": {"amount": -1, "currency": "EUR"}, "stock": 1},
                {"sku": "B", "name": "B", "price": {"amount": 1, "currency": "eur"}, "stock": 1},
            ]
        )
    )

    with pytest.raises(CatalogError) as error:
        read_catalog(bad)

    assert "0.price.amount" in str(error.value)
    assert "1.price.currency" in str(error.value)


def test_a_catalog_listing_a_sku_twice_is_refused(tmp_path: Path) -> None:
    twice = tmp_path / "catalog.json"
    product = {"sku": "C", "name": "C", "price": {"amount": 1, "currency": "EUR"}, "stock": 1}
    twice.write_text(json.dumps([product, product]))

    with pytest.raises(CatalogError, match="more than once: C"):
        read_catalog(twice)


def test_a_stage_not_deployed_is_named(
    aws: Aws, endpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--stage", "nowhere", "--local-cloud", str(endpoints), "load", str(SEED)]) == 1

    assert "stack inventory-nowhere not found" in capsys.readouterr().err


def test_a_local_cloud_that_is_not_running_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no endpoints file: no local cloud has started, or the last one stopped
    missing = tmp_path / "endpoints.json"

    # When the catalog is loaded into it
    status = main(["--stage", "local", "--local-cloud", str(missing), "load", str(SEED)])

    # Then one line says so and how to start one, and the exit is non-zero
    assert status == 1
    [line] = capsys.readouterr().err.splitlines()
    assert "the local cloud is not running" in line
    assert "`make up` in another terminal" in line


def test_endpoints_left_by_a_killed_local_cloud_are_not_a_running_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an endpoints file whose AWS endpoint nothing listens on (a cloud killed with -9)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    left_over = tmp_path / "endpoints.json"
    left_over.write_text(json.dumps({"aws": f"http://127.0.0.1:{closed_port}", "region": "x"}))

    # When the catalog is loaded into it
    status = main(["--stage", "local", "--local-cloud", str(left_over), "load", str(SEED)])

    # Then it is named as not running, in one line, with how to start one
    assert status == 1
    [line] = capsys.readouterr().err.splitlines()
    assert f"nothing answers at http://127.0.0.1:{closed_port}" in line
    assert "`make up` in another terminal" in line


def test_without_the_local_cloud_it_finds_the_stack_where_the_credentials_point(
    aws: Aws, endpoints: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the default credential chain and endpoint (here moto, as an account would be)
    for name, value in aws.environment().items():
        monkeypatch.setenv(name, value)

    # When the catalog is loaded without --local-cloud, as against AWS
    assert main(["--stage", "test", "load", str(SEED)]) == 0

    # Then it found the stack inventory-test and its table through CloudFormation
    assert capsys.readouterr().out.endswith("20 products: 20 listed, 0 unchanged\n")
