"""The outbound-fetch policy (perseus.verifier.outbound) and the library's online status check (issue 7 §2).

Loopback servers only: each counts the connections it accepts, so "refused" means no connection
was ever made, and "not followed" means the redirect's target counted none.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from perseus.issuer.keyfile import generate_key_file
from perseus.issuer.signing import sign_document
from perseus.verifier.outbound import OutboundClient, OutboundError, OutboundLimitError, OutboundPolicy, normalise_host, refusal_reason
from perseus.verifier.status import HttpResponse, StatusRetrievalError, fetch_status_list, status_check_online
from perseus.verifier.verify import verify_credential
from perseus_loopback_servers import Behaviour, closed_port, loopback_servers
from perseus_status_fixtures import issuer_key, make_credential, make_list, status_entry  # noqa: F401 - fixtures

NOW = datetime(2025, 1, 1, 6, 0, 0, tzinfo=timezone.utc)
Maker = Callable[..., dict[str, Any]]
LOOPBACK = frozenset({"127.0.0.1"})
ACCEPT = {"Accept": "application/vc"}

# -- address classification ----------------------------------------------------------------------------

REFUSED_NETWORKS = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::1/128", "::/128", "fe80::/10", "fc00::/7", "ff00::/8", "2001:db8::/32", "::ffff:0:0/96",
]


@pytest.mark.parametrize("network", REFUSED_NETWORKS)
@given(data=st.data())
def test_every_address_of_a_non_public_range_is_refused(network: str, data: st.DataObject) -> None:
    net = ipaddress.ip_network(network)
    address = data.draw(st.ip_addresses(network=net))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None and address.ipv4_mapped.is_global:
        return  # ::ffff:8.8.8.8 is 8.8.8.8: classified by what it maps to (next test)
    assert refusal_reason(address) is not None, address


@given(st.ip_addresses(v=4))
def test_an_ipv4_address_hidden_in_ipv6_is_classified_as_itself(address: ipaddress.IPv4Address) -> None:
    # IPv4-mapped, 6to4 and NAT64 forms reach the same host: they must get the same answer
    inner = refusal_reason(address) is None
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    six_to_four = ipaddress.IPv6Address((0x2002 << 112) | (int(address) << 80))
    nat64 = ipaddress.IPv6Address(f"64:ff9b::{address}")
    for wrapped in (mapped, six_to_four, nat64):
        if not inner:
            assert refusal_reason(wrapped) is not None, (address, wrapped)


@given(st.ip_addresses())
def test_whatever_is_accepted_is_globally_routable(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    if refusal_reason(address) is None:
        assert address.is_global and not address.is_multicast and not address.is_private


@pytest.mark.parametrize("text", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4009:81f::200e"])
def test_public_addresses_are_accepted(text: str) -> None:
    assert refusal_reason(ipaddress.ip_address(text)) is None


@pytest.mark.parametrize(("given_host", "stored"), [("Status.Example.", "status.example"), ("[::1]", "::1"), ("127.000.0.1", "127.000.0.1"), ("::FFFF:7f00:1", "::ffff:7f00:1")])
def test_hosts_are_compared_in_one_form(given_host: str, stored: str) -> None:
    assert normalise_host(given_host) == stored


# -- (a) refused without the allow-list: no connection at all --------------------------------------------


def test_loopback_is_refused_unless_allowed_and_no_connection_is_made(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    with loopback_servers(Behaviour()) as (server,):
        server.behaviour.body = json.dumps(make_list((7,), url=server.url())).encode()
        credential = make_credential(status_entry(7, url=server.url()))
        check = status_check_online(credential, OutboundClient(OutboundPolicy()), now=NOW)
        assert [p.code for p in check.problems] == ["STATUS_RETRIEVAL_ERROR"]
        assert check.problems[0].detail == f"status list {server.url()} could not be retrieved"
        assert server.connections == 0
        # the same list, the host allowed: fetched, and the revocation seen
        allowed = status_check_online(credential, OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK)), now=NOW)
        assert [p.code for p in allowed.problems] == ["CREDENTIAL_REVOKED"]
        assert server.connections == 1


@pytest.mark.parametrize("host", ["localhost", "[::1]", "127.1.2.3", "0.0.0.0", "[::ffff:127.0.0.1]"])
def test_other_spellings_of_this_machine_are_refused(host: str) -> None:
    calls: list[str] = []

    def resolver(name: str, port: int) -> list[str]:
        calls.append(name)
        return ["127.0.0.1"]

    with pytest.raises(OutboundError, match="^could not be retrieved$"):
        OutboundClient(OutboundPolicy(allowed_hosts=frozenset({"127.0.0.1"})), resolver=resolver)(f"http://{host}:9/x", ACCEPT)


# -- (b) redirects are never followed, even to an allowed host -------------------------------------------


def test_a_redirect_is_reported_and_its_target_never_contacted(make_list: Maker, make_credential: Maker, status_entry: Maker) -> None:
    with loopback_servers(Behaviour(), Behaviour()) as (target, redirector):
        target.behaviour.body = json.dumps(make_list(url=target.url())).encode()
        redirector.behaviour = Behaviour(status=302, headers={"Location": target.url()})
        credential = make_credential(status_entry(7, url=redirector.url()))
        check = status_check_online(credential, OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK)), now=NOW)
        assert [p.code for p in check.problems] == ["STATUS_RETRIEVAL_ERROR"]
        assert "HTTP 302" in check.problems[0].detail and "redirects are not followed" in check.problems[0].detail
        assert redirector.connections == 1 and target.connections == 0


# -- (c) names are resolved once, every address checked, the checked address connected to ----------------


def test_a_name_resolving_to_a_refused_address_is_refused_after_resolution() -> None:
    with loopback_servers(Behaviour()) as (server,):
        calls: list[str] = []

        def rebinding(name: str, port: int) -> list[str]:
            calls.append(name)
            return ["127.0.0.1"]

        client = OutboundClient(OutboundPolicy(), resolver=rebinding)
        with pytest.raises(OutboundError) as caught:
            client(f"http://status.example:{server.port}/status/1", ACCEPT)
        assert str(caught.value) == "could not be retrieved" and "127.0.0.1" not in str(caught.value)
        assert calls == ["status.example"] and server.connections == 0


def test_one_refused_address_among_public_ones_refuses_the_name() -> None:
    # conftest would raise NetworkBlocked for a connection to 93.184.216.34: none is attempted
    client = OutboundClient(OutboundPolicy(), resolver=lambda name, port: ["93.184.216.34", "10.0.0.7"])
    with pytest.raises(OutboundError, match="^could not be retrieved$"):
        client("https://status.example/status/1", ACCEPT)


def test_an_allowed_name_is_resolved_once_and_the_checked_address_is_the_one_connected_to() -> None:
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a rebinding DNS server: loopback first, then a private address
    calls: list[str] = []

    def rebinding(name: str, port: int) -> Iterable[str]:
        calls.append(name)
        return next(answers)

    with loopback_servers(Behaviour(body=b"{}")) as (server,):
        client = OutboundClient(OutboundPolicy(allowed_hosts=frozenset({"status.internal"})), resolver=rebinding)
        answer = client(f"http://status.internal:{server.port}/status/1", ACCEPT)
        assert answer.status == 200 and answer.body == b"{}"
        assert calls == ["status.internal"]  # one lookup; the socket library never resolved it again
        assert server.connections == 1 and server.requests[0]["host"] == f"status.internal:{server.port}"


# -- (d) one deadline for every fetch of a verification ----------------------------------------------------


def test_slow_servers_share_one_deadline(make_credential: Maker, status_entry: Maker) -> None:
    with loopback_servers(Behaviour(delay=5), Behaviour(delay=5)) as (first, second):
        credential = make_credential(status_entry(1, url=first.url()), status_entry(2, url=second.url()))
        client = OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK, deadline=0.3))
        check = status_check_online(credential, client, now=NOW)
        assert [p.code for p in check.problems] == ["STATUS_RETRIEVAL_ERROR"] * 2
        assert all("not fetched in time" in p.detail and "0.3 seconds in all" in p.detail for p in check.problems)
        # the first server used the whole budget: the second was never contacted
        assert first.connections == 1 and second.connections == 0


def test_a_server_trickling_its_body_cannot_stretch_the_deadline() -> None:
    with loopback_servers(Behaviour(delay=0.1, trickle=200)) as (server,):
        client = OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK, deadline=0.3))
        with pytest.raises(OutboundLimitError, match="not fetched in time"):
            client(server.url(), ACCEPT)
        with pytest.raises(OutboundLimitError, match="not fetched in time"):  # and the client stays spent
            client(server.url("/status/2"), ACCEPT)
        assert server.connections == 1


# -- (e) a cap on distinct URLs: past it, nothing is fetched ------------------------------------------------


def test_more_distinct_lists_than_the_cap_fetches_none(make_credential: Maker, status_entry: Maker) -> None:
    with loopback_servers(Behaviour(), Behaviour(), Behaviour()) as servers:
        credential = make_credential(*(status_entry(n, url=s.url()) for n, s in enumerate(servers)))
        check = status_check_online(credential, OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK, max_urls=2)), now=NOW)
        assert [p.code for p in check.problems] == ["STATUS_RETRIEVAL_ERROR"]
        assert "names 3 distinct status lists; at most 2 are fetched" in check.problems[0].detail
        assert [s.connections for s in servers] == [0, 0, 0]


def test_the_client_itself_refuses_a_url_past_its_cap() -> None:
    with loopback_servers(Behaviour(body=b"{}")) as (server,):
        client = OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK, max_urls=1))
        client(server.url("/a"), ACCEPT)
        client(server.url("/a"), ACCEPT)  # the same URL again is not a second one
        with pytest.raises(OutboundLimitError, match="at most 1 distinct"):
            client(server.url("/b"), ACCEPT)
        assert server.connections == 2


# -- (f) a response over the size cap is refused ------------------------------------------------------------


def test_a_response_over_the_size_cap_is_refused() -> None:
    with loopback_servers(Behaviour(body=b"{" + b" " * 5000 + b"}")) as (server,):
        client = OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK, max_bytes=1024))
        assert len(client(server.url(), ACCEPT).body) == 1025  # reading stops one byte past the cap
        with pytest.raises(StatusRetrievalError, match="larger than 1024 bytes"):
            fetch_status_list(server.url("/again"), client)


# -- (g) error details carry no exception text, port state or address ----------------------------------------


def _failures() -> list[tuple[str, Callable[[], Any]]]:
    port = closed_port()
    return [
        ("refused address", lambda: OutboundClient(OutboundPolicy())(f"http://127.0.0.1:{port}/s", ACCEPT)),
        ("closed port", lambda: OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK))(f"http://127.0.0.1:{port}/s", ACCEPT)),
        ("unresolvable", lambda: OutboundClient(OutboundPolicy(), resolver=_no_such_name)("https://nowhere.example/s", ACCEPT)),
        ("private name", lambda: OutboundClient(OutboundPolicy(), resolver=lambda n, p: ["192.168.1.20"])("https://db.corp.example/s", ACCEPT)),
    ]


def _no_such_name(name: str, port: int) -> list[str]:
    raise OSError(-2, "Name or service not known")


def test_every_network_failure_reads_the_same() -> None:
    messages = set()
    for _label, attempt in _failures():
        with pytest.raises(OutboundError) as caught:
            attempt()
        messages.add(str(caught.value))
    assert messages == {"could not be retrieved"}


def test_tls_to_a_plain_server_is_a_generic_failure_too() -> None:
    with loopback_servers(Behaviour(body=b"{}")) as (server,):
        with pytest.raises(StatusRetrievalError) as caught:
            fetch_status_list(f"https://127.0.0.1:{server.port}/status/1", OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK)))
        assert str(caught.value.message) == f"status list https://127.0.0.1:{server.port}/status/1 could not be retrieved"


@given(st.sampled_from(["ConnectionRefusedError: [Errno 111] Connection refused", "timed out", "10.0.0.7:5432 reset", "SSL: WRONG_VERSION_NUMBER"]))
def test_no_client_exception_text_reaches_the_result(text: str) -> None:
    def failing(url: str, headers: Any) -> HttpResponse:
        raise OSError(text)

    with pytest.raises(StatusRetrievalError) as caught:
        fetch_status_list("https://issuer.example/status/3", failing)
    assert text not in caught.value.message and "Errno" not in caught.value.message


# -- the verifier fetches only for what its issuer signed --------------------------------------------------


def test_nothing_is_fetched_for_a_credential_without_a_proof_by_its_issuer(make_credential: Maker, status_entry: Maker) -> None:
    with loopback_servers(Behaviour()) as (server,):
        client = OutboundClient(OutboundPolicy(allowed_hosts=LOOPBACK))
        honest = make_credential(status_entry(7, url=server.url()))
        unsigned = {k: v for k, v in honest.items() if k != "proof"}
        tampered = {**honest, "credentialSubject": {"id": "did:example:someone-else"}}
        stranger = generate_key_file("Ed25519")
        other_signer = sign_document({**unsigned, "issuer": "did:example:the-issuer"}, stranger)  # signed, not by the issuer
        for document, checks in ((unsigned, None), (tampered, None), (other_signer, {"proof", "status"}), (unsigned, {"status"})):
            result = verify_credential(document, checks=checks, status_client=client, now=NOW)
            status = next(c for c in result.checks if c.check == "status")
            assert status.outcome == "failed" and status.summary == "status not checked"
            assert not result.verified
        assert server.connections == 0


# -- the command line: perseus verify --fetch-status uses the same policy --------------------------------------


def test_the_cli_fetches_only_from_public_or_allowed_hosts(
    tmp_path: Any, make_list: Maker, make_credential: Maker, status_entry: Maker, capsys: pytest.CaptureFixture[str]
) -> None:
    from perseus.verifier.cli import main

    with loopback_servers(Behaviour(), Behaviour()) as (server, target):
        server.behaviour.body = json.dumps(make_list((7,), url=server.url(), valid_from=None, valid_until=None)).encode()
        path = tmp_path / "credential.json"
        path.write_text(json.dumps(make_credential(status_entry(7, url=server.url()))))
        assert main(["verify", str(path), "--fetch-status", "--json"]) == 1
        refused = json.loads(capsys.readouterr().out)
        assert [e["code"] for e in refused["errors"]] == ["STATUS_RETRIEVAL_ERROR"] and server.connections == 0
        assert main(["verify", str(path), "--fetch-status", "--allow-status-host", "127.0.0.1", "--json"]) == 1
        allowed = json.loads(capsys.readouterr().out)
        assert [e["code"] for e in allowed["errors"]] == ["CREDENTIAL_REVOKED"] and server.connections == 1
        # a redirect from the allowed host is not followed
        server.behaviour = Behaviour(status=301, headers={"Location": target.url()})
        assert main(["verify", str(path), "--fetch-status", "--allow-status-host", "127.0.0.1", "--json"]) == 1
        assert "redirects are not followed" in capsys.readouterr().out and target.connections == 0
        # the option without --fetch-status is a usage error, not a silent no-op
        assert main(["verify", str(path), "--allow-status-host", "127.0.0.1"]) == 2
        assert "--allow-status-host only makes sense with --fetch-status" in capsys.readouterr().err


def test_the_policy_needs_no_http_library_or_web_framework() -> None:
    import subprocess
    import sys

    code = (
        "import sys, perseus.verifier.outbound, perseus.verifier.status, perseus.verifier.cli\n"
        "heavy = sorted({'httpx', 'httpcore', 'requests', 'urllib3', 'fastapi', 'starlette'} & set(sys.modules))\n"
        "print(','.join(heavy))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert loaded == ""


def test_a_slow_name_lookup_counts_against_the_deadline() -> None:
    import threading

    released = threading.Event()

    def slow_resolver(name: str, port: int) -> list[str]:
        released.wait(10)  # a name server that takes its time (released when the test ends)
        return ["127.0.0.1"]

    with loopback_servers(Behaviour(body=b"{}")) as (server,):
        client = OutboundClient(OutboundPolicy(allowed_hosts=frozenset({"status.internal"}), deadline=0.3), resolver=slow_resolver)
        try:
            with pytest.raises(OutboundLimitError, match="not fetched in time"):
                client(f"http://status.internal:{server.port}/status/1", ACCEPT)
        finally:
            released.set()
        assert server.connections == 0
