"""The transform between a `serverless package` template and moto's CloudFormation.

moto's CloudFormation is the deployment engine, but it mishandles or ignores a few things. Every
change made here is in this list, applied in this order, and reported in `Transformed.changes`:

1. **Refuse `Ref` to an event bus.** moto crashes on it; templates must use `Fn::GetAtt Bus.Name`.
2. **Remove event source mappings** (`AWS::Lambda::EventSourceMapping`): moto's own mappings wipe
   DynamoDB stream records and eat SQS messages. The local cloud drives them instead.
3. **Remove `AWS::ApiGatewayV2::*`**, which moto ignores; the local cloud serves the routes. So are
   resources that only make sense with them (Lambda permissions for the API, its outputs).
4. **Create through the API what moto's CloudFormation does not implement but the local cloud
   needs** (Firehose delivery streams): removed from the template, their `Arn` references replaced by
   the ARN they will have, and created once the stack exists.
5. **Route rule targets through queues** (`rule_routes.route_rule_targets`): moto cannot deliver to
   Kinesis or Lambda targets, ignores `InputPath` and delivers for disabled rules.
6. **Re-apply after the stack what moto ignores**: DynamoDB TTL and Kinesis on-demand mode.
7. **Expose each event bus's name**: moto gives a bus no physical id.
8. **Leave Lambda layers out** (`AWS::Lambda::LayerVersion` and each function's `Layers`): a
   layer carries wheels built for the Lambda runtime's machine (arm64), which cannot run here,
   and functions run on the workspace's own interpreter and site-packages instead.
9. **Take function code from a bucket made before the stack**: moto registers a stack's exports
   only when it is created, not updated, so the stack is created in one step, its package already
   uploaded (where `serverless deploy` would create, upload, then update).

Whatever a removed resource needs from the stack (a stream ARN, a function name) is exposed as a
stack output, so CloudFormation itself resolves it; `resolve` reads it back.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.aws import ACCOUNT_ID
from localcloud.deploy.rule_routes import RoutedTarget, route_rule_targets

EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
FIREHOSE = "AWS::KinesisFirehose::DeliveryStream"
LAYER_VERSION = "AWS::Lambda::LayerVersion"
PLACEHOLDER = "localcloud:output:"


class TemplateError(ValueError):
    """A template the transform cannot make work in the local cloud; says which stack and why."""

    def __init__(self, stack: str, problem: str) -> None:
        super().__init__(f"stack {stack}: {problem}")


@dataclass(frozen=True)
class RemovedMapping:
    """An event source mapping taken out of the template; its properties hold placeholders that
    `resolve` fills from the stack's outputs."""

    logical_id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class ApiCreatedResource:
    logical_id: str
    type: str
    properties: dict[str, Any]


@dataclass
class Transformed:
    stack: str
    template: dict[str, Any]
    mappings: list[RemovedMapping] = field(default_factory=list)
    http_api: dict[str, Any] = field(default_factory=dict)  # the removed ApiGatewayV2 resources
    routed_targets: list[RoutedTarget] = field(default_factory=list)
    api_created: list[ApiCreatedResource] = field(default_factory=list)
    ttl: dict[str, str] = field(default_factory=dict)  # table logical id -> TTL attribute
    on_demand_streams: list[str] = field(default_factory=list)
    buses: dict[str, str] = field(default_factory=dict)  # bus logical id -> placeholder of its name
    changes: list[str] = field(default_factory=list)


def transform_template(
    stack: str, template: Mapping[str, Any], *, region: str, code_bucket: str
) -> Transformed:
    """The template ready for moto, and what the local cloud must do around it."""
    result = Transformed(stack, copy.deepcopy(dict(template)))
    resources: dict[str, Any] = result.template.setdefault("Resources", {})
    result.template.setdefault("Outputs", {})
    _refuse_bus_refs(stack, resources)
    _remove_event_source_mappings(result)
    _remove_http_apis(result)
    _create_through_api(result, region)
    try:
        routed_template, result.routed_targets = route_rule_targets(result.template)
    except ValueError as error:
        raise TemplateError(stack, str(error)) from error
    result.template = routed_template
    if result.routed_targets:
        result.changes.append(f"routed {len(result.routed_targets)} rule target(s) through queues")
    _note_ignored_settings(result)
    _expose_bus_names(result)
    _remove_layers(result)
    _code_from(result, code_bucket)
    return result


