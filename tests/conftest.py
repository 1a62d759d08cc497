"""Test-session rules: no test reaches the network.

Every socket connection and name lookup is checked: loopback (127.0.0.0/8, ::1, "localhost") and Unix
sockets pass, so the service tests can talk to a server on this machine and to a local PostgreSQL;
anything else raises `NetworkBlocked` naming the address, so a test that would have fetched a context
or a DID document fails loudly instead of quietly depending on the internet.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

VECTORS = Path(__file__).parent / "vectors"


class NetworkBlocked(RuntimeError):
    pass


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guard(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _is_loopback(host):
        raise NetworkBlocked(f"tests may not reach the network (attempted {address!r})")


def _connect(self: socket.socket, address: object) -> None:
    _guard(self, address)
    return _real_connect(self, address)


def _connect_ex(self: socket.socket, address: object) -> int:
    _guard(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: object, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    if host is not None and not _is_loopback(host if not isinstance(host, bytes) else host.decode()):
        raise NetworkBlocked(f"tests may not resolve network names (attempted {host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The W3C test vectors, copied byte for byte from the public repositories (see vectors/SOURCES.txt)."""
    return VECTORS
