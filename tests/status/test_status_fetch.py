"""Online status checking with an injected HTTP client: fakes for each failure, a real loopback server."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import pytest
from perseus.verifier.status import HttpResponse, StatusRetrievalError, fetch_status_list, status_check_online, urllib_client
from perseus_status_fixtures import issuer_key, make_credential, make_list, status_entry, status_storage  # noqa: F401 - fixtures

URL = "https://issuer.example/status/3"
NOW = datetime(2025, 1, 1, 6, 0, 0, tzinfo=timezone.utc)
Maker = Callable[..., dict[str, Any]]


def client_returning(response: HttpResponse | Exception, calls: list[str] | None = None) -> Callable[[str, Mapping[str, str]], HttpResponse]:
    def get(url: str, headers: Mapping[str, str]) -> HttpResponse:
        if calls is not None:
            calls.append(url)
        assert "application/vc" in headers["Accept"]
        if isinstance(response, Exception):
            raise response
        return response

    return get


def test_a_status_list_is_fetched_and_parsed() -> None:
    body = json.dumps({"id": URL, "type": ["VerifiableCredential"]}).encode()
    assert fetch_status_list(URL, client_returning(HttpResponse(200, body, {"content-type": "application/vc"})))["id"] == URL


@pytest.mark.parametrize(
    ("url", "response", "fragment"),
    [
        (URL, HttpResponse(404, b""), "HTTP 404"),
        (URL, OSError("connection refused"), "could not be retrieved$"),  # never the client's exception text
        (URL, HttpResponse(302, b"", {"location": "http://10.0.0.1/"}), "redirects are not followed"),
        (URL, HttpResponse(200, b"eyJhbGciOi.jwt", {"content-type": "application/vc+jwt"}), r"application/vc\+jwt"),
        (URL, HttpResponse(200, b"[1, 2]"), "not a credential object"),
        (URL, HttpResponse(200, b"{" + b" " * (5 * 1024 * 1024) + b"}"), "larger than"),
        ("http://issuer.example/status/3", HttpResponse(200, b"{}"), "plain http"),
        ("file:///etc/passwd", HttpResponse(200, b"{}"), "only https"),
        ("did:web:issuer.example", HttpResponse(200, b"{}"), "only https"),
    ],
)
def test_every_retrieval_failure_is_a_status_retrieval_error(url: str, response: HttpResponse | Exception, fragment: str) -> None:
    with pytest.raises(StatusRetrievalError, match=fragment) as caught:
        fetch_status_list(url, client_returning(response))
    assert caught.value.code == "STATUS_RETRIEVAL_ERROR"


def test_online_checks_fetch_each_list_once(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    status_list = make_list((7,), purpose=["revocation", "suspension"])
    calls: list[str] = []
    client = client_returning(HttpResponse(200, json.dumps(status_list).encode()), calls)
    credential = make_credential(status_entry(7), status_entry(8, "suspension"))
    check = status_check_online(credential, client, now=NOW)
    assert [p.code for p in check.problems] == ["CREDENTIAL_REVOKED"]
    assert calls == [URL]


def test_an_unreachable_list_fails_the_check_with_the_reason(make_credential: Maker, status_entry: Maker) -> None:
    check = status_check_online(make_credential(status_entry(7)), client_returning(OSError("timed out")), now=NOW)
    assert [p.code for p in check.problems] == ["STATUS_RETRIEVAL_ERROR"]
    assert "could not be retrieved" in check.problems[0].detail and "timed out" not in check.problems[0].detail


@pytest.fixture
def loopback_server(make_list: Maker) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving one status list credential (and 404 elsewhere)."""
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/vc")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    served["/status/3"] = json.dumps(make_list((42,), url=base + "/status/3")).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def test_the_urllib_client_against_a_real_server(loopback_server: str, make_credential: Maker, status_entry: Maker) -> None:
    url = loopback_server + "/status/3"
    credential = make_credential(status_entry(42, url=url))
    client = urllib_client(timeout=5, allowed_hosts=["127.0.0.1"])  # loopback is refused unless allowed
    check = status_check_online(credential, client, now=NOW)
    assert [p.code for p in check.problems] == ["CREDENTIAL_REVOKED"]
    with pytest.raises(StatusRetrievalError, match="HTTP 404"):
        fetch_status_list(loopback_server + "/status/404", client)
