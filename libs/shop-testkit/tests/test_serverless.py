"""The packaged-template checks pass on a stack that does everything right (tests/sample-stack)
and each fails when one setting of that stack is broken."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from shop_testkit.serverless import (
    Layer,
    PackagedStack,
    assert_filter_lets_through,
    assert_functions_use_the_layer,
    assert_layer_is_built_for,
    assert_least_privilege,
    assert_package_holds_only,
    assert_queue_sources_are_safe,
    assert_runtime_is_the_interpreters,
    assert_stream_mappings_are_safe,
    runtime_of_this_interpreter,
)

SAMPLE = Path(__file__).parent / "sample-stack"
CHECKS: list[Callable[[PackagedStack], None]] = [
    assert_stream_mappings_are_safe,
    assert_least_privilege,
    assert_queue_sources_are_safe,
    assert_runtime_is_the_interpreters,
    assert_functions_use_the_layer,
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> PackagedStack:
    return PackagedStack.package(SAMPLE, tmp_path_factory.mktemp("package"))


def broken(stack: PackagedStack, change: Callable[[dict[str, Any]], None]) -> PackagedStack:
    template = copy.deepcopy(stack.template)
    change(template["Resources"])
    return dataclasses.replace(stack, template=template)


def mapping(resources: dict[str, Any], function: str) -> dict[str, Any]:
    [properties] = [
        r["Properties"]
        for name, r in resources.items()
        if name.startswith(f"{function}EventSourceMapping")
    ]
    return properties


def statements(resources: dict[str, Any], role: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = resources[role]["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    return statements


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_every_check_passes_on_a_stack_that_does_everything_right(
    stack: PackagedStack, check: Callable[[PackagedStack], None]
) -> None:
    check(stack)


def test_the_helpers_read_functions_roles_mappings_and_filters(stack: PackagedStack) -> None:
    assert set(stack.functions()) == {"Listener", "Drain"}
    assert stack.role_of("Drain") == "DrainRole"
    assert stack.role_actions("Drain") == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    }
    assert stack.mapping_of("Listener")["StartingPosition"] == "TRIM_HORIZON"
    assert stack.filter_of("Listener") == {"data": {"type": ["sample-happened", "sample-ended"]}}
    assert_filter_lets_through(stack, "Listener", ["sample-ended", "sample-happened"])
    with pytest.raises(AssertionError):
        assert_filter_lets_through(stack, "Listener", ["sample-happened"])


def test_the_package_holds_the_code_and_the_layer_stands_in_by_a_placeholder(
    stack: PackagedStack,
) -> None:
    assert assert_package_holds_only(stack, "sample.zip", "sample/") == ["sample/handler.py"]
    with pytest.raises(AssertionError):
        assert_package_holds_only(stack, "sample.zip", "sample/other/")
    assert stack.archive("dependencies.zip") == ["python/README.txt"]


BREAKAGES: dict[str, tuple[Callable[[PackagedStack], None], Callable[[dict[str, Any]], None]]] = {
    "endless retries": (
        assert_stream_mappings_are_safe,
        lambda r: mapping(r, "Listener").update(MaximumRetryAttempts=-1),
    ),
    "records kept a week": (
        assert_stream_mappings_are_safe,
        lambda r: mapping(r, "Listener").pop("MaximumRecordAgeInSeconds"),
    ),
    "no bisecting": (
        assert_stream_mappings_are_safe,
        lambda r: mapping(r, "Listener").update(BisectBatchOnFunctionError=False),
    ),
    "whole batches retried": (
        assert_stream_mappings_are_safe,
        lambda r: mapping(r, "Listener").pop("FunctionResponseTypes"),
    ),
    "nowhere to park": (
        assert_stream_mappings_are_safe,
        lambda r: mapping(r, "Listener").pop("DestinationConfig"),
    ),
    "a shared role": (
        assert_least_privilege,
        lambda r: r["DrainLambdaFunction"]["Properties"].update(
            Role={"Fn::GetAtt": ["ListenerRole", "Arn"]}
        ),
    ),
    "a wildcard action": (
        assert_least_privilege,
        lambda r: statements(r, "DrainRole")[0].update(Action="sqs:*"),
    ),
    "any resource for a write": (
        assert_least_privilege,
        lambda r: statements(r, "ListenerRole")[2].update(Resource="*"),
    ),
    "a queue source without partial failures": (
        assert_queue_sources_are_safe,
        lambda r: mapping(r, "Drain").pop("FunctionResponseTypes"),
    ),
    "a queue hiding a message too briefly": (
        assert_queue_sources_are_safe,
        lambda r: r["Failures"]["Properties"].update(VisibilityTimeout=59),
    ),
    "a queue without a dead-letter queue": (
        assert_queue_sources_are_safe,
        lambda r: r["Failures"]["Properties"].pop("RedrivePolicy"),
    ),
    "another runtime": (
        assert_runtime_is_the_interpreters,
        lambda r: r["DrainLambdaFunction"]["Properties"].update(Runtime="python3.14"),
    ),
    "a layer for another runtime": (
        assert_runtime_is_the_interpreters,
        lambda r: r["DependenciesLambdaLayer"]["Properties"].update(
            CompatibleRuntimes=["python3.12"]
        ),
    ),
    "a function without the layer": (
        assert_functions_use_the_layer,
        lambda r: r["DrainLambdaFunction"]["Properties"].pop("Layers"),
    ),
    "a layer for another architecture": (
        assert_functions_use_the_layer,
        lambda r: r["DependenciesLambdaLayer"]["Properties"].update(
            CompatibleArchitectures=["x86_64"]
        ),
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_each_check_fails_when_one_setting_is_broken(stack: PackagedStack, breakage: str) -> None:
    # Given the sample stack with one setting broken
    check, change = BREAKAGES[breakage]
    unsafe = broken(stack, change)

    # When it is checked, then the check fails
    with pytest.raises(AssertionError):
        check(unsafe)


def test_a_function_on_a_role_of_another_stack_is_refused(stack: PackagedStack) -> None:
    unsafe = broken(
        stack,
        lambda r: r["DrainLambdaFunction"]["Properties"].update(Role="arn:aws:iam::1:role/x"),
    )

    with pytest.raises(AssertionError, match="does not run with a role of this stack"):
        unsafe.role_of("Drain")


def test_the_runtime_named_is_the_interpreters() -> None:
    import sys

    assert runtime_of_this_interpreter() == "python{}.{}".format(*sys.version_info[:2])


def test_a_failed_packaging_says_where(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text("service: [broken\n")

    with pytest.raises(RuntimeError, match="`serverless package` failed in"):
        PackagedStack.package(tmp_path, tmp_path / "out", cli=SAMPLE.parents[3] / "make/serverless")


ARM64_ELF = b"\x7fELF\x02\x01\x01" + bytes(11) + (183).to_bytes(2, "little")
X86_64_ELF = b"\x7fELF\x02\x01\x01" + bytes(11) + (62).to_bytes(2, "little")


def a_layer(root: Path, *, tag: str, extension: bytes, extension_name: str) -> Layer:
    python = root / "python"
    (python / "fast-1.0.dist-info").mkdir(parents=True)
    (python / "fast-1.0.dist-info" / "WHEEL").write_text(f"Wheel-Version: 1.0\nTag: {tag}\n")
    (python / "pure-1.0.dist-info").mkdir()
    (python / "pure-1.0.dist-info" / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    (python / "fast").mkdir()
    (python / "fast" / "__init__.py").write_text("")
    (python / "fast" / extension_name).write_bytes(extension + bytes(64))
    (python / "pure.py").write_text("")
    return Layer(root)


def test_a_layer_built_for_the_runtime_and_its_machine_passes(tmp_path: Path) -> None:
    layer = a_layer(
        tmp_path,
        tag="cp313-cp313-manylinux_2_17_aarch64",
        extension=ARM64_ELF,
        extension_name="_fast.cpython-313-aarch64-linux-gnu.so",
    )

    assert_layer_is_built_for(layer, runtime="python3.13", architecture="arm64")
    assert layer.has_module("fast")
    assert layer.has_module("pure")
    assert not layer.has_module("absent")


@pytest.mark.parametrize(
    ("tag", "extension", "extension_name"),
    [
        ("cp313-cp313-manylinux_2_17_x86_64", ARM64_ELF, "_fast.cpython-313-aarch64-linux-gnu.so"),
        ("cp312-cp312-manylinux_2_17_aarch64", ARM64_ELF, "_fast.cpython-313-aarch64-linux-gnu.so"),
        ("cp313-cp313-macosx_11_0_arm64", ARM64_ELF, "_fast.cpython-313-aarch64-linux-gnu.so"),
        (
            "cp313-cp313-manylinux_2_17_aarch64",
            X86_64_ELF,
            "_fast.cpython-313-aarch64-linux-gnu.so",
        ),
        ("cp313-cp313-manylinux_2_17_aarch64", ARM64_ELF, "_fast.cpython-313-x86_64-linux-gnu.so"),
    ],
    ids=["x86 wheel", "another Python", "another OS", "an x86 binary", "an x86 extension name"],
)
def test_a_layer_with_anything_built_for_another_machine_fails(
    tmp_path: Path, tag: str, extension: bytes, extension_name: str
) -> None:
    layer = a_layer(tmp_path, tag=tag, extension=extension, extension_name=extension_name)

    with pytest.raises(AssertionError):
        assert_layer_is_built_for(layer, runtime="python3.13", architecture="arm64")


def test_an_empty_layer_fails(tmp_path: Path) -> None:
    (tmp_path / "python").mkdir()

    with pytest.raises(AssertionError, match="no wheels"):
        assert_layer_is_built_for(Layer(tmp_path), runtime="python3.13", architecture="arm64")
