"""The local cloud as a newcomer meets it: one run, stopped, then another in the same state dir,
and the commands run against each (`make trail`, `make faults`) and against no cloud at all."""

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from localcloud import cli
from localcloud.cloud import LocalCloud
from localcloud.testing import eventually, put_on_bus
from localcloud.trail import EventTrail

ROOT = Path(__file__).resolve().parents[3]
EVENT_HUB = ROOT / "infra" / "event-hub"
SAMPLE_LISTENER = Path(__file__).parent / "stacks" / "sample-listener"
LISTENER = "sample-listener-local-listener"


def envelope(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "sample-happened",
        "timestamp": time.time_ns() // 1_000_000,
        "partitionKey": key,
        "tags": {"source": "tests"},
        **fields,
    }


def keys_in(trail_file: Path) -> set[str | None]:
    return {entry.partition_key for entry in EventTrail.read_file(trail_file)}


def batch_failures(log: str) -> list[str]:
    return [line for line in log.splitlines() if "event source batch failed" in line]


@dataclass(frozen=True)
class FirstRun:
    state_dir: Path
    key: str
    raised: str  # what the listener raised for one of the run's records
    endpoints_while_up: str | None
    endpoints_after_stop: bool
    log: str


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """A cloud that was up, whose listener failed a batch, and that was then stopped."""
    state_dir = tmp_path_factory.mktemp("localcloud")
    key, raised = f"first-{uuid.uuid4()}", f"no stock for {uuid.uuid4()}"
    with LocalCloud(state_dir=state_dir, serverless=ROOT / "make" / "serverless") as cloud:
        assert cloud.deploy(EVENT_HUB) is not None, cloud.failures
        assert cloud.deploy(SAMPLE_LISTENER) is not None, cloud.failures
        endpoints = cloud.write_endpoints()
        endpoints_while_up = endpoints.read_text() if endpoints.exists() else None
        put_on_bus(cloud, envelope(key))
        put_on_bus(cloud, envelope(f"raising-{key}", sample={"raise": raised}))
        put_on_bus(cloud, envelope(f"failing-{key}", sample={"fail": True}))
        eventually(lambda: len(cloud.trail.entries()) == 3, timeout=5.0)
        log = state_dir / "localcloud.log"
        eventually(lambda: len(batch_failures(log.read_text())) >= 2, timeout=15.0)
    return FirstRun(
        state_dir=state_dir,
        key=key,
        raised=raised,
        endpoints_while_up=endpoints_while_up,
        endpoints_after_stop=endpoints.exists(),
        log=log.read_text(),
    )


@dataclass(frozen=True)
class SecondRun:
    cloud: LocalCloud
    key: str
    sent: list[dict[str, Any]]


@pytest.fixture(scope="module")
def second_run(first_run: FirstRun) -> Iterator[SecondRun]:
    """A new cloud in the first one's state dir, up, with two events of one order."""
    key = f"second-{uuid.uuid4()}"
    sent = [envelope(key, step=1), envelope(key, step=2)]
    with LocalCloud(
        state_dir=first_run.state_dir, serverless=ROOT / "make" / "serverless"
    ) as cloud:
        assert cloud.deploy(EVENT_HUB) is not None, cloud.failures
        cloud.write_endpoints()
        put_on_bus(cloud, sent[0])
        eventually(lambda: cloud.trail.for_key(key), timeout=5.0)
        put_on_bus(cloud, sent[1])
        eventually(lambda: len(cloud.trail.for_key(key)) == 2, timeout=5.0)
        yield SecondRun(cloud, key, sent)


