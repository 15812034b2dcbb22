"""`serverless package` (osls, offline) for one stack: the artifacts that would deploy to AWS, with
a placeholder in place of the stack's dependencies layer (see `LAYER_DIR_VARIABLE`)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Where a serverless.yml takes its layer's folder from (`path: ${env:SHOP_LAYER_DIR, ...}`). A
# layer holds wheels for the Lambda runtime's machine, which cannot run here, and the functions
# run on the workspace's own site-packages: so a placeholder is packaged in its place, which the
# transform then leaves out, and `make up` needs neither the layer's build nor PyPI.
LAYER_DIR_VARIABLE = "SHOP_LAYER_DIR"


class DeployError(RuntimeError):
    """A stack could not be packaged or deployed; the message names the stack and the cause."""


@dataclass(frozen=True)
class Package:
    """What `serverless package` produced for one stack."""

    source_dir: Path
    stack_name: str
    directory: Path
    create_template: dict[str, Any]
    update_template: dict[str, Any]

    @property
    def artifacts(self) -> list[Path]:
        return sorted(self.directory.glob("*.zip"))


def package(
    source_dir: Path,
    *,
    stage: str,
    output_dir: Path,
    serverless: Path,
    params: Mapping[str, str] | None = None,
) -> Package:
    """Run `serverless package` (offline) for the stack in `source_dir`. `params` are passed as
    `--param name=value`, which outrank the stage's own `params:` in the serverless.yml."""
    output_dir = output_dir.resolve()  # the CLI runs in the stack's folder
    output_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    placeholder = output_dir.parent / f"{output_dir.name}-layer-placeholder"
    (placeholder / "python").mkdir(parents=True, exist_ok=True)
    (placeholder / "python" / "README.txt").write_text(
        "The local cloud's stand-in for a dependencies layer: it deploys no layer.\n"
    )
    param_options = [f"--param={name}={value}" for name, value in sorted((params or {}).items())]
    completed = subprocess.run(
        [
            str(serverless),
            "package",
            "--stage",
            stage,
            "--package",
            str(output_dir),
            *param_options,
        ],
        cwd=source_dir,
        capture_output=True,
        text=True,
        check=False,
        # osls takes a layer's path relative to the stack's folder only.
        env={**os.environ, LAYER_DIR_VARIABLE: os.path.relpath(placeholder, source_dir)},
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip().splitlines()
        raise DeployError(
            f"stack in {source_dir}: `serverless package` failed:\n  " + "\n  ".join(output[-15:])
        )
    state = json.loads((output_dir / "serverless-state.json").read_text())
    service = state["service"]["service"]
    logger.info(
        "stack packaged",
        extra={"stack": f"{service}-{stage}", "seconds": round(time.monotonic() - started, 2)},
    )
    return Package(
        source_dir=source_dir,
        stack_name=f"{service}-{stage}",
        directory=output_dir,
        create_template=json.loads(
            (output_dir / "cloudformation-template-create-stack.json").read_text()
        ),
        update_template=json.loads(
            (output_dir / "cloudformation-template-update-stack.json").read_text()
        ),
    )
