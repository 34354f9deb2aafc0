"""The delay line on real loopback sockets: holding, pausing, dropping, following its upstream.

No timing is asserted: a huge lag or a pause holds bytes until the test releases them, and the
test checks what arrived (and what `bytes_held` says) at each step.
"""
from __future__ import annotations

import socket
import threading

import pytest
from tenacity import retry, retry_if_result, stop_after_delay, wait_fixed

from chaos.lab.postgres.delayline import DelayLine

HOLD_FOREVER = 3600.0


class Upstream:
    """A one-connection TCP server on 127.0.0.1 the test writes to (the 'primary')."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = self.listener.getsockname()
        self.conn: socket.socket | None = None
        self._accepted = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            self.conn, _ = self.listener.accept()
            self._accepted.set()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        assert self._accepted.wait(5), "the delay line never connected upstream"
        self.conn.sendall(data)

    def recv(self, size: int) -> bytes:
        assert self._accepted.wait(5)
        self.conn.settimeout(5)
        return self.conn.recv(size)

    def close(self) -> None:
        for sock in (self.conn, self.listener):
            if sock is not None:
                sock.close()


@pytest.fixture
def upstream():
    server = Upstream()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def make_line():
    lines: list[DelayLine] = []

    def make(*args, **kwargs) -> DelayLine:
        line = DelayLine(*args, **kwargs)
        lines.append(line)
        return line

    try:
        yield make
    finally:
        for line in lines:
            line.close()


def eventually(predicate, seconds: float = 5.0) -> bool:
    @retry(stop=stop_after_delay(seconds), wait=wait_fixed(0.01), retry=retry_if_result(lambda ok: not ok),
           retry_error_callback=lambda _: False)
    def check() -> bool:
        return bool(predicate())

    return check()


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    sock.settimeout(5)
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def nothing_arrives(sock: socket.socket) -> bool:
    """True if neither data nor end-of-stream shows up in 0.2 s (bytes are being held)."""
    sock.settimeout(0.2)
    try:
        sock.recv(1)
    except TimeoutError:
        return True
    return False


def test_bytes_are_held_for_the_lag_and_released_in_order(upstream, make_line):
    line = make_line("link", lambda: upstream.address, lag_seconds=HOLD_FOREVER)
    client = socket.create_connection(("127.0.0.1", line.port))
    client.sendall(b"hello")  # client -> upstream is never delayed
    assert upstream.recv(5) == b"hello"
    upstream.send(b"first ")
    upstream.send(b"second")
    assert eventually(lambda: line.bytes_held == 12)
    assert nothing_arrives(client)
    line.lag_seconds = 0
    assert recv_exactly(client, 12) == b"first second"
    assert line.bytes_held == 0
    client.close()


def test_pause_holds_everything_until_resumed(upstream, make_line):
    line = make_line("link", lambda: upstream.address)
    client = socket.create_connection(("127.0.0.1", line.port))
    line.paused = True
    upstream.send(b"wal")
    assert eventually(lambda: line.bytes_held == 3)
    assert nothing_arrives(client)
    line.paused = False
    assert recv_exactly(client, 3) == b"wal"
    client.close()


def test_going_down_drops_what_is_held_and_refuses_connections(upstream, make_line):
    line = make_line("link", lambda: upstream.address, lag_seconds=HOLD_FOREVER)
    client = socket.create_connection(("127.0.0.1", line.port))
    upstream.send(b"in flight")
    assert eventually(lambda: line.bytes_held == 9)
    assert line.set_down(True) == 9
    client.settimeout(5)
    assert client.recv(16) == b"", "the held bytes reached the client after the link went down"
    refused = socket.create_connection(("127.0.0.1", line.port))
    refused.settimeout(5)
    assert refused.recv(1) == b""
    client.close()
    refused.close()


def test_no_upstream_means_the_connection_is_closed(make_line):
    line = make_line("endpoint", lambda: None)
    client = socket.create_connection(("127.0.0.1", line.port))
    client.settimeout(5)
    assert client.recv(1) == b""
    client.close()


def message(kind: bytes, body: bytes) -> bytes:
    return kind + (4 + len(body)).to_bytes(4, "big") + body


def test_only_copy_data_waits_for_the_lag_on_a_replication_link(upstream, make_line):
    line = make_line("link", lambda: upstream.address, lag_seconds=HOLD_FOREVER, delay_copy_data_only=True)
    client = socket.create_connection(("127.0.0.1", line.port))
    client.sendall(b"x")
    upstream.recv(1)
    handshake = message(b"R", b"\0\0\0\0") + message(b"Z", b"I")
    upstream.send(handshake[:3])  # a message split across reads is reassembled
    upstream.send(handshake[3:])
    assert recv_exactly(client, len(handshake)) == handshake
    wal = message(b"d", b"w" + b"\0" * 40)
    after_wal = message(b"Z", b"I")  # must not overtake the WAL before it
    upstream.send(wal + after_wal)
    assert eventually(lambda: line.bytes_held == len(wal) + len(after_wal))
    assert nothing_arrives(client)
    line.lag_seconds = 0
    assert recv_exactly(client, len(wal) + len(after_wal)) == wal + after_wal
    client.close()
