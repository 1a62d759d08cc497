"""The policy for the verifier's only outbound requests: fetching status list credentials.

A ``statusListCredential`` URL comes from whoever hands us the credential, so fetching it is a
server-side request forgery risk the moment a verifier runs as a service: the URL can name this
machine, the internal network or a cloud metadata address, and how the fetch fails says what lives
there. `OutboundClient` is the `perseus.verifier.status.HttpGet` that fetches under these rules:

* **public addresses only.** The host name is resolved once; every address it resolves to must be
  public (`refusal_reason`: not loopback, private, link-local, multicast, reserved, unspecified,
  shared or documentation space — also when embedded in IPv4-mapped, 6to4 or NAT64 IPv6 addresses),
  and the connection goes to an address that was checked — never a second lookup, so a name that
  answers with a public address and then a private one (DNS rebinding) cannot slip through. The
  lookup itself counts against the deadline (a slow name server is as easy to run as a slow web
  server). Hosts
  the operator names in ``allowed_hosts`` (a test server, a sidecar) are exempt;
* **no redirects.** A 3xx is returned as it is (and `fetch_status_list` reports it): a redirect is
  a second, unchecked URL;
* **one deadline** for every fetch the client makes: a verification that names ten slow URLs waits
  at most ``deadline`` seconds in all, not ten times a timeout. Every socket operation gets the time
  that is left, so a server trickling one byte a second cannot stretch it;
* **at most ``max_urls`` distinct URLs** and **``max_bytes`` per response**;
* **nothing about the network in the answer.** A failure raises `OutboundError` whose message is
  the same for a refused address, a closed port, a reset or a TLS failure ("could not be
  retrieved"); the specific reason goes to the ``perseus.outbound`` log for the operator.

Build one client per verification (per HTTP request in a service): the deadline and the URL count
belong to it. Standard library only (``http.client``, ``ssl``, ``socket``), so the verifier package
stays free of HTTP libraries; HTTPS certificates are checked against the URL's host name (SNI), not
against the address connected to.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from .status import HttpResponse

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_URLS",
    "OutboundClient",
    "OutboundError",
    "OutboundLimitError",
    "OutboundPolicy",
    "Resolver",
    "normalise_host",
    "refusal_reason",
    "system_resolver",
]

log = logging.getLogger("perseus.outbound")

# Ten seconds for all the status lists of one verification: a healthy issuer answers in well under
# a second, and a caller should not be able to hold a worker much longer than that.
DEFAULT_DEADLINE: Final = 10.0
# A credential this project issues names two lists; eight leaves room for other issuers' practice
# while keeping what one request can make us fetch small.
DEFAULT_MAX_URLS: Final = 8
# A status list of a million entries, every bit random, is ~170 KB once compressed and base64url
# encoded; a megabyte is generous and small.
DEFAULT_MAX_BYTES: Final = 1024 * 1024

_CHUNK: Final = 64 * 1024
_RETRIEVAL_FAILED: Final = "could not be retrieved"

# Address ranges `ipaddress` does not flag but which are not the public internet.
_EXTRA_REFUSED: Final = (
    (ipaddress.ip_network("100.64.0.0/10"), "shared address space (carrier-grade NAT)"),
    (ipaddress.ip_network("192.0.0.0/24"), "IETF protocol assignments"),
    (ipaddress.ip_network("198.18.0.0/15"), "benchmarking"),
)
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundError(OSError):
    """An outbound request was not made or did not complete; the message says nothing about the network."""


class OutboundLimitError(OutboundError):
    """A limit of the policy (deadline, URL count) stopped a request; the message names the limit."""


Resolver = Callable[[str, int], Iterable[str]]
"""``resolver(host, port) -> addresses``: the IP addresses (text) a host name resolves to."""


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``getaddrinfo``), addresses in its order, duplicates removed."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not one to fetch from (a short phrase for the log), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is not None:
            inner = refusal_reason(embedded)
            if inner is not None:
                return f"{inner} (inside an IPv6 address)"
        if address.scope_id:
            return "a scoped (link-local) address"
    for flag, phrase in (
        ("is_unspecified", "the unspecified address"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
        ("is_site_local", "site-local"),
    ):
        if getattr(address, flag, False):
            return phrase
    for network, phrase in _EXTRA_REFUSED:
        if address.version == network.version and address in network:
            return phrase
    if not address.is_global:
        return "not globally routable"
    return None


def normalise_host(host: str) -> str:
    """A host as the allow-list compares it: lower case, no brackets or trailing dot, IPs in canonical form."""
    text = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


@dataclass(frozen=True)
class OutboundPolicy:
    """What `OutboundClient` may fetch: see the module documentation for why each limit exists."""

    allowed_hosts: frozenset[str] = frozenset()
    deadline: float = DEFAULT_DEADLINE
    max_urls: int = DEFAULT_MAX_URLS
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_hosts", frozenset(normalise_host(h) for h in self.allowed_hosts if h and h.strip()))
        if not self.deadline > 0 or self.max_urls < 1 or self.max_bytes < 1:
            raise ValueError("an outbound policy needs a positive deadline, URL count and byte limit")

    def allows_host(self, host: str) -> bool:
        return normalise_host(host) in self.allowed_hosts


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to ``address`` (already checked), with the URL's host in the ``Host`` header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address`` (already checked); the certificate must match the URL's host (SNI)."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


@dataclass
class OutboundClient:
    """An `HttpGet` (``client(url, headers) -> HttpResponse``) that fetches under an `OutboundPolicy`.

    The deadline starts at the first request; the client is meant for one verification (one service
    request) and is safe to share between the threads of that one verification.
    """

    policy: OutboundPolicy = field(default_factory=OutboundPolicy)
    resolver: Resolver = system_resolver
    clock: Callable[[], float] = time.monotonic
    tls: ssl.SSLContext | None = None
    _started: float | None = field(default=None, init=False, repr=False)
    _expired: bool = field(default=False, init=False, repr=False)
    _urls: set[str] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def max_urls(self) -> int:
        """How many distinct URLs this client fetches (`status_check_online` counts before fetching)."""
        return self.policy.max_urls

    @property
    def max_bytes(self) -> int:
        """The largest response body accepted (`fetch_status_list` refuses a longer one by name)."""
        return self.policy.max_bytes

    def __call__(self, url: str, headers: Mapping[str, str]) -> HttpResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboundError(_RETRIEVAL_FAILED)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise OutboundError(_RETRIEVAL_FAILED) from None
        self._admit(url)
        host = parts.hostname
        addresses = self._checked_addresses(url, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        last: BaseException | None = None
        for address in addresses:
            try:
                return self._get(parts.scheme, host, port, address, target, headers)
            except OutboundLimitError:
                raise
            except (OSError, http.client.HTTPException, ValueError) as exc:
                last = exc
                if isinstance(exc, ssl.SSLError | http.client.HTTPException):
                    break  # the server answered; another of its addresses would not change that
        log.warning("status list fetch of %s failed: %s: %s", url, type(last).__name__, last)
        raise OutboundError(_RETRIEVAL_FAILED)

    # -- limits

    def _admit(self, url: str) -> None:
        with self._lock:
            if self._started is None:
                self._started = self.clock()
            if url not in self._urls:
                if len(self._urls) >= self.policy.max_urls:
                    raise OutboundLimitError(
                        f"not fetched: one verification fetches at most {self.policy.max_urls} distinct status lists"
                    )
                self._urls.add(url)
        self._remaining()

    def _remaining(self) -> float:
        started = self._started if self._started is not None else self.clock()
        left = self.policy.deadline - (self.clock() - started)
        if left <= 0 or self._expired:
            raise OutboundLimitError(self._late())
        return left

    def _late(self) -> str:
        return f"not fetched in time: the status lists of one verification get {_seconds(self.policy.deadline)} in all"

    # -- addresses

    def _checked_addresses(self, url: str, host: str, port: int) -> list[str]:
        allowed = self.policy.allows_host(host)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            candidates = [str(literal)]
        else:
            # getaddrinfo cannot be interrupted, and a name server that answers slowly is as easy to set up
            # as a web server that does: the lookup runs in a small shared pool and is waited for only as
            # long as the deadline allows.
            lookup = _resolver_pool().submit(lambda: list(self.resolver(host, port)))
            try:
                candidates = lookup.result(timeout=self._remaining())
            except concurrent.futures.TimeoutError:
                lookup.cancel()
                with self._lock:
                    self._expired = True
                raise OutboundLimitError(self._late()) from None
            except Exception as exc:  # noqa: BLE001 - any resolver failure means: not retrieved
                log.warning("status list fetch of %s: cannot resolve %s: %s", url, host, exc)
                raise OutboundError(_RETRIEVAL_FAILED) from None
        checked: list[str] = []
        for text in candidates:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                log.warning("status list fetch of %s: the resolver gave %r, not an IP address", url, text)
                raise OutboundError(_RETRIEVAL_FAILED) from None
            reason = None if allowed else refusal_reason(address)
            if reason is not None:
                # One refused address refuses the name: a host with a public and a private address is
                # exactly what a rebinding attacker sets up.
                log.warning("status list fetch of %s refused: %s resolves to %s, %s (not in the allowed hosts)", url, host, address, reason)
                raise OutboundError(_RETRIEVAL_FAILED)
            checked.append(str(address))
        if not checked:
            log.warning("status list fetch of %s: %s resolves to no address", url, host)
            raise OutboundError(_RETRIEVAL_FAILED)
        return checked

    # -- the request

    def _get(self, scheme: str, host: str, port: int, address: str, target: str, headers: Mapping[str, str]) -> HttpResponse:
        timeout = self._remaining()
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _PinnedHTTPSConnection(host, port, address, timeout, self.tls or ssl.create_default_context())
        else:
            connection = _PinnedHTTPConnection(host, port, address, timeout)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection", "accept-encoding")}
            connection.request("GET", target, headers={**sent, "Accept-Encoding": "identity", "Connection": "close"})
            self._tighten(connection)
            answer = connection.getresponse()
            body = bytearray()
            limit = self.policy.max_bytes + 1
            while len(body) < limit:
                self._tighten(connection)
                chunk = answer.read1(min(_CHUNK, limit - len(body)))
                if not chunk:
                    break
                body += chunk
            return HttpResponse(answer.status, bytes(body), {k.lower(): v for k, v in answer.getheaders()})
        except TimeoutError:
            # Every socket operation was given exactly the time left, so a timeout is the deadline.
            with self._lock:
                self._expired = True
            raise OutboundLimitError(self._late()) from None
        finally:
            connection.close()

    def _tighten(self, connection: http.client.HTTPConnection) -> None:
        """Give the next socket operation only the time left of the shared deadline."""
        left = self._remaining()
        if connection.sock is not None:
            connection.sock.settimeout(left)


_POOL_LOCK = threading.Lock()
_POOL: concurrent.futures.ThreadPoolExecutor | None = None
_RESOLVER_THREADS: Final = 8  # lookups in flight at once, process-wide; more wait (within their deadline)


def _resolver_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = concurrent.futures.ThreadPoolExecutor(max_workers=_RESOLVER_THREADS, thread_name_prefix="perseus-resolve")
        return _POOL


def _seconds(value: float) -> str:
    return f"{value:g} second{'s' if value != 1 else ''}"
