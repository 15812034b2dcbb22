"""Each change the transform makes, on small templates shaped as `serverless package` emits them."""

from typing import Any

import pytest
from localcloud.deploy.transform import PLACEHOLDER, TemplateError, resolve
from localcloud.deploy.transform import transform_template as transform


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, "Outputs": {}}


FUNCTION = {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "svc-local-listener"}}
STREAM = {
    "Type": "AWS::Kinesis::Stream",
    "Properties": {"Name": "s", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}},
}


def test_a_ref_to_a_bus_is_refused_with_what_to_write_instead() -> None:
    source = template(
        Bus={"Type": "AWS::Events::EventBus", "Properties": {"Name": "b"}},
        Rule={
            "Type": "AWS::Events::Rule",
            "Properties": {"EventBusName": {"Ref": "Bus"}, "EventPattern": {}},
        },
    )
    with pytest.raises(TemplateError, match=r"stack hub: resource Rule .* use Fn::GetAtt Bus.Name"):
        transform("hub", source, region="eu-west-1", code_bucket="code")


def test_event_source_mappings_are_removed_and_their_expressions_exposed() -> None:
    # Given a function with a mapping on a stream of another stack
    source = template(
        ListenerLambdaFunction=FUNCTION,
        Mapping={
            "Type": "AWS::Lambda::EventSourceMapping",
            "DependsOn": ["IamRoleLambdaExecution"],
            "Properties": {
                "EventSourceArn": {"Fn::ImportValue": "hub-StreamArn"},
                "FunctionName": {"Fn::GetAtt": ["ListenerLambdaFunction", "Arn"]},
                "BatchSize": 10,
            },
        },
    )

    # When transformed
    result = transform("svc", source, region="eu-west-1", code_bucket="code")

    # Then the mapping is gone from the template but kept, its expressions resolvable as outputs
    assert "Mapping" not in result.template["Resources"]
    [mapping] = result.mappings
    assert mapping.properties["BatchSize"] == 10
    arn_output = mapping.properties["EventSourceArn"].removeprefix(PLACEHOLDER)
    assert result.template["Outputs"][arn_output] == {"Value": {"Fn::ImportValue": "hub-StreamArn"}}
    outputs = {
        key.removeprefix(PLACEHOLDER): value
        for key, value in [
            (mapping.properties["EventSourceArn"], "arn:aws:kinesis:eu-west-1:1:stream/s"),
            (mapping.properties["FunctionName"], "arn:aws:lambda:eu-west-1:1:function:f"),
        ]
    }
    assert (
        resolve(mapping.properties, outputs)["FunctionName"]
        == "arn:aws:lambda:eu-west-1:1:function:f"
    )
    assert any("removed Mapping" in change for change in result.changes)


def test_http_api_resources_are_removed_with_what_depends_on_them() -> None:
    source = template(
        ProbeLambdaFunction=FUNCTION,
        HttpApi={
            "Type": "AWS::ApiGatewayV2::Api",
            "Properties": {"Name": "api", "ProtocolType": "HTTP"},
        },
        HttpApiRoute={
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {"ApiId": {"Ref": "HttpApi"}},
        },
        Permission={
            "Type": "AWS::Lambda::Permission",
            "DependsOn": "ProbeLambdaFunction",
            "Properties": {"SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "HttpApi"}, "/*"]]}},
        },
    )
    source["Outputs"]["HttpApiUrl"] = {"Value": {"Fn::GetAtt": ["HttpApi", "ApiEndpoint"]}}

    result = transform("svc", source, region="eu-west-1", code_bucket="code")

    assert set(result.template["Resources"]) == {"ProbeLambdaFunction"}
    assert set(result.http_api) == {"HttpApi", "HttpApiRoute"}
    assert "HttpApiUrl" not in result.template["Outputs"]
    assert "removed Permission (it depends on a removed resource)" in result.changes


def test_a_firehose_delivery_stream_is_created_through_the_api_and_its_arn_made_literal() -> None:
    source = template(
        Lake={"Type": "AWS::S3::Bucket"},
        Delivery={
            "Type": "AWS::KinesisFirehose::DeliveryStream",
            "Properties": {
                "DeliveryStreamName": "lake",
                "ExtendedS3DestinationConfiguration": {
                    "BucketARN": {"Fn::GetAtt": ["Lake", "Arn"]}
                },
            },
        },
        Role={
            "Type": "AWS::IAM::Role",
            "Properties": {"Resource": {"Fn::GetAtt": ["Delivery", "Arn"]}},
        },
    )

    result = transform("hub", source, region="eu-west-1", code_bucket="code")

    assert "Delivery" not in result.template["Resources"]
    assert result.template["Resources"]["Role"]["Properties"]["Resource"] == (
        "arn:aws:firehose:eu-west-1:123456789012:deliverystream/lake"
    )
    [created] = result.api_created
    bucket = created.properties["ExtendedS3DestinationConfiguration"]["BucketARN"]
    assert bucket.startswith(PLACEHOLDER)


def test_a_firehose_without_a_literal_name_is_refused() -> None:
    source = template(Delivery={"Type": "AWS::KinesisFirehose::DeliveryStream", "Properties": {}})
    with pytest.raises(TemplateError, match="Delivery needs a literal DeliveryStreamName"):
        transform("hub", source, region="eu-west-1", code_bucket="code")


def test_ttl_and_on_demand_mode_are_noted_for_after_the_stack() -> None:
    source = template(
        Table={
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expiresAt"}
            },
        },
        Stream=STREAM,
    )

    result = transform("svc", source, region="eu-west-1", code_bucket="code")

    assert result.ttl == {"Table": "expiresAt"}
    assert result.on_demand_streams == ["Stream"]


def test_the_input_template_is_not_changed() -> None:
    source = template(Mapping={"Type": "AWS::Lambda::EventSourceMapping", "Properties": {}})
    transform("svc", source, region="eu-west-1", code_bucket="code")
    assert "Mapping" in source["Resources"]


def test_resolving_an_unknown_output_says_which() -> None:
    with pytest.raises(KeyError, match="LocalCloudabc"):
        resolve({"a": [PLACEHOLDER + "LocalCloudabc"]}, {})


def test_a_layer_is_left_out_and_its_functions_keep_running_without_it() -> None:
    # Given a function on a layer, shaped as `serverless package` emits them
    function = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "FunctionName": "svc-local-listener",
            "Layers": [{"Ref": "DependenciesLambdaLayer"}],
        },
    }
    source = template(
        ListenerLambdaFunction=function,
        DependenciesLambdaLayer={
            "Type": "AWS::Lambda::LayerVersion",
            "Properties": {"Content": {"S3Key": "dependencies.zip"}, "LayerName": "deps"},
        },
    )
    source["Outputs"]["DependenciesLambdaLayerQualifiedArn"] = {
        "Value": {"Ref": "DependenciesLambdaLayer"}
    }

    # When it is transformed
    result = transform("svc", source, region="eu-west-1", code_bucket="code")

    # Then the function stays, without the layer, and each removal is reported
    assert set(result.template["Resources"]) == {"ListenerLambdaFunction"}
    assert "Layers" not in result.template["Resources"]["ListenerLambdaFunction"]["Properties"]
    assert "DependenciesLambdaLayerQualifiedArn" not in result.template["Outputs"]
    assert [change for change in result.changes if "layer" in change] == [
        "ListenerLambdaFunction without its layers (it runs on the workspace's site-packages)",
        "removed DependenciesLambdaLayer (a layer for the Lambda runtime's machine: not run locally)",
    ]
