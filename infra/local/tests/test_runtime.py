"""The local cloud runs every function on the workspace's interpreter, so that interpreter must be
the one Lambda runs them on: every runtime a serverless.yml names is the tests' minor version."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RUNTIME = re.compile(r"^\s*(?:runtime|compatibleRuntimes):\s*\[?\s*([\w.]+)", re.MULTILINE)


def test_every_serverless_yml_names_the_runtime_of_the_interpreter_running_the_tests() -> None:
    # Given every serverless.yml the repository tracks
    listed = subprocess.run(
        ["git", "ls-files", "*serverless.yml"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    named = {
        f"{path}: {runtime}"
        for path in listed
        for runtime in RUNTIME.findall((ROOT / path).read_text())
    }
    assert len(listed) >= 3, listed  # the event hub, a service, the local cloud's sample stack

    # Then each runtime it names is this interpreter's
    this = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert {entry for entry in named if not entry.endswith(f": {this}")} == set()
    assert {entry.partition(": ")[0] for entry in named} == set(listed), "each names one"
