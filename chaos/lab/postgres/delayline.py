"""A loopback TCP forwarder that holds upstream→client bytes for a lag L: real network lag.

Used two ways by the data plane:
- as the cross-region link of a read replica: the replica's WAL receiver connects here and this
  forwards to the source's current primary. WAL from the primary is held for `lag_seconds` before
  it reaches the replica, and can be paused. A region outage of the source drops what is held, so a
  promoted replica really misses the last L seconds of commits. (`recovery_min_apply_delay` would
  not do: the replica would already hold that WAL and apply it at promotion.)
- with lag 0, as the stable endpoint of an RDS instance: like the instance's DNS name, its port
  stays the same while the process behind it changes (Multi-AZ failover); switching drops the open
  connections, as a real failover does.

Bytes from the client to upstream (the replica's feedback, SQL) are forwarded at once. Each
connection uses three small threads; the lab opens a handful of connections. For replication
links only the WAL stream is delayed, not the connection handshake (see `_MessageFraming`).
"""
from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable

Upstream = tuple[str, int]
_CHUNK = 64 * 1024


class _MessageFraming:
    """Split the server→client byte stream of the PostgreSQL protocol into messages.

    With `delay_copy_data_only`, only CopyData messages (type 'd': the WAL stream and the primary's
    keepalives) wait for the lag; the connection handshake (authentication, IDENTIFY_SYSTEM,
    START_REPLICATION) passes at once, so a lagging replica still (re)connects in milliseconds, as
    over a real cross-region link whose round trip is short compared with the replication lag.
    Requires a stream without SSL/GSS negotiation bytes (the replica connects with
    sslmode=disable gssencmode=disable).
    """

    _COPY_DATA = ord("d")

    def __init__(self) -> None:
        self._partial = bytearray()

    def split(self, data: bytes) -> list[tuple[bool, bytes]]:
        """Complete messages from `data`, grouped into runs of (is CopyData, bytes)."""
        self._partial += data
        runs: list[tuple[bool, int, int]] = []  # (is CopyData, start, end) into self._partial
        offset = 0
        while len(self._partial) - offset >= 5:
            length = int.from_bytes(self._partial[offset + 1:offset + 5], "big")
            end = offset + 1 + length
            if end > len(self._partial):
                break
            delayed = self._partial[offset] == self._COPY_DATA
            if runs and runs[-1][0] == delayed:
                runs[-1] = (delayed, runs[-1][1], end)
            else:
                runs.append((delayed, offset, end))
            offset = end
        complete = [(delayed, bytes(self._partial[start:end])) for delayed, start, end in runs]
        del self._partial[:offset]
        return complete


