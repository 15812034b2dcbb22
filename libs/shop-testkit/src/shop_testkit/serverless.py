"""What `serverless package` makes of a stack's serverless.yml, read offline, and the checks every
service's template must pass: the reliability settings AWS leaves unsafe by default, least
privilege, the runtime the tests run on, and packages that hold only what they should.

A service's `tests/test_serverless.py` packages once per module (`PackagedStack.package`) and
calls the `assert_*` functions; what is particular to it (its table, its filters) it asserts
itself with the typed helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
FUNCTION = "AWS::Lambda::Function"
LAYER_VERSION = "AWS::Lambda::LayerVersion"
# serverless.yml files read their layer's folder from it (`path: ${env:SHOP_LAYER_DIR, ...}`).
LAYER_DIR_VARIABLE = "SHOP_LAYER_DIR"
# X-Ray takes no resource; Lambda lists streams before it reads the one it is mapped to.
ACTIONS_WITHOUT_A_RESOURCE = frozenset(
    {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "kinesis:ListStreams"}
)
# AWS advises a visibility timeout of six times the timeout of the function a queue feeds.
VISIBILITY_TIMEOUT_FACTOR = 6
# An ELF header's e_machine for 64-bit ARM, the arm64 Lambda architecture.
ELF_MACHINES = {"arm64": 183, "x86_64": 62}
WHEEL_PLATFORMS = {"arm64": "aarch64", "x86_64": "x86_64"}


def runtime_of_this_interpreter() -> str:
    """The Lambda runtime name of the Python running the tests, e.g. `python3.13`."""
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def actions_of(statement: Mapping[str, Any]) -> list[str]:
    action = statement["Action"]
    return [str(a) for a in action] if isinstance(action, list) else [str(action)]


@dataclass(frozen=True)
class PackagedStack:
    """One stack as `serverless package` wrote it: the update template and the artifacts."""

    directory: Path
    template: dict[str, Any]

    @classmethod
    def package(
        cls,
        stack_dir: Path,
        output: Path,
        *,
        stage: str = "test",
        layer_dir: Path | None = None,
        cli: Path | None = None,
    ) -> PackagedStack:
        """Package the stack in `stack_dir` into `output`. Without `layer_dir` a placeholder stands
        in for its dependencies layer: the template is the same, and building the layer (wheels
        from PyPI) is left to the one test that checks it."""
        cli = cli or _find_cli(stack_dir)
        output.mkdir(parents=True, exist_ok=True)
        if layer_dir is None:
            layer_dir = output.parent / f"{output.name}-layer-placeholder"
            (layer_dir / "python").mkdir(parents=True, exist_ok=True)
            (layer_dir / "python" / "README.txt").write_text("a placeholder layer, for tests\n")
        completed = subprocess.run(
            [str(cli), "package", "--stage", stage, "--package", str(output.resolve())],
            cwd=stack_dir,
            capture_output=True,
            text=True,
            check=False,
            # osls takes a layer's path relative to the stack's folder only.
            env={**os.environ, LAYER_DIR_VARIABLE: os.path.relpath(layer_dir, stack_dir)},
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"`serverless package` failed in {stack_dir}:\n{completed.stdout}{completed.stderr}"
            )
        return cls.read(output)

    @classmethod
    def read(cls, directory: Path) -> PackagedStack:
        template = json.loads((directory / "cloudformation-template-update-stack.json").read_text())
        return cls(directory, template)

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        """The properties of every resource of `kind`, by logical id."""
        return {
            name: resource.get("Properties", {})
            for name, resource in self.resources.items()
            if resource["Type"] == kind
        }

    def functions(self) -> dict[str, dict[str, Any]]:
        """Every function's properties, by the name the framework gives it (`Listener`)."""
        return {
            name.removesuffix("LambdaFunction"): properties
            for name, properties in self.of_type(FUNCTION).items()
        }

    def function(self, function: str) -> dict[str, Any]:
        return self.functions()[function]

    def role_of(self, function: str) -> str:
        """The logical id of the role the function runs with (it must be one of the stack's)."""
        role = self.function(function)["Role"]
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise AssertionError(f"{function} does not run with a role of this stack: {role}")
        return str(role["Fn::GetAtt"][0])

    def role_statements(self, function: str) -> list[dict[str, Any]]:
        role = self.resources[self.role_of(function)]["Properties"]
        return [
            statement
            for policy in role.get("Policies", [])
            for statement in policy["PolicyDocument"]["Statement"]
        ]

    def role_actions(self, function: str) -> set[str]:
        return {a for s in self.role_statements(function) for a in actions_of(s)}

    def mappings_of(self, function: str) -> list[dict[str, Any]]:
        """The event source mappings of a function (the framework prefixes them with its name)."""
        return [
            properties
            for name, properties in self.of_type(EVENT_SOURCE_MAPPING).items()
            if name.startswith(f"{function}EventSourceMapping")
        ]

    def mapping_of(self, function: str) -> dict[str, Any]:
        [mapping] = self.mappings_of(function)
        return mapping

    def filter_of(self, function: str) -> dict[str, Any]:
        """The one filter pattern of the function's one mapping."""
        [entry] = self.mapping_of(function)["FilterCriteria"]["Filters"]
        pattern: dict[str, Any] = json.loads(entry["Pattern"])
        return pattern

    def archive(self, name: str) -> list[str]:
        """The names in one of the package's zip files (`inventory.zip`)."""
        with zipfile.ZipFile(self.directory / name) as archive:
            return archive.namelist()


