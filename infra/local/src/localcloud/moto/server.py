"""moto in server mode, as a process of its own (so it does not share the runner's GIL)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Self

from localcloud.lifecycle import Part

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class MotoServer(Part):
    """Starts `moto.server` on a free loopback port; `url` is the AWS endpoint."""

    def __init__(self, *, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, *, timeout_seconds: float = 30.0) -> Self:
        self._log = self._log_file.open("ab") if self._log_file else None
        self._process = subprocess.Popen(
            [sys.executable, "-m", "localcloud.moto.process", "-H", HOST, "-p", str(self.port)],
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches the local cloud, which stops moto last, in order.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self._process.returncode}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).close()
                return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"moto server did not answer on {self.url} within {timeout_seconds}s")

    def reset(self) -> None:
        """Forget every resource, as a fresh account."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
