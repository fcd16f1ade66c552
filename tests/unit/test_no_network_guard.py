import socket

import pytest


def test_non_loopback_connections_fail_the_test() -> None:
    # A closed socket: if the guard were missing, connect would fail with EBADF and send nothing.
    sock = socket.socket()
    sock.close()
    with pytest.raises(AssertionError, match="reach the network"):
        sock.connect(("192.0.2.1", 9))


def test_loopback_connections_are_allowed() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.socket()
    try:
        client.connect(server.getsockname())
    finally:
        client.close()
        server.close()