def resolve(value: Any, outputs: Mapping[str, str]) -> Any:
    """`value` with every exposed expression replaced by its resolved stack output."""
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        key = value[len(PLACEHOLDER) :]
        if key not in outputs:
            raise KeyError(f"the stack has no output {key!r} to resolve")
        return outputs[key]
    if isinstance(value, dict):
        return {key: resolve(item, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, outputs) for item in value]
    return value


def _expose(template: dict[str, Any], value: Any) -> Any:
    """Replace each intrinsic function in `value` by a placeholder for a new stack output."""
    if isinstance(value, dict):
        if len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::")):
            key = (
                "LocalCloud"
                + hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]
            )
            template["Outputs"][key] = {"Value": value}
            return PLACEHOLDER + key
        return {key: _expose(template, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expose(template, item) for item in value]
    return value


def _walk(value: Any) -> Any:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _references(value: Any) -> set[str]:
    """The logical ids `value` refers to through Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    for node in _walk(value):
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((name, argument),) = node.items()
        if name == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif name == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
            found.add(str(target))
    return found


def _refuse_bus_refs(stack: str, resources: dict[str, Any]) -> None:
    buses = {
        name
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::Events::EventBus"
    }
    for name, resource in resources.items():
        for node in _walk(resource):
            if isinstance(node, dict) and node.get("Ref") in buses and len(node) == 1:
                raise TemplateError(
                    stack,
                    f"resource {name} references the event bus {node['Ref']} with Ref, which moto's "
                    f"CloudFormation cannot resolve: use Fn::GetAtt {node['Ref']}.Name (or .Arn)",
                )


def _remove(result: Transformed, logical_ids: set[str], why: str) -> None:
    """Remove resources, then whatever depends on them, listing each removal."""
    resources = result.template["Resources"]
    pending = set(logical_ids)
    while pending:
        for logical_id in sorted(pending):
            resources.pop(logical_id, None)
            result.changes.append(f"removed {logical_id} ({why})")
        gone, pending = pending, set()
        for name, resource in resources.items():
            depends = resource.get("DependsOn")
            if isinstance(depends, str):
                depends = [depends]
            if depends:
                kept = [d for d in depends if d not in gone]
                resource["DependsOn"] = kept
                if not kept:
                    del resource["DependsOn"]
            if _references({k: v for k, v in resource.items() if k != "DependsOn"}) & gone:
                pending.add(name)
        why = "it depends on a removed resource"
        for output_name, output in list(result.template["Outputs"].items()):
            if _references(output) & gone:
                del result.template["Outputs"][output_name]
                result.changes.append(
                    f"removed output {output_name} (it refers to a removed resource)"
                )


def _remove_event_source_mappings(result: Transformed) -> None:
    resources = result.template["Resources"]
    ids = {name for name, r in resources.items() if r.get("Type") == EVENT_SOURCE_MAPPING}
    for logical_id in sorted(ids):
        properties = _expose(result.template, resources[logical_id].get("Properties", {}))
        result.mappings.append(RemovedMapping(logical_id, properties))
    if ids:
        _remove(result, ids, "event source mapping: the local cloud drives it")


def _remove_http_apis(result: Transformed) -> None:
    resources = result.template["Resources"]
    ids = {
        name
        for name, r in resources.items()
        if str(r.get("Type", "")).startswith("AWS::ApiGatewayV2::")
    }
    if not ids:
        return
    # Kept as they are: the routes name functions by logical id, which stay in the stack.
    result.http_api = {name: copy.deepcopy(resources[name]) for name in ids}
    _remove(result, ids, "HTTP API: the local cloud serves its routes")


def _create_through_api(result: Transformed, region: str) -> None:
    resources = result.template["Resources"]
    for logical_id, resource in sorted(resources.items()):
        if resource.get("Type") != FIREHOSE:
            continue
        properties = resource.get("Properties", {})
        name = properties.get("DeliveryStreamName")
        if not isinstance(name, str):
            raise TemplateError(
                result.stack,
                f"{logical_id} needs a literal DeliveryStreamName to be created locally",
            )
        arn = f"arn:aws:firehose:{region}:{ACCOUNT_ID}:deliverystream/{name}"
        exposed = _expose(result.template, properties)
        result.api_created.append(ApiCreatedResource(logical_id, FIREHOSE, exposed))
        del resources[logical_id]
        literals = {"Arn": arn, "DeliveryStreamName": name, "Ref": name}
        result.template = _with_literals(result.template, logical_id, literals)
        resources = result.template["Resources"]
        result.changes.append(
            f"{logical_id} created through the Firehose API (moto's CloudFormation lacks it)"
        )


def _with_literals(node: Any, logical_id: str, values: Mapping[str, str]) -> Any:
    """`node` with every Fn::GetAtt (and Ref) of `logical_id` replaced by its literal value."""
    if isinstance(node, dict):
        if len(node) == 1:
            ((name, argument),) = node.items()
            if name == "Fn::GetAtt":
                parts = argument if isinstance(argument, list) else str(argument).split(".", 1)
                if parts[0] == logical_id:
                    return values[parts[1]]
            if name == "Ref" and argument == logical_id:
                return values["Ref"]
        return {key: _with_literals(item, logical_id, values) for key, item in node.items()}
    if isinstance(node, list):
        return [_with_literals(item, logical_id, values) for item in node]
    return node


def _remove_layers(result: Transformed) -> None:
    resources = result.template["Resources"]
    # The functions first: `_remove` would take a function that refers to a removed layer with it.
    for logical_id, resource in sorted(resources.items()):
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Lambda::Function" and properties.pop("Layers", None):
            result.changes.append(
                f"{logical_id} without its layers (it runs on the workspace's site-packages)"
            )
    ids = {name for name, r in resources.items() if r.get("Type") == LAYER_VERSION}
    if ids:
        _remove(result, ids, "a layer for the Lambda runtime's machine: not run locally")


def _code_from(result: Transformed, bucket: str) -> None:
    functions = 0
    for resource in result.template["Resources"].values():
        code = (
            resource.get("Properties", {}).get("Code")
            if resource.get("Type") == "AWS::Lambda::Function"
            else None
        )
        if isinstance(code, dict) and "S3Key" in code:
            code["S3Bucket"] = bucket
            functions += 1
    if functions:
        result.changes.append(
            f"code of {functions} function(s) taken from bucket {bucket}, filled first"
        )


def _expose_bus_names(result: Transformed) -> None:
    for logical_id, resource in sorted(result.template["Resources"].items()):
        if resource.get("Type") == "AWS::Events::EventBus":
            result.buses[logical_id] = _expose(
                result.template, {"Fn::GetAtt": [logical_id, "Name"]}
            )


def _note_ignored_settings(result: Transformed) -> None:
    for logical_id, resource in sorted(result.template["Resources"].items()):
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::DynamoDB::Table":
            ttl = properties.get("TimeToLiveSpecification") or {}
            if ttl.get("Enabled") in (True, "true") and ttl.get("AttributeName"):
                result.ttl[logical_id] = str(ttl["AttributeName"])
                result.changes.append(
                    f"TTL on {logical_id}.{ttl['AttributeName']} re-applied after the stack"
                )
        elif resource.get("Type") == "AWS::Kinesis::Stream":
            mode = (properties.get("StreamModeDetails") or {}).get("StreamMode")
            if mode == "ON_DEMAND":
                result.on_demand_streams.append(logical_id)
                result.changes.append(f"on-demand mode of {logical_id} re-applied after the stack")
