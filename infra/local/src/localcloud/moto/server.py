"""moto in server mode, as a process of its own (so it does not share the runner's GIL)."""

from __future__ import annotations

import os
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


# Where moto's process sends the ARN of each DynamoDB stream a request added records to: one UDP
# datagram per stream and request, on the loopback (`localcloud.moto.process` reads it).
STREAM_NEWS_VARIABLE = "LOCALCLOUD_STREAM_NEWS_TO"


def free_port(host: str = HOST) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class MotoServer(Part):
    """Starts `moto.server` on a free loopback port; `url` is the AWS endpoint.

    `streams_with_news()` says which DynamoDB streams moto has added records to since it was last
    asked, whoever wrote their tables."""

    def __init__(self, *, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._stream_news: socket.socket | None = None

    def start(self, *, timeout_seconds: float = 30.0) -> Self:
        self._log = self._log_file.open("ab") if self._log_file else None
        self._stream_news = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._stream_news.bind((HOST, 0))
        self._stream_news.setblocking(False)
        news_host, news_port = self._stream_news.getsockname()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "localcloud.moto.process", "-H", HOST, "-p", str(self.port)],
            env={**os.environ, STREAM_NEWS_VARIABLE: f"{news_host}:{news_port}"},
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

    def streams_with_news(self) -> set[str]:
        """The ARNs of the table streams moto has added records to since the last call. moto
        says so before it answers the write, so a caller that has seen the write answered hears
        of it here. (Were the loopback's buffer ever full, news would be dropped, and found by the
        stream's pollers at their idle round.)"""
        arns: set[str] = set()
        while self._stream_news is not None:
            try:
                arns.add(self._stream_news.recv(4096).decode())
            except (BlockingIOError, OSError):
                break
        return arns

    def stop(self) -> None:
        if self._stream_news is not None:
            self._stream_news.close()
            self._stream_news = None
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