class _Connection:
    """One client connection and its upstream, with the held upstream→client bytes."""

    def __init__(self, line: DelayLine, client: socket.socket, upstream: socket.socket) -> None:
        self.line = line
        self.client = client
        self.upstream = upstream
        # (received at, subject to the lag?, bytes), oldest first; delivered strictly in order.
        self.held: deque[tuple[float, bool, bytes]] = deque()
        self.held_bytes = 0
        self.upstream_eof = False
        self.closed = False
        self.cond = threading.Condition()
        self._framing = _MessageFraming() if line.delay_copy_data_only else None

    def start(self) -> None:
        for target, role in ((self._read_upstream, "up"), (self._deliver, "deliver"), (self._read_client, "client")):
            threading.Thread(target=target, name=f"{self.line.name}-{role}", daemon=True).start()

    def _read_upstream(self) -> None:
        while True:
            try:
                data = self.upstream.recv(_CHUNK)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    # Bytes already "in the network" still arrive after the lag, unless dropped.
                    self.upstream_eof = True
                    self.cond.notify_all()
                    return
                now = time.monotonic()
                runs = self._framing.split(data) if self._framing else [(True, data)]
                for delayed, run in runs:
                    self.held.append((now, delayed, run))
                    self.held_bytes += len(run)
                self.cond.notify_all()

    def _deliver(self) -> None:
        while True:
            with self.cond:
                chunk = self._next_due_chunk()
                if chunk is None:
                    break
            try:
                self.client.sendall(chunk)
            except OSError:
                break
        self.close()

    def _next_due_chunk(self) -> bytes | None:
        """Wait (holding `cond`) until the oldest chunk is due; None when the connection is over."""
        while not self.closed:
            if self.held and not self.line.paused:
                received_at, delayed, data = self.held[0]
                wait = received_at + (self.line.lag_seconds if delayed else 0.0) - time.monotonic()
                if wait <= 0:
                    self.held.popleft()
                    self.held_bytes -= len(data)
                    return data
                self.cond.wait(min(wait, 0.5))
            elif self.upstream_eof and not self.held:
                return None
            else:
                self.cond.wait(0.5)
        return None

    def _read_client(self) -> None:
        while True:
            try:
                data = self.client.recv(_CHUNK)
                if not data:
                    break
                self.upstream.sendall(data)
            except OSError:
                break
        self.close()

    def drop(self) -> int:
        """Discard the held bytes and close both sides; returns how many bytes were lost."""
        with self.cond:
            lost = self.held_bytes
            self.held.clear()
            self.held_bytes = 0
        self.close()
        return lost

    def close(self) -> None:
        with self.cond:
            if self.closed:
                return
            self.closed = True
            self.cond.notify_all()
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.line._forget(self)


class DelayLine:
    """Listen on 127.0.0.1:<port>; forward each connection to `resolve_upstream()`, delaying replies.

    `resolve_upstream` is asked at each new connection, so the line follows a failover; it returns
    None when there is nothing to connect to (the connection is then refused by closing it).
    """

    def __init__(self, name: str, resolve_upstream: Callable[[], Upstream | None], lag_seconds: float = 0.0,
                 *, delay_copy_data_only: bool = False) -> None:
        self.name = name
        self.delay_copy_data_only = delay_copy_data_only
        self._resolve = resolve_upstream
        self._lag = float(lag_seconds)
        self._paused = False
        self._down = False
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port: int = int(self._listener.getsockname()[1])
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"{name}-accept", daemon=True)
        self._acceptor.start()

    # ---- state the data plane controls -----------------------------------------------------

    @property
    def lag_seconds(self) -> float:
        return self._lag

    @lag_seconds.setter
    def lag_seconds(self, seconds: float) -> None:
        self._lag = max(0.0, float(seconds))
        self._wake_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @paused.setter
    def paused(self, paused: bool) -> None:
        self._paused = bool(paused)
        self._wake_all()

    @property
    def down(self) -> bool:
        return self._down

    @property
    def bytes_held(self) -> int:
        with self._lock:
            return sum(conn.held_bytes for conn in self._connections)

    def set_down(self, down: bool) -> int:
        """Down: drop what is held, cut every connection, refuse new ones. Returns bytes dropped."""
        self._down = bool(down)
        return self.disconnect_all() if down else 0

    def disconnect_all(self) -> int:
        """Cut every open connection (their held bytes are lost); returns bytes dropped."""
        with self._lock:
            connections = list(self._connections)
        return sum(conn.drop() for conn in connections)

    def close(self) -> None:
        self._closed = True
        self._down = True
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self.disconnect_all()
        self._acceptor.join(timeout=2)

    # ---- internals ------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = None if self._down else self._resolve()
            if upstream is None:
                client.close()
                continue
            try:
                upstream_sock = socket.create_connection(upstream, timeout=2)
                upstream_sock.settimeout(None)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream_sock):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._closed or self._down:
                    client.close()
                    upstream_sock.close()
                    continue
                conn = _Connection(self, client, upstream_sock)
                self._connections.add(conn)
            conn.start()

    def _forget(self, conn: _Connection) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _wake_all(self) -> None:
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with conn.cond:
                conn.cond.notify_all()
