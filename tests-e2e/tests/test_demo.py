"""`make demo` as a newcomer meets it: it will not start over a running cloud, and Ctrl-C
stops every process it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shop_e2e import demo
from shop_e2e.shop import ROOT

# The whole shop, started once for the session (conftest.py): the test kit cannot see it there.
pytestmark = pytest.mark.localcloud


def test_the_demo_refuses_to_start_over_a_running_cloud(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a state dir whose cloud answers (something listens at its AWS endpoint)
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]
        (tmp_path / "endpoints.json").write_text(json.dumps({"aws": f"http://127.0.0.1:{port}"}))

        # When the demo is started there
        status = demo.main(["--state-dir", str(tmp_path), "--report", str(tmp_path / "r.md")])

    # Then it says so and how to stop the other, and starts nothing
    assert status == 1
    assert "already running here" in capsys.readouterr().out
    assert not (tmp_path / "r.md").exists()


def test_ctrl_c_stops_the_demo_and_every_process_it_started(tmp_path: Path) -> None:
    # Given the demo started in a process group of its own, deploying its first stack
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "shop-demo"), "--state-dir", str(tmp_path / "cloud")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "deployed event-hub" in line:
            break

    # When Ctrl-C reaches it
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)

    # Then it says it stopped everything, exits 130, and no process of its group is left
    assert process.returncode == 130, "".join(lines) + rest
    assert "every process the demo started is stopped" in rest
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("processes of the demo's group are still running")
    assert not (tmp_path / "cloud" / "endpoints.json").exists()
