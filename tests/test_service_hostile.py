"""Slow clients against the real server: ``--read-timeout`` and ``--keep-alive-timeout``.

One server with short timeouts (2 s per request, 1 s idle keep-alive) serves this module; slow clients are
raw sockets that send a request line, headers or body a byte at a time (slowloris), or nothing at all.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Iterator

import pytest

from test_service import CLEAN, KEY, SCRUB, Server, claim_json, serve_exit, start_server

READ_TIMEOUT = 2.0
KEEP_ALIVE = 1.0
SLACK = 3.0  # a busy 2-core machine: how late the server may close, on top of the timeout


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory) -> Iterator[Server]:
    started = start_server(
        tmp_path_factory.mktemp("hostile") / "server.log",
        "--read-timeout", str(READ_TIMEOUT), "--keep-alive-timeout", str(KEEP_ALIVE),
        env={"SCRUBBER_API_KEYS": KEY},
    )
    yield started
    started.stop()


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=30)


def read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed (seconds from now)."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise AssertionError(f"the server kept the connection open for {limit} s; it sent {received!r}") from None
    return received, time.monotonic() - started


def assert_408(received: bytes) -> None:
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), received
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"] == "request_timeout"


REQUEST_HEAD = f"POST {SCRUB} HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY}\r\nContent-Type: application/json\r\n".encode()


def test_an_idle_new_connection_is_closed_silently(slow_server):
    with connect(slow_server) as sock:
        received, after = read_until_closed(sock, READ_TIMEOUT + SLACK)
    assert received == b""
    assert after >= READ_TIMEOUT - 0.5


def test_headers_sent_a_byte_at_a_time_get_408(slow_server):
    with connect(slow_server) as sock:
        started = time.monotonic()
        sock.sendall(b"POST ")
        for byte in REQUEST_HEAD[5:]:  # the head, one byte every 0.25 s: it would take ~20 s
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            if time.monotonic() - started > READ_TIMEOUT + SLACK:
                raise AssertionError("the server still reads the headers")
            time.sleep(0.25)
        received, _ = read_until_closed(sock, SLACK)
    assert_408(received)
    assert READ_TIMEOUT - 0.5 <= time.monotonic() - started <= READ_TIMEOUT + SLACK


def test_a_body_sent_a_byte_at_a_time_gets_408(slow_server):
    with connect(slow_server) as sock:
        started = time.monotonic()
        sock.sendall(REQUEST_HEAD + b"Content-Length: 1000\r\n\r\n[")
        try:
            for _ in range(999):
                sock.sendall(b" ")
                if time.monotonic() - started > READ_TIMEOUT + SLACK:
                    raise AssertionError("the server still reads the body")
                time.sleep(0.25)
        except OSError:
            pass
        received, _ = read_until_closed(sock, SLACK)
    assert_408(received)
    assert READ_TIMEOUT - 0.5 <= time.monotonic() - started <= READ_TIMEOUT + SLACK
    assert "Traceback" not in slow_server.log_text() and "Exception in ASGI" not in slow_server.log_text()


def test_an_idle_keep_alive_connection_is_closed(slow_server):
    with connect(slow_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        received, after = read_until_closed(sock, KEEP_ALIVE + SLACK)
    assert received.startswith(b"HTTP/1.1 200 ") and received.endswith(b'{"status":"ok"}')
    assert after < KEEP_ALIVE + SLACK


def test_the_deadline_is_per_request_not_per_connection(slow_server):
    # Requests on one keep-alive connection for longer than the read timeout: each arrives promptly.
    with slow_server.client() as client:
        started = time.monotonic()
        while time.monotonic() - started < READ_TIMEOUT * 1.5:
            response = client.post(SCRUB, json=claim_json(CLEAN))
            assert response.status_code == 200, response.text
            time.sleep(KEEP_ALIVE / 3)
        assert client.get("/healthz").status_code == 200


def test_many_slow_clients_do_not_stop_a_normal_request(slow_server):
    slow = []
    for number in range(100):
        sock = connect(slow_server)
        sock.sendall(REQUEST_HEAD + b"Content-Length: 100\r\n\r\n" if number % 2 else b"POST ")
        sock.setblocking(False)
        slow.append(sock)
    started = time.monotonic()
    open_ = set(range(len(slow)))
    closed_after: dict[int, float] = {}
    answered = None
    try:
        while open_ and time.monotonic() - started < READ_TIMEOUT + SLACK + 2:
            if answered is None and time.monotonic() - started > 0.5:
                with slow_server.client() as client:  # while all 100 are connected and trickling
                    before = time.monotonic()
                    response = client.post(SCRUB, json=claim_json(CLEAN))
                    answered = (response.status_code, time.monotonic() - before)
            for number in list(open_):
                sock = slow[number]
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    try:  # one more byte for each slow client, every round (~0.5 s)
                        sock.send(b" " if number % 2 else b"/")
                    except (BlockingIOError, OSError):
                        pass
                    continue
                except OSError:
                    data = b""
                if not data or b"408" in data:
                    open_.discard(number)
                    closed_after[number] = time.monotonic() - started
            time.sleep(0.5)
    finally:
        for sock in slow:
            sock.close()
    assert answered is not None and answered[0] == 200
    assert answered[1] < 5, f"a normal request took {answered[1]:.1f} s with 100 slow clients connected"
    assert not open_, f"{len(open_)} slow clients still connected after {READ_TIMEOUT + SLACK + 2} s"
    assert max(closed_after.values()) <= READ_TIMEOUT + SLACK + 1


def test_timeouts_are_serve_options(tmp_path):
    assert serve_exit("--read-timeout", "0", env={"SCRUBBER_API_KEYS": KEY}).returncode == 2
    assert serve_exit("--read-timeout", "nan", env={"SCRUBBER_API_KEYS": KEY}).returncode == 2
    assert serve_exit("--keep-alive-timeout", "-1", env={"SCRUBBER_API_KEYS": KEY}).returncode == 2
    help_text = serve_exit("--help").stdout
    assert "--read-timeout SECONDS" in help_text and "--keep-alive-timeout SECONDS" in help_text
