"""`perseus demo`: the main job on embedded defaults — the issuer service, one credential's whole life.

It starts the real service (uvicorn, SQLite, a generated key, all in a temporary data directory, on
a free loopback port) and then, through HTTP only, as a data provider's system would:

1. asks the service which issuer DIDs it serves (``GET /issuers``);
2. issues a Perseus TariffCredential (``POST /credentials/issue``): the service adds revocation and
   suspension status entries and an eddsa-rdfc-2022 proof;
3. verifies it (``POST /credentials/verify``): signature, issuer, validity and — online, from the
   service's own status lists — status: VERIFIED;
4. revokes it (``POST /credentials/status``);
5. verifies it again: NOT VERIFIED, ``CREDENTIAL_REVOKED``.

Nothing is needed but this package with its issuer dependencies; no network beyond 127.0.0.1. Every
wait has a timeout, so the demo cannot hang.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

# The sample tariff a supplier's system would send (illustrative prices, not data about any real
# supplier): weekday peak and off-peak unit rates and a standing charge, in the Perseus tariff form.
SAMPLE_TARIFF: dict[str, Any] = {
    "format": "perseus-tariff",
    "supplier": "Example Business Energy Ltd",
    "code": "E-1R-EXB-DEMO-25-01-C",
    "name": "Business Economy 7 (demo)",
    "region": "C",
    "direction": "import",
    "fuel": "electricity",
    "payment_method": "direct_debit",
    "vat_rate": "0.20",
    "valid_from": "2025-01-01T00:00:00Z",
    "valid_to": "2026-01-01T00:00:00Z",
    "standing_charges": [
        {"value_exc_vat": "55.0000", "value_inc_vat": "66.0000", "valid_from": "2025-01-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"}
    ],
    "unit_rates": [
        {
            "band": "day",
            "value_exc_vat": "28.5000",
            "value_inc_vat": "34.2000",
            "valid_from": "2025-01-01T00:00:00Z",
            "valid_to": "2026-01-01T00:00:00Z",
            "restrictions": {"start_time": "07:00", "end_time": "00:00"},
        },
        {
            "band": "night",
            "value_exc_vat": "15.0000",
            "value_inc_vat": "18.0000",
            "valid_from": "2025-01-01T00:00:00Z",
            "valid_to": "2026-01-01T00:00:00Z",
            "restrictions": {"start_time": "00:00", "end_time": "07:00"},
        },
    ],
}

START_TIMEOUT_SECONDS = 20.0
REQUEST_TIMEOUT_SECONDS = 30.0


def sample_tariff_credential(issuer: str) -> dict[str, Any]:
    """An unsigned TariffCredential for the sample tariff, issued by ``issuer``."""
    from .adapters import load_tariff
    from .credentials import build_tariff_credential

    return build_tariff_credential(load_tariff(SAMPLE_TARIFF), issuer=issuer)


@contextmanager
def running_service(data_dir: Path, *, token: str) -> Iterator[str]:
    """The service on embedded defaults in ``data_dir``, on a free loopback port; yields its URL."""
    from .service import create_app, load_settings
    from .service.server import free_port, serving_in_thread

    port = free_port()
    settings = load_settings(data_dir=data_dir, host="127.0.0.1", port=port, api_tokens=(token,), access_log=False, log_level="warning")
    with serving_in_thread(create_app(settings), port=port, start_timeout=START_TIMEOUT_SECONDS) as url:
        yield url


def render_result(result: dict[str, Any]) -> str:
    """A verification result (the JSON the service returns) as lines a person reads."""
    lines = ["VERIFIED" if result.get("verified") else "NOT VERIFIED"]
    marks = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}
    for check in result.get("checks", []):
        lines.append(f"  [{marks.get(check.get('outcome'), '?   ')}] {check.get('check')}: {check.get('summary')}")
        for problem in check.get("problems", []):
            lines.append(f"         {problem.get('code')}: {problem.get('detail')}")
    return "\n".join(lines)


def run_demo(workdir: Path, out: TextIO = sys.stdout) -> bool:
    """The round trip; True when the credential verified, and then failed as revoked."""
    import httpx

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    token = secrets.token_urlsafe(24)
    say(f"Starting the Perseus issuer service on embedded defaults (data directory {workdir}) ...")
    with running_service(workdir, token=token) as url:
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
            say(f"   listening on {url}\n")
            issuers = client.get("/issuers").raise_for_status().json()["issuers"]
            issuer = issuers[0]
            say(f"1. GET /issuers: profile {issuer['id']!r} issues as {issuer['issuer']} ({', '.join(issuer['suites'])})")

            credential = sample_tariff_credential(issuer["issuer"])
            answer = client.post("/credentials/issue", json={"credential": credential}, headers=auth)
            if answer.status_code != 201:
                say(f"   issuing failed: HTTP {answer.status_code} {answer.text}")
                return False
            issued = answer.json()["verifiableCredential"]
            say(f"2. POST /credentials/issue -> 201: {issued['name']}")
            say(f"   id {issued['id']}")
            for entry in issued["credentialStatus"]:
                say(f"   {entry['statusPurpose']:10} status: bit {entry['statusListIndex']} of {entry['statusListCredential']}")
            proof = issued["proof"]
            say(f"   proof: {proof['cryptosuite']} by {proof['verificationMethod'][:60]}...\n")

            # A bank checks the issuer binding too: ask for it explicitly (the VC API's default leaves it out).
            every_check = {"checks": ["proof", "issuer", "validity", "status"]}
            first = client.post("/credentials/verify", json={"verifiableCredential": issued, "options": every_check})
            say(f"3. POST /credentials/verify -> {first.status_code}:")
            say(_indent(render_result(first.json())) + "\n")

            change = client.post(
                "/credentials/status",
                json={"credentialId": issued["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": True},
                headers=auth,
            )
            say(f"4. POST /credentials/status (revoke) -> {change.status_code}: status now {change.json().get('status')}\n")

            second = client.post("/credentials/verify", json={"verifiableCredential": issued, "options": every_check})
            say(f"5. POST /credentials/verify again -> {second.status_code}:")
            say(_indent(render_result(second.json())) + "\n")
    say("Stopped the service. To run it for real (it keeps its key and database in ./.perseus):")
    say("   perseus serve                 # http://127.0.0.1:8080, API token in .perseus/api-token")
    say("   perseus serve --help          # --config FILE, --workers N, --ssl-certfile/--ssl-keyfile, PERSEUS_* variables")
    revoked = any(p.get("code") == "CREDENTIAL_REVOKED" for p in second.json().get("errors", []))
    return bool(first.status_code == 200 and first.json()["verified"] and second.status_code == 400 and revoked)


def _indent(text: str) -> str:
    return "\n".join("   " + line for line in text.splitlines())


def _cmd_demo(args: Any) -> int:
    try:
        import httpx  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        from perseus.verifier.cli import UsageError

        raise UsageError(f"the demo runs the issuer service, which needs its dependencies ({exc.name} is missing): pip install 'perseus-credentials[issuer]'") from None
    with tempfile.TemporaryDirectory(prefix="perseus-demo-") as tmp:
        ok = run_demo(Path(tmp))
    return 0 if ok else 1


def register(commands: Any) -> None:
    from .perseus_demo import _cmd_demo as whole_flow

    demo = commands.add_parser(
        "demo",
        help="the whole Perseus flow on loopback: registry, EDP, SME permission, CAP exchange, bank, withdrawal (no setup needed)",
        description="Run the whole Perseus flow on loopback in a temporary directory, printing each step: a trust registry; "
        "the EDP issues consumption; the SME grants permission to a CAP; the CAP asks through an exchange and receives "
        "the data encrypted; it issues an emissions report and grants the bank an onward permission; the bank verifies "
        "the chain offline; the SME withdraws, and the next release is refused. --issuer-only runs the original issuer "
        "round trip instead (issue, verify, revoke, verify).",
    )
    demo.add_argument("--issuer-only", action="store_true", help="only the issuer service's round trip: issue, verify, revoke, verify")
    demo.set_defaults(run=whole_flow)