def _find_cli(start: Path) -> Path:
    for folder in [start.resolve(), *start.resolve().parents]:
        cli = folder / "make" / "serverless"
        if cli.exists():
            return cli
    raise FileNotFoundError(f"no make/serverless above {start}")


def _stream_mappings(stack: PackagedStack) -> dict[str, dict[str, Any]]:
    # Stream sources (Kinesis, DynamoDB) are the ones with a starting position; queues have none.
    return {
        name: mapping
        for name, mapping in stack.of_type(EVENT_SOURCE_MAPPING).items()
        if "StartingPosition" in mapping
    }


def assert_stream_mappings_are_safe(stack: PackagedStack) -> None:
    """Every stream mapping retries finitely, bisects, reports partial batch failures and sends
    what it gives up on somewhere: AWS's defaults retry a poisoned record for a week."""
    mappings = _stream_mappings(stack)
    for name, mapping in mappings.items():
        assert 0 <= mapping.get("MaximumRetryAttempts", -1) <= 10, name
        assert 60 <= mapping.get("MaximumRecordAgeInSeconds", -1) <= 3600, name
        assert mapping.get("BisectBatchOnFunctionError") is True, name
        assert mapping.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], name
        assert mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"), name


def assert_filter_lets_through(stack: PackagedStack, function: str, types: Iterable[str]) -> None:
    """The function's stream filter lets through exactly the event types it consumes."""
    pattern = stack.filter_of(function)
    assert sorted(pattern["data"]["type"]) == sorted(types), pattern


def assert_least_privilege(stack: PackagedStack) -> None:
    """Each function has a role of its own, no action is a wildcard, and `Resource: "*"` is
    granted only to the actions that take no resource."""
    roles = {function: stack.role_of(function) for function in stack.functions()}
    assert len(set(roles.values())) == len(roles), f"functions share a role: {roles}"
    for function in roles:
        for statement in stack.role_statements(function):
            actions = actions_of(statement)
            assert all("*" not in action for action in actions), (function, statement)
            if statement["Resource"] == "*":
                assert set(actions) <= ACTIONS_WITHOUT_A_RESOURCE, (function, statement)


def assert_queue_sources_are_safe(stack: PackagedStack) -> None:
    """Every function fed by a queue of the stack reports partial batch failures, and its queue
    redrives to a dead-letter queue and hides a message long enough for the function to finish."""
    queues = stack.of_type("AWS::SQS::Queue")
    for function, properties in stack.functions().items():
        for mapping in stack.mappings_of(function):
            source = mapping["EventSourceArn"]
            if "StartingPosition" in mapping:
                continue
            [queue_id, _] = source["Fn::GetAtt"]
            queue = queues[queue_id]
            assert mapping.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], function
            redrive = queue.get("RedrivePolicy")
            assert redrive, f"{queue_id} keeps what {function} cannot handle nowhere"
            [dead_letters, _] = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
            assert dead_letters in queues, (function, queue_id)
            assert 1 <= redrive["maxReceiveCount"] <= 20, (function, queue_id)
            timeout = properties.get("Timeout", 6)
            assert queue["VisibilityTimeout"] >= VISIBILITY_TIMEOUT_FACTOR * timeout, queue_id


