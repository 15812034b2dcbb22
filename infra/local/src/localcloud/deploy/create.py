"""Creating a stack in moto from a package: the package uploaded to a deployment bucket, the stack
created from the `serverless package` template after the transform (one create rather than
`serverless deploy`'s create-upload-update: moto registers exports only on create), what moto
ignores re-applied, and what the local cloud must run (functions, event source mappings, HTTP
routes, rule targets) read back from the stack."""

from __future__ import annotations

import json
import logging
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud.aws import Aws
from localcloud.deploy.package import DeployError, Package
from localcloud.deploy.transform import Transformed, resolve, transform_template
from localcloud.event_sources import EventSourceMapping
from localcloud.eventbridge import RuleTarget
from localcloud.http_api import Route, routes_from_template
from localcloud.lambda_.functions import FunctionSpec

logger = logging.getLogger(__name__)

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


@dataclass
class DeployedStack:
    name: str
    outputs: dict[str, str]
    resources: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    buses: list[str] = field(default_factory=list)  # the names of the event buses it created
    functions: list[FunctionSpec] = field(default_factory=list)
    mappings: list[EventSourceMapping] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    http_api_cors: dict[str, Any] | None = None
    rule_targets: list[RuleTarget] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


def deploy(aws: Aws, packaged: Package, *, code_root: Path) -> DeployedStack:
    """Create the stack in moto and read back what the local cloud must run."""
    name = packaged.stack_name
    bucket = f"localcloud-deployments-{name}".lower()[:63]
    transformed = transform_template(
        name, packaged.update_template, region=aws.region, code_bucket=bucket
    )
    _upload_artifacts(aws, name, packaged, transformed.template, bucket)
    cloudformation = aws.client("cloudformation")
    _run(
        aws,
        name,
        lambda: cloudformation.create_stack(
            StackName=name,
            TemplateBody=json.dumps(transformed.template),
            Capabilities=CAPABILITIES,
        ),
    )
    outputs = _outputs(aws, name)
    physical = _physical_ids(aws, name)
    _create_through_api(aws, transformed, outputs)
    _reapply_ignored_settings(aws, transformed, physical)
    deployed = DeployedStack(
        name=name,
        outputs=outputs,
        resources=dict(physical),
        buses=[resolve(placeholder, outputs) for placeholder in transformed.buses.values()],
        changes=list(transformed.changes),
    )
    deployed.functions = _functions(aws, name, packaged, transformed, physical, code_root)
    deployed.mappings = [_mapping(mapping.properties, outputs) for mapping in transformed.mappings]
    if transformed.http_api:
        deployed.routes = routes_from_template(
            {"Resources": transformed.http_api}, lambda logical_id: physical[logical_id]
        )
        deployed.http_api_cors = _cors(transformed.http_api)
    deployed.rule_targets = [target.resolve(outputs) for target in transformed.routed_targets]
    logger.info(
        "stack deployed",
        extra={
            "stack": name,
            "functions": len(deployed.functions),
            "changes": len(deployed.changes),
        },
    )
    return deployed


def _run(aws: Aws, stack: str, operation: Any, *, timeout_seconds: float = 120.0) -> None:
    """Start a stack operation and wait for it to settle; a failure says which resources failed."""
    cloudformation = aws.client("cloudformation")
    try:
        operation()
    except Exception as error:
        raise DeployError(f"stack {stack}: {error}") from error
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        status = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        time.sleep(0.05)
    else:
        raise DeployError(f"stack {stack}: still in progress after {timeout_seconds:.0f}s")
    if status.endswith(("FAILED", "ROLLBACK_COMPLETE")) or "ROLLBACK" in status:
        events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
        reasons = [
            f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason')}"
            for event in events
            if "FAILED" in event.get("ResourceStatus", "")
        ]
        raise DeployError(f"stack {stack}: {status}: " + "; ".join(reasons[:5]))


def _outputs(aws: Aws, stack: str) -> dict[str, str]:
    described = aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def _physical_ids(aws: Aws, stack: str) -> dict[str, str]:
    resources = aws.client("cloudformation").list_stack_resources(StackName=stack)
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources["StackResourceSummaries"]
    }


