"""What every HTTP part of the local cloud shares: kept connections, answered without delay."""

import http.client
import socket
import time

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


class _PausesBeforeItsBody(KeepAliveHandler):
    """Writes its headers, takes a moment, then writes its body; echoes a POST's body."""

    def do_GET(self) -> None:
        self._answer(b"the body")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        time.sleep(0.2)
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def raw_connection(part: HttpPart) -> socket.socket:
    host, port = part.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def test_a_response_goes_out_in_one_piece_once_the_request_is_handled() -> None:
    # Given a handler that writes its headers a moment before its body
    with HttpPart(_PausesBeforeItsBody, name="pauses") as part, raw_connection(part) as client:
        # When a client asks and reads what arrives first
        client.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        first = client.recv(4096)

    # Then the headers did not go out alone: the body came with them
    assert first.startswith(b"HTTP/1.1 200")
    assert first.endswith(b"\r\n\r\nthe body")


def test_a_client_that_expects_100_continue_is_told_at_once_to_send_its_body() -> None:
    # Given a request whose client waits for 100 Continue before sending its body
    with HttpPart(_PausesBeforeItsBody, name="pauses") as part, raw_connection(part) as client:
        client.sendall(
            b"POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
            b"Content-Length: 5\r\n\r\n"
        )

        # When it gets the interim answer, then sends the body
        interim = client.recv(4096)
        client.sendall(b"hello")
        answer = client.recv(4096)

    # Then the interim answer came unbuffered, and the body was read and answered
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.startswith(b"HTTP/1.1 200")
    assert answer.endswith(b"hello")