def assert_runtime_is_the_interpreters(stack: PackagedStack) -> None:
    """Every function (and layer) runs on the Python minor version the tests run on, so what is
    tested is what is deployed."""
    expected = runtime_of_this_interpreter()
    for function, properties in stack.functions().items():
        assert properties["Runtime"] == expected, (function, properties["Runtime"], expected)
    for name, layer in stack.of_type(LAYER_VERSION).items():
        assert layer["CompatibleRuntimes"] == [expected], (name, layer["CompatibleRuntimes"])


def assert_functions_use_the_layer(stack: PackagedStack) -> None:
    """Every function takes its dependencies from the stack's layer, built for its architecture."""
    layers = stack.of_type(LAYER_VERSION)
    assert layers, "the stack has no layer"
    for function, properties in stack.functions().items():
        assert [ref["Ref"] for ref in properties.get("Layers", [])] == list(layers), function
        for name, layer in layers.items():
            assert layer["CompatibleArchitectures"] == properties["Architectures"], (function, name)


def assert_package_holds_only(stack: PackagedStack, archive: str, prefix: str) -> list[str]:
    """The function package holds only the service's code under `prefix`, without bytecode, and
    no third-party package (those come from the layer). Returns the names, for further checks."""
    names = stack.archive(archive)
    assert names, archive
    assert [name for name in names if not name.startswith(prefix)] == [], archive
    assert [name for name in names if "__pycache__" in name] == [], archive
    return names


@dataclass(frozen=True)
class Layer:
    """A built dependencies layer: the folder whose `python/` Lambda puts on sys.path."""

    root: Path

    @classmethod
    def build(cls, service_dir: Path, output: Path) -> Layer:
        """The layer `make package` builds for the service in `service_dir` (make/layer: the
        wheels uv.lock pins, for the Lambda runtime; from uv's cache after the first time)."""
        builder = _find_cli(service_dir).parent / "layer"
        subprocess.run(
            [str(builder), service_dir.resolve().name, str(output)],
            cwd=service_dir,
            check=True,
            capture_output=True,
        )
        return cls(output)

    @property
    def python(self) -> Path:
        return self.root / "python"

    def has_module(self, dotted: str) -> bool:
        """Whether `dotted` would import from the layer (a module file or a package)."""
        path = self.python.joinpath(*dotted.split("."))
        return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()

    def wheel_tags(self) -> dict[str, list[str]]:
        """The tags of every installed wheel, by its dist-info folder."""
        return {
            wheel.parent.name: [
                line.removeprefix("Tag: ").strip()
                for line in wheel.read_text().splitlines()
                if line.startswith("Tag: ")
            ]
            for wheel in sorted(self.python.glob("*.dist-info/WHEEL"))
        }

    def extension_modules(self) -> list[Path]:
        return sorted(self.python.rglob("*.so"))


def elf_machine(path: Path) -> int:
    """The e_machine field of an ELF file's header (little-endian, as on arm64 and x86_64)."""
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def assert_layer_is_built_for(layer: Layer, *, runtime: str, architecture: str) -> None:
    """Every wheel in the layer is pure Python or built for the runtime's CPython on Linux for
    `architecture`, and every compiled extension is a binary for that machine."""
    version = runtime.removeprefix("python").replace(".", "")
    platform = WHEEL_PLATFORMS[architecture]
    tags = layer.wheel_tags()
    assert tags, f"no wheels in {layer.python}"
    for wheel, wheel_tags in tags.items():
        # A wheel may carry several tags (py2-none-any and py3-none-any): one must fit.
        assert any(_fits(tag, version, platform) for tag in wheel_tags), (wheel, wheel_tags)
    for extension in layer.extension_modules():
        if ".cpython-" in extension.name:
            assert f".cpython-{version}-{platform}-linux-gnu.so" in extension.name, extension
        assert elf_machine(extension) == ELF_MACHINES[architecture], extension


def _fits(tag: str, version: str, platform: str) -> bool:
    python, abi, wheel_platform = tag.split("-")
    return (python in {"py3", f"cp{version}"} or (python.startswith("cp3") and abi == "abi3")) and (
        (abi == "none" and wheel_platform == "any")
        or (
            abi in {"none", "abi3", f"cp{version}"}
            and "linux" in wheel_platform
            and wheel_platform.endswith(platform)
        )
    )