def _upload_artifacts(
    aws: Aws, stack: str, packaged: Package, template: Mapping[str, Any], bucket: str
) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.region})
    by_name = {artifact.name: artifact for artifact in packaged.artifacts}
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        key = resource["Properties"]["Code"].get("S3Key")
        artifact = by_name.get(Path(str(key)).name)
        if artifact is None:
            raise DeployError(f"stack {stack}: no package found for function {logical_id} ({key})")
        s3.put_object(Bucket=bucket, Key=key, Body=artifact.read_bytes())


def _create_through_api(aws: Aws, transformed: Transformed, outputs: Mapping[str, str]) -> None:
    for resource in transformed.api_created:
        properties = resolve(resource.properties, outputs)
        destination = properties.get("ExtendedS3DestinationConfiguration") or properties.get(
            "S3DestinationConfiguration"
        )
        aws.client("firehose").create_delivery_stream(
            DeliveryStreamName=properties["DeliveryStreamName"],
            DeliveryStreamType=properties.get("DeliveryStreamType", "DirectPut"),
            ExtendedS3DestinationConfiguration={
                key: value
                for key, value in destination.items()
                if key
                in (
                    "BucketARN",
                    "RoleARN",
                    "Prefix",
                    "ErrorOutputPrefix",
                    "BufferingHints",
                    "CompressionFormat",
                    "ProcessingConfiguration",
                )
            },
        )


def _reapply_ignored_settings(
    aws: Aws, transformed: Transformed, physical: Mapping[str, str]
) -> None:
    for logical_id, attribute in transformed.ttl.items():
        aws.client("dynamodb").update_time_to_live(
            TableName=physical[logical_id],
            TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
        )
    for logical_id in transformed.on_demand_streams:
        kinesis = aws.client("kinesis")
        arn = kinesis.describe_stream_summary(StreamName=physical[logical_id])[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": "ON_DEMAND"})


def _functions(
    aws: Aws,
    stack: str,
    packaged: Package,
    transformed: Transformed,
    physical: Mapping[str, str],
    code_root: Path,
) -> list[FunctionSpec]:
    functions = []
    for logical_id, resource in transformed.template["Resources"].items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        name = physical[logical_id]
        lambda_client = aws.client("lambda")
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        # ReservedConcurrentExecutions is kept by the transform and by moto; read back as the rest.
        reserved = lambda_client.get_function_concurrency(FunctionName=name).get(
            "ReservedConcurrentExecutions"
        )
        artifact = Path(str(resource["Properties"]["Code"]["S3Key"])).name
        code_dir = code_root / stack / Path(artifact).stem
        if not code_dir.exists():
            with zipfile.ZipFile(packaged.directory / artifact) as archive:
                archive.extractall(code_dir)
        functions.append(
            FunctionSpec(
                name=name,
                handler=configuration["Handler"],
                code_dir=code_dir,
                environment=dict(configuration.get("Environment", {}).get("Variables", {})),
                timeout_seconds=float(configuration.get("Timeout", 6)),
                memory_mb=int(configuration.get("MemorySize", 1024)),
                stack=stack,
                reserved_concurrency=None if reserved is None else int(reserved),
            )
        )
    return functions


def _mapping(properties: Mapping[str, Any], outputs: Mapping[str, str]) -> EventSourceMapping:
    resolved = resolve(properties, outputs)
    function = str(resolved["FunctionName"]).rsplit(":", 1)[-1]
    on_failure = ((resolved.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination"
    )
    return EventSourceMapping.from_properties(
        resolved,
        function=function,
        source_arn=str(resolved["EventSourceArn"]),
        on_failure_arn=on_failure,
    )


def _cors(http_api: Mapping[str, Any]) -> dict[str, Any] | None:
    for resource in http_api.values():
        if resource.get("Type") == "AWS::ApiGatewayV2::Api":
            cors = resource.get("Properties", {}).get("CorsConfiguration")
            return dict(cors) if cors else None
    return None
