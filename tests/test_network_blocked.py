import socket

import pytest

from conftest import NetworkBlocked


def test_outbound_connection_is_refused() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkBlocked, match="203.0.113.7"):
            s.connect(("203.0.113.7", 443))
    finally:
        s.close()


def test_name_lookup_is_refused() -> None:
    with pytest.raises(NetworkBlocked, match="www.w3.org"):
        socket.getaddrinfo("www.w3.org", 443)


def test_loopback_is_allowed() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        client.connect(server.getsockname())
        conn, _ = server.accept()
        conn.close()
    finally:
        client.close()
        server.close()
