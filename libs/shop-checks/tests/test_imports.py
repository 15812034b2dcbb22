"""The import contracts, run by import-linter on small repositories made in tmp_path: the same
contracts `make lint` runs, broken on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest
from shop_checks.imports import import_contracts, lint_imports, packages

ROOT = Path(__file__).resolve().parents[3]


def member(root: Path, kind: str, name: str, source: str = "") -> None:
    package = root / kind / name.replace("_", "-") / "src" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(source)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two services, a library and a local cloud, none importing what it must not."""
    member(tmp_path, "libs", "zz_envelope")
    member(tmp_path, "infra", "zz_cloud")
    member(tmp_path, "services", "zz_orders", "import zz_envelope\n")
    member(tmp_path, "services", "zz_stock", "import zz_envelope\n")
    return tmp_path


def test_the_repository_keeps_its_import_contracts(capfd: pytest.CaptureFixture[str]) -> None:
    assert lint_imports(ROOT) == 0
    assert "No service imports another KEPT" in capfd.readouterr().out


def test_every_service_is_discovered_without_a_line_per_service() -> None:
    services = {path.parent.name for path in ROOT.glob("services/*/src")}

    assert {p.replace("_", "-") for p in packages(ROOT, "services")} == services
    assert "inventory" in import_contracts(ROOT)


def test_members_that_keep_their_boundaries_pass(repo: Path) -> None:
    assert lint_imports(repo) == 0


def test_a_service_importing_another_fails(repo: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # Given one service that imports another, even from inside a function
    (repo / "services/zz-stock/src/zz_stock/reserve.py").write_text(
        "def reserve():\n    from zz_orders import Order\n"
    )

    # When the import contracts are checked
    status = lint_imports(repo)

    # Then they fail, naming the contract and the import
    out = capfd.readouterr().out
    assert status != 0
    assert "No service imports another BROKEN" in out
    assert "zz_stock.reserve -> zz_orders" in out


def test_an_import_through_a_library_is_caught_too(
    repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "libs/zz-envelope/src/zz_envelope/__init__.py").write_text("import zz_orders\n")

    assert lint_imports(repo) != 0
    out = capfd.readouterr().out
    assert "Libraries know no service BROKEN" in out
    assert "No service imports another BROKEN" in out


def test_a_service_importing_the_local_cloud_fails(
    repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "services/zz-orders/src/zz_orders/__init__.py").write_text("import zz_cloud\n")

    assert lint_imports(repo, cache_dir=repo / ".cache") != 0
    assert "Services import neither the local cloud nor the event hub BROKEN" in (
        capfd.readouterr().out
    )


def test_without_services_there_is_no_service_contract(tmp_path: Path) -> None:
    member(tmp_path, "libs", "zz_envelope")

    assert "[[tool.importlinter.contracts]]" not in import_contracts(tmp_path)
