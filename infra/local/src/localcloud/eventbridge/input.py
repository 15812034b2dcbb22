"""What a rule target receives for an event, as EventBridge computes it: `Input`, `InputPath`
(the JSONPath subset EventBridge takes), an `InputTransformer` (`apply_input_transformer`), or the
event whole; and the event read back from a routed queue's message (`event_from_body`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from localcloud.aws import ACCOUNT_ID

if TYPE_CHECKING:
    from localcloud.eventbridge.targets import InputTransformer, RuleTarget

# The envelope fields of an event, in the order AWS writes them.
_EVENT_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources")

MISSING: Any = object()
_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def compile_path(path: str) -> tuple[str | int, ...]:
    """The steps of a JSONPath in the subset EventBridge takes: `$`, `$.a.b`, `$.a[0]`."""
    if not path.startswith("$"):
        raise ValueError(f"unsupported JSONPath {path!r}: it must start with $")
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if step is None or step.group(0) == ".*":
            raise ValueError(f"unsupported JSONPath {path!r}: only $, .name and [index] steps")
        steps.append(step.group(1) if step.group(1) is not None else int(step.group(2)))
        position = step.end()
    return tuple(steps)


def select(document: Any, path: str) -> Any:
    """The value at `path` in `document`, or `MISSING`."""
    value = document
    for step in compile_path(path):
        in_list = isinstance(step, int) and isinstance(value, list) and step < len(value)
        in_object = isinstance(step, str) and isinstance(value, dict) and step in value
        if not (in_list or in_object):
            return MISSING
        value = value[step]
    return value


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def apply_input_transformer(
    transformer: InputTransformer,
    event: Mapping[str, Any],
    *,
    rule_name: str,
    rule_arn: str,
    ingestion_time: float | None = None,
) -> str:
    """The InputTemplate with every <variable> filled, quoted as AWS documents: inside a JSON
    string a value goes in as its text, unescaped; elsewhere in a JSON template as JSON; in a
    template that is not JSON, always as its text."""
    values: dict[str, Any] = {name: select(event, path) for name, path in transformer.paths.items()}
    ingestion = iso(ingestion_time) if ingestion_time is not None else event.get("time", "")
    values.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
            "aws.events.event.json": dict(event),
            "aws.events.event.ingestion-time": ingestion,
        }
    )
    template = transformer.template
    json_template = template.lstrip()[:1] in ("{", "[", '"')
    out: list[str] = []
    in_string = False
    position = 0
    while position < len(template):
        char = template[position]
        placeholder = _PLACEHOLDER.match(template, position) if char == "<" else None
        if placeholder and placeholder.group(1) in values:
            value = values[placeholder.group(1)]
            as_text = in_string or not json_template
            if value is MISSING:
                # A variable whose path is not in the event has no value; null keeps JSON valid.
                out.append("" if as_text else "null")
            elif as_text and isinstance(value, str):
                out.append(value)
            else:
                out.append(compact(value))
            position = placeholder.end()
            continue
        if json_template and in_string and char == "\\":
            out.append(template[position : position + 2])
            position += 2
            continue
        if json_template and char == '"':
            in_string = not in_string
        out.append(char)
        position += 1
    return "".join(out)


def target_input(
    target: RuleTarget,
    event: Mapping[str, Any],
    *,
    rule_arn: str,
    ingestion_time: float | None = None,
) -> str:
    """What the target receives for `event`: Input, InputPath, InputTransformer or the event."""
    if target.input is not None:
        return target.input
    if target.input_path is not None:
        selected = select(event, target.input_path)
        return compact(None if selected is MISSING else selected)
    if target.input_transformer is not None:
        return apply_input_transformer(
            target.input_transformer,
            event,
            rule_name=target.rule_name,
            rule_arn=rule_arn,
            ingestion_time=ingestion_time,
        )
    return compact(event)


def event_from_body(body: str) -> tuple[dict[str, Any], float | None]:
    """The event in a routed message as AWS would deliver it, and when the bus took it (epoch
    seconds) if moto says so."""
    raw = json.loads(body)
    if not isinstance(raw, dict) or "detail" not in raw:
        raise ValueError("the message is not an EventBridge event")
    ingestion = raw.pop("ingestion-time", None)
    event: dict[str, Any] = {key: raw.pop(key) for key in _EVENT_FIELDS if key in raw}
    event.setdefault("version", "0")
    event.setdefault("account", ACCOUNT_ID)
    if isinstance(event.get("time"), int | float):
        event["time"] = iso(float(event["time"]))
    event.setdefault("resources", [])
    event["detail"] = raw.pop("detail")
    event.update(raw)
    return event, float(ingestion) if isinstance(ingestion, int | float) else None


def iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
