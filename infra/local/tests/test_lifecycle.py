"""What every HTTP part of the local cloud shares: kept connections, answered without delay."""

import http.client
import socket

from localcloud.lifecycle import HttpPart, KeepAliveHandler


class _EchoesItsSocket(KeepAliveHandler):
    """Answers with whether its socket sends at once (TCP_NODELAY), headers and body apart."""

    def do_GET(self) -> None:
        no_delay = self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        body = b"no-delay" if no_delay else b"nagle"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_kept_connection_carries_request_after_request_each_sent_at_once() -> None:
    # Given an HTTP part with a keep-alive handler, and one client connection to it
    with HttpPart(_EchoesItsSocket, name="echo") as part:
        address = part.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(address[0], int(address[1]), timeout=5)
        try:
            # When the client sends three requests over it
            answers, sockets = [], set()
            for _ in range(3):
                connection.request("GET", "/")
                response = connection.getresponse()
                answers.append((response.status, response.read(), response.getheader("Connection")))
                sockets.add(id(connection.sock))
        finally:
            connection.close()

    # Then each is answered whole on the one connection, by a socket that does not wait to send
    assert answers == [(200, b"no-delay", None)] * 3
    assert len(sockets) == 1
