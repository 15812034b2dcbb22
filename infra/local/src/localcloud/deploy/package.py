"""`serverless package` (osls, offline) for one stack: the artifacts that would deploy to AWS, with
a placeholder in place of the stack's dependencies layer (see `LAYER_DIR_VARIABLE`)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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


# What a package depends on besides its stack's folder: the CLI wrapper's folder (the osls plugin
# beside it) and the lock of the osls install.
_TOOLING = ("osls-offline-layers.js",)
# Never part of what is packaged: outputs, caches and the tests (every stack's patterns start
# from `!**` and name only its code).
_NOT_SOURCE = {
    "tests",
    ".serverless",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}


def package(
    source_dir: Path,
    *,
    stage: str,
    output_dir: Path,
    serverless: Path,
    params: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> Package:
    """Run `serverless package` (offline) for the stack in `source_dir`. `params` are passed as
    `--param name=value`, which outrank the stage's own `params:` in the serverless.yml.

    With `cache_dir`, a stack packaged before from the same inputs (every file of its folder but
    its tests, the stage, the params and environment variables its serverless.yml reads, the CLI
    and its plugin) is copied from there instead of packaged again: the same artifacts, without the
    seconds of CPU each `serverless package` costs."""
    output_dir = output_dir.resolve()  # the CLI runs in the stack's folder
    with _packaging(source_dir):
        return _package_or_copy(source_dir, stage, output_dir, serverless, params, cache_dir)


def _package_or_copy(
    source_dir: Path,
    stage: str,
    output_dir: Path,
    serverless: Path,
    params: Mapping[str, str] | None,
    cache_dir: Path | None,
) -> Package:
    key = _inputs_key(source_dir, stage, serverless, params) if cache_dir else None
    cached = cache_dir / key if cache_dir and key else None
    if cached is not None and (cached / "serverless-state.json").exists():
        shutil.rmtree(output_dir, ignore_errors=True)
        shutil.copytree(cached, output_dir)
        return _read(source_dir, stage, output_dir, cached=True, seconds=0.0)
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
    packaged = _read(
        source_dir, stage, output_dir, cached=False, seconds=time.monotonic() - started
    )
    if cached is not None:
        # Written aside, then renamed into place: a run stopped mid-copy leaves no half package.
        aside = cached.with_name(f"{cached.name}.{os.getpid()}.{time.monotonic_ns()}")
        shutil.copytree(output_dir, aside)
        try:
            aside.rename(cached)
        except OSError:
            shutil.rmtree(aside, ignore_errors=True)
    return packaged


@contextmanager
def _packaging(source_dir: Path) -> Iterator[None]:
    """Held while one stack is packaged, by any process on this machine: osls writes the stack's
    own folder (`.serverless/`) as it packages, so two packagings of one stack at once break each
    other, and the one that waits then finds the other's package in the cache."""
    name = hashlib.sha256(str(source_dir.resolve()).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"localcloud-package-{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read(
    source_dir: Path, stage: str, output_dir: Path, *, cached: bool, seconds: float
) -> Package:
    state = json.loads((output_dir / "serverless-state.json").read_text())
    service = state["service"]["service"]
    logger.info(
        "stack packaged",
        extra={"stack": f"{service}-{stage}", "seconds": round(seconds, 2), "cached": cached},
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


def _inputs_key(
    source_dir: Path, stage: str, serverless: Path, params: Mapping[str, str] | None
) -> str:
    """A digest of everything `serverless package` reads for this stack."""
    digest = hashlib.sha256()
    template = (source_dir / "serverless.yml").read_text()
    # A param the template never reads (the storefront's origin, for most stacks) changes nothing.
    read = set(re.findall(r"\$\{param:([A-Za-z0-9_-]+)", template))
    used = sorted((name, value) for name, value in (params or {}).items() if name in read)
    digest.update(json.dumps([stage, used]).encode())
    for name in sorted(set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)", template))):
        digest.update(f"env {name}={os.environ.get(name)}".encode())
    tooling = [serverless, *(serverless.parent / name for name in _TOOLING)]
    lock = serverless.parent.parent / "package-lock.json"
    for path in [*tooling, lock, *_source_files(source_dir)]:
        if path.is_file():
            digest.update(str(path.resolve()).encode())
            digest.update(path.read_bytes())
    return f"{source_dir.resolve().name}-{stage}-{digest.hexdigest()[:24]}"


def _source_files(folder: Path) -> list[Path]:
    files = []
    for directory, subdirectories, names in os.walk(folder):
        subdirectories[:] = sorted(d for d in subdirectories if d not in _NOT_SOURCE)
        files += [Path(directory) / name for name in sorted(names) if not name.endswith(".pyc")]
    return files