def localcloud(state_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The command as `make` runs it: a process of its own, so a traceback would show."""
    return subprocess.run(
        [sys.executable, "-m", "localcloud", "--state-dir", str(state_dir), *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_endpoints_exist_while_the_cloud_is_up_and_are_gone_once_it_stops(
    first_run: FirstRun,
) -> None:
    # Given a cloud that was up and was stopped (first_run)
    # Then its endpoints were there, naming its AWS endpoint, while it ran, and are gone now
    assert first_run.endpoints_while_up is not None
    assert json.loads(first_run.endpoints_while_up)["aws"].startswith("http://127.0.0.1:")
    assert not first_run.endpoints_after_stop


def test_a_new_run_has_a_trail_of_its_own_and_keeps_the_previous_one_aside(
    first_run: FirstRun, second_run: SecondRun
) -> None:
    # Given a first run with an order's event, then a second run in the same state dir
    state_dir = first_run.state_dir

    # Then the second run's trail has its own order only, and the first run's is kept aside
    assert second_run.key in keys_in(state_dir / "trail.jsonl")
    assert first_run.key not in keys_in(state_dir / "trail.jsonl")
    assert first_run.key in keys_in(state_dir / "trail.previous.jsonl")


def test_an_order_of_an_old_run_is_an_unknown_key_naming_what_the_trail_holds(
    first_run: FirstRun, second_run: SecondRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the second run is up / When `make trail` asks for the first run's order
    status = cli.main(["--state-dir", str(first_run.state_dir), "trail", first_run.key])

    # Then one line says the trail of this run has no such key, naming the keys it has
    output = capsys.readouterr()
    assert status == 1
    assert output.out == ""
    [line] = output.err.splitlines()
    assert f"no event with key {first_run.key} in this run's trail" in line
    assert second_run.key in line


def test_trail_without_a_key_says_how_to_call_it(
    second_run: SecondRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # When `make trail` runs without KEY
    status = cli.main(["--state-dir", str(second_run.cloud.state_dir), "trail"])

    # Then it prints how to call it, and exits with a usage error
    assert status == 2
    assert "make trail KEY=<order id>" in capsys.readouterr().err


def test_the_trail_table_has_a_legend_under_its_header(
    second_run: SecondRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # When `make trail KEY=...` shows an order of the running cloud
    status = cli.main(["--state-dir", str(second_run.cloud.state_dir), "trail", second_run.key])

    # Then the line under the column header says what the latency columns mean, then one row each
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["time", "(UTC)", "+ms"]
    assert all(f"{column}: since" in lines[2] for column in ("+ms", "hop ms"))
    assert len(lines[3:]) == len(second_run.sent)


def test_trail_as_json_prints_each_full_envelope_in_time_order(
    second_run: SecondRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # When `make trail KEY=... FORMAT=json` shows an order of two events
    state_dir = str(second_run.cloud.state_dir)
    status = cli.main(["--state-dir", state_dir, "trail", "--format", "json", second_run.key])

    # Then each line is one event's whole envelope, entity fields and all, in the order sent
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == second_run.sent


def test_trail_as_mermaid_draws_the_order_as_one_sequence_diagram(
    second_run: SecondRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # When `make trail KEY=... FORMAT=mermaid` shows an order of two events
    state_dir = str(second_run.cloud.state_dir)
    contracts = [f"--contracts={folder}" for folder in sorted(ROOT.glob("services/*/contracts"))]
    status = cli.main(
        ["--state-dir", state_dir, "trail", "--format", "mermaid", *contracts, second_run.key]
    )

    # Then it prints one sequence diagram: an arrow for the first event, a note for the last
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert lines[1].startswith(f"    title {second_run.key}: {len(second_run.sent)} events in ")
    arrows = [line for line in lines if "->>hub" in line]
    assert [arrow.split(": ", 1)[1].split(" (+")[0] for arrow in arrows] == [
        event["type"] for event in second_run.sent
    ]
    assert lines[-1].endswith(f": {second_run.sent[-1]['type']}")


def test_make_trail_passes_the_format_on_only_when_it_is_given() -> None:
    def trail_command(*variables: str) -> str:
        dry_run = subprocess.run(
            ["make", "-n", "-C", str(ROOT), "trail", "KEY=o-1", *variables],
            capture_output=True,
            text=True,
            check=True,
        )
        return dry_run.stdout

    assert "localcloud trail --format json o-1" in trail_command("FORMAT=json")
    assert "localcloud trail --format mermaid --contracts services/" in trail_command(
        "FORMAT=mermaid"
    )
    assert "localcloud trail o-1" in trail_command()


def test_up_refuses_a_state_dir_whose_cloud_is_running(second_run: SecondRun) -> None:
    # When a second `make up` starts while the cloud runs (a process: one that does not refuse
    # runs until the timeout fails the test)
    result = localcloud(second_run.cloud.state_dir, "up", str(EVENT_HUB))

    # Then it refuses in one line, and the running cloud keeps its endpoints
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "already running" in line
    assert (second_run.cloud.state_dir / "endpoints.json").exists()


def test_a_batch_failure_is_logged_with_the_function_and_the_error(first_run: FirstRun) -> None:
    # Given the first run's listener raised for one record and reported another as failed
    failures = batch_failures(first_run.log)

    # Then the run's log file names the function and the error of each, as key=value fields
    raised = f"error={json.dumps(f'RuntimeError: {first_run.raised}')}"
    assert any(f"function={LISTENER}" in line and raised in line for line in failures), failures
    reported = f"error={json.dumps('the function reported 1 record as failed')}"
    assert any(f"function={LISTENER}" in line and reported in line for line in failures), failures


@pytest.fixture
def killed_cloud_dir(first_run: FirstRun, tmp_path: Path) -> Path:
    """A state dir as a cloud killed with -9 leaves it: endpoints nothing answers at."""
    assert first_run.endpoints_while_up is not None
    (tmp_path / "endpoints.json").write_text(first_run.endpoints_while_up)
    return tmp_path


@pytest.mark.parametrize(
    ("state", "command"),
    [
        ("never started", ["faults"]),
        ("never started", ["faults", "--resubmit"]),
        ("never started", ["trail", "order-1"]),
        ("killed", ["faults"]),
    ],
)
def test_a_command_without_a_running_cloud_says_so_in_one_line(
    state: str,
    command: list[str],
    killed_cloud_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Given a state dir no cloud has run in, or one a killed cloud left its endpoints in
    state_dir = killed_cloud_dir if state == "killed" else tmp_path_factory.mktemp("never-run")

    # When the command runs
    result = localcloud(state_dir, *command)

    # Then it fails with one line that says how to start a cloud, and no traceback
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "`make up` in another terminal" in line
