"""How the local cloud's own log lines look: the message, then every field it was logged with.

The parts log a constant message with fields (`extra={"function": ..., "error": ...}`); a plain
`logging.Formatter` drops those fields, so "event source batch failed" would say neither which
function nor why. `FieldsFormatter` appends them as `key=value`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# In the state dir: this run's log, and the previous run's, kept aside when a new one starts.
LOG_FILE = "localcloud.log"
PREVIOUS_LOG_FILE = "localcloud.previous.log"
# Everything a LogRecord carries without `extra`, whatever the Python version adds.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
}


class FieldsFormatter(logging.Formatter):
    """`FORMAT`, then the record's extra fields as `key=value`; a value with a space, a quote or
    a line break is JSON-quoted, so a line stays one line and splits back into its fields."""

    def __init__(self, fmt: str = FORMAT) -> None:
        super().__init__(fmt)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        # formatMessage rather than format: the fields belong on the message's line, before any
        # traceback the base class appends.
        fields = " ".join(
            f"{key}={_value(value)}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        )
        line = super().formatMessage(record)
        return f"{line} {fields}" if fields else line


def _value(value: Any) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value, separators=(",", ":"), default=str)
    else:
        text = str(value)
    if not text or any(c.isspace() or c in "\"'" for c in text):
        return json.dumps(text)
    return text


def terminal_handler() -> logging.Handler:
    handler = logging.StreamHandler()
    handler.setFormatter(FieldsFormatter())
    return handler


def file_handler(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(FieldsFormatter())
    return handler
