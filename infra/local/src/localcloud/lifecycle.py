"""What every running part of the local cloud has in common: a start, a stop, and `with`.

- `Part`: the lifecycle itself; `with part:` starts it and stops it.
- `HttpPart`: a part that serves HTTP on a loopback port from a thread of its own (the Lambda
  Runtime and Invoke APIs, the PutEvents endpoint, the HTTP APIs, the fake Stripe, the
  storefront), each with a `KeepAliveHandler` for its requests.
- `LoopPart`: a part that runs one round of work on a thread of its own, again and again, until
  stopped (the TTL sweeper, the schedule runner).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

logger = logging.getLogger(__name__)


class Part:
    """`with part:` starts it and stops it, whatever happens in between. A part that runs from
    the moment it is made keeps the default `start`."""

    def start(self) -> Self:
        return self

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class KeepAliveHandler(BaseHTTPRequestHandler):
    """Keeps a client's connection open between requests (HTTP/1.1), and sends each response in
    one piece when the request is handled: headers and body are buffered, not written to the
    socket one after the other, as each write gives up the interpreter lock and, under load,
    waits behind the process's other threads to take it back. Nagle's algorithm is off for
    whatever still goes out in parts (an interim 100 Continue)."""

    protocol_version = "HTTP/1.1"
    wbufsize = -1
    disable_nagle_algorithm = True

    def handle_expect_100(self) -> bool:
        # Sent now: the client waits for it before sending the body.
        accepted = super().handle_expect_100()
        self.wfile.flush()
        return accepted


class HttpPart(Part):
    """A part that serves HTTP on a loopback port, from a thread of its own, once started.

    The port is bound when the part is made, so `url` is known before `start`. `server_class`
    lets a part use a server of its own (one that carries state for its handler, say);
    `poll_interval` is how often the serving loop looks for `stop`, so how long `stop` may wait.
    `stop` is idempotent, and safe before `start`."""

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        name: str,
        host: str = "127.0.0.1",
        port: int = 0,
        server_class: Callable[
            [tuple[str, int], type[BaseHTTPRequestHandler]], ThreadingHTTPServer
        ] = ThreadingHTTPServer,
        poll_interval: float = 0.5,
        join_seconds: float | None = None,
    ) -> None:
        self._server = server_class((host, port), handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": poll_interval},
            name=name,
            daemon=True,
        )
        self._join_seconds = join_seconds
        self._lifecycle = threading.Lock()
        self._started = self._stopped = False

    @property
    def server(self) -> ThreadingHTTPServer:
        """The server itself, for a part that hands its handlers state through it."""
        return self._server

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Self:
        with self._lifecycle:
            if not self._started and not self._stopped:
                self._started = True
                self._thread.start()
        return self

    def stop(self) -> None:
        with self._lifecycle:
            if self._stopped:
                return
            self._stopped = True
            started = self._started
        if started:
            # shutdown() waits for the serving loop, which only a started part has.
            self._server.shutdown()
        self._server.server_close()
        if started and self._join_seconds is not None:
            self._thread.join(timeout=self._join_seconds)


class LoopPart(Part):
    """A part that calls `round()` on a thread of its own every `interval_seconds` once started,
    until stopped. A round that raises is logged and the next one tries again (moto may be
    restarting or busy); `stop` waits for the round in progress."""

    def __init__(self, round: Callable[[], object], *, name: str, interval_seconds: float) -> None:
        self._round = round
        self._name = name
        self._interval = interval_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._round()
            except Exception:
                logger.exception("timer round failed", extra={"timer": self._name})
            self._stopping.wait(self._interval)
