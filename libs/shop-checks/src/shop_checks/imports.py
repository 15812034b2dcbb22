"""The import boundaries of decision 0001, checked by import-linter over packages it discovers:

- services are independent: none imports another, directly or through anything else;
- libraries know no service (decision 0002);
- services import neither the local cloud nor the event hub, which are only their dev
  dependencies: a deployed function would fail to import them.

The packages are found under `services/*/src/`, `libs/*/src/` and `infra/*/src/`, so a new
service is checked from its first commit without anyone editing a contract.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def packages(root: Path, kind: str) -> dict[str, Path]:
    """The importable packages of every member of one kind (`services`, `libs`, `infra`), by name,
    each with the `src` folder that holds it."""
    return {
        init.parent.name: init.parent.parent
        for init in sorted(root.glob(f"{kind}/*/src/*/__init__.py"))
    }


def import_contracts(root: Path) -> str:
    """The import-linter configuration (TOML) for the members under `root`."""
    services = sorted(packages(root, "services"))
    libs = sorted(packages(root, "libs"))
    infra = sorted(packages(root, "infra"))
    lines = [
        "[tool.importlinter]",
        f"root_packages = {json.dumps(services + libs + infra)}",
        "include_external_packages = false",
    ]

    def contract(name: str, kind: str, **options: list[str]) -> None:
        lines.extend(["", "[[tool.importlinter.contracts]]", f"name = {json.dumps(name)}"])
        lines.append(f'type = "{kind}"')
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in options.items())

    # With one service the contract holds trivially; it is there so the second is checked at once.
    if services:
        contract("No service imports another", "independence", modules=services)
    if services and libs:
        contract(
            "Libraries know no service",
            "forbidden",
            source_modules=libs,
            forbidden_modules=services,
        )
    if services and infra:
        contract(
            "Services import neither the local cloud nor the event hub",
            "forbidden",
            source_modules=services,
            forbidden_modules=infra,
        )
    return "\n".join(lines) + "\n"


def lint_imports(root: Path, *, cache_dir: Path | None = None) -> int:
    """Run import-linter over the members under `root`; its exit status (0: every contract kept).
    Its report goes to this process's standard output."""
    sources = [
        str(src)
        for kind in ("services", "libs", "infra")
        for src in sorted(set(packages(root, kind).values()))
    ]
    environment = dict(os.environ)
    # The packages are looked up on sys.path; the members' src folders make that true outside the
    # workspace environment too (a copy of the repo in a test).
    environment["PYTHONPATH"] = os.pathsep.join(
        [*sources, *filter(None, [environment.get("PYTHONPATH")])]
    )
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "importlinter.toml"
        config.write_text(import_contracts(root))
        cache = ["--cache-dir", str(cache_dir)] if cache_dir else ["--no-cache"]
        command = [sys.executable, "-c", _ENTRY, "--no-logo", *cache, str(config)]
        return subprocess.run(command, env=environment, cwd=root, check=False).returncode


# lint-imports' console script, run with this interpreter whatever PATH says.
_ENTRY = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
