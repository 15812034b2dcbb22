"""Where a running local cloud is, and whether it is running at all: the one check every command
that needs a running cloud makes before it does anything.

`make up` writes `endpoints.json` into the state dir once every stack is deployed and removes it
when the cloud stops; a cloud killed with -9 leaves it behind, so a file is not enough: its AWS
endpoint must also accept a connection."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENDPOINTS_FILE = "endpoints.json"
START_HINT = "start it with `make up` in another terminal"
# Loopback answers in microseconds; a short timeout keeps every command fast when nothing listens.
CONNECT_TIMEOUT_SECONDS = 0.5


class CloudNotRunning(Exception):
    """No local cloud answers for this state dir; the message is one line that says how to start
    one."""


def endpoints_path(state_dir: Path) -> Path:
    return state_dir / ENDPOINTS_FILE


def running_endpoints(state_dir: Path) -> dict[str, Any]:
    """The endpoints of the local cloud running with this state dir, or `CloudNotRunning`."""
    path = endpoints_path(state_dir)
    try:
        endpoints = json.loads(path.read_text())
    except FileNotFoundError:
        raise CloudNotRunning(f"the local cloud is not running (no {path}): {START_HINT}") from None
    except (OSError, ValueError) as error:
        raise CloudNotRunning(
            f"the local cloud is not running ({path} is unreadable: {error}): {START_HINT}"
        ) from None
    aws = endpoints.get("aws") if isinstance(endpoints, dict) else None
    if not isinstance(aws, str) or not answers(aws):
        raise CloudNotRunning(
            f"the local cloud is not running ({path} is left over: nothing answers at {aws}):"
            f" {START_HINT}"
        )
    return dict(endpoints)


def answers(url: str, *, timeout_seconds: float = CONNECT_TIMEOUT_SECONDS) -> bool:
    """Whether something accepts a TCP connection at the URL's host and port."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_seconds):
            return True
    except OSError:
        return False


def write_endpoints(state_dir: Path, endpoints: dict[str, Any]) -> Path:
    """Write the file whole or not at all, so whoever waits for it never reads half of it."""
    path = endpoints_path(state_dir)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(endpoints, indent=2) + "\n")
    partial.replace(path)
    return path


def remove_endpoints(state_dir: Path) -> None:
    endpoints_path(state_dir).unlink(missing_ok=True)
