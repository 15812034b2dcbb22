"""`shop-checks` as make lint runs it: one line per problem and a non-zero exit, or a summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from shop_checks.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_the_repository_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "--root", str(ROOT)]) == 0
    assert "awaited (docs/awaited-events.json)" in capsys.readouterr().out


def test_each_problem_is_a_line_and_the_exit_is_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the inventory's contracts and an awaited file that lists nothing
    shutil.copytree(
        ROOT / "services/inventory/contracts", tmp_path / "services/inventory/contracts"
    )
    awaited = tmp_path / "awaited.json"
    awaited.write_text(json.dumps({"awaited": {}}))

    # When they are checked
    status = main(["contracts", "--root", str(tmp_path), "--awaited", str(awaited)])

    # Then every consumed type is a line naming the awaited file, and the exit is 1
    err = capsys.readouterr().err.splitlines()
    consumed = sorted(p.stem for p in (ROOT / "services/inventory/contracts/consumes").glob("*"))
    assert status == 1
    assert [line.split(":")[1].strip() for line in err[:-1]] == consumed
    assert all(str(awaited) in line for line in err[:-1])
    assert err[-1] == f"contracts: {len(consumed)} problem(s)"


def test_imports_runs_import_linter(tmp_path: Path) -> None:
    package = tmp_path / "services/zz-a/src/zz_a"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")

    assert main(["imports", "--root", str(tmp_path)]) == 0
